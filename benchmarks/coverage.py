"""National coverage on the generated scenario, through a real `cpts serve`, against a GeoPandas
polygon overlay of the same figures measured in the same run.

The scratch database `cpts_bench_coverage` (same server as DATABASE_URL) holds the geodata of
the whole of France and the scenario of `benchmarks.scenario` (about 800 CPTS); both are loaded
on first use and reused afterwards. The server answers 30 national requests (all stages) and
30 requests for one région, each after a few unmeasured warm-up requests (the first builds the
reference graph). The baseline reads the same units and perimeters into GeoPandas, then times
only the computation: dissolve, overlay, uncovered units, overlaps, zones and their neighbours.
"""

import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
from psycopg import sql

from app.db import connect
from app.dbadmin import ensure_database, with_database
from app.migrations import upgrade
from app.repo.reference import read_graph
from app.services import coverage as coverage_service
from app.settings import Settings
from benchmarks import Figure, api_token, database_url, percentile, running_server
from benchmarks.geopandas_coverage import counted_perimeters, read_units, reference
from benchmarks.scenario import admin_context, already_written, generate

SCRATCH_DATABASE = "cpts_bench_coverage"
REGION = "84"  # Auvergne-Rhône-Alpes: 4,000 communes, 8 million people
REQUESTS = 30
WARM_UP = 3
NATIONAL_P95_MS = 300.0
REGION_P95_MS = 100.0
SPEED_UP = 20.0
FULL_FRANCE = 30_000  # fewer units: the national geodata is not loaded


def prepare() -> str:
    """The scratch database with France and the scenario, loaded once."""
    from geodata.pipeline import load_geodata

    url = with_database(database_url(), SCRATCH_DATABASE)
    settings = Settings(database_url=url, log_level="WARNING")
    ensure_database(url)
    with connect(url) as conn:
        upgrade(conn, settings.migrations_dir)
        row = conn.execute("SELECT count(*) AS n FROM commune WHERE is_unit").fetchone()
    if row is None or int(row["n"]) < FULL_FRANCE:
        load_geodata(settings, everything=True, show_progress=False)
    with connect(url) as conn:
        present = already_written(conn)
    if not present:
        generate(url)
        with connect(url, autocommit=True) as conn:  # fresh statistics before measuring
            for table in ("cpts", "cpts_version", "cpts_member", "cpts_event", "audit_log"):
                conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    return url


def timed(client: httpx.Client, params: dict[str, str], count: int) -> tuple[list[float], int]:
    elapsed = []
    size = 0
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/api/coverage", params=params)
        elapsed.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"/api/coverage {params}: HTTP {response.status_code} "
                               f"{response.text[:300]}")
        size = len(response.content)
    return elapsed, size


def in_process(url: str, scope: str, count: int) -> list[float]:
    """The same answer computed without HTTP (SQL, arrays, JSON view), as an administrator."""
    elapsed = []
    with connect(url) as conn:
        ctx = admin_context(conn, read_graph(conn))
        for _ in range(count + WARM_UP):
            started = time.perf_counter()
            coverage_service.compute(ctx, coverage_service.parse_query(scope, None, None))
            elapsed.append((time.perf_counter() - started) * 1000)
    return elapsed[WARM_UP:]


def baseline(url: str, served: dict[str, Any]) -> tuple[float, str]:
    """Seconds of the GeoPandas computation of the national figures, and how they compare."""
    units = read_units(url)
    members = counted_perimeters(url)
    started = time.perf_counter()
    expected = reference(units, members, scope=None,
                         statuses=("pre_projet", "lettre_intention", "projet_sante",
                                   "aci_signe"))
    seconds = time.perf_counter() - started
    zones = {frozenset(z["communes"]) for z in served["white_zones"]}
    same = (expected.population_covered == served["population_covered"]
            and expected.communes_covered == served["communes_covered"]
            and set(expected.zones) == zones
            and set(expected.overlaps) == {o["commune"] for o in served["overlaps"]})
    note = ("same figures" if same else "FIGURES DIFFER") + (
        f": {len(expected.zones)} zones, {len(expected.overlaps)} overlapping units")
    return seconds, note


def run() -> list[Figure]:
    url = prepare()
    national = {"scope": "national"}
    region = {"scope": f"region:{REGION}"}
    with (api_token(url) as token, running_server(url) as base,
          httpx.Client(base_url=base, timeout=120,
                       headers={"Authorization": f"Bearer {token}"}) as client):
        timed(client, national, WARM_UP)
        national_ms, national_size = timed(client, national, REQUESTS)
        timed(client, region, WARM_UP)
        region_ms, region_size = timed(client, region, REQUESTS)
        signed_ms, _ = timed(client, national | {"statuses": "aci_signe"}, REQUESTS)
        past_ms, _ = timed(client, national | {"at": date(2023, 1, 1).isoformat()}, REQUESTS)
        served = client.get("/api/coverage", params=national).json()
    local_ms = in_process(url, "national", REQUESTS)
    baseline_s, agreement = baseline(url, served)
    baseline_ms = baseline_s * 1000
    p95 = percentile(national_ms, 0.95)
    description = (f"{served['cpts_counted']} CPTS, {served['coverage_rate']:.1%} covered, "
                   f"{len(served['white_zones'])} zones, {len(served['overlaps'])} overlaps")
    return [
        Figure("coverage.national_p50", percentile(national_ms, 0.5), "ms",
               note=description),
        Figure("coverage.national_p95", p95, "ms", min(NATIONAL_P95_MS, baseline_ms / SPEED_UP),
               baseline_ratio=baseline_ms / p95,
               note=f"target: < {NATIONAL_P95_MS:g} ms and {SPEED_UP:g}× faster than GeoPandas; "
                    f"{national_size / 1024:.0f} KB"),
        Figure("coverage.national_signed_only_p95", percentile(signed_ms, 0.95), "ms",
               NATIONAL_P95_MS, note="statuses=aci_signe"),
        Figure("coverage.national_2023_p95", percentile(past_ms, 0.95), "ms", NATIONAL_P95_MS,
               note="at=2023-01-01"),
        Figure(f"coverage.region_{REGION}_p95", percentile(region_ms, 0.95), "ms",
               REGION_P95_MS, note=f"{region_size / 1024:.0f} KB"),
        Figure("coverage.national_in_process_p95", percentile(local_ms, 0.95), "ms",
               note="the service function alone, no HTTP"),
        Figure("coverage.geopandas_overlay", baseline_ms, "ms", note=agreement),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    from benchmarks.__main__ import format_figure

    for figure in run():
        print(format_figure(figure))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
