"""The colouring of the CPTS on the map (`app.domain.cpts_colours.assign`) on the generated
national scenario: the graph of neighbouring CPTS built from the units' adjacency, then the
greedy colouring (and DSatur when it runs out of colours), as the server does it on a cache
miss of `app.services.map_data.colours` (after a change of any visible CPTS).

The scenario is planned in memory from the loaded geodata (`benchmarks.scenario.plan`, the
~800 CPTS of France when the whole country is loaded; nothing is written), so the figure
holds for the national map. Target: under 250 ms (it adds to the first overview after a
change, whose own target is 1.5 s), with no two neighbours alike.

    .venv/bin/python -m benchmarks colours
"""

import time

from app.db import connect
from app.domain.cpts_colours import assign, conflicts, neighbours
from app.repo.reference import read_graph
from benchmarks import Figure, database_url, percentile
from benchmarks.scenario import plan, read_names

TARGET_MS = 250.0
RUNS = 7


def run() -> list[Figure]:
    with connect(database_url()) as conn:
        graph = read_graph(conn)
        names = read_names(conn)
    scenario = plan(graph, names)
    units_of = {index: sorted(cpts.units) for index, cpts in enumerate(scenario.cpts, start=1)}
    if not units_of:
        raise RuntimeError("no CPTS planned: load the geodata first (make bench loads France)")
    graph_ms: list[float] = []
    assign_ms: list[float] = []
    colours: dict[int, int] = {}
    for _ in range(RUNS):
        started = time.perf_counter()
        touching = neighbours(units_of, graph.neighbours)
        graph_ms.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        colours = assign(units_of, graph.neighbours)
        assign_ms.append(1000 * (time.perf_counter() - started))
    units = sum(len(codes) for codes in units_of.values())
    degree = max(len(near) for near in touching.values())
    note = (f"{len(units_of)} CPTS, {units} units, max {degree} neighbours, "
            f"{len(set(colours.values()))} colours used")
    return [
        Figure("colours.graph_p50", round(percentile(graph_ms, 0.5), 1), "ms", note=note),
        Figure("colours.assign_p50", round(percentile(assign_ms, 0.5), 1), "ms", TARGET_MS,
               note="graph and colouring"),
        Figure("colours.assign_max", round(max(assign_ms), 1), "ms", TARGET_MS),
        Figure("colours.conflicts", conflicts(touching, colours), "pairs", 1,
               note="neighbouring CPTS sharing a colour"),
    ]
