"""Load on loopback: 50 simulated users for 60 seconds against `cpts serve --workers 2` on the
national scenario (issue: report throughput and p50/p95/p99 per route; zero server errors; at
the end, every CPTS's version count equals the writes its client saw succeed, and its perimeter
equals the last one acknowledged).

`python -m benchmarks.load --users 50 --seconds 60` (also run by `make bench`). The database is
the scratch `cpts_bench_coverage` of `benchmarks.coverage` (France and the ~820 CPTS of the
scenario, loaded on first use). The server runs with two workers and `POOL_MAX_SIZE=40` per
worker (as many connections as a worker has threads for requests, so no request waits for one).
The users are asyncio tasks of this process, each with its own HTTP client (its own keep-alive
connection), made with the command line (`cpts users create`, `cpts tokens create`):

- 60 % carriers (30 of 50). Each creates, before the clock starts, a fresh draft of 25 to 45
  contiguous communes (`benchmarks.imports.contiguous_groups`, spread over France) and so is
  its only member. Then, until time is up, it loops: `GET /api/cpts/{id}` (perimeter and
  `ETag`), `POST /api/simulations/perimeter` adding or removing one of four bordering communes
  (as the map does on a click), `PATCH /api/cpts/{id}` with `If-Match` doing it. Each `200`
  is recorded as acknowledged with its version and perimeter. Nobody else writes that CPTS, so
  a `412` would be a lost race that cannot happen: it counts as a failure.
- 40 % agents (20 of 50): ARS accounts of the regions in turn, metropolitan first. Each loops
  over `GET /api/coverage?scope=region:<its region>`, four vector tiles of the communes layer
  from a fixed list of zoom 7 to 12 (`benchmarks.tiles.fixed_tiles`), `GET /api/cpts?region=`.
- Every user waits a seeded random think time (0.25 to 1.25 s) between two actions, and starts
  no new action once the time is up; requests already sent are waited for (one minute at most
  each).

Then the end checks, in SQL, independent of the API: for each carrier's CPTS, the number of
stored versions against 1 + the writes acknowledged to its client (fewer: a lost update; more:
a write nobody was told about), the version numbers acknowledged (2, 3, … in order), the
current members against the perimeter of the last acknowledged answer; and how many `GET`s
after an acknowledged write showed an older version (stale reads). The CPTS are archived at
the end (unsubmitted drafts never count in coverage anyway).
"""

import argparse
import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from app.db import connect
from app.repo.reference import read_graph
from benchmarks import Figure, percentile
from benchmarks.harness import Account, account_tokens, server
from benchmarks.imports import contiguous_groups
from benchmarks.perimeters import bordering
from benchmarks.tiles import Tile, fixed_tiles

SEED = 2024
USERS = 50
SECONDS = 60.0
CARRIER_SHARE = 0.6
THINK_S = (0.25, 1.25)
WORKERS = 2
POOL_MAX_SIZE = 40
CANDIDATES = 4  # bordering communes each carrier adds and removes
TILES_PER_VIEW = 4
TILE_ZOOMS = range(7, 13)
REQUEST_TIMEOUT_S = 60.0
ROUTES = {
    "get_cpts": "GET /api/cpts/{id}",
    "simulate": "POST /api/simulations/perimeter",
    "patch_cpts": "PATCH /api/cpts/{id}",
    "coverage_region": "GET /api/coverage?scope=region:…",
    "tiles": "GET /api/tiles/communes/{z}/{x}/{y}.pbf",
    "list_cpts": "GET /api/cpts?region=…",
}


@dataclass
class Recorder:
    """Every request's route, status and time; transport failures as status 0."""

    times: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    async def send(self, client: httpx.AsyncClient, route: str, method: str, url: str,
                   **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.statuses[route, 0] += 1
            self.errors.append(f"{method} {url}: {type(exc).__name__} {exc}")
            return None
        self.times.setdefault(route, []).append((time.perf_counter() - started) * 1000)
        self.statuses[route, response.status_code] += 1
        if response.status_code >= 400:
            self.errors.append(f"{method} {url}: HTTP {response.status_code} "
                               f"{response.text[:200]}")
        return response


@dataclass
class Carrier:
    client: httpx.AsyncClient
    cpts_id: int
    created: tuple[str, ...]
    candidates: list[str]
    acknowledged: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    stale_reads: int = 0
    unknown_outcomes: int = 0  # a PATCH sent whose answer never came

    @property
    def last(self) -> tuple[int, tuple[str, ...]]:
        return self.acknowledged[-1] if self.acknowledged else (1, self.created)


@dataclass
class Agent:
    client: httpx.AsyncClient
    region: str
    tiles: list[Tile]


def _version(response: httpx.Response) -> int:
    return int(response.headers["ETag"].strip('"'))


async def carrier_loop(carrier: Carrier, recorder: Recorder, deadline: float,
                       rng: random.Random) -> None:
    turn = 0
    while time.monotonic() < deadline:
        path = f"/api/cpts/{carrier.cpts_id}"
        read = await recorder.send(carrier.client, "get_cpts", "GET", path)
        if read is None or read.status_code != 200:
            await asyncio.sleep(rng.uniform(*THINK_S))
            continue
        version, communes = _version(read), tuple(read.json()["communes"])
        if (version, communes) != carrier.last:
            carrier.stale_reads += 1
        commune = carrier.candidates[turn % len(carrier.candidates)]
        turn += 1
        change = {"remove" if commune in communes else "add": [commune]}
        await recorder.send(carrier.client, "simulate", "POST", "/api/simulations/perimeter",
                            json={"cpts_id": carrier.cpts_id, **change})
        written = await recorder.send(carrier.client, "patch_cpts", "PATCH", path, json=change,
                                      headers={"If-Match": f'"{version}"'})
        if written is None:
            carrier.unknown_outcomes += 1
        elif written.status_code == 200:
            carrier.acknowledged.append((_version(written), tuple(written.json()["communes"])))
        await asyncio.sleep(rng.uniform(*THINK_S))


async def agent_loop(agent: Agent, recorder: Recorder, deadline: float,
                     rng: random.Random) -> None:
    turn = 0
    while time.monotonic() < deadline:
        action = turn % 3
        if action == 0:
            await recorder.send(agent.client, "coverage_region", "GET", "/api/coverage",
                                params={"scope": f"region:{agent.region}"})
        elif action == 1:
            start = (turn // 3) * TILES_PER_VIEW
            for index in range(start, start + TILES_PER_VIEW):
                tile = agent.tiles[index % len(agent.tiles)]
                await recorder.send(agent.client, "tiles", "GET", tile.path("communes"))
        else:
            await recorder.send(agent.client, "list_cpts", "GET", "/api/cpts",
                                params={"region": agent.region})
        turn += 1
        await asyncio.sleep(rng.uniform(*THINK_S))


@dataclass(frozen=True)
class Plan:
    groups: list[list[str]]
    candidates: list[list[str]]
    regions: list[str]
    tiles: list[Tile]


def plan(url: str, carriers: int, agents: int) -> Plan:
    with connect(url) as conn:
        graph = read_graph(conn)
        tiles = [t for t in fixed_tiles(conn) if t.z in TILE_ZOOMS]
        rows = conn.execute("SELECT code FROM region ORDER BY code").fetchall()
    codes = [r["code"] for r in rows]
    metropolitan = [c for c in codes if c >= "11"] + [c for c in codes if c < "11"]
    groups = contiguous_groups(graph, carriers)
    return Plan(groups=groups,
                candidates=[bordering(graph, group)[:CANDIDATES] for group in groups],
                regions=[metropolitan[i % len(metropolitan)] for i in range(agents)],
                tiles=tiles)


def accounts(carriers: int, regions: Sequence[str]) -> list[Account]:
    return ([Account(f"bench-charge-porteur-{i:02d}@cpts.invalid", "carrier")
             for i in range(1, carriers + 1)]
            + [Account(f"bench-charge-ars-{i:02d}-r{region}@cpts.invalid", "ars", (region,))
               for i, region in enumerate(regions, start=1)])


@dataclass
class Outcome:
    recorder: Recorder
    carriers: list[Carrier]
    elapsed_s: float
    load_before: float
    load_after: float
    checks: dict[str, int]


async def _create(carrier_client: httpx.AsyncClient, index: int, group: list[str]
                  ) -> tuple[int, tuple[str, ...]]:
    created = await carrier_client.post("/api/cpts", json={
        "name": f"Banc de charge {index:02d} {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        "status": "pre_projet", "communes": group})
    if created.status_code != 201:
        raise RuntimeError(f"POST /api/cpts: HTTP {created.status_code} {created.text[:300]}")
    body = created.json()
    return int(body["id"]), tuple(body["communes"])


async def _drive(base: str, tokens: list[str], scenario: Plan, seconds: float) -> Outcome:
    carriers_count = len(scenario.groups)
    clients = [httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S,
                                 headers={"Authorization": f"Bearer {token}"})
               for token in tokens]
    try:
        carriers = []
        for index, (client, group, candidates) in enumerate(
                zip(clients, scenario.groups, scenario.candidates, strict=False), start=1):
            cpts_id, created = await _create(client, index, group)
            carriers.append(Carrier(client, cpts_id, created, candidates))
        agents = [Agent(client, region, scenario.tiles[i * 7:] + scenario.tiles[:i * 7])
                  for i, (client, region) in enumerate(
                      zip(clients[carriers_count:], scenario.regions, strict=True))]
        # Not measured: every worker loads the reference graph and opens connections.
        warm_up = Recorder()
        for _ in range(2):
            await asyncio.gather(
                *(warm_up.send(c.client, "get_cpts", "GET", f"/api/cpts/{c.cpts_id}")
                  for c in carriers),
                *(warm_up.send(a.client, "coverage_region", "GET", "/api/coverage",
                               params={"scope": f"region:{a.region}"}) for a in agents))
        recorder = Recorder()
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.wait_for(asyncio.gather(
            *(carrier_loop(c, recorder, deadline, random.Random(SEED + i))
              for i, c in enumerate(carriers)),
            *(agent_loop(a, recorder, deadline, random.Random(SEED + 1000 + i))
              for i, a in enumerate(agents))), timeout=seconds + 2 * REQUEST_TIMEOUT_S)
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()[0]
        outcome = Outcome(recorder, carriers, elapsed, load_before, load_after, {})
        for carrier in carriers:  # archived once checked; the archive is a version too
            version = carrier.last[0]
            await carrier.client.post(f"/api/cpts/{carrier.cpts_id}/archive",
                                      json={"reason": "fin du banc de charge"},
                                      headers={"If-Match": f'"{version}"'})
        return outcome
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def end_checks(url: str, carriers: list[Carrier]) -> dict[str, int]:
    """What the database holds against what the clients were told, CPTS by CPTS."""
    checks = Counter[str]()
    with connect(url) as conn:
        for carrier in carriers:
            row = conn.execute(
                """SELECT (SELECT count(*) FROM cpts_version v WHERE v.cpts_id = c.id
                             AND NOT v.archived) AS versions,
                          ARRAY(SELECT code FROM cpts_member m WHERE m.cpts_id = c.id
                                ORDER BY code) AS members
                   FROM cpts c WHERE c.id = %s""", (carrier.cpts_id,)).fetchone()
            assert row is not None
            expected = 1 + len(carrier.acknowledged)
            checks["lost_updates"] += max(0, expected - int(row["versions"]))
            checks["unacknowledged_writes"] += max(0, int(row["versions"]) - expected)
            numbers = [version for version, _ in carrier.acknowledged]
            checks["versions_out_of_order"] += int(numbers != list(range(2, expected + 1)))
            current = tuple(sorted(row["members"]))
            checks["perimeter_mismatches"] += int(current != tuple(sorted(carrier.last[1])))
            checks["stale_reads"] += carrier.stale_reads
            checks["unknown_outcomes"] += carrier.unknown_outcomes
            checks["writes_acknowledged"] += len(carrier.acknowledged)
    return dict(checks)


def measure(users: int = USERS, seconds: float = SECONDS) -> Outcome:
    from benchmarks.coverage import prepare

    url = prepare()
    carriers = round(users * CARRIER_SHARE)
    scenario = plan(url, carriers, users - carriers)
    with (account_tokens(url, accounts(carriers, scenario.regions)) as tokens,
          server(url, ["--workers", str(WORKERS)], POOL_MAX_SIZE=str(POOL_MAX_SIZE)) as base):
        outcome = asyncio.run(_drive(base, tokens, scenario, seconds))
    # Checked after the archive, which adds one archived version: counted apart.
    outcome.checks = end_checks(url, outcome.carriers)
    return outcome


def figures(outcome: Outcome, users: int, seconds: float) -> list[Figure]:
    recorder = outcome.recorder
    total = sum(recorder.statuses.values())
    server_errors = sum(n for (_, status), n in recorder.statuses.items() if status >= 500)
    conflicts = sum(n for (route, status), n in recorder.statuses.items()
                    if route == "patch_cpts" and status == 412)
    failed = sum(n for (_, status), n in recorder.statuses.items()
                 if status == 0 or 400 <= status < 500)
    carriers = len(outcome.carriers)
    checks = outcome.checks
    writes = checks.get("writes_acknowledged", 0)
    note = (f"{users} users ({carriers} carriers, {users - carriers} ARS agents) for "
            f"{seconds:g} s, think {THINK_S[0]:g}–{THINK_S[1]:g} s; {WORKERS} workers, pool "
            f"{POOL_MAX_SIZE} each; load average {outcome.load_before:.1f} → "
            f"{outcome.load_after:.1f}")
    result = [Figure("load.throughput", total / outcome.elapsed_s, "req/s",
                     note=f"{total} requests in {outcome.elapsed_s:.1f} s; {note}")]
    for key, label in ROUTES.items():
        times = recorder.times.get(key, [])
        if not times:
            continue
        result += [
            Figure(f"load.{key}.p50", percentile(times, 0.5), "ms",
                   note=f"{label}: {len(times)} requests, "
                        f"{len(times) / outcome.elapsed_s:.1f}/s"),
            Figure(f"load.{key}.p95", percentile(times, 0.95), "ms"),
            Figure(f"load.{key}.p99", percentile(times, 0.99), "ms"),
        ]
    first_error = recorder.errors[0][:150] if recorder.errors else ""
    result += [
        Figure("load.server_errors", server_errors, "", 1, note="5xx answers (must be 0)"),
        Figure("load.failed_requests", failed, "", 1,
               note=f"4xx answers and transport errors; first: {first_error}"
               if first_error else "4xx answers and transport errors"),
        Figure("load.conflicts_412", conflicts, "", 1,
               note="each carrier alone on its CPTS: a 412 would be a spurious conflict"),
        Figure("load.writes_acknowledged", writes, "",
               note=f"PATCH answered 200, {writes / outcome.elapsed_s:.1f}/s"),
        Figure("load.lost_updates", checks.get("lost_updates", 0), "", 1,
               note="acknowledged writes missing from the stored versions"),
        Figure("load.unacknowledged_writes", checks.get("unacknowledged_writes", 0), "", 1,
               note=f"stored versions no client was told about; "
                    f"{checks.get('unknown_outcomes', 0)} PATCH without an answer"),
        Figure("load.versions_out_of_order", checks.get("versions_out_of_order", 0), "", 1,
               note="CPTS whose acknowledged versions are not 2, 3, … in order"),
        Figure("load.perimeter_mismatches", checks.get("perimeter_mismatches", 0), "", 1,
               note="CPTS whose members differ from the last acknowledged perimeter"),
        Figure("load.stale_reads", checks.get("stale_reads", 0), "", 1,
               note="GET after an acknowledged write showing an older version"),
    ]
    return result


def run(users: int = USERS, seconds: float = SECONDS) -> list[Figure]:
    return figures(measure(users, seconds), users, seconds)


def main(argv: Sequence[str] | None = None) -> int:
    from benchmarks.__main__ import format_figure

    parser = argparse.ArgumentParser(prog="python -m benchmarks.load",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args(argv)
    if args.users < 2:
        parser.error("--users: at least 2 (one carrier, one agent)")
    result = run(args.users, args.seconds)
    for figure in result:
        print(format_figure(figure))
    return 1 if any(figure.missed for figure in result) else 0


if __name__ == "__main__":
    raise SystemExit(main())
