"""Bring stored perimeters to a new COG: which codes each CPTS trades, and what it costs.

Pure functions: the caller reads the perimeters and both COGs, and writes the result.

The rules, for each unit code of a stored perimeter:
- a code still in force stays; if the commune it names absorbed others (a commune nouvelle that
  kept this code), the CPTS that held only some of the merged communes is flagged
  `cog_partial_merge`: it now claims the whole commune, and more people;
- a code no longer in force is replaced by the code(s) the new COG's history sends it to: a merge
  or a change of code gives one code (`cog_partial_merge` when the CPTS held only some of the
  merged communes), a split gives several (all taken, flagged `cog_split` for review);
- a commune restored from one the CPTS holds (its code was a former code of that commune in the
  previous COG, and is in force again) joins the CPTS, flagged `cog_restored_commune` for review;
- a code the new COG knows nothing of is kept as it is and flagged `cog_unknown_code`.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from app.domain.size_rules import SizeRule, size_class_for


@dataclass(frozen=True)
class CogChange:
    """What a load changes in the codes, seen from the perimeters."""

    cog_year: int
    current: frozenset[str]                    # unit codes in force in the new COG (national)
    forward: Mapping[str, tuple[str, ...]]     # code no longer in force → its current code(s)
    restored: Mapping[str, str]                # code in force again → the code that held it
    previous: frozenset[str]                   # unit codes in force before the load
    population: Mapping[str, int]              # new populations of the codes in force
    names: Mapping[str, str]                   # names of codes in force (new) and former (old)
    formed_by: Mapping[str, frozenset[str]]    # code in force → former codes sent to it

    def predecessors(self, code: str) -> frozenset[str]:
        """The communes in force before the load that now form `code` (itself included when it
        was one of them)."""
        found = {old for old in self.formed_by.get(code, ()) if old in self.previous}
        if code in self.previous:
            found.add(code)
        return frozenset(found)


def cog_change(*, cog_year: int, current: Iterable[str], history: Iterable[tuple[str, str]],
               previous: Iterable[str], previous_history: Iterable[tuple[str, str]],
               population: Mapping[str, int], names: Mapping[str, str]) -> CogChange:
    """The change from the COG in force before (`previous` codes and their `previous_history`
    of (old, new) pairs) to the new one (`current` codes and `history`)."""
    in_force = frozenset(current)
    before = frozenset(previous)
    forward: dict[str, set[str]] = {}
    formed_by: dict[str, set[str]] = {}
    for old, new in history:
        if old not in in_force and new in in_force:
            forward.setdefault(old, set()).add(new)
            formed_by.setdefault(new, set()).add(old)
    restored: dict[str, str] = {}
    for old, new in previous_history:
        if old in in_force and old not in before and new in in_force:
            restored.setdefault(old, new)
    return CogChange(
        cog_year=cog_year, current=in_force,
        forward={old: tuple(sorted(news)) for old, news in forward.items()},
        restored=restored, previous=before, population=population, names=names,
        formed_by={new: frozenset(olds) for new, olds in formed_by.items()})


@dataclass(frozen=True)
class StoredPerimeter:
    cpts_id: int
    name: str
    status: str
    is_scenario: bool
    archived: bool
    submitted: bool
    version: int
    members: tuple[str, ...]
    population: int
    size_class: int


@dataclass(frozen=True)
class Alert:
    code: str
    detail: str
    communes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "communes": list(self.communes)}


@dataclass(frozen=True)
class Overlap:
    code: str
    cpts_id: int
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"commune": self.code, "cpts_id": self.cpts_id, "name": self.name}


@dataclass(frozen=True)
class PerimeterMigration:
    """One CPTS brought to the new COG."""

    perimeter: StoredPerimeter
    members: tuple[str, ...]                 # the new perimeter, in code order
    replaced: dict[str, tuple[str, ...]]     # former code → its current code(s)
    restored: dict[str, str]                 # restored code → the member it came from
    alerts: list[Alert]
    population_after: int
    size_class_after: int
    new_overlaps: list[Overlap] = field(default_factory=list)

    @property
    def codes_changed(self) -> bool:
        return set(self.members) != set(self.perimeter.members)

    @property
    def needs_version(self) -> bool:
        """A new version is written when the codes change or an alert is raised (a partial
        merge keeps the codes but not the population)."""
        return self.codes_changed or bool(self.alerts)

    def as_dict(self) -> dict[str, Any]:
        p = self.perimeter
        return {
            "cpts_id": p.cpts_id, "name": p.name, "status": p.status,
            "is_scenario": p.is_scenario, "archived": p.archived, "version": p.version,
            "replaced": {old: list(new) for old, new in sorted(self.replaced.items())},
            "restored": dict(sorted(self.restored.items())),
            "added": sorted(set(self.members) - set(p.members)),
            "removed": sorted(set(p.members) - set(self.members)),
            "population_before": p.population, "population_after": self.population_after,
            "size_class_before": p.size_class, "size_class_after": self.size_class_after,
            "alerts": [a.as_dict() for a in self.alerts],
            "new_overlaps": [o.as_dict() for o in self.new_overlaps],
        }


def _label(change: CogChange, code: str) -> str:
    name = change.names.get(code)
    return f"{code} {name}" if name else code


def _labels(change: CogChange, codes: Iterable[str]) -> str:
    return ", ".join(_label(change, c) for c in sorted(codes))


def migrate_one(perimeter: StoredPerimeter, change: CogChange, rule: SizeRule
                ) -> PerimeterMigration:
    """The perimeter in the new COG's codes, with what it traded and the alerts it raises."""
    year = change.cog_year
    members: set[str] = set()
    replaced: dict[str, tuple[str, ...]] = {}
    restored: dict[str, str] = {}
    alerts: list[Alert] = []
    unknown: list[str] = []
    held = set(perimeter.members)
    for code in perimeter.members:
        if code in change.current:
            members.add(code)
        elif code in change.forward:
            targets = change.forward[code]
            replaced[code] = targets
            members.update(targets)
        else:
            members.add(code)
            unknown.append(code)
    for new_code, origin in change.restored.items():
        if origin in held and new_code not in held:
            restored[new_code] = origin
            members.add(new_code)
    for old, targets in sorted(replaced.items()):
        if len(targets) > 1:
            alerts.append(Alert(
                "cog_split",
                f"COG {year} : {_label(change, old)} est partagée entre {_labels(change, targets)}"
                f" ; toutes sont reprises dans le périmètre, à vérifier.", (old, *targets)))
    for new_code, origin in sorted(restored.items()):
        alerts.append(Alert(
            "cog_restored_commune",
            f"COG {year} : {_label(change, new_code)} est rétablie à partir de "
            f"{_label(change, origin)}, qui fait partie du périmètre ; elle y est ajoutée, "
            f"à vérifier.", (new_code, origin)))
    merged_targets = {t for targets in replaced.values() if len(targets) == 1 for t in targets}
    merged_targets |= {c for c in members if c in change.current and c in held}
    for target in sorted(merged_targets):
        before = change.predecessors(target)
        if len(before) < 2:
            continue
        missing = sorted(before - held)
        if missing:  # `missing` may hold `target` itself: a CPTS that held a part of it only
            alerts.append(Alert(
                "cog_partial_merge",
                f"COG {year} : {_label(change, target)} réunit {_labels(change, before)} ; le "
                f"périmètre n'en comprenait qu'une partie et comprend désormais toute la "
                f"commune (en plus : {_labels(change, missing)}).",
                (target, *(c for c in missing if c != target))))
    if unknown:
        alerts.append(Alert(
            "cog_unknown_code",
            f"COG {year} : codes inconnus du nouveau COG, gardés tels quels : "
            + ", ".join(sorted(unknown)) + ".", tuple(sorted(unknown))))
    ordered = tuple(sorted(members))
    population = sum(change.population.get(c, 0) for c in ordered)
    return PerimeterMigration(perimeter, ordered, replaced, restored, alerts, population,
                              size_class_for(population, rule))


def _new_overlaps(migrations: Sequence[PerimeterMigration], change: CogChange
                  ) -> dict[int, list[Overlap]]:
    """Overlaps that exist after the migration between live CPTS that shared none of the
    communes now forming the unit they both hold."""
    live = [m for m in migrations if not m.perimeter.archived]
    holders: dict[str, list[PerimeterMigration]] = {}
    for m in live:
        for code in m.members:
            holders.setdefault(code, []).append(m)
    found: dict[int, list[Overlap]] = {}
    for code, sharing in holders.items():
        if len(sharing) < 2:
            continue
        sources = change.predecessors(code) | change.formed_by.get(code, frozenset())
        sources |= {origin for new, origin in change.restored.items() if new == code}
        for a, b in combinations(sharing, 2):
            shared_before = set(a.perimeter.members) & set(b.perimeter.members) & (
                sources | {code})
            if shared_before:
                continue
            found.setdefault(a.perimeter.cpts_id, []).append(
                Overlap(code, b.perimeter.cpts_id, b.perimeter.name))
            found.setdefault(b.perimeter.cpts_id, []).append(
                Overlap(code, a.perimeter.cpts_id, a.perimeter.name))
    return found


def plan(perimeters: Sequence[StoredPerimeter], change: CogChange, rule: SizeRule
         ) -> list[PerimeterMigration]:
    """Every perimeter that the new COG changes (codes or content), in CPTS order, with the
    overlaps its migration creates."""
    affected_codes = set(change.forward) | set(change.restored.values())
    affected_codes |= {c for c in change.current if len(change.predecessors(c)) > 1}
    touched = [p for p in perimeters if affected_codes & set(p.members)
               or any(c not in change.current for c in p.members)]
    migrations = [migrate_one(p, change, rule) for p in touched]
    migrations = [m for m in migrations if m.needs_version]
    overlaps = _new_overlaps(migrations, change)
    return [PerimeterMigration(m.perimeter, m.members, m.replaced, m.restored, m.alerts,
                               m.population_after, m.size_class_after,
                               sorted(overlaps.get(m.perimeter.cpts_id, []),
                                      key=lambda o: (o.code, o.cpts_id)))
            for m in sorted(migrations, key=lambda m: m.perimeter.cpts_id)]


def report(migrations: Sequence[PerimeterMigration], change: CogChange) -> dict[str, Any]:
    """The migration report: totals and one entry per CPTS."""
    return {
        "cog_year": change.cog_year,
        "codes_retired": len(set(change.forward) & change.previous),
        "codes_restored": sorted(change.restored),
        "cpts_changed": len(migrations),
        "alerts": sum(len(m.alerts) for m in migrations),
        "new_overlaps": sum(len(m.new_overlaps) for m in migrations) // 2,
        "cpts": [m.as_dict() for m in migrations],
    }
