"""The colouring of the CPTS on the map (`app.domain.cpts_colours`): no two neighbouring CPTS
share a colour, on the Alpes-Maritimes fixture over the real adjacency of the communes and on
synthetic graphs; the result depends on the CPTS and their units only (not on the order they
come in), and a CPTS keeps its colour when unrelated ones change."""

import json
import random
from typing import Any

import psycopg

from app.auth.audit import Actor
from app.auth.policy import Role, User
from app.db import connect
from app.domain import cpts_colours
from app.domain.cpts_colours import PALETTE, assign, conflicts, neighbours
from app.repo import cpts as cpts_repo
from app.repo.reference import read_graph
from app.services import cpts as cpts_service
from app.services import map_data
from tests.coverage_support import read_fixture

NICE = "06088"
K = len(PALETTE.cpts)


def _grid(side: int) -> dict[str, list[str]]:
    """Units on a square grid, each bordering its four neighbours and one diagonal (triangles,
    as on a map)."""
    adjacency: dict[str, set[str]] = {f"{i}-{j}": set() for i in range(side) for j in range(side)}
    for i in range(side):
        for j in range(side):
            for a, b in ((i + 1, j), (i, j + 1), (i + 1, j + 1)):
                if a < side and b < side:
                    adjacency[f"{i}-{j}"].add(f"{a}-{b}")
                    adjacency[f"{a}-{b}"].add(f"{i}-{j}")
    return {code: sorted(near) for code, near in adjacency.items()}


def _blocks(side: int, size: int, seed: int) -> dict[int, list[str]]:
    """CPTS cut as blocks of the grid, a few left out (zones blanches), some a row longer
    (they claim a row of their neighbour: overlaps)."""
    rnd = random.Random(seed)
    units: dict[int, list[str]] = {}
    next_id = 1
    for bi in range(0, side, size):
        for bj in range(0, side, size):
            if rnd.random() < 0.1:
                continue
            extra = rnd.choice((0, 0, 1))
            units[next_id] = [f"{i}-{j}" for i in range(bi, min(side, bi + size + extra))
                              for j in range(bj, min(side, bj + size))]
            next_id += 1
    return units


def test_the_alpes_maritimes_fixture_has_no_two_neighbours_alike(database: str) -> None:
    members, _ = read_fixture()
    names = sorted(members)
    units_of = {index + 1: members[name] for index, name in enumerate(names)}
    with connect(database) as conn:
        graph = read_graph(conn)
    colours = assign(units_of, graph.neighbours)
    touching = neighbours(units_of, graph.neighbours)
    assert set(colours) == set(units_of)
    assert all(0 <= c < K for c in colours.values())
    assert conflicts(touching, colours) == 0
    for a, near in touching.items():
        for b in near:
            assert colours[a] != colours[b], (names[a - 1], names[b - 1])
    # the three CPTS of Nice share a commune: neighbours, three colours
    nice = [i for i, codes in units_of.items() if NICE in codes]
    assert len(nice) == 3 and len({colours[i] for i in nice}) == 3
    assert all(set(nice) - {i} <= touching[i] for i in nice)
    # and a border is enough: each CPTS of the fixture touches another one
    assert all(touching[i] for i in units_of)
    # the same answer whatever the order of the mapping
    backwards = dict(reversed(list(units_of.items())))
    assert assign(backwards, graph.neighbours) == colours


def test_a_synthetic_map_of_many_cpts_has_no_two_neighbours_alike() -> None:
    adjacency = _grid(60)
    units_of = _blocks(60, 4, seed=3)
    assert len(units_of) > 180
    touching = neighbours(units_of, adjacency)
    colours = assign(units_of, adjacency)
    assert conflicts(touching, colours) == 0
    assert max(len(near) for near in touching.values()) >= 6
    # the palette is used, not one colour everywhere
    assert len(set(colours.values())) >= 5
    shuffled = list(units_of.items())
    random.Random(1).shuffle(shuffled)
    assert assign(dict(shuffled), adjacency) == colours


def test_a_cpts_keeps_its_colour_when_unrelated_ones_change() -> None:
    adjacency = _grid(40)
    units_of = _blocks(40, 4, seed=5)
    before = assign(units_of, adjacency)
    # a new CPTS (a greater id) somewhere: no older CPTS changes colour
    grown = dict(units_of) | {max(units_of) + 1: ["0-0", "0-1"]}
    after = assign(grown, adjacency)
    assert {i: after[i] for i in units_of} == before
    # the last CPTS removed: the others keep theirs
    last = max(units_of)
    shrunk = {i: codes for i, codes in units_of.items() if i != last}
    assert assign(shrunk, adjacency) == {i: before[i] for i in shrunk}
    # a CPTS on an island of its own changes nothing of the others, whatever its id
    island = {"x1": ["x2"], "x2": ["x1"]}
    apart = dict(units_of) | {0: ["x1", "x2"]}
    assert {i: c for i, c in assign(apart, adjacency | island).items() if i} == before


def test_two_cpts_sharing_a_unit_are_neighbours_and_differ() -> None:
    adjacency: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    units_of = {1: ["a", "b"], 2: ["b"], 3: ["c"]}
    touching = neighbours(units_of, adjacency)
    assert touching == {1: {2}, 2: {1}, 3: set()}
    colours = assign(units_of, adjacency)
    assert colours[1] != colours[2]
    # with no neighbour a CPTS takes the colour of its id
    assert colours[3] == 3 % K


def test_when_the_order_of_the_ids_runs_out_of_colours_dsatur_colours_the_map() -> None:
    # a path 1 – 3 – 2 with two colours: in the order of the ids, 1 and 2 (not neighbours)
    # take their own colours and leave none for 3; DSatur starts with 3 and needs two
    units_of = {1: ["u1"], 2: ["u2"], 3: ["u3"]}
    adjacency = {"u1": ["u3"], "u2": ["u3"], "u3": ["u1", "u2"]}
    touching = neighbours(units_of, adjacency)
    assert conflicts(touching, cpts_colours._greedy(touching, 2)) == 1
    colours = assign(units_of, adjacency, k=2)
    assert conflicts(touching, colours) == 0
    assert colours[1] == colours[2] != colours[3]


def test_more_cpts_on_one_commune_than_colours_leaves_the_fewest_conflicts() -> None:
    units_of = {i: ["shared"] for i in range(1, K + 3)}
    colours = assign(units_of, {"shared": []})
    touching = neighbours(units_of, {"shared": []})
    # K + 2 CPTS, all neighbours: K colours used, only two pairs alike
    assert len(set(colours.values())) == K
    assert conflicts(touching, colours) == 2


def _ctx(conn: Any, user: User) -> cpts_service.Context:
    return cpts_service.Context(conn=conn, graph=read_graph(conn),
                                rules=cpts_repo.size_rules(conn), user=user,
                                actor=Actor.command_line())


def test_the_map_listings_colour_what_the_user_sees(database: str) -> None:
    admin = User(id=0, email="admin@test", role=Role.ADMIN)
    observer = User(id=0, email="obs@test", role=Role.OBSERVER, regions=frozenset({"93"}))
    with connect(database) as conn, conn.transaction():  # rolled back at the end
        ctx = _ctx(conn, admin)
        # the hidden draft first (the smallest id: the others are coloured after it)
        draft = cpts_service.create(ctx, name="Couleurs brouillon", status="pre_projet",
                                    communes=["06035"], reason="test")
        menton = cpts_service.create(ctx, name="Couleurs Menton", status="aci_signe",
                                     communes=["06083"], reason="test")
        roquebrune = cpts_service.create(ctx, name="Couleurs Roquebrune", status="aci_signe",
                                         communes=["06104"], reason="test")
        listings = {}
        for who, user in (("admin", admin), ("observer", observer)):
            seen = _ctx(conn, user)
            listings[who] = (map_data.perimeters(seen, None),
                             json.loads(map_data.overview(seen)),
                             map_data.perimeters(seen, ["aci_signe"]))
        graph = read_graph(conn)
        raise psycopg.Rollback
    for who, (perimeters, overview, signed) in listings.items():
        colour = {c["id"]: c["colour"] for c in perimeters["cpts"]}
        assert all(isinstance(c, int) for c in colour.values()), who
        # one colour per CPTS wherever the page reads it, whatever the filter
        assert {c["id"]: c["colour"] for c in overview["cpts"]} == colour, who
        assert all(colour[c["id"]] == c["colour"] for c in signed["cpts"]), who
        # neighbours differ (Menton borders Roquebrune)
        assert colour[menton] != colour[roquebrune]
        # the colouring is that of what this user sees, nothing else
        units_of = {c["id"]: c["communes"] for c in perimeters["cpts"]}
        assert colour == assign(units_of, graph.neighbours), who
    admin_ids = {c["id"] for c in listings["admin"][0]["cpts"]}
    observer_ids = {c["id"] for c in listings["observer"][0]["cpts"]}
    assert draft in admin_ids and draft not in observer_ids
