"""Proposed plans, the rules on drawn grids: small zones attached to bordering CPTS without
crossing the cap, large zones cut by max-p into contiguous groups at the floor, one région per
group, units without polygon following their host, the naive plan, determinism."""

from collections import deque
from collections.abc import Callable, Iterable
from datetime import date

import pytest

from app.domain.perimeter import ReferenceGraph, Unit
from app.domain.proposals import (
    Neighbour,
    Options,
    Plan,
    Shapes,
    Territory,
    Weights,
    check_options,
    make_plan,
    zones,
)
from app.domain.size_rules import SizeRule
from app.errors import ProblemError

RULE = SizeRule(id="aci-2019", label="ACI 2019", thresholds=(40_000, 80_000, 175_000),
                lower_bound_inclusive=True, ceilings_eur=(220_000, 287_000, 370_000, 450_000),
                source="test", valid_from=date(2019, 8, 25))
SIDE_M = 1_000.0


def code(row: int, column: int) -> str:
    return f"{column:02d}{row:03d}"


def grid(rows: int, columns: int, people: Callable[[int, int], int],
         region: Callable[[int, int], str] = lambda r, c: "84",
         epci: Callable[[int, int], str] = lambda r, c: f"2000000{c // 3:02d}",
         ) -> tuple[ReferenceGraph, Shapes]:
    """A grid of square units (1 km sides), 4-neighbours; the outer ring touches the sea."""
    units: dict[str, Unit] = {}
    neighbours: dict[str, frozenset[str]] = {}
    borders: dict[str, dict[str, float]] = {}
    points: dict[str, tuple[float, float]] = {}
    for r in range(rows):
        for c in range(columns):
            around = [(r + dr, c + dc) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
            inside = [(a, b) for a, b in around if 0 <= a < rows and 0 <= b < columns]
            here = code(r, c)
            units[here] = Unit(
                code=here, nom=f"Commune {r}-{c}", population=people(r, c),
                departement=f"{c // 4:02d}", region=region(r, c), area_m2=SIDE_M ** 2,
                edge_m=SIDE_M * (4 - len(inside)), has_polygon=True, is_unit=True, parent=None,
                epci=epci(r, c), bassin_de_vie=f"{r // 3:02d}{c // 3:03d}")
            neighbours[here] = frozenset(code(a, b) for a, b in inside)
            borders[here] = {code(a, b): SIDE_M for a, b in inside}
            points[here] = (c * 1.0, r * 1.0)
    graph = ReferenceGraph(release_id=1, population_year=2023, units=units,
                           neighbours=neighbours)
    return graph, Shapes(borders=borders, points=points)


def territory(graph: ReferenceGraph, shapes: Shapes, cpts: dict[int, tuple[str, Iterable[str]]],
              region: str = "84") -> Territory:
    """The units held by no CPTS are to plan; every CPTS may receive units."""
    held = {cpts_id: frozenset(units) for cpts_id, (_, units) in cpts.items()}
    holders: dict[str, tuple[int, ...]] = {}
    for cpts_id, units in sorted(held.items()):
        for unit in units:
            holders[unit] = (*holders.get(unit, ()), cpts_id)
    neighbours = {cpts_id: Neighbour(cpts_id, status, region, held[cpts_id],
                                     sum(graph.units[u].population for u in held[cpts_id]))
                  for cpts_id, (status, _) in cpts.items()}
    uncovered = tuple(sorted(c for c in graph.units if c not in holders))
    return Territory(graph, uncovered, holders, neighbours, shapes)


def connected(units: Iterable[str], graph: ReferenceGraph) -> bool:
    members = set(units)
    start = next(iter(members))
    seen, queue = {start}, deque([start])
    while queue:
        for other in graph.neighbours[queue.popleft()]:
            if other in members and other not in seen:
                seen.add(other)
                queue.append(other)
    return seen == members


def assigned(plan: Plan) -> list[str]:
    return sorted([u for g in plan.groups for u in g.units]
                  + [u for a in plan.attachments for u in a.units])


def column_block(columns: Iterable[int], rows: int) -> list[str]:
    return [code(r, c) for r in range(rows) for c in columns]


def test_large_zone_is_cut_into_contiguous_groups_that_reach_the_floor() -> None:
    # 6 × 10 units of 2,000 people: the 6 × 7 units on the right are uncovered (84,000).
    graph, shapes = grid(6, 10, lambda r, c: 2_000)
    land = territory(graph, shapes, {1: ("aci_signe", column_block(range(3), 6))})
    plan = make_plan(land, Options(min_population=40_000), RULE)
    assert assigned(plan) == sorted(land.uncovered)
    assert not plan.attachments
    assert len(plan.groups) == 2  # 84,000 people: at most two groups of 40,000
    for group in plan.groups:
        assert group.population >= 40_000 and group.reaches_floor and not group.reasons
        assert connected(group.units, graph)
        assert group.size_class == 2
        assert 0 < group.compactness <= 1
    assert plan.costs.balance < 0.2


def test_small_zone_is_attached_to_the_bordering_cpts() -> None:
    # A CPTS of 50 units × 1,000 on the left; 10 uncovered units (10,000) on the right.
    graph, shapes = grid(5, 12, lambda r, c: 1_000)
    left = column_block(range(10), 5)
    land = territory(graph, shapes, {7: ("aci_signe", left)})
    plan = make_plan(land, Options(min_population=40_000), RULE)
    assert not plan.groups
    (attachment,) = plan.attachments
    assert attachment.cpts_id == 7 and len(attachment.units) == 10
    assert attachment.population_before == 50_000
    assert attachment.population_after == 60_000
    assert (attachment.size_class_before, attachment.size_class_after) == (2, 2)
    assert plan.costs.signed_changes == 1.0


def test_attachment_never_pushes_a_cpts_over_the_maximum_size_class() -> None:
    # The CPTS holds 39,000 people: taking the 10,000 would make it taille 2.
    graph, shapes = grid(5, 12, lambda r, c: 780 if c < 10 else 1_000)
    land = territory(graph, shapes, {7: ("aci_signe", column_block(range(10), 5))})
    capped = make_plan(land, Options(min_population=40_000, max_size_class=1), RULE)
    for attachment in capped.attachments:
        assert attachment.size_class_after <= 1
    assert assigned(capped) == sorted(land.uncovered)
    flagged = [g for g in capped.groups if not g.reaches_floor]
    assert flagged and all({r.code for r in g.reasons} == {"zone_below_floor",
                                                            "max_size_class"}
                           for g in flagged)
    # Every attached piece touches its CPTS.
    for attachment in capped.attachments:
        assert connected([*attachment.units, *land.neighbours[7].units], graph)
    free = make_plan(land, Options(min_population=40_000, max_size_class=4), RULE)
    assert not free.groups and free.attachments[0].size_class_after == 2


def test_small_zone_between_two_cpts_prefers_the_draft_to_the_signed_contract() -> None:
    # Columns 0-4 signed, 7-11 a draft; columns 5-6 uncovered (10 units, 10,000 people). Same
    # EPCI and bassins de vie do not separate them: the draft costs less to change.
    graph, shapes = grid(5, 12, lambda r, c: 1_000, epci=lambda r, c: "200000001")
    land = territory(graph, shapes, {1: ("aci_signe", column_block(range(5), 5)),
                                     2: ("pre_projet", column_block(range(7, 12), 5))})
    plan = make_plan(land, Options(min_population=40_000), RULE)
    assert [a.cpts_id for a in plan.attachments] == [2]
    # Without the preference for drafts, and a strong one for EPCI: the split follows them.
    by_epci = make_plan(land, Options(min_population=40_000, weights=Weights(
        signed_changes=0.0)), RULE)
    assert assigned(by_epci) == sorted(land.uncovered)


def test_naive_plan_attaches_the_whole_zone_to_the_longest_border() -> None:
    # Columns 0-5 are one CPTS (border of 6 km with the zone), column 11 another (6 km too,
    # on the other side) - rows 0-5; the zone is columns 6-10 minus a CPTS at the bottom.
    graph, shapes = grid(6, 12, lambda r, c: 1_500)
    land = territory(graph, shapes, {1: ("aci_signe", column_block(range(6), 6)),
                                     2: ("aci_signe", [code(5, c) for c in range(6, 11)]
                                         + column_block([11], 6))})
    naive = make_plan(land, Options(min_population=40_000, method="naive"), RULE)
    assert not naive.groups
    (attachment,) = naive.attachments
    # CPTS 2 borders the zone on its right (5 km) and below (5 km): 10 km against 5 km.
    assert attachment.cpts_id == 2
    assert len(attachment.units) == 25


def test_zone_crossing_a_regional_border_makes_one_group_per_region() -> None:
    # Uncovered everywhere; columns 0-4 in région 84, 5-9 in région 93; 2,000 people a unit.
    graph, shapes = grid(6, 10, lambda r, c: 2_000, region=lambda r, c: "84" if c < 5 else "93")
    land = territory(graph, shapes, {})
    assert len(zones(land)) == 2
    plan = make_plan(land, Options(min_population=40_000), RULE)
    assert assigned(plan) == sorted(land.uncovered)
    for group in plan.groups:
        assert len({graph.units[u].region for u in group.units}) == 1
        assert connected(group.units, graph)
        assert group.reaches_floor  # 60,000 a région: one group each
    assert len(plan.groups) == 2


def test_zone_without_neighbour_under_the_floor_is_flagged_with_why() -> None:
    graph, shapes = grid(3, 3, lambda r, c: 1_000)
    plan = make_plan(territory(graph, shapes, {}), Options(min_population=40_000), RULE)
    (group,) = plan.groups
    assert group.population == 9_000 and not group.reaches_floor
    assert [r.code for r in group.reasons] == ["zone_below_floor", "no_neighbour"]
    assert "9\u202f000" in group.reasons[0].detail


def test_unit_without_polygon_follows_the_unit_drawing_its_territory() -> None:
    graph, shapes = grid(5, 12, lambda r, c: 1_000)
    graph.units["99001"] = Unit(code="99001", nom="Rétablie", population=300, departement="00",
                                region="84", area_m2=None, edge_m=None, has_polygon=False,
                                is_unit=True, parent=None)
    shapes = Shapes(shapes.borders, shapes.points, hosts={"99001": code(0, 11)})
    land = territory(graph, shapes, {7: ("aci_signe", column_block(range(10), 5))})
    plan = make_plan(land, Options(min_population=40_000), RULE)
    (attachment,) = plan.attachments
    assert "99001" in attachment.units and code(0, 11) in attachment.units
    assert attachment.population == 10_300


def test_same_seed_same_plan_and_every_unit_once() -> None:
    graph, shapes = grid(10, 10, lambda r, c: 900 + 37 * ((r * 7 + c * 3) % 11))
    land = territory(graph, shapes, {1: ("projet_sante", column_block([0], 10))})
    first = make_plan(land, Options(min_population=20_000, seed=7), RULE)
    again = make_plan(land, Options(min_population=20_000, seed=7), RULE)
    assert first == again
    units = assigned(first)
    assert units == sorted(land.uncovered) and len(units) == len(set(units))
    assert all(g.population >= 20_000 and connected(g.units, graph) for g in first.groups)


@pytest.mark.parametrize(("options", "code_"), [
    (Options(min_population=0), "invalid_min_population"),
    (Options(min_population=40_000, max_size_class=5), "invalid_max_size_class"),
    (Options(min_population=40_000, method="glouton"), "invalid_method"),
    (Options(min_population=40_000, weights=Weights(epci=-1)), "invalid_weight"),
])
def test_nonsense_options_are_refused_in_french(options: Options, code_: str) -> None:
    with pytest.raises(ProblemError) as refused:
        check_options(options, RULE)
    assert refused.value.code == code_
