"""Bulk import of CPTS through `POST /api/imports/cpts` and `cpts import`, on real data: the
CPTS of the Alpes-Maritimes as published from the agency's listing (shared fixture)."""

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.cli import main as cli_main
from app.db import Conn
from tests.auth_fixtures import Account, ClientAs, MakeAccount
from tests.shared_fixtures import ALPES_MARITIMES
from tests.test_import_parsing import _xlsx

FIXTURES = ALPES_MARITIMES
NICE = "06088"
NICE_CPTS = {"CPTS NICE CENTRE NICE EST", "CPTS NICE NORD ET SES COLLINES",
             "CPTS NICE OUEST VALLEE"}


@pytest.fixture
def agent_account(make_account: MakeAccount) -> Account:
    """A fresh agent of the PACA agency (région 93)."""
    return make_account("ars", regions=["93"])


@pytest.fixture
def agent(agent_account: Account, client_as: ClientAs) -> TestClient:
    return client_as(agent_account)


@pytest.fixture
def carrier(make_account: MakeAccount, client_as: ClientAs) -> TestClient:
    return client_as(make_account("carrier"))


def post_import(client: TestClient, data: bytes, filename: str = "cpts.csv",
                **params: Any) -> Response:
    query = {key: str(value).lower() if isinstance(value, bool) else str(value)
             for key, value in params.items()}
    response: Response = client.post(
        "/api/imports/cpts", params=query,
        files={"file": (filename, data, "application/octet-stream")})
    return response


def tag() -> str:
    return uuid.uuid4().hex[:8]


def csv_of(rows: list[tuple[str, ...]], header: str = "cpts;code_commune") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerows([header.split(";"), *rows])
    return buffer.getvalue().encode()


def written_by(conn: Conn, user_id: int) -> dict[str, int]:
    """Rows a user has written (the test database may be shared with other test runs)."""
    row = conn.execute(
        """SELECT (SELECT count(*) FROM cpts WHERE created_by = %(u)s) AS cpts,
                  (SELECT count(*) FROM cpts_version WHERE author_id = %(u)s) AS versions,
                  (SELECT count(*) FROM cpts_member m JOIN cpts c ON c.id = m.cpts_id
                   WHERE c.created_by = %(u)s) AS members,
                  (SELECT count(*) FROM cpts_event WHERE actor_id = %(u)s) AS events,
                  (SELECT count(*) FROM audit_log WHERE actor_id = %(u)s) AS audit""",
        {"u": user_id}).fetchone()
    assert row is not None
    return {key: int(value) for key, value in row.items()}


def population(conn: Conn, codes: list[str]) -> int:
    row = conn.execute("SELECT coalesce(sum(population), 0)::int AS p FROM commune "
                       "WHERE code = ANY(%s)", (codes,)).fetchone()
    assert row is not None
    return int(row["p"])


def fixture_membership(suffix: str = "") -> dict[str, set[str]]:
    membership: dict[str, set[str]] = {}
    for line in (FIXTURES / "cpts_communes.csv").read_text(encoding="utf-8").splitlines()[1:]:
        cpts, code, *_ = line.split(";")
        name = cpts if cpts == "HORS CPTS" or not suffix else f"{cpts} {suffix}"
        membership.setdefault(name, set()).add(code)
    return membership


def fixture_listing(suffix: str) -> bytes:
    """The Alpes-Maritimes listing with every CPTS name suffixed: the test database is kept
    between runs and agencies read the CPTS that earlier runs imported, so the same names
    would be updates, not creations."""
    lines = (FIXTURES / "cpts_communes.csv").read_text(encoding="utf-8").splitlines()
    renamed = [lines[0]]
    for line in lines[1:]:
        cpts, rest = line.split(";", 1)
        renamed.append(line if cpts == "HORS CPTS" else f"{cpts} {suffix};{rest}")
    return ("\n".join(renamed) + "\n").encode()


@pytest.fixture
def unchanged(conn: Conn, agent_account: Account) -> Iterator[Callable[[], None]]:
    """Call it to check that the agent has written nothing since the test started."""
    before = written_by(conn, agent_account.id)

    def check() -> None:
        conn.rollback()
        assert written_by(conn, agent_account.id) == before

    yield check


# --- The Alpes-Maritimes listing -----------------------------------------------------------------

def test_import_of_the_alpes_maritimes_listing_creates_16_cpts_with_nice_as_overlap(
        agent: TestClient, conn: Conn) -> None:
    suffix = tag()
    data = fixture_listing(suffix)
    response = post_import(agent, data, "cpts_communes.csv")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows"] == 165 and report["format"] == "csv" and report["separator"] == ";"
    assert (report["created"], report["updated"], report["errors"]) == (16, 0, [])
    membership = fixture_membership(suffix)
    hors = membership.pop("HORS CPTS")
    assert {c["name"] for c in report["cpts"]} == set(membership)
    for cpts in report["cpts"]:
        assert set(cpts["communes"]) == membership[cpts["name"]]
        assert cpts["population"] == population(conn, cpts["communes"])
        assert cpts["population_year"] == 2023 and cpts["size_rule"] == "aci-2022"
        stored = conn.execute("SELECT population, size_class FROM cpts_version "
                              "WHERE cpts_id = %s", (cpts["id"],)).fetchone()
        assert stored == {"population": cpts["population"], "size_class": cpts["size_class"]}
    nice = {c["name"]: c for c in report["cpts"] if NICE in c["communes"]}
    assert set(nice) == {f"{name} {suffix}" for name in NICE_CPTS}
    for name, cpts in nice.items():
        imported_ids = {other["id"] for other in nice.values() if other["name"] != name}
        overlapping = {o["cpts_id"] for o in cpts["overlaps"] if NICE in o["communes"]}
        assert imported_ids <= overlapping
        assert "overlap" in {w["code"] for w in cpts["warnings"]}
    partial = [w for w in report["warnings"] if w["code"] == "partial_commune"]
    assert [w["communes"] for w in partial] == [[NICE]] * 3
    assert report["uncovered"]["names"] == ["HORS CPTS"]
    assert set(report["uncovered"]["communes"]) == hors and len(hors) == 13
    assert report["uncovered"]["population"] == population(conn, sorted(hors))
    assert conn.execute("SELECT count(*) AS n FROM cpts WHERE name = 'HORS CPTS'"
                        ).fetchone() == {"n": 0}


def test_dry_run_gives_the_same_report_and_writes_nothing(
        agent: TestClient, agent_account: Account, conn: Conn,
        unchanged: Callable[[], None]) -> None:
    suffix = tag()
    data = fixture_listing(suffix)
    nice_names = {f"{name} {suffix}" for name in NICE_CPTS}
    response = post_import(agent, data, dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True and report["created"] == 16
    assert all(c["id"] is None and c["action"] == "created" for c in report["cpts"])
    nice_centre = next(c for c in report["cpts"]
                       if c["name"] == f"CPTS NICE CENTRE NICE EST {suffix}")
    assert {o["name"] for o in nice_centre["overlaps"]} >= nice_names - {nice_centre["name"]}
    unchanged()
    assert post_import(agent, data).json()["created"] == 16
    conn.rollback()
    assert written_by(conn, agent_account.id) == {"cpts": 16, "versions": 16, "members": 152,
                                                  "events": 16, "audit": 17}


def test_an_error_in_one_row_writes_nothing_and_every_error_has_its_line(
        agent: TestClient, unchanged: Callable[[], None]) -> None:
    text = (FIXTURES / "cpts_communes.csv").read_text(encoding="utf-8")
    data = (text + "CPTS ANTIPOLIS;06999;Nulle part;oui\nCPTS ANTIPOLIS;06004;Antibes;oui\n"
            ).encode()
    response = post_import(agent, data)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unknown_commune"
    assert "rien n'a été enregistré" in problem["detail"]
    assert [(e["line"], e["code"]) for e in problem["errors"]] == [
        (167, "unknown_commune"), (168, "duplicate_commune")]
    unchanged()


def test_reimport_updates_changed_cpts_and_leaves_the_others(
        agent: TestClient, agent_account: Account, conn: Conn) -> None:
    """An agency listing: CPTS past the draft stage, which the agency reads and corrects."""
    name_a, name_b = f"CPTS Vésubie {tag()}", f"CPTS Paillon {tag()}"
    first = post_import(agent, csv_of([(name_a, "06127"), (name_a, "06153"),
                                       (name_b, "06014")]), status="lettre_intention")
    assert first.json()["created"] == 2
    assert {c["status"] for c in first.json()["cpts"]} == {"lettre_intention"}
    again = post_import(agent, csv_of([(name_a, "06127"), (name_a, "06153"), (name_a, "06163"),
                                       (name_b, "06014")]))
    assert again.status_code == 200, again.text
    report = again.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    logged = conn.execute("SELECT summary FROM audit_log WHERE action = 'cpts.import' "
                          "AND actor_id = %s ORDER BY id", (agent_account.id,)).fetchall()
    assert [row["summary"] for row in logged] == [
        "Import « cpts.csv » : 3 ligne(s), 2 CPTS créée(s), 0 modifiée(s), 0 inchangée(s).",
        "Import « cpts.csv » : 4 ligne(s), 0 CPTS créée(s), 1 modifiée(s), 1 inchangée(s)."]
    nothing = post_import(agent, csv_of([(name_a, "06127"), (name_a, "06153"),
                                         (name_a, "06163")]))
    assert nothing.json()["unchanged"] == 1
    conn.rollback()
    assert conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'cpts.import' "
                        "AND actor_id = %s", (agent_account.id,)).fetchone() == {"n": 2}
    updated = next(c for c in report["cpts"] if c["name"] == name_a)
    assert updated["action"] == "updated" and updated["version"] == 2
    versions = agent.get(f"/api/cpts/{updated['id']}/versions").json()
    assert versions[1]["added"] == ["06163"] and versions[1]["reason"] == "Import du fichier « " \
                                                                          "cpts.csv »"


def _history(conn: Conn, ids: list[int]) -> dict[str, int]:
    conn.rollback()
    row = conn.execute(
        """SELECT (SELECT count(*) FROM cpts_version WHERE cpts_id = ANY(%(ids)s)) AS versions,
                  (SELECT count(*) FROM cpts_event WHERE cpts_id = ANY(%(ids)s)) AS events,
                  (SELECT count(*) FROM audit_log WHERE entity = 'cpts'
                      AND entity_id = ANY(%(keys)s)) AS audit""",
        {"ids": ids, "keys": [str(i) for i in ids]}).fetchone()
    assert row is not None
    return dict(row)


def test_a_mixed_import_writes_each_cpts_once_or_nothing_at_all(
        agent: TestClient, make_account: MakeAccount, client_as: ClientAs, conn: Conn) -> None:
    """Creations and updates are written together: one version, event and audit entry each;
    one refused update (another agency's CPTS) and nothing of the file is written."""
    names = [f"CPTS lot {tag()} {n}" for n in range(3)]
    first = post_import(agent, csv_of([(names[0], "06127"), (names[1], "06014")]),
                        status="lettre_intention")
    assert first.status_code == 200, first.text
    ids = [c["id"] for c in first.json()["cpts"]]
    before = _history(conn, ids)
    assert before == {"versions": 2, "events": 2, "audit": 2}

    mixed = csv_of([(names[0], "06127"), (names[0], "06153"), (names[1], "06014"),
                    (names[1], "06018"), (names[2], "06163")])
    report = post_import(agent, mixed).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 2, 0)
    assert [(c["name"], c["action"], c["version"]) for c in report["cpts"]] == [
        (names[0], "updated", 2), (names[1], "updated", 2), (names[2], "created", 1)]
    created = report["cpts"][2]["id"]
    assert _history(conn, ids) == {"versions": 4, "events": 2, "audit": 4}
    assert _history(conn, [created]) == {"versions": 1, "events": 1, "audit": 1}

    # A CPTS of the Lyon agency reaching into the Alpes-Maritimes: the PACA agent reads it but
    # may not change it. Its file is refused on that line, and nothing of the file is written.
    shared, fresh = f"CPTS lot {tag()} partagée", f"CPTS lot {tag()} nouvelle"
    lyon = client_as(make_account("ars", regions=["84"]))
    elsewhere = post_import(lyon, csv_of([(shared, "69266"), (shared, "06163")]),
                            status="lettre_intention")
    assert elsewhere.status_code == 200 and elsewhere.json()["created"] == 1, elsewhere.text
    refused = post_import(agent, csv_of([(names[0], "06127"), (names[0], "06153"),
                                         (shared, "06163"), (fresh, "06014")]))
    assert refused.status_code == 422, refused.text
    assert [(e["line"], e["code"]) for e in refused.json()["errors"]] == [(4, "forbidden")]
    assert _history(conn, ids) == {"versions": 4, "events": 2, "audit": 4}
    assert conn.execute("SELECT count(*) AS n FROM cpts WHERE name = %s",
                        (fresh,)).fetchone() == {"n": 0}


# --- Matching names, former codes, Paris-Lyon-Marseille, pseudo-CPTS ---------------------------

def test_latin1_csv_with_accented_names_is_matched_by_name_and_departement(
        agent: TestClient, conn: Conn) -> None:
    name = f"CPTS Côte d'Azur Est {tag()}"
    text = (f"Nom CPTS,Commune,Département\n{name},Èze,06\n{name},Trinité (La),06\n"
            f"{name},LA GAUDE,Alpes-Maritimes\n{name},Bonson,6\n")
    response = post_import(agent, text.encode("latin-1"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["encoding"] == "cp1252" and report["separator"] == ","
    (cpts,) = report["cpts"]
    assert cpts["name"] == name
    assert cpts["communes"] == ["06021", "06059", "06065", "06149"]
    assert cpts["population"] == population(conn, cpts["communes"])


def test_an_ambiguous_or_unknown_commune_name_lists_the_candidates(agent: TestClient) -> None:
    text = "cpts;nom_commune;dep\nCPTS X;Bonson;\nCPTS X;La Trinitee;06\n"
    response = post_import(agent, text.encode())
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [
        (2, "ambiguous_commune_name"), (3, "unknown_commune_name")]
    assert errors[0]["candidates"] == ["Bonson (06021, dép. 06)", "Bonson (42022, dép. 42)"]
    assert errors[1]["candidates"] == ["La Trinité (06149, dép. 06)"]


def test_import_maps_former_commune_code(agent: TestClient, auth_client: TestClient) -> None:
    name = f"CPTS Conques {tag()}"
    rows = csv_of([(name, "12076"), (name, "12224")])
    outside = post_import(agent, rows)  # Aveyron is in Occitanie, not the agent's region
    assert outside.status_code == 422 and outside.json()["code"] == "forbidden"
    response = post_import(auth_client, rows)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["cpts"][0]["communes"] == ["12218", "12224"]
    (former,) = [w for w in report["warnings"] if w["code"] == "former_code"]
    assert former["line"] == 2 and former["communes"] == ["12076", "12218"]
    assert "Conques" in former["detail"] and "Conques-en-Rouergue (12218)" in former["detail"]


def test_marseille_beside_two_arrondissements_is_narrowed_to_them(agent: TestClient) -> None:
    name = f"CPTS Marseille Centre {tag()}"
    response = post_import(agent, csv_of([(name, "13055"), (name, "13201"), (name, "13202")]))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["cpts"][0]["communes"] == ["13201", "13202"]
    assert [(w["line"], w["code"]) for w in report["warnings"]] == [(2, "plm_narrowed")]
    # the API itself refuses the same mix
    refused = agent.post("/api/simulations/perimeter",
                         json={"communes": ["13055", "13201", "13202"]})
    assert refused.status_code in (403, 404, 422)


def test_zone_blanche_rows_are_uncovered_not_created(agent: TestClient, conn: Conn) -> None:
    name = f"CPTS Var {tag()}"
    response = post_import(agent, csv_of([("Zone blanche", "06021"), (name, "06065")]))
    report = response.json()
    assert report["created"] == 1 and [c["name"] for c in report["cpts"]] == [name]
    assert report["uncovered"] == {"names": ["Zone blanche"], "communes": ["06021"],
                                   "population": population(conn, ["06021"])}


# --- GeoJSON polygons ---------------------------------------------------------------------------

def test_published_contours_give_the_csv_membership_up_to_near_share_communes(
        agent: TestClient) -> None:
    data = (FIXTURES / "cpts_contours.geojson").read_bytes()
    response = post_import(agent, data, "cpts_contours.geojson", dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == "geojson" and report["share"] == 0.5 and report["rows"] == 17
    membership = fixture_membership()
    near: dict[int, set[str]] = {}
    for warning in report["warnings"]:
        if warning["code"] == "near_share":
            near.setdefault(warning["line"], set()).update(warning["communes"])
    assert len(report["cpts"]) == 16
    for cpts in report["cpts"]:
        differences = set(cpts["communes"]) ^ membership[cpts["name"]]
        assert differences <= near.get(cpts["line"], set()) | {NICE}, cpts["name"]
    nice_lines = {c["line"] for c in report["cpts"] if c["name"] in NICE_CPTS}
    assert any(NICE in near.get(line, set()) for line in nice_lines)
    assert set(report["uncovered"]["communes"]) ^ membership["HORS CPTS"] <= set().union(
        *near.values())


def test_a_lower_share_takes_more_communes(agent: TestClient) -> None:
    data = (FIXTURES / "cpts_contours.geojson").read_bytes()
    strict = post_import(agent, data, dry_run=True, share=0.9).json()
    loose = post_import(agent, data, dry_run=True, share=0.1).json()
    assert sum(c["units"] for c in loose["cpts"]) > sum(c["units"] for c in strict["cpts"])


def _feature_collection(*features: tuple[str, dict[str, Any]], crs: str | None = None) -> bytes:
    document: dict[str, Any] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom_cpts": name}, "geometry": geometry}
        for name, geometry in features]}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(document).encode()


NICE_BOX = {"type": "Polygon", "coordinates": [[[7.18, 43.64], [7.33, 43.64], [7.33, 43.77],
                                                [7.18, 43.77], [7.18, 43.64]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[7.2, 43.7], [7.3, 43.8], [7.3, 43.7],
                                              [7.2, 43.8], [7.2, 43.7]]]}
LAMBERT = {"type": "Polygon", "coordinates": [[[1040000, 6295000], [1052000, 6295000],
                                               [1052000, 6308000], [1040000, 6308000],
                                               [1040000, 6295000]]]}


def test_a_self_intersecting_ring_is_refused_with_its_feature(
        agent: TestClient, unchanged: Callable[[], None]) -> None:
    response = post_import(agent, _feature_collection(("CPTS A", NICE_BOX), ("CPTS B", BOWTIE)),
                           "contours.geojson")
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_geometry"
    assert [(e["line"], e["code"]) for e in problem["errors"]] == [(2, "invalid_geometry")]
    assert "auto-intersection" in problem["errors"][0]["detail"]
    unchanged()


def test_lambert93_coordinates_are_refused_unless_the_crs_says_so(agent: TestClient) -> None:
    refused = post_import(agent, _feature_collection(("CPTS L93", LAMBERT)), "l93.geojson")
    assert refused.status_code == 422 and refused.json()["code"] == "not_wgs84"
    assert "Lambert-93" in refused.json()["detail"]
    declared = post_import(agent, _feature_collection(("CPTS L93", LAMBERT),
                                                      crs="urn:ogc:def:crs:EPSG::2154"),
                           "l93.geojson", dry_run=True)
    assert declared.status_code == 200, declared.text
    report = declared.json()
    assert report["warnings"][0]["code"] == "reprojected"
    assert NICE in report["cpts"][0]["communes"]


# --- Spreadsheets -------------------------------------------------------------------------------

def test_xlsx_with_a_notes_sheet_imports_the_data_sheet_and_says_which(
        agent: TestClient) -> None:
    name = f"CPTS Menton {tag()}"
    data = _xlsx({"Lisez-moi": [["Liste ARS, octobre 2025"], ["Source : ARS PACA"]],
                  "CPTS": [["Nom CPTS", "Code INSEE"], [name, 6083], [name, "06104"]]})
    response = post_import(agent, data, "liste.xlsx")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == "xlsx" and report["sheet"] == "CPTS"
    assert report["cpts"][0]["communes"] == ["06083", "06104"]
    assert {w["code"] for w in report["warnings"]} == {"sheet_used", "leading_zero"}


def test_xlsx_with_two_data_sheets_is_refused_until_one_is_named(agent: TestClient) -> None:
    data = _xlsx({"2024": [["cpts", "code_commune"], [f"CPTS A {tag()}", "06083"]],
                  "2025": [["cpts", "code_commune"], [f"CPTS B {tag()}", "06104"]]})
    refused = post_import(agent, data, "liste.xlsx", dry_run=True)
    assert refused.status_code == 422 and refused.json()["code"] == "ambiguous_sheet"
    chosen = post_import(agent, data, "liste.xlsx", dry_run=True, sheet="2025")
    assert chosen.status_code == 200 and chosen.json()["sheet"] == "2025"


# --- Bad input ----------------------------------------------------------------------------------

def test_an_upload_of_20_mb_is_refused_with_413(agent: TestClient,
                                                unchanged: Callable[[], None]) -> None:
    big = b"cpts;code_commune\n" + b"CPTS X;06088\n" * (20 * 1024 * 1024 // 13)
    response = post_import(agent, big)
    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert "10 Mio" in response.json()["detail"]
    unchanged()


def test_an_oversized_body_without_length_is_cut_off_while_reading(agent: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"cpts;code_commune\n"
        for _ in range(12 * 1024):
            yield b"CPTS X;06088\n" * 80

    response = agent.post("/api/imports/cpts", content=chunks(),
                          headers={"Content-Type": "text/csv"})
    assert response.status_code == 413 and response.json()["code"] == "upload_too_large"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"), (b"cpts;code_commune\r\n", "empty_file"),
    (b"cpts;code_commune\nCPTS X;06088\nCPTS X;06088\n", "duplicate_commune"),
    (b"cpts;code_commune\nCPTS X;06999\n", "unknown_commune"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "bad_encoding"),
    (b"ville;population\nNice;340000\n", "missing_columns"),
])
def test_bad_input_gets_a_french_problem_with_a_stable_code(
        agent: TestClient, data: bytes, code: str) -> None:
    response = post_import(agent, data)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code and problem["status"] == 422
    assert problem["detail"] and problem["type"] == f"urn:cpts:problem:{code}"


def test_names_with_markup_or_sql_are_stored_and_returned_as_plain_text(
        carrier: TestClient, conn: Conn) -> None:
    markup = f"<script>alert('x')</script> CPTS {tag()}"
    sql = f"CPTS'); DROP TABLE cpts; -- {tag()}"
    response = post_import(carrier, csv_of([(markup, "06088"), (sql, "06149")]))
    assert response.status_code == 200, response.text
    ids = {c["name"]: c["id"] for c in response.json()["cpts"]}
    assert set(ids) == {markup, sql}
    for name, cpts_id in ids.items():
        assert carrier.get(f"/api/cpts/{cpts_id}").json()["name"] == name
        assert conn.execute("SELECT name FROM cpts WHERE id = %s", (cpts_id,)
                            ).fetchone() == {"name": name}


def test_an_observer_cannot_import(make_account: MakeAccount, client_as: ClientAs) -> None:
    observer = client_as(make_account("observer", regions=["93"]))
    response = post_import(observer, csv_of([("CPTS X", "06088")]))
    assert response.status_code == 403


def test_a_carrier_imports_drafts_only(carrier: TestClient) -> None:
    name = f"CPTS porteur {tag()}"
    signed = post_import(carrier, csv_of([(name, "06088")]), status="aci_signe")
    assert signed.status_code == 422 and signed.json()["code"] == "forbidden"
    assert signed.json()["errors"][0]["line"] == 2
    draft = post_import(carrier, csv_of([(name, "06088")]))
    assert draft.status_code == 200 and draft.json()["cpts"][0]["status"] == "pre_projet"
    assert carrier.get(f"/api/cpts/{draft.json()['cpts'][0]['id']}").status_code == 200


# --- The command line ---------------------------------------------------------------------------

def test_cpts_import_command_dry_run_then_import(
        tmp_path: Path, conn: Conn, database: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", database)
    get_settings.cache_clear()
    name = f"CPTS ligne de commande {tag()}"
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_of([(name, "06088"), (name, "06149"), ("HORS CPTS", "06021")]))
    try:
        assert cli_main(["import", str(path), "--dry-run"]) == 0
        dry = capsys.readouterr().out
        assert "simulation" in dry and "CPTS créées : 1" in dry
        assert conn.execute("SELECT count(*) AS n FROM cpts WHERE name = %s", (name,)
                            ).fetchone() == {"n": 0}
        assert cli_main(["import", str(path)]) == 0
        conn.rollback()
        row = conn.execute("""SELECT c.id, a.via, a.actor_id FROM cpts c
                              JOIN audit_log a ON a.entity = 'cpts' AND a.entity_id = c.id::text
                              WHERE c.name = %s""", (name,)).fetchone()
        assert row is not None and row["via"] == "cli" and row["actor_id"] is None
        bad = tmp_path / "bad.csv"
        bad.write_bytes(csv_of([(name, "06999")]))
        assert cli_main(["import", str(bad)]) == 1
        assert "ligne     2  [unknown_commune]" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
