"""POST /api/proposals on the real CPTS of the Alpes-Maritimes (with their « HORS CPTS »
communes) and on the generated scenario of région 84: every uncovered unit assigned once,
groups contiguous and inside one région, floors reached where the zone can, no attachment over
the cap, the same seed giving the same plan; who may ask, what they are told, and the plan
saved as agency scenarios that never count."""

from collections import deque
from collections.abc import Iterable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.policy import Role
from app.db import connect
from app.domain.cpts_colours import PALETTE
from app.domain.perimeter import ReferenceGraph
from app.repo.reference import read_graph
from app.services.proposals import apart_from_drawn
from tests.coverage_support import (
    FIXTURE_STAGES,
    SCENARIO_REGION,
    Scratch,
    bearer,
)

Headers = dict[str, str]
FLOOR = 40_000


@pytest.fixture(scope="module")
def graph(scratch: Scratch) -> ReferenceGraph:
    with connect(scratch.url) as conn:
        return read_graph(conn)


@pytest.fixture(scope="module")
def admin(scratch: Scratch) -> Headers:
    return bearer(scratch.url, Role.ADMIN)


def plan(api: TestClient, headers: Headers, **body: Any) -> dict[str, Any]:
    response = api.post("/api/proposals", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def uncovered(api: TestClient, headers: Headers, scope: str, statuses: str | None = None
              ) -> set[str]:
    params = {"scope": scope} | ({"statuses": statuses} if statuses else {})
    view = api.get("/api/coverage", params=params, headers=headers).json()
    return {code for zone in view["white_zones"] for code in zone["communes"]}


def connected(units: Iterable[str], graph: ReferenceGraph) -> bool:
    members = set(units)
    start = next(iter(members))
    seen, queue = {start}, deque([start])
    while queue:
        for other in graph.neighbours.get(queue.popleft(), ()):
            if other in members and other not in seen:
                seen.add(other)
                queue.append(other)
    return seen == members


def pieces(units: Iterable[str], graph: ReferenceGraph) -> list[set[str]]:
    left, found = set(units), []
    while left:
        start = left.pop()
        piece, queue = {start}, deque([start])
        while queue:
            for other in graph.neighbours.get(queue.popleft(), ()):
                if other in left:
                    left.discard(other)
                    piece.add(other)
                    queue.append(other)
        found.append(piece)
    return found


def planned_units(answer: dict[str, Any]) -> list[str]:
    return sorted([c for g in answer["groups"] for c in g["communes"]]
                  + [c for a in answer["attachments"] for c in a["communes"]])


def members(scratch: Scratch, cpts_id: int) -> set[str]:
    with connect(scratch.url) as conn:
        rows = conn.execute("SELECT code FROM cpts_member WHERE cpts_id = %s",
                            (cpts_id,)).fetchall()
    return {r["code"] for r in rows}


def touching(first: Iterable[str], second: Iterable[str], graph: ReferenceGraph) -> bool:
    there = set(second)
    return any(c in there or there & set(graph.neighbours.get(c, ())) for c in first)


def neighbouring_pairs(answer: dict[str, Any], graph: ReferenceGraph
                       ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    entries = answer["groups"] + answer["attachments"]
    return [(a, b) for i, a in enumerate(entries) for b in entries[i + 1:]
            if touching(a["communes"], b["communes"], graph)]


def check_colours(answer: dict[str, Any], graph: ReferenceGraph) -> None:
    """Every proposed perimeter in one of the map's palette colours, neighbours apart."""
    entries = answer["groups"] + answer["attachments"]
    assert all(isinstance(e["colour"], int) and 0 <= e["colour"] < len(PALETTE.cpts)
               for e in entries)
    for first, second in neighbouring_pairs(answer, graph):
        assert first["colour"] != second["colour"], (first.get("id"), second.get("cpts_id"))


def check_plan(answer: dict[str, Any], expected: set[str], graph: ReferenceGraph,
               scratch: Scratch, max_size_class: int) -> None:
    units = planned_units(answer)
    assert len(units) == len(set(units)), "une commune est planifiée deux fois"
    assert set(units) == expected
    for group in answer["groups"]:
        # units without polygon follow the unit drawing their territory (Cantal, 15141)
        drawn = [c for c in group["communes"] if graph.units[c].has_polygon]
        assert connected(drawn, graph), group["id"]
        assert len({graph.units[c].region for c in group["communes"]}) == 1
        assert group["population"] == sum(graph.units[c].population for c in group["communes"])
        if not group["reaches_floor"]:
            assert group["population"] < FLOOR
            assert group["reasons"][0]["code"] == "zone_below_floor"
        else:
            assert group["population"] >= FLOOR and not group["reasons"]
    for attachment in answer["attachments"]:
        assert attachment["size_class_after"] <= max_size_class
        assert not attachment["exceeds_max_size_class"]
        held = members(scratch, attachment["cpts_id"])
        for piece in pieces(attachment["communes"], graph):
            assert any(n in held for c in piece for n in graph.neighbours.get(c, ())), (
                "un morceau rattaché ne touche pas sa CPTS")
        assert attachment["population_after"] == attachment["population_before"] + attachment[
            "population"]
    after = answer["coverage_after"]
    assert after["communes_covered"] == after["communes_total"]
    assert answer["writes_nothing"] is True
    check_colours(answer, graph)


def test_alpes_maritimes_hors_cpts_communes_are_all_attached_or_grouped(
        api: TestClient, admin: Headers, graph: ReferenceGraph, scratch: Scratch) -> None:
    expected = uncovered(api, admin, "departement:06")
    assert set(scratch.uncovered_in_fixture) <= expected
    answer = plan(api, admin, scope="departement:06")
    check_plan(answer, expected, graph, scratch, 4)
    # 13 communes « HORS CPTS », about 10,000 people: too few for a CPTS of their own, each
    # zone goes to the CPTS around it.
    assert answer["coverage_before"]["communes_covered"] == (
        answer["coverage_before"]["communes_total"] - len(expected))
    assert answer["coverage_after"]["coverage_rate"] == 1.0
    assert answer["attachments"] and all(g["population"] < FLOOR for g in answer["groups"])
    names = {a["name"] for a in answer["attachments"]}
    assert names <= set(scratch.fixture_ids)
    terms = {p["term"]: p["weight"] for p in answer["preferences"]}
    assert terms == {"epci": 1.0, "bassin_de_vie": 1.0, "compactness": 1.0, "balance": 1.0,
                     "signed_changes": 1.0}
    assert answer["options"]["min_population"] == FLOOR
    costs = answer["costs"]
    assert costs["total"] == pytest.approx(
        costs["epci_split"] + costs["bassin_de_vie_split"] + costs["compactness"]
        + costs["balance"] + costs["signed_changes"], abs=1e-3)


def test_attachments_respect_the_maximum_size_class(
        api: TestClient, admin: Headers, graph: ReferenceGraph, scratch: Scratch) -> None:
    expected = uncovered(api, admin, "departement:06")
    free = plan(api, admin, scope="departement:06")
    biggest = max(a["size_class_before"] for a in free["attachments"])
    cap = max(1, biggest - 1)
    capped = plan(api, admin, scope="departement:06", options={"max_size_class": cap})
    check_plan(capped, expected, graph, scratch, cap)
    too_big = {a["cpts_id"] for a in free["attachments"] if a["size_class_before"] > cap}
    assert too_big and not too_big & {a["cpts_id"] for a in capped["attachments"]}
    # Taille 1 at most: no CPTS of the fixture may take anything; what is left is flagged.
    tiny = plan(api, admin, scope="departement:06", options={"max_size_class": 1})
    check_plan(tiny, expected, graph, scratch, 1)
    flagged = [g for g in tiny["groups"] if not g["reaches_floor"]]
    assert {r["code"] for g in flagged for r in g["reasons"]} >= {"zone_below_floor",
                                                                   "max_size_class"}


def test_generated_region_is_covered_by_contiguous_groups_at_the_floor(
        api: TestClient, admin: Headers, graph: ReferenceGraph, scratch: Scratch) -> None:
    scope = f"region:{SCENARIO_REGION}"
    expected = uncovered(api, admin, scope)
    answer = plan(api, admin, scope=scope, options={"max_size_class": 3, "seed": 11})
    check_plan(answer, expected, graph, scratch, 3)
    assert any(g["reaches_floor"] for g in answer["groups"])
    # Same seed, same plan; the naive plan covers the same units.
    again = plan(api, admin, scope=scope, options={"max_size_class": 3, "seed": 11})
    assert again == answer
    naive = plan(api, admin, scope=scope, options={"method": "naive"})
    assert set(planned_units(naive)) == expected
    # GeoJSON: one feature per group and attachment, with a polygon each.
    collection = api.post("/api/proposals", params={"format": "geojson"}, headers=admin,
                          json={"scope": scope, "options": {"max_size_class": 3, "seed": 11}})
    assert collection.headers["content-type"].startswith("application/geo+json")
    features = collection.json()["features"]
    assert len(features) == len(answer["groups"]) + len(answer["attachments"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features
               if f["geometry"] is not None)


def test_neighbouring_proposals_take_different_palette_colours_in_answer_and_map(
        api: TestClient, admin: Headers, graph: ReferenceGraph) -> None:
    scope = f"region:{SCENARIO_REGION}"
    body = {"scope": scope, "options": {"max_size_class": 3, "seed": 11}}
    answer = plan(api, admin, **body)
    pairs = neighbouring_pairs(answer, graph)
    assert len(pairs) >= 3, "le scénario devrait donner des propositions voisines"
    check_colours(answer, graph)
    assert len({e["colour"] for e in answer["groups"] + answer["attachments"]}) >= 3
    # the map's features carry the very same index as the answer's rows
    features = api.post("/api/proposals", params={"format": "geojson"}, headers=admin,
                        json=body).json()["features"]
    assert [(f["properties"]["kind"], f["properties"]["colour"]) for f in features] == [
        ("group", g["colour"]) for g in answer["groups"]] + [
        ("attachment", a["colour"]) for a in answer["attachments"]]
    # the Alpes-Maritimes: each proposal stands alone, and takes a colour none of the CPTS the
    # map draws next to it has (a palette colour is free around each)
    answer = plan(api, admin, scope="departement:06")
    check_colours(answer, graph)
    drawn = api.get("/api/map/perimeters", headers=admin).json()["cpts"]
    for entry in answer["groups"] + answer["attachments"]:
        ring = {n for c in entry["communes"] for n in (c, *graph.neighbours.get(c, ()))}
        around = {c["colour"] for c in drawn if not c["archived"] and ring & set(c["communes"])}
        assert around and len(around) < len(PALETTE.cpts)
        assert entry["colour"] not in around, (entry["communes"], around)


def test_colours_renamed_apart_from_the_cpts_drawn_around() -> None:
    # proposals 0 and 2 share colour 0 (not neighbours), 1 has colour 1 and touches 0; the CPTS
    # drawn next to them have colours {0}, {2} and {1}
    own, touching = [0, 1, 0], {0: {1}, 1: {0}, 2: set()}
    renamed = apart_from_drawn(own, touching, [{0}, {2}, {1}], k=4)
    assert renamed[0] != renamed[1], "neighbours stay apart"
    assert renamed[0] != 0 and renamed[1] != 2 and renamed[2] != 1, renamed
    # each group of touching proposals is renamed on its own: 2 keeps its colour (no clash)
    assert renamed[2] == 0
    # nothing clashes: the server's colours stay as they are
    assert apart_from_drawn(own, touching, [{3}, {2}, {1}], k=4) == own
    # more colours around than the palette holds: as few clashes as can be
    assert apart_from_drawn([0, 1], {0: {1}, 1: {0}}, [{0, 1}, {0}], k=2) == [0, 1]
    assert apart_from_drawn([0, 1], {0: {1}, 1: {0}}, [{0}, {1}], k=2) == [1, 0]


def test_task_force_is_never_offered_a_cpts_it_may_not_see(
        api: TestClient, admin: Headers, graph: ReferenceGraph, scratch: Scratch) -> None:
    # Counting drafts only, a few small communes around the two submitted drafts of the
    # fixture (which a task force may not see): the administrator gets them attached to the
    # drafts, the task force gets them grouped, the drafts never named.
    drafts = {scratch.fixture_ids[name] for name, stage in FIXTURE_STAGES.items()
              if stage == "pre_projet"}
    held = set().union(*(members(scratch, d) for d in drafts))
    around = sorted({n for c in held for n in graph.neighbours.get(c, ()) if n not in held},
                    key=lambda c: (graph.units[c].population, c))
    chosen: list[str] = []
    for code in around:
        if sum(graph.units[c].population for c in chosen) + graph.units[code].population < (
                FLOOR // 2):
            chosen.append(code)
    body = {"units": chosen, "statuses": ["pre_projet"]}
    by_admin = plan(api, admin, **body)
    assert {a["cpts_id"] for a in by_admin["attachments"]} <= drafts
    assert by_admin["attachments"]
    observer = bearer(scratch.url, Role.OBSERVER, regions=("93",))
    response = api.post("/api/proposals", json=body, headers=observer)
    assert response.status_code == 200
    assert response.json()["attachments"] == []
    for name, stage in FIXTURE_STAGES.items():
        if stage == "pre_projet":
            assert name not in response.text
    assert set(planned_units(response.json())) == set(planned_units(by_admin)) == set(chosen)


def test_who_may_ask_and_bad_requests(api: TestClient, scratch: Scratch) -> None:
    carrier = bearer(scratch.url, Role.CARRIER)
    assert api.post("/api/proposals", json={"scope": "departement:06"},
                    headers=carrier).status_code == 403
    other_region = bearer(scratch.url, Role.ARS, regions=("84",))
    refused = api.post("/api/proposals", json={"scope": "departement:06"},
                       headers=other_region)
    assert refused.status_code == 403 and refused.json()["code"] == "scope_outside_regions"
    assert api.post("/api/proposals", json={"scope": "national"},
                    headers=other_region).json()["code"] == "scope_outside_regions"
    both = api.post("/api/proposals", json={"scope": "departement:15", "units": ["15014"]},
                    headers=other_region)
    assert both.status_code == 422 and both.json()["code"] == "scope_or_units"
    nonsense = api.post("/api/proposals", headers=other_region, json={
        "scope": "departement:15", "options": {"max_size_class": 9}})
    assert nonsense.status_code == 422
    assert api.post("/api/proposals", json={"scope": "departement:15"},
                    headers=other_region).status_code == 200


def test_plan_saved_as_agency_scenarios_that_never_count(
        api: TestClient, admin: Headers, scratch: Scratch) -> None:
    agency = bearer(scratch.url, Role.ARS, regions=("93",))
    before = api.get("/api/coverage", params={"scope": "departement:06"}, headers=agency).json()
    answer = plan(api, agency, scope="departement:06")
    attachment = answer["attachments"][0]
    body = {"groups": [{"communes": g["communes"], "siege_commune": g["siege_commune"]}
                       for g in answer["groups"]],
            "attachments": [{"cpts_id": attachment["cpts_id"],
                             "communes": attachment["communes"]}]}
    saved = api.post("/api/proposals/scenarios", json=body, headers=agency)
    assert saved.status_code == 201, saved.text
    created = saved.json()
    assert len(created) == len(answer["groups"]) + 1
    extended = api.get(f"/api/cpts/{created[-1]['id']}", headers=agency).json()
    assert extended["is_scenario"] is True
    assert set(extended["communes"]) == members(scratch, attachment["cpts_id"]) | set(
        attachment["communes"])
    assert extended["population"] == attachment["population_after"]
    after = api.get("/api/coverage", params={"scope": "departement:06"}, headers=agency).json()
    assert after["population_covered"] == before["population_covered"]
    observer = bearer(scratch.url, Role.OBSERVER, regions=("93",))
    assert api.get(f"/api/cpts/{created[-1]['id']}", headers=observer).status_code == 404
    # Another région's agency may not save there; a task force saves nothing.
    group = {"groups": [{"communes": attachment["communes"]}]}
    other = bearer(scratch.url, Role.ARS, regions=("84",))
    assert api.post("/api/proposals/scenarios", json=group, headers=other).status_code == 403
    assert api.post("/api/proposals/scenarios", json=group,
                    headers=observer).status_code == 403
