"""An attacker's walk: every route of the application, as every role, with a carrier's private
draft and an agency's private scenario present, must never name them (or give their id) to
anyone the rule (`app.domain.cpts_access`) keeps them from.

The walk is generated from the application's routes: a route that the walk does not know how to
call, and that is not listed in `NOT_ABOUT_CPTS` with its reason, fails the test. Positive
controls (the administrator and the owners do see the secrets on the main routes) keep the test
from passing by seeing nothing.
"""

import io
import json
import math
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.auth.policy import ROUTE_RULES
from tests.auth_fixtures import ClientAs, MakeAccount

SECRET = uuid.uuid4().hex[:8]
DRAFT_NAME = f"Brouillon secret {SECRET}"
SCENARIO_NAME = f"Scenario secret {SECRET}"
PUBLIC_NAME = f"CPTS publique {SECRET}"
# Menton and its neighbours (Alpes-Maritimes, région 93).
DRAFT_UNITS = ["06083", "06122"]
SCENARIO_UNITS = ["06083", "06064"]
PUBLIC_UNITS = ["06083", "06010"]

# Routes that return nothing about any CPTS, with the reason.
NOT_ABOUT_CPTS: dict[tuple[str, str], str] = {
    ("GET", "/api/health"): "état du service",
    ("GET", "/login"): "page de connexion",
    ("POST", "/login"): "formulaire de connexion",
    ("GET", "/logout"): "page de déconnexion",
    ("POST", "/logout"): "déconnexion",
    ("GET", "/login.css"): "feuille de style",
    ("GET", "/accessibilite"): "déclaration d'accessibilité",
    ("GET", "/theme/{path}"): "fichiers du thème DSFR",
    ("GET", "/api/auth/csrf"): "jeton CSRF",
    ("POST", "/api/auth/login"): "connexion",
    ("POST", "/api/auth/logout"): "déconnexion",
    ("POST", "/api/tokens"): "création de jeton (réponse : le jeton)",
    ("DELETE", "/api/tokens/{token_id}"): "révocation de jeton (réponse vide)",
    ("GET", "/docs/oauth2-redirect"): "page statique de Swagger UI",
}


@dataclass
class Secrets:
    draft_id: int
    scenario_id: int
    public_id: int
    epci: str
    bassin_de_vie: str
    tile: tuple[int, int, int]
    all_06: list[str]


@dataclass
class Who:
    label: str
    client: TestClient
    sees_draft: bool
    sees_scenario: bool
    own: list[int] = field(default_factory=list)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


@pytest.fixture(scope="module")
def world(make_account: MakeAccount, client_as: ClientAs, auth_client: TestClient
          ) -> tuple[Secrets, list[Who]]:
    owner = make_account("carrier", label="porteur-secret")
    owner_client = client_as(owner)
    draft = owner_client.post("/api/cpts", json={"name": DRAFT_NAME, "communes": DRAFT_UNITS})
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]

    ars_93 = make_account("ars", regions=["93"], label="ars-paca")
    ars_93_client = client_as(ars_93)
    scenario = ars_93_client.post("/api/cpts", json={
        "name": SCENARIO_NAME, "status": "lettre_intention", "communes": SCENARIO_UNITS,
        "is_scenario": True})
    assert scenario.status_code == 201, scenario.text
    public = auth_client.post("/api/cpts", json={
        "name": PUBLIC_NAME, "status": "aci_signe", "communes": PUBLIC_UNITS,
        "siege_commune": "06010"})
    assert public.status_code == 201, public.text

    card = auth_client.get("/api/communes/06083").json()
    west, south, east, north = card["bbox"]
    all_06 = [c["code"] for c in auth_client.get(
        "/api/communes", params={"q": "06", "departement": "06", "limit": 100}).json()]
    secrets = Secrets(draft_id, scenario.json()["id"], public.json()["id"], card["epci"],
                      card["bassin_de_vie"], _tile((west + east) / 2, (south + north) / 2, 11),
                      sorted(set(all_06) | set(DRAFT_UNITS) | set(SCENARIO_UNITS)))

    other_carrier = make_account("carrier", label="porteur-lyon")
    other_client = client_as(other_carrier)
    lyon = other_client.post("/api/cpts", json={"name": f"Projet lyonnais {SECRET}",
                                                 "communes": ["69123"]})
    assert lyon.status_code == 201, lyon.text
    admin = make_account("admin", label="admin-walk")
    people = [
        Who("administrateur", client_as(admin), True, True),
        Who("porteur du brouillon", owner_client, True, False, [draft_id]),
        Who("autre porteur", other_client, False, False, [lyon.json()["id"]]),
        Who("ARS de la région (93)", ars_93_client, False, True, [scenario.json()["id"]]),
        Who("ARS d'une autre région (84)", client_as(make_account("ars", regions=["84"])),
            False, False),
        Who("observateur de la région (93)",
            client_as(make_account("observer", regions=["93"])), False, False),
        Who("visiteur anonyme", client_as(None), False, False),
    ]
    return secrets, people


Call = Callable[[TestClient, Secrets, Who], Iterator[httpx.Response]]


def _get(path: str, **params: Any) -> Call:
    def call(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
        yield client.get(path.format(**_path_values(s)), params=params)
    return call


def _path_values(s: Secrets) -> dict[str, Any]:
    z, x, y = s.tile
    return {"z": z, "x": x, "y": y}


def _each_cpts(suffix: str = "", **params: Any) -> Call:
    def call(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
        for cpts_id in (s.draft_id, s.scenario_id, s.public_id, *who.own):
            yield client.get(f"/api/cpts/{cpts_id}{suffix}", params=params)
    return call


def _exports(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    for cpts_id in (s.draft_id, s.scenario_id, s.public_id, *who.own):
        for file_format in ("csv", "xlsx", "geojson", "gpkg", "html"):
            yield client.get(f"/api/cpts/{cpts_id}/export", params={"format": file_format})


def _coverage(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    yield client.get("/api/coverage", params={"scope": "national"})
    for scope in ("region:93", "departement:06"):
        yield client.get("/api/coverage", params={"scope": scope})
        for file_format in ("geojson", "xlsx"):
            yield client.get("/api/coverage", params={"scope": scope, "format": file_format})
        for table in ("zones", "rattachements", "overlaps", "paires", "par_departement"):
            yield client.get("/api/coverage", params={"scope": scope, "format": "csv",
                                                      "table": table})


def _communes(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    for code in ("06083", "06122", "06064"):
        yield client.get(f"/api/communes/{code}")
        yield client.get(f"/api/communes/{code}", params={"geometry": "true"})


def _simulations(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    yield client.post("/api/simulations/perimeter", json={"communes": s.all_06})
    yield client.post("/api/simulations/perimeter", json={"communes": DRAFT_UNITS})
    for cpts_id in who.own:
        yield client.post("/api/simulations/perimeter",
                          json={"cpts_id": cpts_id, "add": ["06083"]})


def _import(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    rows = "cpts;code_commune\n" + "".join(f"Test {SECRET};{code}\n"
                                           for code in ("06083", "06122", "06064"))
    yield client.post("/api/imports/cpts", params={"dry_run": "true"},
                      files={"file": ("test.csv", rows.encode(), "text/csv")})


def _selection(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    yield client.post("/api/map/selection", json={"geometry": {
        "type": "Polygon", "coordinates": [[[7.4, 43.7], [7.55, 43.7], [7.55, 43.85],
                                            [7.4, 43.85], [7.4, 43.7]]]}})


def _units(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    yield client.post("/api/map/units", json={"codes": DRAFT_UNITS + SCENARIO_UNITS})


def _groups(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    yield client.get(f"/api/map/groups/epci/{s.epci}")
    yield client.get(f"/api/map/groups/bassin_de_vie/{s.bassin_de_vie}")


def _writes(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    """Create a CPTS over the secrets' communes (when the role may), change it, archive and
    restore it: each answer carries the overlaps."""
    status = "lettre_intention" if who.label.startswith("ARS") else "pre_projet"
    created = client.post("/api/cpts", json={
        "name": f"Voisin {who.label} {uuid.uuid4().hex[:6]}", "status": status,
        "communes": ["06083", "06122", "06064", "06010"]})
    yield created
    if created.status_code != 201:
        return
    cpts_id, version = created.json()["id"], created.json()["version"]
    patched = client.patch(f"/api/cpts/{cpts_id}", json={"remove": ["06010"]},
                           headers={"If-Match": f'"{version}"'})
    yield patched
    if patched.status_code == 200:
        version = patched.json()["version"]
    archived = client.post(f"/api/cpts/{cpts_id}/archive", json={},
                           headers={"If-Match": f'"{version}"'})
    yield archived
    if archived.status_code == 200:
        yield client.post(f"/api/cpts/{cpts_id}/restore", json={},
                          headers={"If-Match": f'"{archived.json()["version"]}"'})
    yield client.post(f"/api/cpts/{cpts_id}/stage-request", json={})
    yield client.post(f"/api/cpts/{s.public_id}/stage-request/accept", json={},
                      headers={"If-Match": '"1"'})
    yield client.post(f"/api/cpts/{s.draft_id}/stage-request/changes",
                      json={"comment": "À revoir"})


def _indicators(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    for cpts_id in (s.draft_id, s.scenario_id, s.public_id, *who.own):
        yield client.get("/api/indicators", params={"scope": f"cpts:{cpts_id}"})
    yield client.get("/api/indicators", params={"units": ",".join(DRAFT_UNITS)})
    yield client.get("/api/indicators", params={"scope": "departement:06"})
    tables = client.get("/api/indicators/tables")
    yield tables
    for table in tables.json()[:3] if tables.status_code == 200 else ():
        key = table["versions"][0]["columns"][0]["key"]
        for level in ("commune", "cpts"):
            yield client.get("/api/indicators/map", params={
                "indicator": f"{table['table']}.{key}", "level": level})


def _indicator_upload(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    definition = {"table": f"walk_{SECRET}", "title": "Marche", "vintage": "1", "source": "t",
                  "match": {"code": "codgeo"},
                  "columns": [{"header": "n", "label": "N", "aggregation": "sum"}]}
    yield client.post("/api/indicators/tables", params={"dry_run": "true"},
                      data={"definition": json.dumps(definition)},
                      files={"file": ("t.csv", b"codgeo;n\n06083;1\n", "text/csv")})


def _proposals(client: TestClient, s: Secrets, who: Who) -> Iterator[httpx.Response]:
    """Plans over the secrets' communes, at every stage and at the draft stage alone (the
    private draft and the scenario never count, so their units are planned, never named)."""
    for body in ({"scope": "departement:06"}, {"units": DRAFT_UNITS + SCENARIO_UNITS},
                 {"units": s.all_06, "statuses": ["pre_projet", "aci_signe"],
                  "options": {"method": "naive"}}):
        yield client.post("/api/proposals", json=body)
    yield client.post("/api/proposals", params={"format": "geojson"},
                      json={"units": s.all_06})


def _proposal_scenarios(client: TestClient, s: Secrets, who: Who
                        ) -> Iterator[httpx.Response]:
    for cpts_id in (s.draft_id, s.scenario_id, s.public_id, *who.own):
        yield client.post("/api/proposals/scenarios", json={
            "attachments": [{"cpts_id": cpts_id, "communes": ["06122"]}]})
    yield client.post("/api/proposals/scenarios",
                      json={"groups": [{"communes": DRAFT_UNITS}]})


WALK: dict[tuple[str, str], Call] = {
    ("GET", "/"): _get("/"),
    ("GET", "/openapi.json"): _get("/openapi.json"),
    ("GET", "/docs"): _get("/docs"),
    ("GET", "/redoc"): _get("/redoc"),
    ("GET", "/api/me"): _get("/api/me"),
    ("GET", "/api/tokens"): _get("/api/tokens"),
    ("GET", "/api/audit"): _get("/api/audit", limit=500),
    ("GET", "/api/size-rules"): _get("/api/size-rules"),
    ("GET", "/api/communes"): _get("/api/communes", q="menton"),
    ("GET", "/api/communes/{code}"): _communes,
    ("GET", "/api/tiles/{layer}/{z}/{x}/{y}.pbf"): _get("/api/tiles/communes/{z}/{x}/{y}.pbf"),
    ("GET", "/api/cpts"): _get("/api/cpts", include_archived="true"),
    ("POST", "/api/cpts"): _writes,
    ("GET", "/api/cpts/{cpts_id}"): _each_cpts(),
    ("PATCH", "/api/cpts/{cpts_id}"): _writes,
    ("GET", "/api/cpts/{cpts_id}/versions"): _each_cpts("/versions"),
    ("GET", "/api/cpts/{cpts_id}/history"): _each_cpts("/history"),
    ("POST", "/api/cpts/{cpts_id}/stage-request"): _writes,
    ("POST", "/api/cpts/{cpts_id}/stage-request/accept"): _writes,
    ("POST", "/api/cpts/{cpts_id}/stage-request/changes"): _writes,
    ("POST", "/api/cpts/{cpts_id}/archive"): _writes,
    ("POST", "/api/cpts/{cpts_id}/restore"): _writes,
    ("POST", "/api/simulations/perimeter"): _simulations,
    ("GET", "/api/coverage"): _coverage,
    ("GET", "/api/cpts/{cpts_id}/export"): _exports,
    ("POST", "/api/imports/cpts"): _import,
    ("GET", "/api/map/perimeters"): _get("/api/map/perimeters", include_archived="true"),
    ("GET", "/api/map/overview"): _get("/api/map/overview"),
    ("GET", "/api/map/unit-at"): _get("/api/map/unit-at", lat=43.78, lon=7.5),
    ("GET", "/api/map/neighbours/{code}"): _get("/api/map/neighbours/06083"),
    ("GET", "/api/map/cpts/{cpts_id}/actions"): lambda c, s, w: (
        c.get(f"/api/map/cpts/{i}/actions") for i in (s.draft_id, s.scenario_id, *w.own)),
    ("GET", "/api/map/groups/{kind}/{code}"): _groups,
    ("GET", "/api/map/orientation"): _get("/api/map/orientation"),
    ("GET", "/api/map/labels"): _get("/api/map/labels", bbox="7.3,43.6,7.6,43.9"),
    ("GET", "/api/map/place"): _get("/api/map/place", lat=43.78, lon=7.5),
    ("GET", "/api/territories"): _get("/api/territories", q="menton"),
    ("GET", "/ogc"): _get("/ogc"),
    ("GET", "/ogc/"): _get("/ogc/"),
    ("GET", "/ogc/api"): _get("/ogc/api"),
    ("GET", "/ogc/conformance"): _get("/ogc/conformance"),
    ("GET", "/ogc/collections"): _get("/ogc/collections"),
    ("GET", "/ogc/collections/{collection_id}"): lambda c, s, w: (
        c.get(f"/ogc/collections/{name}") for name in ("cpts", "zones_blanches")),
    ("GET", "/ogc/collections/{collection_id}/items"): lambda c, s, w: (
        c.get(f"/ogc/collections/{name}/items", params=params)
        for name in ("cpts", "cpts_communes", "communes", "zones_blanches", "chevauchements")
        for params in ({"bbox": "7.4,43.7,7.6,43.85", "limit": 10000},
                       {"limit": 10000, "zoom": 6})),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): lambda c, s, w: (
        c.get(f"/ogc/collections/{name}/items/{feature}") for name, feature in (
            *(("cpts", i) for i in (s.draft_id, s.scenario_id, s.public_id, *w.own)),
            *(("cpts_communes", f"{i}-06083") for i in (s.draft_id, s.scenario_id)),
            ("communes", "06083"), ("chevauchements", "06083"))),
    ("POST", "/api/map/selection"): _selection,
    ("POST", "/api/map/units"): _units,
    ("GET", "/api/indicators"): _indicators,
    ("GET", "/api/indicators/tables"): _indicators,
    ("GET", "/api/indicators/map"): _indicators,
    ("POST", "/api/indicators/tables"): _indicator_upload,
    ("POST", "/api/proposals"): _proposals,
    ("POST", "/api/proposals/scenarios"): _proposal_scenarios,
}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    found = set()
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            for method in route.methods - {"HEAD"}:
                found.add((method, route.path))
    return found | {key for key in ROUTE_RULES if not key[1].startswith("{")}


def _texts(response: httpx.Response) -> list[str]:
    """Everything a user could read in an answer: the body, and for a zip (XLSX) every part."""
    body = response.content
    texts = [body.decode("utf-8", errors="replace")]
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            texts += [archive.read(n).decode("utf-8", errors="replace")
                      for n in archive.namelist()]
    return texts


# Objects with an `id` and a `name` that are not CPTS: an API token (its `prefix`), whose id
# may equal a CPTS id on a fresh database.
NOT_CPTS_KEYS = frozenset({"prefix"})


def _is_cpts_id(owner: dict[str, Any], key: str) -> bool:
    """`cpts_id` anywhere; `id` of an object that names a CPTS (an audit entry's own `id` is
    not one, nor an API token's); `entity_id` of an audit entry about a CPTS."""
    if key == "cpts_id":
        return True
    if key == "id":
        return ("name" in owner or "status" in owner) and not NOT_CPTS_KEYS & owner.keys()
    return key == "entity_id" and owner.get("entity") == "cpts"


def _ids(value: Any) -> Iterator[int]:
    """Integers an answer gives as CPTS ids: under an id key, or in a `cpts` list of ids."""
    if isinstance(value, dict):
        for key, item in value.items():
            if (_is_cpts_id(value, key) and isinstance(item, int | str)
                    and str(item).isdigit()):
                yield int(item)
            elif key == "cpts" and isinstance(item, list):
                yield from (i for i in item if isinstance(i, int))
            if isinstance(item, dict | list):
                yield from _ids(item)
            elif key == "after" and isinstance(item, list):
                yield from (i for i in item if isinstance(i, int))
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item)


def _mentions(response: httpx.Response, name: str, cpts_id: int) -> bool:
    if any(name in text for text in _texts(response)):
        return True
    if "json" in response.headers.get("content-type", ""):
        try:
            return cpts_id in set(_ids(response.json()))
        except json.JSONDecodeError:
            return False
    return False


def test_every_route_is_walked_or_said_to_be_about_no_cpts(client: TestClient) -> None:
    missing = sorted(_routes(client) - set(WALK) - set(NOT_ABOUT_CPTS))
    assert not missing, f"routes absentes de la marche de visibilité : {missing}"


def test_private_draft_and_scenario_are_never_named_to_whoever_may_not_see_them(
        world: tuple[Secrets, list[Who]]) -> None:
    secrets, people = world
    leaks: list[str] = []
    seen_by: dict[str, set[tuple[str, str]]] = {}
    for who in people:
        for (method, path), call in sorted(WALK.items()):
            for response in call(who.client, secrets, who):
                assert response.status_code < 500, (who.label, method, path, response.text)
                where = f"{who.label} : {method} {response.request.url.path}"
                for label, name, cpts_id, allowed in (
                        ("brouillon", DRAFT_NAME, secrets.draft_id, who.sees_draft),
                        ("scénario", SCENARIO_NAME, secrets.scenario_id, who.sees_scenario)):
                    if _mentions(response, name, cpts_id):
                        if allowed:
                            seen_by.setdefault(label, set()).add((who.label, path))
                        else:
                            leaks.append(f"{label} révélé à {where}?{response.request.url.query}")
    assert not leaks, "\n".join(leaks)
    # Positive controls: those who may see the secrets do see them where they should.
    for label, viewer in (("brouillon", "porteur du brouillon"), ("brouillon", "administrateur"),
                          ("scénario", "ARS de la région (93)"), ("scénario", "administrateur")):
        paths = {path for who, path in seen_by.get(label, set()) if who == viewer}
        for expected in ("/api/cpts/{cpts_id}", "/api/simulations/perimeter",
                         "/api/communes/{code}", "/api/map/perimeters"):
            assert expected in paths, f"{viewer} ne voit pas le {label} sur {expected}"


def test_hidden_overlaps_are_counted_not_named(world: tuple[Secrets, list[Who]]) -> None:
    _, people = world
    admin = next(w for w in people if w.label == "administrateur")
    observer = next(w for w in people if w.label.startswith("observateur"))
    # The test database is kept between runs: other drafts may hold Menton too. The task
    # force may see no draft, and no scenario is ever counted.
    everything = admin.client.get("/api/communes/06083").json()["cpts"]
    drafts = {c["id"] for c in everything
              if c["status"] == "pre_projet" and not c["is_scenario"]}
    card = observer.client.get("/api/communes/06083").json()
    assert PUBLIC_NAME in {c["name"] for c in card["cpts"]}
    assert not {c["id"] for c in card["cpts"]} & drafts
    assert card["hidden_cpts"]["cpts"] == len(drafts) >= 1
    projects = ("1 projet non publié ou hors de vos régions recouvre" if len(drafts) == 1
                else f"{len(drafts)} projets non publiés ou hors de vos régions recouvrent")
    assert card["hidden_cpts"]["detail"] == f"{projects} cette commune."
    simulation = observer.client.post("/api/simulations/perimeter",
                                      json={"communes": DRAFT_UNITS}).json()
    assert simulation["hidden_overlaps"]["cpts"] >= 1
    assert simulation["hidden_overlaps"]["communes"] == 2
    assert "hidden_overlap" in {w["code"] for w in simulation["warnings"]}
    assert DRAFT_NAME not in json.dumps(simulation, ensure_ascii=False)
    agency = next(w for w in people if w.label.startswith("ARS de la région"))
    simulation = agency.client.post("/api/simulations/perimeter",
                                    json={"communes": SCENARIO_UNITS}).json()
    assert SCENARIO_NAME in {o["name"] for o in simulation["overlaps"]}


def test_the_overview_counts_a_hidden_draft_on_a_shared_commune_never_identifies_it(
        world: tuple[Secrets, list[Who]]) -> None:
    """The national overview (GET /api/map/overview): on a commune of a signed CPTS that the
    private draft claims too, who may not see the draft gets a count and the card's sentence,
    no id, name, stage or colour of it; the administrator sees it named, as a claimant."""
    secrets, people = world
    admin = next(w for w in people if w.label == "administrateur")
    everything = admin.client.get("/api/communes/06083").json()["cpts"]
    drafts = {c["id"] for c in everything
              if c["status"] == "pre_projet" and not c["is_scenario"]}
    assert secrets.draft_id in drafts
    mine = admin.client.get("/api/map/overview").json()
    assert DRAFT_NAME in {c["name"] for c in mine["cpts"]}
    assert any(secrets.draft_id in o["cpts"] for o in mine["overlaps"] if o["code"] == "06083")
    assert not any(e["hidden"] for e in mine["other_claims"])
    for label in ("autre porteur", "observateur de la région (93)", "ARS de la région (93)"):
        who = next(w for w in people if w.label == label)
        answer = who.client.get("/api/map/overview")
        text = answer.text
        assert SCENARIO_NAME not in text or label.startswith("ARS"), label
        assert DRAFT_NAME not in text, label
        overview = answer.json()
        assert secrets.draft_id not in set(_ids(overview)), label
        [entry] = [e for e in overview["other_claims"] if e["code"] == "06083"]
        assert secrets.public_id in entry["cpts"], label
        assert set(entry) == {"code", "cpts", "names", "hidden", "hidden_text", "geometry"}
        assert DRAFT_NAME not in entry["names"], label
        hidden = entry["hidden"]
        if label.startswith("observateur"):  # a task force sees no draft: all are counted
            assert hidden == len(drafts), label
        assert 1 <= hidden <= len(drafts), label
        counted = ("1 projet non publié ou hors de vos régions recouvre" if hidden == 1
                   else f"{hidden} projets non publiés ou hors de vos régions recouvrent")
        assert entry["hidden_text"] == f"{counted} cette commune.", label


def test_an_api_token_whose_id_equals_a_cpts_id_is_not_taken_for_it() -> None:
    token = {"id": 2, "name": "script QGIS", "prefix": "cpts_ab12", "revoked_at": None}
    cpts = {"id": 2, "name": "CPTS DU FERION", "status": "aci_signe"}
    assert list(_ids([token])) == []
    assert list(_ids([cpts, {"cpts": [{"id": 2, "name": "CPTS DU FERION"}]}])) == [2, 2]
