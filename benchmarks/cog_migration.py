"""Migrating 1,000 stored perimeters to a new COG (issue target: < 5 s), against migrating them
one CPTS at a time.

Runs on the scratch database of `benchmarks.coverage` (`cpts_bench_coverage`: the whole of
France and the ~820 CPTS of the scenario, loaded on first use), inside one transaction that is
rolled back: nothing stays. Agency scenarios copying the first perimeters bring the count to
1,000 CPTS. A synthetic next COG then merges, in each of them, one unit into a neighbour
(the unit retires, its neighbour keeps its code and takes its population), as a January with
1,000 communes nouvelles would; the geography is changed the same way in the transaction.

- Measured: `app.services.cog_migration.plan_for` then `apply`, as `cpts geodata load` runs
  them: the plan of every CPTS (codes, population and class before and after, partial merges,
  new overlaps), then one version per CPTS written by the system with its outline, the
  members, the alerts and the audit entries.
- Baseline, same run: the same migration with the versions written one CPTS at a time (one
  `_write_versions` per CPTS, measured on the first 100 and scaled to 1,000).
"""

import time
from collections.abc import Sequence

from app.db import Conn, connect
from app.repo import cog_migration as cog_repo
from app.repo.reference import read_graph
from app.services import cog_migration
from app.services import cpts as cpts_service
from benchmarks import Figure
from benchmarks.coverage import prepare

TARGET_CPTS = 1_000
MAX_SECONDS = 5.0
BASELINE_SAMPLE = 100


def _add_scenarios(conn: Conn, count: int) -> None:
    """`count` agency scenarios copying the first perimeters (the scenario has ~820 CPTS)."""
    if count <= 0:
        return
    ctx = cpts_service.command_line_context(conn)
    rows = conn.execute(
        """SELECT c.id, c.name, v.units FROM cpts c
           JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.archived_at IS NULL AND NOT c.is_scenario ORDER BY c.id LIMIT %s""",
        (count,)).fetchall()
    cpts_service.create_many(ctx, [
        cpts_service.check_creation(ctx, name=f"Scénario COG {r['id']}", status="projet_sante",
                                    communes=list(r["units"]), is_scenario=True)
        for r in rows])


def _merges(conn: Conn) -> dict[str, str]:
    """One unit of each CPTS retired into a neighbour: retired code → code that absorbs it."""
    graph = read_graph(conn)
    taken: set[str] = set()
    merges: dict[str, str] = {}
    for units in conn.execute("SELECT v.units FROM cpts c JOIN cpts_version v "
                              "ON v.cpts_id = c.id AND v.version = c.version ORDER BY c.id"):
        for code in units["units"]:
            if code in taken:
                continue
            if graph.units[code].parent is not None:
                continue  # arrondissements municipaux do not merge
            keep = next((n for n in sorted(graph.neighbours.get(code, ()))
                         if n not in taken and graph.units[n].parent is None), None)
            if keep is not None:
                merges[code] = keep
                taken |= {code, keep}
                break
    return merges


def _retire(conn: Conn, merges: dict[str, str]) -> None:
    """The synthetic COG in the database: populations moved, retired units removed."""
    retired, kept = list(merges), list(merges.values())
    conn.execute(
        """UPDATE commune c SET population = c.population + r.population
           FROM unnest(%s::text[], %s::text[]) AS m(old, new)
           JOIN commune r ON r.code = m.old WHERE c.code = m.new""", (retired, kept))
    conn.execute("DELETE FROM unit_adjacency WHERE code = ANY(%s) OR neighbour = ANY(%s)",
                 (retired, retired))
    conn.execute("DELETE FROM commune WHERE code = ANY(%s)", (retired,))


def _population(conn: Conn) -> dict[str, int]:
    return {r["code"]: int(r["population"]) for r in conn.execute(
        "SELECT code, population FROM commune WHERE is_unit")}


def _one_at_a_time(conn: Conn, plan: cog_migration.Plan, sample: Sequence[int]) -> float:
    ctx = cpts_service.command_line_context(conn, actor=cog_migration.system_actor(2027))
    chosen = [m for m in plan.migrations if m.perimeter.cpts_id in set(sample)]
    started = time.perf_counter()
    for m in chosen:
        cpts_service._write_versions(ctx, [cpts_service.NewVersion(
            cpts_id=m.perimeter.cpts_id, version=m.perimeter.version + 1, name=m.perimeter.name,
            status=m.perimeter.status, archived=m.perimeter.archived, members=m.members,
            previous=list(m.perimeter.members), reason="COG 2027", effective_date=None)])
    return time.perf_counter() - started


def run() -> list[Figure]:
    url = prepare()
    with connect(url) as conn:
        try:
            counted = conn.execute("SELECT count(*) AS n FROM cpts").fetchone()
            assert counted is not None
            _add_scenarios(conn, TARGET_CPTS - int(counted["n"]))
            before = cog_repo.read_before(conn)
            merges = _merges(conn)
            _retire(conn, merges)
            history = [*before.history, *merges.items()]
            conn.execute("SAVEPOINT baseline")
            plan = cog_migration.plan_for(conn, before, cog_year=2027,
                                          units=_population(conn), names=before.names,
                                          history=history)
            sample = [m.perimeter.cpts_id for m in plan.migrations[:BASELINE_SAMPLE]]
            baseline = _one_at_a_time(conn, plan, sample) * len(plan.migrations) / max(
                1, len(sample))
            conn.execute("ROLLBACK TO SAVEPOINT baseline")
            started = time.perf_counter()
            plan = cog_migration.plan_for(conn, before, cog_year=2027,
                                          units=_population(conn), names=before.names,
                                          history=history)
            planned = time.perf_counter() - started
            report = cog_migration.apply(conn, plan)
            seconds = time.perf_counter() - started
        finally:
            conn.rollback()
    written = int(report["written"])
    # The naive way does everything else the same and writes the versions one CPTS at a time.
    baseline += seconds - report["timings_s"]["versions"]
    return [
        Figure("cog_migration.cpts_migrated", written, "CPTS",
               note=f"of {TARGET_CPTS} CPTS; {report['alerts']} alerts, "
                    f"{report['new_overlaps']} new overlaps"),
        Figure("cog_migration.seconds", seconds, "s", MAX_SECONDS,
               baseline_ratio=baseline / seconds,
               note=f"plan {planned:.1f} s, " + ", ".join(
                   f"{k} {v:.1f} s" for k, v in report["timings_s"].items())
                    + f"; baseline: one CPTS at a time ({BASELINE_SAMPLE} measured, scaled)"),
    ]
