"""Editing a 100-commune CPTS through a real `cpts serve` (issue targets: adding one commune with
`PATCH` p95 < 50 ms; a simulation p95 < 30 ms), against the same `PATCH` computing the
dissolved outline with PostGIS `ST_Union` instead of Shapely's coverage union.

Runs on the scratch database of `benchmarks.coverage` (`cpts_bench_coverage`: the whole of
France and the ~820 CPTS of the scenario, loaded on first use), so the perimeter has real
neighbours and overlaps. A carrier account (made with `cpts users create --role carrier`)
creates, through the API, a draft of 100 contiguous communes (grown breadth-first from the
first commune of Aveyron, neighbours in code order) and so becomes its member; the commune
added and removed is the first unit bordering it.

- `PATCH`: 200 sequential changes, one commune added then removed again, each with `If-Match`
  (the `ETag` of the previous answer), each answered with the whole CPTS as `GET` gives it
  (population, class, headroom, overlaps, warnings).
- Baseline, measured in the same run: a second server whose only difference is
  `app.repo.cpts.dissolved_outlines` replaced by one `ST_Union` query (the naive way to dissolve
  a perimeter). Both servers are up together and take the 200 changes in alternating blocks of
  20, so a burst of load elsewhere on the machine hits both alike.
- Simulation: 200 `POST /api/simulations/perimeter` with `cpts_id` and the same commune added.
- The outline alone, in process: Shapely's coverage union of the 101 polygons against
  `ST_Union`, 30 times each.

The CPTS is archived at the end (an unsubmitted draft never counts in coverage anyway).
"""

import argparse
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from app.db import Conn, connect
from app.domain.perimeter import ReferenceGraph
from app.repo import cpts as cpts_repo
from app.repo.reference import read_graph
from benchmarks import Figure, percentile
from benchmarks.harness import Account, account_tokens, python_module_command, server

CARRIER = Account("bench-porteur-perimetres@cpts.invalid", "carrier")
SIZE = 100
SEED_DEPARTEMENT = "12"  # Aveyron: rural communes, as a 100-commune CPTS is
CHANGES = 200
BLOCK = 20
SIMULATIONS = 200
OUTLINE_RUNS = 30
WARM_UP = 4
PATCH_P95_MS = 50.0
SIMULATION_P95_MS = 30.0


def grow(graph: ReferenceGraph, seed: str, size: int) -> list[str]:
    """`size` contiguous units with a polygon, breadth-first from `seed` (code order)."""
    group, seen, queue = [seed], {seed}, deque([seed])
    while queue and len(group) < size:
        for neighbour in sorted(graph.neighbours.get(queue.popleft(), ())):
            unit = graph.units[neighbour]
            if neighbour not in seen and unit.is_unit and unit.has_polygon:
                seen.add(neighbour)
                group.append(neighbour)
                queue.append(neighbour)
                if len(group) == size:
                    break
    return group


def bordering(graph: ReferenceGraph, group: Sequence[str]) -> list[str]:
    """Units with a polygon sharing a boundary with `group`, outside it, in code order."""
    members = set(group)
    return sorted({n for code in group for n in graph.neighbours.get(code, ())
                   if n not in members and graph.units[n].is_unit
                   and graph.units[n].has_polygon})


def perimeter(graph: ReferenceGraph) -> tuple[list[str], str]:
    """The 100 contiguous units and the commune that is added and removed."""
    for seed in sorted(code for code, unit in graph.units.items()
                       if unit.departement == SEED_DEPARTEMENT and unit.is_unit
                       and unit.has_polygon):
        group = grow(graph, seed, SIZE)
        if len(group) == SIZE:
            return group, bordering(graph, group)[0]
    raise RuntimeError(f"no {SIZE} contiguous units from département {SEED_DEPARTEMENT}")


def st_union_outlines(conn: Conn, groups: Sequence[Sequence[str]]
                      ) -> list[tuple[bytes | None, bytes | None]]:
    """The baseline's dissolved outlines: `ST_Union` in PostGIS (full detail and zoom 0-6)."""
    outlines: list[tuple[bytes | None, bytes | None]] = []
    for codes in groups:
        row = conn.execute(
            """SELECT ST_AsBinary(ST_Multi(ST_Union(geom))) AS full,
                      ST_AsBinary(ST_Transform(ST_Multi(ST_Union(geom_g1)), 4326)) AS g1
               FROM commune WHERE code = ANY(%s) AND geom IS NOT NULL""",
            (list(codes),)).fetchone()
        outlines.append((None, None) if row is None else (
            None if row["full"] is None else bytes(row["full"]),
            None if row["g1"] is None else bytes(row["g1"])))
    return outlines


def serve_with_st_union(port: int) -> None:
    """`cpts serve` (one worker) with the outline computed by `ST_Union`: the baseline."""
    import uvicorn

    cpts_repo.dissolved_outlines = st_union_outlines
    uvicorn.run("app.main:create_app", factory=True, host="127.0.0.1", port=port,
                log_config=None, access_log=False)


class Editor:
    """The carrier's client: sends changes with `If-Match` and follows the version."""

    def __init__(self, cpts_id: int, version: int, commune: str) -> None:
        self.cpts_id = cpts_id
        self.version = version
        self.commune = commune
        self.inside = False

    def change(self, client: httpx.Client) -> float:
        body = {"remove" if self.inside else "add": [self.commune]}
        started = time.perf_counter()
        response = client.patch(f"/api/cpts/{self.cpts_id}", json=body,
                                headers={"If-Match": f'"{self.version}"'})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"PATCH: HTTP {response.status_code} {response.text[:300]}")
        version = int(response.headers["ETag"].strip('"'))
        if version != self.version + 1:
            raise RuntimeError(f"PATCH: version {version} after {self.version}")
        self.version = version
        self.inside = not self.inside
        return elapsed

    def simulate(self, client: httpx.Client) -> float:
        started = time.perf_counter()
        response = client.post("/api/simulations/perimeter",
                               json={"cpts_id": self.cpts_id, "add": [self.commune]})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or response.json()["units"] != SIZE + 1:
            raise RuntimeError(f"simulation: HTTP {response.status_code} {response.text[:300]}")
        return elapsed


def outline_times(url: str, codes: list[str]) -> tuple[list[float], list[float]]:
    shapely_ms, st_union_ms = [], []
    with connect(url) as conn:
        for _ in range(OUTLINE_RUNS):
            for way, times in ((cpts_repo.dissolved_outlines, shapely_ms),
                               (st_union_outlines, st_union_ms)):
                started = time.perf_counter()
                assert way(conn, [codes])[0][0] is not None
                times.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    return shapely_ms, st_union_ms


def run() -> list[Figure]:
    from benchmarks.coverage import prepare

    url = prepare()
    with connect(url) as conn:
        graph = read_graph(conn)
    group, commune = perimeter(graph)
    population = sum(graph.units[code].population for code in group)
    baseline_command = python_module_command("benchmarks.perimeters", "serve-st-union",
                                             "--port", "{port}")
    with (account_tokens(url, [CARRIER]) as (token,),
          server(url) as base, server(url, command=baseline_command) as naive_base,
          httpx.Client(base_url=base, timeout=60,
                       headers={"Authorization": f"Bearer {token}"}) as client,
          httpx.Client(base_url=naive_base, timeout=60,
                       headers={"Authorization": f"Bearer {token}"}) as naive):
        created = client.post("/api/cpts", json={
            "name": f"Banc d'essai périmètres {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
            "status": "pre_projet", "communes": group})
        if created.status_code != 201:
            raise RuntimeError(f"POST /api/cpts: HTTP {created.status_code} {created.text}")
        view = created.json()
        editor = Editor(int(view["id"]), int(view["version"]), commune)
        try:
            for each in (client, naive):  # loads the reference graph, opens connections
                each.get(f"/api/cpts/{editor.cpts_id}").raise_for_status()
                for _ in range(WARM_UP):
                    editor.change(each)
                    editor.simulate(each)
            patch_ms: list[float] = []
            naive_ms: list[float] = []
            for _ in range(CHANGES // BLOCK):
                patch_ms += [editor.change(client) for _ in range(BLOCK)]
                naive_ms += [editor.change(naive) for _ in range(BLOCK)]
            simulation_ms = [editor.simulate(client) for _ in range(SIMULATIONS)]
        finally:
            client.post(f"/api/cpts/{editor.cpts_id}/archive",
                        json={"reason": "fin du banc d'essai"},
                        headers={"If-Match": f'"{editor.version}"'})
    shapely_ms, st_union_ms = outline_times(url, [*group, commune])

    p95 = percentile(patch_ms, 0.95)
    naive_p95 = percentile(naive_ms, 0.95)
    where = (f"{SIZE} units from {group[0]} ({population:,} people) ± {commune}, "
             f"CPTS {editor.cpts_id}").replace(",", " ")
    return [
        Figure("perimeters.patch_p50", percentile(patch_ms, 0.5), "ms",
               note=f"{len(patch_ms)} PATCH add/remove with If-Match, one carrier; {where}"),
        Figure("perimeters.patch_p95", p95, "ms", PATCH_P95_MS,
               baseline_ratio=naive_p95 / p95,
               note="baseline: the same PATCH with the outline dissolved by ST_Union"),
        Figure("perimeters.patch_p99", percentile(patch_ms, 0.99), "ms"),
        Figure("perimeters.patch_st_union_p95", naive_p95, "ms",
               note=f"the baseline server, {len(naive_ms)} PATCH interleaved in blocks of "
                    f"{BLOCK}; its p50 {percentile(naive_ms, 0.5):.1f} ms"),
        Figure("perimeters.simulation_p50", percentile(simulation_ms, 0.5), "ms",
               note=f"{len(simulation_ms)} POST /api/simulations/perimeter, cpts_id + add"),
        Figure("perimeters.simulation_p95", percentile(simulation_ms, 0.95), "ms",
               SIMULATION_P95_MS),
        Figure("perimeters.outline_p50", percentile(shapely_ms, 0.5), "ms",
               baseline_ratio=percentile(st_union_ms, 0.5) / percentile(shapely_ms, 0.5),
               note=f"dissolving the {SIZE + 1} polygons alone, in process: Shapely coverage "
                    f"union; ST_Union p50 {percentile(st_union_ms, 0.5):.1f} ms"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perimeters",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["run", "serve-st-union"], default="run")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.command == "serve-st-union":
        serve_with_st_union(args.port)
        return 0
    from benchmarks.__main__ import format_figure

    for figure in run():
        print(format_figure(figure))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
