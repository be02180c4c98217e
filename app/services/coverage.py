"""Coverage use case: the perimeters as they stood on a day, the figures of a scope at the
chosen stages (`app.domain.coverage`), and the CPTS named only for users who may read them.

Which CPTS count, for everybody alike (the figures are aggregates and do not depend on who
asks): every CPTS that is not an agency scenario, in its last version effective on the day,
unless that version archived it; a draft (`pre_projet`) only once its carriers submitted it to
the agency (`counts_in_coverage`): before that it is their private work, and counting it would
reveal it through the holes it fills.

Who is named in the lists (zones' neighbours, overlaps): a CPTS appears with its id and name
when the user may see it (`cpts_visibility`, at least its outline); otherwise only its stage
is given, with `id` and `name` null.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.auth.policy import Role
from app.domain.coverage import (
    Coverage,
    Perimeter,
    Scope,
    Tally,
    UnitIndex,
    compute_coverage,
    counts_in_coverage,
    index_units,
    parse_scope,
    parse_statuses,
    perimeters,
    rate,
)
from app.domain.cpts_access import STATUS_LABELS, CptsRef, Status, Visibility, cpts_visibility
from app.domain.perimeter import ReferenceGraph, overlapping
from app.repo import coverage as repo
from app.repo import cpts as cpts_repo
from app.services.cpts import Context

COUNTING_RULE = (
    "Comptent les CPTS (jamais les scénarios d'une ARS) dans leur dernière version en vigueur "
    "à la date demandée, sauf si elle les archive ; un pré-projet compte à partir du jour où "
    "ses porteurs l'ont soumis à l'ARS. Une commune est couverte si au moins une de ces CPTS, "
    "à l'un des stades retenus, la contient."
)


@dataclass(frozen=True)
class CoverageQuery:
    scope: Scope
    statuses: tuple[str, ...]
    at: date


def parse_query(scope: str | None, statuses: str | None, at: date | None) -> CoverageQuery:
    return CoverageQuery(parse_scope(scope), parse_statuses(statuses), at or date.today())


_indexes: dict[int, tuple["weakref.ref[ReferenceGraph]", UnitIndex]] = {}
_index_lock = threading.Lock()


def unit_index(graph: ReferenceGraph) -> UnitIndex:
    """The arrays of the graph's units, built once per graph (that is, per geodata release);
    the index of a graph nobody holds any more is dropped at the next build."""
    with _index_lock:
        found = _indexes.get(id(graph))
        if found is not None and found[0]() is graph:
            return found[1]
    index = index_units(graph)
    with _index_lock:
        for key in [key for key, (ref, _) in _indexes.items() if ref() is None]:
            del _indexes[key]
        _indexes[id(graph)] = (weakref.ref(graph), index)
    return index


@dataclass(frozen=True)
class CoverageReport:
    """The computed coverage, the perimeters behind it and its JSON view."""

    query: CoverageQuery
    coverage: Coverage
    perimeters: dict[int, Perimeter]
    view: dict[str, Any]


Namer = Callable[[int], dict[str, Any]]


@dataclass(frozen=True)
class _Snapshot:
    """The perimeters of one day in one database, as of one state of the CPTS tables."""

    index: UnitIndex
    stamp: tuple[int, int]
    rows: list[dict[str, Any]]
    perimeters: list[Perimeter]


_snapshots: OrderedDict[tuple[str, date], _Snapshot] = OrderedDict()
_snapshot_lock = threading.Lock()
SNAPSHOTS_KEPT = 16


def perimeters_on(ctx: Context, index: UnitIndex, day: date
                  ) -> tuple[list[dict[str, Any]], list[Perimeter]]:
    """The rows and counted perimeters of `day`, read again only when the CPTS tables changed
    (`repo.perimeters_stamp`, a few hundred microseconds) or the graph is another one."""
    stamp = repo.perimeters_stamp(ctx.conn)
    info = ctx.conn.info
    key = (f"{info.host}:{info.port}/{info.dbname}", day)
    with _snapshot_lock:
        found = _snapshots.get(key)
        if found is not None and found.index is index and found.stamp == stamp:
            _snapshots.move_to_end(key)
            return found.rows, found.perimeters
    rows = repo.perimeters_at(ctx.conn, day)
    held = perimeters(index, [
        (int(r["cpts_id"]), r["name"], r["status"], r["units"])
        for r in rows if counts_in_coverage(r["status"], r["submitted_on"], day)])
    with _snapshot_lock:
        _snapshots[key] = _Snapshot(index, stamp, rows, held)
        _snapshots.move_to_end(key)
        while len(_snapshots) > SNAPSHOTS_KEPT:
            _snapshots.popitem(last=False)
    return rows, held


def compute(ctx: Context, query: CoverageQuery) -> CoverageReport:
    index = unit_index(ctx.graph)
    rows, held = perimeters_on(ctx, index, query.at)
    rule = ctx.rule(query.at)
    result = compute_coverage(index, held, query.scope, query.statuses, rule)
    by_id = {p.cpts_id: p for p in held}
    namer = _namer(ctx, {int(r["cpts_id"]): r for r in rows}, by_id)
    return CoverageReport(query, result, by_id, _view(ctx, query, result, namer, rule.id))


def _namer(ctx: Context, rows: dict[int, dict[str, Any]],
           perimeters: dict[int, Perimeter]) -> Namer:
    user = ctx.user
    mine: dict[int, set[int]] = {}
    if user is not None and user.role is Role.CARRIER:
        own_units = cpts_repo.members_many(ctx.conn, sorted(user.cpts_ids))
        claims = cpts_repo.claims(ctx.conn, sorted({u for units in own_units.values()
                                                     for u in units}),
                                  exclude=None, include_scenarios=True)
        for own, others in overlapping(own_units, claims).items():
            for other in others:
                mine.setdefault(other, set()).add(own)
    cache: dict[int, dict[str, Any]] = {}

    def visible(cpts_id: int) -> bool:
        if user is not None and user.role is Role.ADMIN:
            return True
        row = rows[cpts_id]
        units = row["current_units"] if row["current_units"] is not None else row["units"]
        regions = {ctx.graph.units[c].region for c in units if c in ctx.graph.units}
        ref = CptsRef(id=cpts_id, status=Status(row["current_status"]), region=row["region"],
                      regions=frozenset(regions), submitted=bool(row["is_submitted"]),
                      overlaps=frozenset(mine.get(cpts_id, ())))
        shown = cpts_visibility(user, ref, publish_signed=ctx.publish_signed)
        return shown >= Visibility.OUTLINE

    def name(cpts_id: int) -> dict[str, Any]:
        found = cache.get(cpts_id)
        if found is None:
            held = perimeters[cpts_id]
            named = visible(cpts_id)
            found = cache[cpts_id] = {
                "id": cpts_id if named else None, "name": held.name if named else None,
                "status": held.status, "named": named}
        return found

    return name


def _tally(tally: Tally) -> dict[str, Any]:
    return {
        "population_total": tally.population_total,
        "population_covered": tally.population_covered,
        "population_uncovered": tally.population_uncovered,
        "coverage_rate": tally.coverage_rate,
        "communes_total": tally.communes_total,
        "communes_covered": tally.communes_covered,
        "communes_uncovered": tally.communes_uncovered,
        "communes_coverage_rate": tally.communes_coverage_rate,
    }


def covered_means(statuses: tuple[str, ...]) -> str:
    labels = [STATUS_LABELS[s] for s in statuses]
    if len(labels) == len(STATUS_LABELS):
        return "Couverte : comprise dans une CPTS à n'importe quel stade (" + ", ".join(
            labels) + ")."
    return "Couverte : comprise dans une CPTS au stade " + " ou ".join(labels) + "."


def _view(ctx: Context, query: CoverageQuery, result: Coverage, name: Namer,
          size_rule: str) -> dict[str, Any]:
    graph = ctx.graph
    names = repo.departement_names(ctx.conn)
    rule = next(r for r in ctx.rules if r.id == size_rule)
    scope = query.scope
    return {
        "scope": str(scope),
        "scope_kind": scope.kind,
        "scope_code": scope.code,
        "scope_name": "France" if scope.code is None
        else repo.scope_name(ctx.conn, scope.kind, scope.code),
        "statuses": list(result.statuses),
        "covered_means": covered_means(result.statuses),
        "counting_rule": COUNTING_RULE,
        "at": query.at.isoformat(),
        "population_year": graph.population_year,
        "size_rule": size_rule,
        "size_rule_bound": "borne inférieure incluse" if rule.lower_bound_inclusive
        else "borne inférieure exclue",
        **_tally(result.tally),
        "cpts_counted": len(result.cpts),
        "by_stage": [
            {"status": s.status, "label": STATUS_LABELS[s.status], "counted": s.counted,
             "cpts": s.cpts, "population_covered": s.population,
             "communes_covered": s.communes,
             "coverage_rate": rate(s.population, result.tally.population_total),
             "population_most_advanced": s.population_most_advanced,
             "communes_most_advanced": s.communes_most_advanced}
            for s in result.by_stage],
        "by_departement": [
            {"departement": d.code, "nom": names.get(d.code), **_tally(d.tally),
             "white_zones": d.white_zones}
            for d in result.by_departement],
        "white_zones": [
            {"id": z.id, "communes": list(z.communes), "population": z.population,
             "area_km2": z.area_km2, "departements": list(z.departements),
             "enclave": z.enclave, "extends_outside_scope": z.extends_outside_scope,
             "without_polygon": list(z.without_polygon),
             "adjacent_cpts": [
                 name(a.cpts_id) | {
                     "population": a.population, "size_class": a.size_class,
                     "population_with_zone": a.population_with_zone,
                     "size_class_with_zone": a.size_class_with_zone,
                     "border_communes": a.border_units}
                 for a in z.adjacent],
             "other_stage_cpts": [name(i) for i in z.held_at_other_stages]}
            for z in result.white_zones],
        "overlaps": [
            {"commune": o.commune, "nom": graph.units[o.commune].nom,
             "departement": graph.units[o.commune].departement, "population": o.population,
             "severity": o.severity, "cpts": [name(i) for i in o.cpts_ids]}
            for o in result.overlaps],
        "overlap_pairs": [
            {"cpts": [name(i) for i in p.cpts_ids], "communes": list(p.communes),
             "population": p.population, "severity": p.severity}
            for p in result.overlap_pairs],
    }
