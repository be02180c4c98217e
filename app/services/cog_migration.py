"""Migrate the stored perimeters to the COG of a load, in the load's transaction.

`plan_for` compares the geography in force (read before the load replaces it) with the new one
and says what every CPTS becomes (`app.domain.cog_migration`); `apply` writes it: one new version
per changed CPTS, authored by the system with the reason « COG <year> » and the diff, through
the same write path as any change (`app.services.cpts._write_versions`), plus its alerts and an
audit entry. Previous versions keep their old codes.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.auth import audit
from app.auth.audit import Actor
from app.db import Conn
from app.domain import cog_migration as domain
from app.domain.size_rules import rule_for
from app.repo import cog_migration as repo
from app.repo import cpts as cpts_repo
from app.services.cpts import NewVersion, _write_versions, command_line_context


def system_actor(cog_year: int) -> Actor:
    """The author of migration versions: the system, acting for `cpts geodata load`."""
    return Actor(user_id=None, email="système", via="cli",
                 origin=f"cpts geodata load (COG {cog_year})")


@dataclass(frozen=True)
class Plan:
    change: domain.CogChange
    migrations: list[domain.PerimeterMigration]

    def report(self) -> dict[str, Any]:
        return domain.report(self.migrations, self.change)


def plan_for(conn: Conn, before: repo.CogBefore, *, cog_year: int, units: Mapping[str, int],
             names: Mapping[str, str], history: Sequence[tuple[str, str]]) -> Plan:
    """What the perimeters become under the new COG (`units`: every unit code in force, with
    its population; national, whatever part of the country is loaded)."""
    change = domain.cog_change(
        cog_year=cog_year, current=units.keys(), history=history, previous=before.codes,
        previous_history=before.history, population=units,
        names={**before.names, **names})
    rule = rule_for(cpts_repo.size_rules(conn), date.today())
    perimeters = repo.stored_perimeters(conn)
    return Plan(change, domain.plan(perimeters, change, rule))


def apply(conn: Conn, plan: Plan) -> dict[str, Any]:
    """Write the plan (in the caller's transaction, after the new geography is written); the
    report, with the CPTS that could not be migrated because the load does not hold all their
    communes."""
    report = plan.report()
    if not plan.migrations:
        report["written"] = 0
        return report
    year = plan.change.cog_year
    ids = [m.perimeter.cpts_id for m in plan.migrations]
    locked = repo.lock(conn, ids)
    planned_versions = {m.perimeter.cpts_id: m.perimeter.version for m in plan.migrations}
    stale = [i for i in ids if locked.get(i) != planned_versions[i]]
    if stale:
        # Someone changed these CPTS since the plan was read: plan them again, now locked.
        fresh = {p.cpts_id: p for p in repo.stored_perimeters(conn, stale)}
        rule = rule_for(cpts_repo.size_rules(conn), date.today())
        migrations = [domain.migrate_one(fresh[m.perimeter.cpts_id], plan.change, rule)
                      if m.perimeter.cpts_id in fresh else m for m in plan.migrations]
        plan = Plan(plan.change, [m for m in migrations if m.needs_version])
        report = plan.report()
    started = time.perf_counter()
    ctx = command_line_context(conn, actor=system_actor(year))
    graph_read = time.perf_counter()
    writable = [m for m in plan.migrations if all(c in ctx.graph.units for c in m.members)]
    skipped = [m for m in plan.migrations
               if any(c not in ctx.graph.units for c in m.members)]
    reason = f"COG {year}"
    _write_versions(ctx, [
        NewVersion(cpts_id=m.perimeter.cpts_id, version=m.perimeter.version + 1,
                   name=m.perimeter.name, status=m.perimeter.status,
                   archived=m.perimeter.archived, members=m.members,
                   previous=list(m.perimeter.members), reason=reason, effective_date=None)
        for m in writable])
    versions_written = time.perf_counter()
    cpts_repo.update_states(conn, [(m.perimeter.cpts_id, {"version": m.perimeter.version + 1})
                                   for m in writable])
    repo.add_alerts(conn, [
        (m.perimeter.cpts_id, m.perimeter.version + 1, a.code, a.detail, list(a.communes),
         reason) for m in writable for a in m.alerts])
    audit.record_many(conn, ctx.actor, [
        audit.Entry(
            action="cpts.cog_migration", entity="cpts", entity_id=m.perimeter.cpts_id,
            summary=f"CPTS « {m.perimeter.name} » v{m.perimeter.version + 1} : périmètre porté "
                    f"au COG {year} ({len(m.replaced)} code(s) remplacé(s), "
                    f"{len(m.restored)} commune(s) rétablie(s), {len(m.alerts)} alerte(s)).",
            changes={"communes": {"added": sorted(set(m.members) - set(m.perimeter.members)),
                                  "removed": sorted(set(m.perimeter.members)
                                                    - set(m.members))},
                     "population": audit.change(m.perimeter.population, m.population_after)},
            regions=sorted({ctx.graph.units[c].region for c in m.members}))
        for m in writable])
    report["written"] = len(writable)
    report["timings_s"] = {
        "graph": round(graph_read - started, 2),
        "versions": round(versions_written - graph_read, 2),
        "alerts_and_audit": round(time.perf_counter() - versions_written, 2)}
    report["not_migrated"] = [
        {"cpts_id": m.perimeter.cpts_id, "name": m.perimeter.name,
         "missing": sorted(c for c in m.members if c not in ctx.graph.units)}
        for m in skipped]
    return report
