"""GET /api/coverage on the real CPTS of the Alpes-Maritimes, checked against an independent
GeoPandas computation; perimeters as they stood on a day; stage filters; who sees which CPTS
named; the GeoJSON, CSV and XLSX exports."""

import csv
import io
from datetime import date, timedelta
from typing import Any

import geopandas
import pytest
import shapely
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.api.coverage import CoverageOut
from app.auth.policy import Role
from app.db import connect
from app.domain.coverage import parse_statuses
from tests.coverage_support import (
    FIXTURE_DEPARTEMENT,
    FIXTURE_STAGES,
    PROJECTED,
    Scratch,
    bearer,
    counted_perimeters,
    read_units,
    reference,
    zones_of,
)

Headers = dict[str, str]
NICE = "06088"
NICE_CPTS = ("CPTS NICE CENTRE NICE EST", "CPTS NICE NORD ET SES COLLINES",
             "CPTS NICE OUEST VALLEE")
METROPOLE_NICE = "200030195"
TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(scope="module")
def admin(scratch: Scratch) -> Headers:
    return bearer(scratch.url, Role.ADMIN)


@pytest.fixture(scope="module")
def units(scratch: Scratch) -> geopandas.GeoDataFrame:
    return read_units(scratch.url)


def coverage(api: TestClient, headers: Headers, **params: str) -> dict[str, Any]:
    response = api.get("/api/coverage", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


def population(scratch: Scratch, codes: list[str] | set[str]) -> int:
    with connect(scratch.url) as conn:
        row = conn.execute("SELECT coalesce(sum(population), 0)::int AS p FROM commune "
                           "WHERE code = ANY(%s)", (sorted(codes),)).fetchone()
    assert row is not None
    return int(row["p"])


def neighbours(scratch: Scratch, code: str) -> list[str]:
    with connect(scratch.url) as conn:
        rows = conn.execute("SELECT neighbour FROM unit_adjacency WHERE code = %s "
                            "ORDER BY neighbour", (code,)).fetchall()
    return [r["neighbour"] for r in rows]


def uncovered(view: dict[str, Any]) -> set[str]:
    return {c for z in view["white_zones"] for c in z["communes"]}


# --- Figures against GeoPandas --------------------------------------------------------------

@pytest.mark.parametrize("statuses", [None, "aci_signe", "lettre_intention,projet_sante,aci_signe",
                                      "pre_projet"])
def test_alpes_maritimes_figures_equal_a_geopandas_overlay(
    api: TestClient, admin: Headers, scratch: Scratch, units: geopandas.GeoDataFrame,
    statuses: str | None,
) -> None:
    params = {"scope": f"departement:{FIXTURE_DEPARTEMENT}"} | (
        {"statuses": statuses} if statuses else {})
    view = coverage(api, admin, **params)
    expected = reference(units, counted_perimeters(scratch.url),
                         scope=("departement", FIXTURE_DEPARTEMENT),
                         statuses=parse_statuses(statuses))
    assert view["statuses"] == list(parse_statuses(statuses))
    assert (view["population_total"], view["population_covered"],
            view["population_uncovered"]) == (
        expected.population_total, expected.population_covered,
        expected.population_total - expected.population_covered)
    assert (view["communes_total"], view["communes_covered"], view["communes_uncovered"]) == (
        expected.communes_total, expected.communes_covered, len(expected.uncovered))
    assert view["coverage_rate"] == round(
        expected.population_covered / expected.population_total, 4)
    zones = zones_of(view)
    assert set(zones) == set(expected.zones)
    for members, zone in zones.items():
        assert zone["population"] == expected.zones[members]
        assert {a["id"] for a in zone["adjacent_cpts"]} == expected.adjacent[members]
    assert {m for m, z in zones.items() if z["enclave"]} == expected.enclaves
    assert {o["commune"]: {c["id"] for c in o["cpts"]} for o in view["overlaps"]} == (
        expected.overlaps)


def test_the_uncovered_communes_are_those_outside_every_cpts(
    api: TestClient, admin: Headers, scratch: Scratch
) -> None:
    view = coverage(api, admin, scope="departement:06")
    assert uncovered(view) == set(scratch.uncovered_in_fixture)
    assert view["communes_total"] == 163 and view["communes_uncovered"] == 13
    assert view["population_uncovered"] == population(scratch, scratch.uncovered_in_fixture)
    assert sorted(z["id"] for z in view["white_zones"]) == ["zb-06021", "zb-06041", "zb-06079"]
    carros = next(z for z in view["white_zones"] if "06033" in z["communes"])
    assert not carros["enclave"] and len(carros["adjacent_cpts"]) >= 2
    for neighbour in carros["adjacent_cpts"]:
        assert neighbour["population_with_zone"] == (
            neighbour["population"] + carros["population"])
        assert neighbour["size_class_with_zone"] >= neighbour["size_class"]
    assert view["cpts_counted"] == len(scratch.fixture_ids)


def test_nice_is_claimed_by_three_cpts(api: TestClient, admin: Headers,
                                       scratch: Scratch) -> None:
    view = coverage(api, admin, scope="departement:06")
    (nice,) = view["overlaps"]
    assert nice["commune"] == NICE and nice["population"] == population(scratch, [NICE])
    assert {c["name"]: c["status"] for c in nice["cpts"]} == {
        name: FIXTURE_STAGES.get(name, "aci_signe") for name in NICE_CPTS}
    assert nice["severity"] == "warning"  # a letter of intent and a draft are involved
    assert len(view["overlap_pairs"]) == 3
    assert all(p["communes"] == [NICE] for p in view["overlap_pairs"])
    signed_only = coverage(api, admin, scope="departement:06", statuses="aci_signe")
    assert signed_only["overlaps"] == [] and NICE not in uncovered(signed_only)


def test_counting_only_signed_contracts_uncovers_the_other_stages(
    api: TestClient, admin: Headers, scratch: Scratch
) -> None:
    everything = coverage(api, admin, scope="departement:06")
    signed = coverage(api, admin, scope="departement:06", statuses="aci_signe")
    held_signed = {code for name, codes in scratch.fixture_members.items()
                   if FIXTURE_STAGES.get(name, "aci_signe") == "aci_signe" for code in codes}
    assert signed["population_covered"] == population(scratch, held_signed)
    assert signed["communes_covered"] == len(held_signed)
    assert signed["population_covered"] < everything["population_covered"]
    assert signed["statuses"] == ["aci_signe"] and "ACI signé" in signed["covered_means"]
    assert everything["statuses"] == list(parse_statuses(None))
    stages = {s["status"]: s for s in signed["by_stage"]}
    assert [s for s, figures in stages.items() if figures["counted"]] == ["aci_signe"]
    assert stages["aci_signe"]["population_covered"] == signed["population_covered"]
    assert sum(s["population_most_advanced"] for s in signed["by_stage"]) == (
        everything["population_covered"])
    littoral = set(scratch.fixture_members["CPTS LITTORAL 06"])
    zone = next(z for z in signed["white_zones"] if littoral & set(z["communes"]))
    assert "CPTS LITTORAL 06" in {c["name"] for c in zone["other_stage_cpts"]}


def test_the_answer_follows_the_documented_schema(api: TestClient, admin: Headers) -> None:
    view = coverage(api, admin)
    CoverageOut.model_validate(view)
    for key in ("population_total", "population_covered", "coverage_rate", "communes_total",
                "communes_uncovered", "white_zones", "overlaps", "population_year", "at"):
        assert key in view
    assert view["scope"] == "national" and view["at"] == TODAY.isoformat()
    assert view["population_year"] == 2023 and view["size_rule"] == "aci-2022"
    for name in ("population_total", "population_covered", "communes_total",
                 "communes_covered"):
        assert sum(d[name] for d in view["by_departement"]) == view[name]
    schema = api.get("/openapi.json", headers=admin).json()
    parameters = {p["name"] for p in schema["paths"]["/api/coverage"]["get"]["parameters"]}
    assert parameters == {"scope", "statuses", "at", "format", "table"}


def test_an_epci_and_a_region_are_scopes_too(
    api: TestClient, admin: Headers, scratch: Scratch, units: geopandas.GeoDataFrame
) -> None:
    view = coverage(api, admin, scope=f"epci:{METROPOLE_NICE}")
    expected = reference(units, counted_perimeters(scratch.url),
                         scope=("epci", METROPOLE_NICE), statuses=parse_statuses(None))
    assert view["scope_name"] and view["communes_total"] == expected.communes_total == 51
    assert view["population_covered"] == expected.population_covered
    assert set(zones_of(view)) == set(expected.zones)
    region = coverage(api, admin, scope="region:93")
    assert [d["departement"] for d in region["by_departement"]] == ["04", "05", "06"]
    assert region["scope_name"] == "Provence-Alpes-Côte d'Azur"


def test_wrong_scopes_and_stages_are_refused(api: TestClient, admin: Headers) -> None:
    for params, status, code in (
        ({"scope": "commune:06088"}, 422, "invalid_scope"),
        ({"scope": "departement:75"}, 404, "unknown_scope"),
        ({"statuses": "aci_signe,signe"}, 422, "unknown_status"),
        ({"format": "pdf"}, 422, "validation_error"),
    ):
        response = api.get("/api/coverage", params=params, headers=admin)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code


# --- The perimeters as they stood on a day ----------------------------------------------------

def create(api: TestClient, headers: Headers, communes: list[str], *, status: str = "aci_signe",
           effective: date | None = None, **extra: Any) -> dict[str, Any]:
    body = {"name": f"CPTS essai {'-'.join(communes[:2])}", "status": status,
            "communes": communes, **extra}
    if effective is not None:
        body["effective_date"] = effective.isoformat()
    response = api.post("/api/cpts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_perimeter_changed_yesterday_is_seen_as_it_was_the_day_before(
    api: TestClient, admin: Headers, scratch: Scratch
) -> None:
    around = neighbours(scratch, "05061")  # Gap
    before = ["05061", *around[:3]]
    after = ["05061", *around[1:6]]
    made = create(api, admin, before, effective=TODAY - timedelta(days=20))
    changed = api.patch(f"/api/cpts/{made['id']}", headers=admin | {"If-Match": '"1"'},
                        json={"communes": after, "effective_date": YESTERDAY.isoformat(),
                              "reason": "extension votée hier"})
    assert changed.status_code == 200, changed.text

    def held(day: date) -> set[str]:
        view = coverage(api, admin, scope="departement:05", at=day.isoformat())
        assert view["at"] == day.isoformat()
        return set(before + after) - uncovered(view)

    assert held(YESTERDAY - timedelta(days=1)) == set(before)
    assert held(YESTERDAY) == set(after)
    assert held(TODAY) == set(after)
    assert held(TODAY - timedelta(days=30)) == set()
    old = coverage(api, admin, scope="departement:05",
                   at=(YESTERDAY - timedelta(days=1)).isoformat())
    dropped = next(z for z in old["white_zones"] if after[-1] in z["communes"])
    assert made["id"] in {a["id"] for a in dropped["adjacent_cpts"]}


def test_an_archived_cpts_leaves_coverage_the_day_it_is_archived(
    api: TestClient, admin: Headers, scratch: Scratch
) -> None:
    communes = ["05046", *neighbours(scratch, "05046")[:2]]  # Embrun
    made = create(api, admin, communes, effective=TODAY - timedelta(days=5))
    archived = api.post(f"/api/cpts/{made['id']}/archive", headers=admin | {"If-Match": '"1"'},
                        json={"reason": "dissoute"})
    assert archived.status_code == 200, archived.text
    yesterday = coverage(api, admin, scope="departement:05", at=YESTERDAY.isoformat())
    today = coverage(api, admin, scope="departement:05")
    assert set(communes).isdisjoint(uncovered(yesterday))
    assert set(communes) <= uncovered(today)


def test_a_version_effective_tomorrow_does_not_count_yet(
    api: TestClient, admin: Headers, scratch: Scratch
) -> None:
    around = neighbours(scratch, "05023")  # Briançon
    made = create(api, admin, ["05023", around[0]], effective=TODAY - timedelta(days=3))
    later = api.patch(f"/api/cpts/{made['id']}", headers=admin | {"If-Match": '"1"'},
                      json={"add": [around[1]],
                            "effective_date": (TODAY + timedelta(days=1)).isoformat()})
    assert later.status_code == 200, later.text
    assert around[1] in uncovered(coverage(api, admin, scope="departement:05"))
    tomorrow = coverage(api, admin, scope="departement:05",
                        at=(TODAY + timedelta(days=1)).isoformat())
    assert around[1] not in uncovered(tomorrow)


# --- Who is counted, who is named -------------------------------------------------------------

def test_anonymous_visitors_must_sign_in(api: TestClient) -> None:
    response = api.get("/api/coverage")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def names_at(view: dict[str, Any], commune: str) -> dict[str, Any]:
    overlap = next(o for o in view["overlaps"] if o["commune"] == commune)
    return {c["status"]: c for c in overlap["cpts"]}


def test_drafts_count_once_submitted_and_are_named_only_to_those_who_may_read_them(
    api: TestClient, admin: Headers, scratch: Scratch
) -> None:
    manosque, shared, other = "04112", "04068", "04094"
    owner = bearer(scratch.url, Role.CARRIER)
    draft = create(api, owner, [manosque, shared], status="pre_projet")
    assert {manosque, shared} <= uncovered(coverage(api, admin, scope="departement:04"))
    signed = create(api, admin, [shared, other])
    assert manosque in uncovered(coverage(api, admin, scope="departement:04"))
    submitted = api.post(f"/api/cpts/{draft['id']}/stage-request", headers=owner, json={})
    assert submitted.status_code == 204, submitted.text

    seen = {
        "admin": admin,
        "owner": owner,
        "ars": bearer(scratch.url, Role.ARS, regions=("93",)),
        "observer": bearer(scratch.url, Role.OBSERVER, regions=("93",)),
        "other carrier": bearer(scratch.url, Role.CARRIER),
        "ars elsewhere": bearer(scratch.url, Role.ARS, regions=("84",)),
    }
    figures = set()
    named = {}
    for who, headers in seen.items():
        view = coverage(api, headers, scope="departement:04")
        figures.add((view["population_covered"], view["communes_covered"],
                     len(view["white_zones"])))
        cpts = names_at(view, shared)
        named[who] = (cpts["pre_projet"]["name"], cpts["aci_signe"]["name"])
        assert manosque not in uncovered(view)
        assert cpts["pre_projet"]["id"] in (None, draft["id"])
    assert len(figures) == 1  # the same figures for everybody
    assert named == {
        "admin": (draft["name"], signed["name"]),
        "owner": (draft["name"], signed["name"]),
        "ars": (draft["name"], signed["name"]),
        "observer": (None, signed["name"]),
        "other carrier": (None, signed["name"]),
        "ars elsewhere": (None, None),
    }


def test_an_agency_scenario_never_counts_nor_shows(api: TestClient, admin: Headers,
                                                   scratch: Scratch) -> None:
    digne = ["04070", *neighbours(scratch, "04070")[:3]]
    agent = bearer(scratch.url, Role.ARS, regions=("93",))
    before = coverage(api, agent, scope="departement:04")
    scenario = create(api, agent, digne, status="lettre_intention", is_scenario=True)
    assert scenario["is_scenario"]
    after = coverage(api, agent, scope="departement:04")
    assert set(digne) <= uncovered(after)
    assert after["population_covered"] == before["population_covered"]
    shown = {c["id"] for z in after["white_zones"]
             for c in z["adjacent_cpts"] + z["other_stage_cpts"]}
    assert scenario["id"] not in shown


# --- Files ----------------------------------------------------------------------------------

def test_geojson_has_each_zone_dissolved_and_each_overlap(
    api: TestClient, admin: Headers, units: geopandas.GeoDataFrame
) -> None:
    view = coverage(api, admin, scope="departement:06")
    response = api.get("/api/coverage", headers=admin,
                       params={"scope": "departement:06", "format": "geojson"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert "couverture-departement-06-" in response.headers["content-disposition"]
    document = response.json()
    assert document["type"] == "FeatureCollection"
    assert document["coverage"]["statuses"] == view["statuses"]
    zones = [f for f in document["features"] if f["properties"]["kind"] == "white_zone"]
    overlaps = [f for f in document["features"] if f["properties"]["kind"] == "overlap"]
    assert [f["id"] for f in zones] == [z["id"] for z in view["white_zones"]]
    assert [f["properties"]["commune"] for f in overlaps] == [NICE]
    area = units.set_index("code").area
    for feature, zone in zip(zones, view["white_zones"], strict=True):
        shape = geopandas.GeoSeries([shapely.geometry.shape(feature["geometry"])],
                                    crs="EPSG:4326").to_crs(PROJECTED)
        assert shape.iloc[0].geom_type in ("Polygon", "MultiPolygon")
        expected = sum(area[c] for c in zone["communes"])
        assert abs(float(shape.area.iloc[0]) - expected) < 1e-3 * expected
        assert feature["properties"]["population"] == zone["population"]


def test_csv_tables_for_excel(api: TestClient, admin: Headers) -> None:
    view = coverage(api, admin, scope="departement:06", statuses="aci_signe")
    for table, expected in (("zones", len(view["white_zones"])),
                            ("overlaps", len(view["overlaps"])),
                            ("par_departement", 1),
                            ("rattachements", sum(len(z["adjacent_cpts"])
                                                  for z in view["white_zones"]))):
        response = api.get("/api/coverage", headers=admin, params={
            "scope": "departement:06", "statuses": "aci_signe", "format": "csv",
            "table": table})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")),
                               delimiter=";"))
        assert len(rows) == expected + 1, table
        assert rows[0][-3:] == ["perimetre_analyse", "date", "stades_couverts"]
        assert all(row[-1] == "aci_signe" for row in rows[1:])
    zones = api.get("/api/coverage", headers=admin, params={
        "scope": "departement:06", "format": "csv"}).content.decode("utf-8-sig")
    first = next(csv.DictReader(io.StringIO(zones), delimiter=";"))
    biggest = coverage(api, admin, scope="departement:06")["white_zones"][0]
    assert first["zone_id"] == biggest["id"]
    assert int(first["population"]) == biggest["population"]


def test_xlsx_has_the_summary_and_one_sheet_per_table(api: TestClient, admin: Headers) -> None:
    view = coverage(api, admin, scope="departement:06")
    response = api.get("/api/coverage", headers=admin,
                       params={"scope": "departement:06", "format": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["synthese", "zones", "rattachements", "overlaps", "paires",
                                   "par_departement"]
    assert workbook["zones"].max_row == len(view["white_zones"]) + 1
    assert workbook["overlaps"].max_row == len(view["overlaps"]) + 1
    summary = {row[0]: row[1] for row in workbook["synthese"].iter_rows(values_only=True)}
    assert summary["Population couverte"] == view["population_covered"]
    assert summary["Date des périmètres"] == view["at"]
    assert "ACI signé" in str(summary["Stades comptés comme couverts"])
    assert summary["Millésime de la population"] == 2023
