"""OGC API – Features under `/ogc/`: the protocol (landing page, conformance, collections,
paging with `next` links, CRS of Part 2, bbox, datetime, property filters, generalised bands)
and what each user reads, over HTTP on the real test database. The GDAL client's view is in
`tests/test_ogc_gdal.py`."""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.errors import ProblemError
from app.ogc import protocol
from tests.auth_fixtures import ClientAs, MakeAccount

TAG = uuid.uuid4().hex[:8]
# Menton and its neighbours (Alpes-Maritimes, région 93); Saint-Étienne (Loire, région 84).
DRAFT_UNITS = ["06083", "06122"]
SCENARIO_UNITS = ["06083", "06064"]
SIGNED_UNITS = ["06083", "06010", "06064"]
LOIRE_UNITS = ["42218", "42095"]


@dataclass
class World:
    draft_id: int
    scenario_id: int
    signed_id: int
    loire_id: int
    draft_name: str
    scenario_name: str
    signed_name: str
    loire_name: str
    carrier: TestClient
    ars_93: TestClient
    ars_84: TestClient
    observer_93: TestClient
    admin: TestClient


@pytest.fixture(scope="module")
def world(make_account: MakeAccount, client_as: ClientAs, auth_client: TestClient) -> World:
    carrier = make_account("carrier", label="ogc-porteur")
    carrier_client = client_as(carrier)
    names = {kind: f"OGC {kind} {TAG}" for kind in ("brouillon", "scenario", "signee", "loire")}
    draft = carrier_client.post("/api/cpts", json={"name": names["brouillon"],
                                                   "communes": DRAFT_UNITS})
    assert draft.status_code == 201, draft.text
    ars_93 = client_as(make_account("ars", regions=["93"], label="ogc-ars93"))
    scenario = ars_93.post("/api/cpts", json={
        "name": names["scenario"], "status": "lettre_intention", "communes": SCENARIO_UNITS,
        "is_scenario": True})
    assert scenario.status_code == 201, scenario.text
    signed = auth_client.post("/api/cpts", json={
        "name": names["signee"], "status": "aci_signe", "communes": SIGNED_UNITS,
        "siege_commune": "06083"})
    assert signed.status_code == 201, signed.text
    loire = auth_client.post("/api/cpts", json={
        "name": names["loire"], "status": "lettre_intention", "communes": LOIRE_UNITS})
    assert loire.status_code == 201, loire.text
    return World(
        draft.json()["id"], scenario.json()["id"], signed.json()["id"], loire.json()["id"],
        names["brouillon"], names["scenario"], names["signee"], names["loire"],
        carrier_client, ars_93, client_as(make_account("ars", regions=["84"], label="ogc-ars84")),
        client_as(make_account("observer", regions=["93"], label="ogc-obs93")), auth_client)


def _all(client: TestClient, collection: str, **params: Any) -> list[dict[str, Any]]:
    """Every feature of a collection, following the `next` links."""
    url: str | None = f"/ogc/collections/{collection}/items"
    features: list[dict[str, Any]] = []
    query: dict[str, Any] | None = {"limit": 500, **params}
    while url:
        response = client.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        query = None
    return features


# --- protocol, without HTTP --------------------------------------------------------------------

def test_crs_are_parsed_from_uris_and_short_forms() -> None:
    assert protocol.parse_crs(None).uri == protocol.CRS84
    assert protocol.parse_crs("EPSG:2154").srid == 2154
    assert protocol.parse_crs("http://www.opengis.net/def/crs/EPSG/0/3857").srid == 3857
    assert protocol.parse_crs("http://www.opengis.net/def/crs/EPSG/0/4326").lat_first
    with pytest.raises(ProblemError) as refused:
        protocol.parse_crs("EPSG:27572")
    assert refused.value.code == "ogc_crs_unsupported"


def test_zoom_and_scale_choose_the_band() -> None:
    assert protocol.band_for(None, None).name == "full"
    assert protocol.band_for(5, None).name == "geom_g1"
    assert protocol.band_for(8, None).name == "geom_g2"
    assert protocol.band_for(10, None).name == "geom_g3"
    assert protocol.band_for(13, None).name == "full"
    assert protocol.band_for(None, 10_000_000).name == "geom_g1"  # about zoom 5.8
    assert protocol.band_for(None, 5_000_000).name == "geom_g2"  # about zoom 6.8
    assert protocol.band_for(None, 2_000_000).name == "geom_g3"  # about zoom 8.1
    assert protocol.band_for(None, 500_000).name == "full"  # about zoom 10.1
    with pytest.raises(ProblemError):
        protocol.band_for(5, 1000)


def test_bbox_and_datetime_are_checked() -> None:
    box = protocol.parse_bbox("43.7,7.4,43.8,7.5", "http://www.opengis.net/def/crs/EPSG/0/4326")
    assert box is not None and (box.west, box.south, box.srid) == (7.4, 43.7, 4326)
    for bad in ("1,2,3", "a,b,c,d", "3,2,1,4", "0,95,1,96"):
        with pytest.raises(ProblemError) as refused:
            protocol.parse_bbox(bad, None)
        assert refused.value.code == "ogc_bad_bbox"
    with pytest.raises(ProblemError) as refused:  # outside what Lambert-93 can project
        protocol.parse_bbox("1e300,1e300,1e301,1e301", "EPSG:2154")
    assert refused.value.code == "ogc_bad_bbox"
    lambert = protocol.parse_bbox("1060000,6300000,1070000,6310000", "EPSG:2154")
    assert lambert is not None and lambert.srid == 4326 and 7.4 < lambert.west < 7.5
    interval = protocol.parse_datetime("2024-01-01/..")
    assert interval is not None and interval.start is not None and interval.end is None
    with pytest.raises(ProblemError):
        protocol.parse_datetime("2025-01-01/2024-01-01")


def test_geometries_keep_a_precision_suited_to_the_crs() -> None:
    import shapely

    square = shapely.to_wkb(shapely.box(7.123456789, 43.123456789, 7.2, 43.2))
    written = '{"type":"Point","coordinates":[7.5,43.8]}'  # as PostGIS wrote it: kept
    degrees, kept = protocol.encode_stored([square, written], 4326, protocol.DEFAULT_CRS, 6)
    assert degrees is not None and kept == written
    assert max(len(n.split(".")[1]) for n in re.findall(r"\d+\.\d+", degrees)) <= 6
    metres = protocol.encode_stored([square], 4326, protocol.parse_crs("EPSG:2154"), 1)[0]
    assert metres is not None
    x = json.loads(metres)["coordinates"][0][0][0]
    assert 1_000_000 < x < 1_100_000 and round(x, 1) == x


def test_a_page_ends_once_its_geometries_pass_the_byte_budget() -> None:
    small, large = "x" * 1000, "x" * (protocol.PAGE_BYTES // 3 + 1)
    assert protocol.fitting([small] * 10) == 10
    assert protocol.fitting([None, small, None]) == 3
    assert protocol.fitting([large] * 5) == 3  # the third one passes the budget
    assert protocol.fitting(["x" * (2 * protocol.PAGE_BYTES)] * 2) == 1  # never empty
    assert protocol.fitting([]) == 0


# --- over HTTP ---------------------------------------------------------------------------------

def test_landing_conformance_and_collections(auth_client: TestClient) -> None:
    landing = auth_client.get("/ogc/").json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "service-desc",
                                                          "conformance", "data"}
    assert auth_client.get("/ogc").status_code == 200
    conformance = auth_client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    listed = auth_client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in listed] == [
        "communes", "arrondissements", "epci", "bassins_de_vie", "departements", "regions",
        "cpts", "cpts_communes", "zones_blanches", "chevauchements"]
    assert all("http://www.opengis.net/def/crs/EPSG/0/2154" in c["crs"] for c in listed)
    description = auth_client.get("/ogc/api")
    assert description.status_code == 200
    assert "/ogc/collections/{collection_id}/items" in description.json()["paths"]
    unknown = auth_client.get("/ogc/collections/pharmacies")
    assert unknown.status_code == 404 and unknown.json()["code"] == "ogc_collection_not_found"


def test_paging_follows_next_links_and_counts_match(auth_client: TestClient) -> None:
    first = auth_client.get("/ogc/collections/communes/items",
                            params={"departement": "06", "limit": 50}).json()
    matched = first["numberMatched"]
    assert matched > 150 and first["numberReturned"] == 50
    assert any(link["rel"] == "next" for link in first["links"])
    every = _all(auth_client, "communes", departement="06")
    assert len(every) == matched
    assert len({f["id"] for f in every}) == matched
    assert all(f["properties"]["departement"] == "06" for f in every)
    last = auth_client.get("/ogc/collections/communes/items",
                           params={"departement": "06", "limit": 50,
                                   "offset": matched - 10}).json()
    assert last["numberReturned"] == 10
    assert not any(link["rel"] == "next" for link in last["links"])


def test_a_long_page_ends_at_the_byte_budget_and_goes_on_with_next(
        auth_client: TestClient) -> None:
    page = auth_client.get("/ogc/collections/communes/items", params={"limit": 5000}).json()
    returned, matched = page["numberReturned"], page["numberMatched"]
    assert 100 < returned < matched  # the test départements hold more than 1 MiB of outlines
    sizes = [len(json.dumps(f["geometry"], separators=(",", ":"))) for f in page["features"]]
    # no longer than needed to pass the budget (the sizes are of Python's writing again)
    assert sum(sizes[:-1]) < protocol.PAGE_BYTES * 1.01 and sum(sizes) > protocol.PAGE_BYTES * 0.99
    after = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert f"offset={returned}" in after and "limit=5000" in after
    every = _all(auth_client, "communes", limit=5000)
    assert len(every) == len({f["id"] for f in every}) == matched


def test_crs_bbox_and_bands(auth_client: TestClient) -> None:
    menton = auth_client.get("/ogc/collections/communes/items/06083").json()
    lon, lat = menton["geometry"]["coordinates"][0][0][0]
    assert 7.4 < lon < 7.6 and 43.7 < lat < 43.9
    assert not re.findall(r"\.\d{7,}", json.dumps(menton["geometry"]))  # 0.1 m at most
    lambert = auth_client.get("/ogc/collections/communes/items/06083",
                              params={"crs": "http://www.opengis.net/def/crs/EPSG/0/2154"})
    assert lambert.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/2154>"
    x, y = lambert.json()["geometry"]["coordinates"][0][0][0]
    assert 1_050_000 < x < 1_080_000 and 6_290_000 < y < 6_320_000
    assert len(re.findall(r"\.\d{2,}", json.dumps(lambert.json()["geometry"]))) == 0
    latlon = auth_client.get("/ogc/collections/communes/items/06083",
                             params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert latlon.json()["geometry"]["coordinates"][0][0][0] == [lat, lon]
    full = json.dumps(menton["geometry"])
    light = json.dumps(auth_client.get("/ogc/collections/communes/items/06083",
                                       params={"zoom": 6}).json()["geometry"])
    assert len(light) < len(full) / 2
    assert len(json.dumps(auth_client.get("/ogc/collections/communes/items/06083",
                                          params={"scale": 1e7}).json()["geometry"])) \
        == len(light)
    box = {"bbox": "7.45,43.76,7.52,43.80"}
    near = {f["id"] for f in _all(auth_client, "communes", **box)}
    assert "06083" in near and "06088" not in near and len(near) < 10
    # the same box in Lambert-93
    lam = {f["id"] for f in _all(auth_client, "communes", bbox=f"{x - 1000},{y - 1000},"
                                 f"{x + 1000},{y + 1000}", **{"bbox-crs": "EPSG:2154"})}
    assert "06083" in lam
    for params, code in (({"crs": "EPSG:27572"}, "ogc_crs_unsupported"),
                         ({"bbox": "1,2"}, "ogc_bad_bbox"),
                         ({"couleur": "rouge"}, "ogc_unknown_parameter"),
                         ({"datetime": "2024-01-01"}, "ogc_datetime_not_applicable"),
                         ({"f": "html"}, "ogc_format_unsupported")):
        refused = auth_client.get("/ogc/collections/communes/items", params=params)
        assert refused.status_code == 400 and refused.json()["code"] == code, params


def test_cpts_collection_is_what_the_listing_gives(world: World) -> None:
    for who in (world.admin, world.carrier, world.ars_93, world.ars_84, world.observer_93):
        listed = {c["id"] for c in who.get("/api/cpts").json()}
        served = _all(who, "cpts")
        assert {f["id"] for f in served} == listed
    signed = world.admin.get(f"/ogc/collections/cpts/items/{world.signed_id}").json()
    props = signed["properties"]
    assert props["nom"] == world.signed_name and props["stade"] == "aci_signe"
    assert props["communes"] == 3 and props["taille"] in (1, 2) and props["version"] == 1
    assert signed["geometry"]["type"] == "MultiPolygon"
    by_stage = _all(world.admin, "cpts", stade="aci_signe")
    assert world.signed_id in {f["id"] for f in by_stage}
    assert all(f["properties"]["stade"] == "aci_signe" for f in by_stage)
    today = signed["properties"]["date_version"]
    assert world.signed_id in {f["id"] for f in _all(world.admin, "cpts", datetime=today)}
    assert world.signed_id not in {f["id"] for f in _all(world.admin, "cpts",
                                                          datetime="../2000-01-01")}


def test_private_drafts_and_scenarios_stay_with_who_may_see_them(world: World) -> None:
    def names(client: TestClient) -> str:
        texts = [json.dumps(_all(client, collection, bbox="7.3,43.6,7.6,43.9"))
                 for collection in ("cpts", "cpts_communes", "communes",
                                    "zones_blanches", "chevauchements")]
        return "\n".join(texts)

    carrier, ars_93, ars_84, observer = (names(world.carrier), names(world.ars_93),
                                         names(world.ars_84), names(world.observer_93))
    assert world.draft_name in carrier and world.scenario_name not in carrier
    assert world.scenario_name in ars_93 and world.draft_name not in ars_93
    for text in (ars_84, observer):
        assert world.draft_name not in text and world.scenario_name not in text
    assert world.signed_name in observer and world.signed_name not in ars_84  # other region
    menton = world.observer_93.get("/ogc/collections/communes/items/06083").json()
    card = world.observer_93.get("/api/communes/06083").json()  # the service's own answer
    assert menton["properties"]["cpts_non_nommees"] == card["hidden_cpts"]["cpts"] >= 1
    assert menton["properties"]["cpts"].split(" ; ") == sorted(c["name"] for c in card["cpts"])
    assert world.signed_name in menton["properties"]["cpts"]
    loire = {f["id"] for f in _all(world.ars_84, "cpts", region="84")}
    assert world.loire_id in loire
    assert world.loire_id not in {f["id"] for f in _all(world.ars_93, "cpts")}
    units = _all(world.ars_84, "cpts_communes", cpts_id=str(world.loire_id))
    assert sorted(f["properties"]["code"] for f in units) == sorted(LOIRE_UNITS)
    assert world.ars_84.get(f"/ogc/collections/cpts/items/{world.draft_id}").status_code == 404


def test_zones_blanches_and_chevauchements_are_the_coverage(world: World) -> None:
    coverage = world.observer_93.get("/api/coverage", params={"scope": "departement:06"}).json()
    zones = _all(world.observer_93, "zones_blanches", scope="departement:06")
    assert [f["id"] for f in zones] == [z["id"] for z in coverage["white_zones"]]
    assert sum(f["properties"]["population"] for f in zones) == coverage["population_uncovered"]
    assert all(f["geometry"] is not None for f in zones if not f["properties"]["sans_contour"])
    overlaps = _all(world.observer_93, "chevauchements", scope="departement:06")
    assert sorted(f["id"] for f in overlaps) == sorted(o["commune"] for o in
                                                       coverage["overlaps"])
    national = world.observer_93.get("/ogc/collections/zones_blanches/items",
                                     params={"limit": 1}).json()
    assert national["numberMatched"] == len(world.observer_93.get(
        "/api/coverage").json()["white_zones"])


def test_anonymous_reads_signed_cpts_and_reference_layers_only(
        database: str, world: World) -> None:
    from app.main import create_app
    from app.settings import Settings

    published = Settings(database_url=database, publish_signed_cpts=True, log_level="WARNING")
    with TestClient(create_app(published)) as anonymous:
        ids = [c["id"] for c in anonymous.get("/ogc/collections").json()["collections"]]
        assert "zones_blanches" not in ids and "cpts" in ids and "communes" in ids
        served = _all(anonymous, "cpts")
        assert served and {f["properties"]["stade"] for f in served} == {"aci_signe"}
        assert world.signed_id in {f["id"] for f in served}
        assert anonymous.get("/ogc/collections/zones_blanches/items").status_code == 401
        menton = anonymous.get("/ogc/collections/communes/items/06083").json()
        assert menton["properties"]["cpts_non_nommees"] is None
        assert world.draft_name not in json.dumps(menton)
    with TestClient(create_app(Settings(database_url=database, log_level="WARNING"))) as closed:
        assert closed.get("/ogc/collections/cpts/items").status_code == 401




def test_a_neighbouring_carrier_sees_a_submitted_draft_as_an_outline_only(
        world: World, make_account: MakeAccount, client_as: ClientAs) -> None:
    """Runs last: it submits the world's draft."""
    neighbour = client_as(make_account("carrier", label="ogc-voisin"))
    created = neighbour.post("/api/cpts", json={"name": f"OGC voisin {TAG}",
                                                "communes": ["06122"]})
    assert created.status_code == 201, created.text

    def names() -> list[str]:
        served = neighbour.get("/ogc/collections/communes/items/06122").json()["properties"]
        card = neighbour.get("/api/communes/06122").json()  # the service's own answer
        assert served["cpts"].split(" ; ") == sorted(c["name"] for c in card["cpts"])
        return list(served["cpts"].split(" ; "))

    assert world.draft_name not in names()  # a private draft: counted, not named
    submitted = world.carrier.post(f"/api/cpts/{world.draft_id}/stage-request", json={})
    assert submitted.status_code == 204, submitted.text
    assert world.draft_name in names()  # now a competing project, as an outline
    assert world.draft_id not in {f["id"] for f in _all(neighbour, "cpts")}  # no figures
