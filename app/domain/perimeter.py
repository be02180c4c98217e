"""What a perimeter is worth and what is wrong with it: population, size class, headroom,
connected parts, enclaves, borders crossed, overlaps and warnings. Pure functions over the
reference graph of units (communes, and arrondissements in Paris, Lyon and Marseille)."""

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.cpts_access import STATUS_LABELS
from app.domain.size_rules import Headroom, SizeRule, headroom_for, near_threshold, size_class_for
from app.errors import ProblemError

# An outer component bigger than this is the rest of the country, not an enclave.
ENCLAVE_MAX_UNITS = 60
# A unit with more than this length of boundary shared with no unit touches the sea or a border.
OPEN_EDGE_M = 50.0


@dataclass(frozen=True)
class Unit:
    code: str
    nom: str
    population: int
    departement: str
    region: str
    area_m2: float | None
    edge_m: float | None
    has_polygon: bool
    is_unit: bool
    parent: str | None
    epci: str | None = None
    bassin_de_vie: str | None = None


@dataclass
class ReferenceGraph:
    """The units of the loaded geodata release and which of them share a border."""

    release_id: int
    population_year: int
    units: dict[str, Unit]
    neighbours: dict[str, frozenset[str]]
    arrondissements: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """Another CPTS whose current perimeter contains a unit."""

    code: str
    cpts_id: int
    name: str
    status: str
    is_scenario: bool = False


@dataclass(frozen=True)
class Warning:
    code: str
    detail: str
    communes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "communes": list(self.communes)}


@dataclass(frozen=True)
class Overlap:
    cpts_id: int
    name: str
    status: str
    severity: str
    communes: tuple[str, ...]
    population: int


@dataclass(frozen=True)
class Analysis:
    communes: tuple[str, ...]
    population: int
    population_year: int
    units: int
    area_km2: float
    size_class: int
    size_rule: str
    headroom: Headroom
    parts: tuple[tuple[str, ...], ...]
    enclaves: tuple[tuple[str, ...], ...]
    departements: tuple[str, ...]
    regions: tuple[str, ...]
    overlaps: tuple[Overlap, ...]
    warnings: tuple[Warning, ...]
    without_polygon: tuple[str, ...]


def _people(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def overlap_severity(status_a: str, status_b: str) -> str:
    """Two drafts: information; two signed contracts: conflict; anything between: warning."""
    if status_a == "pre_projet" and status_b == "pre_projet":
        return "information"
    if status_a == "aci_signe" and status_b == "aci_signe":
        return "conflict"
    return "warning"


def normalise_members(codes: Iterable[str], graph: ReferenceGraph) -> tuple[str, ...]:
    """Check a list of unit codes; refuse it with every problem listed, or return it sorted.

    Paris, Lyon or Marseille alone stand for all their arrondissements; with some of their own
    arrondissements they are ambiguous and refused.
    """
    seen: set[str] = set()
    errors: list[dict[str, Any]] = []
    members: set[str] = set()
    given = [code.strip().upper() for code in codes]
    if not given:
        raise ProblemError(422, "empty_perimeter", "Un périmètre doit compter au moins une "
                                                   "commune.")
    for position, code in enumerate(given):
        if code in seen:
            errors.append({"index": position, "code": "duplicate_commune", "commune": code,
                           "detail": f"La commune {code} figure deux fois."})
            continue
        seen.add(code)
        unit = graph.units.get(code)
        if unit is None:
            errors.append({"index": position, "code": "unknown_commune", "commune": code,
                           "detail": f"Aucune commune ou arrondissement ne porte le code {code}."})
            continue
        if not unit.is_unit:
            own = set(graph.arrondissements.get(code, ()))
            if own & set(given):
                errors.append({
                    "index": position, "code": "commune_and_arrondissements", "commune": code,
                    "detail": f"{unit.nom} ({code}) est donnée avec certains de ses "
                              "arrondissements : choisissez la commune entière ou les "
                              "arrondissements.",
                })
                continue
            members.update(own)
            continue
        members.add(code)
    if errors:
        first = errors[0]["code"]
        raise ProblemError(422, first, "Le périmètre est refusé : " + " ".join(
            e["detail"] for e in errors[:5]) + (" …" if len(errors) > 5 else ""), errors=errors)
    return tuple(sorted(members))


def overlapping(members: Mapping[int, Iterable[str]], claims: Iterable[Claim]
                ) -> dict[int, set[int]]:
    """For each CPTS, given with its units, the other CPTS that claim one of them."""
    holders: dict[str, set[int]] = {}
    for claim in claims:
        holders.setdefault(claim.code, set()).add(claim.cpts_id)
    return {cpts_id: {other for code in units for other in holders.get(code, ())
                      if other != cpts_id}
            for cpts_id, units in members.items()}


def connected_parts(members: frozenset[str], graph: ReferenceGraph) -> list[tuple[str, ...]]:
    """Connected components of the members that have a polygon, largest first."""
    drawn = {c for c in members if graph.units[c].has_polygon}
    parts: list[tuple[str, ...]] = []
    remaining = set(drawn)
    while remaining:
        start = remaining.pop()
        component = {start}
        queue = deque([start])
        while queue:
            for neighbour in graph.neighbours.get(queue.popleft(), frozenset()):
                if neighbour in remaining:
                    remaining.discard(neighbour)
                    component.add(neighbour)
                    queue.append(neighbour)
        parts.append(tuple(sorted(component)))
    parts.sort(key=lambda part: (-len(part), part))
    return parts


def enclaves(members: frozenset[str], graph: ReferenceGraph) -> list[tuple[str, ...]]:
    """Groups of outside units that the perimeter surrounds entirely (no sea, no border)."""
    found: list[tuple[str, ...]] = []
    visited: set[str] = set()
    reaching_out: set[str] = set()  # outside units known to lead to an open edge
    for member in members:
        for start in graph.neighbours.get(member, frozenset()):
            if start in members or start in visited:
                continue
            component, enclosed = _outer_component(start, members, graph, reaching_out)
            visited |= component
            if enclosed:
                found.append(tuple(sorted(component)))
            else:
                reaching_out |= component
    found.sort()
    return found


def _outer_component(start: str, members: frozenset[str], graph: ReferenceGraph,
                     reaching_out: set[str]) -> tuple[set[str], bool]:
    """The outside units connected to `start`, and whether the perimeter encloses them.

    The search stops as soon as it meets an open edge, a unit already known to lead to one,
    or more units than an enclave can hold: all it has seen then leads out too.
    """
    component = {start}
    queue = deque([start])
    while queue:
        code = queue.popleft()
        if code in reaching_out or (graph.units[code].edge_m or 0.0) > OPEN_EDGE_M:
            return component, False
        for neighbour in graph.neighbours.get(code, frozenset()):
            if neighbour in members or neighbour in component:
                continue
            component.add(neighbour)
            if len(component) > ENCLAVE_MAX_UNITS:
                return component, False
            queue.append(neighbour)
    return component, True


def analyse(
    codes: Iterable[str],
    graph: ReferenceGraph,
    rule: SizeRule,
    claims: Iterable[Claim] = (),
    *,
    own_status: str = "pre_projet",
) -> Analysis:
    """Everything the side panel shows for a perimeter, from already-checked unit codes."""
    members = frozenset(codes)
    units = [graph.units[code] for code in sorted(members)]
    population = sum(u.population for u in units)
    size_class = size_class_for(population, rule)
    room = headroom_for(population, rule)
    parts = connected_parts(members, graph)
    surrounded = enclaves(members, graph)
    departements = tuple(sorted({u.departement for u in units}))
    regions = tuple(sorted({u.region for u in units}))
    overlaps = _overlaps(claims, graph.units, own_status)

    warnings: list[Warning] = []
    for overlap in overlaps:
        stage = STATUS_LABELS.get(overlap.status, overlap.status)
        warnings.append(Warning(
            "overlap",
            f"Recouvre la CPTS « {overlap.name} » ({stage}) sur {len(overlap.communes)} "
            f"unité(s), {_people(overlap.population)} habitants.",
            overlap.communes))
    if len(parts) > 1:
        detached = tuple(code for part in parts[1:] for code in part)
        warnings.append(Warning(
            "non_contiguous",
            f"Le périmètre est en {len(parts)} morceaux non contigus.", detached))
    for enclave in surrounded:
        names = ", ".join(graph.units[c].nom for c in enclave[:5])
        warnings.append(Warning(
            "enclave",
            f"{names} {'est enclavée' if len(enclave) == 1 else 'sont enclavées'} dans le "
            "périmètre sans en faire partie.", enclave))
    if len(departements) > 1:
        warnings.append(Warning(
            "crosses_departement",
            "Le périmètre s'étend sur plusieurs départements : " + ", ".join(departements) + ".",
            _minority(units, "departement")))
    if len(regions) > 1:
        warnings.append(Warning(
            "crosses_region",
            "Le périmètre s'étend sur plusieurs régions : " + ", ".join(regions) + ".",
            _minority(units, "region")))
    for threshold in near_threshold(population, rule):
        gap = threshold - population
        side = (f"à {_people(gap)} habitants sous" if gap > 0
                else f"à {_people(-gap)} habitants au-dessus de" if gap < 0 else "exactement à")
        warnings.append(Warning(
            "near_threshold",
            f"Population {side} le seuil de {_people(threshold)} (règle {rule.id}).",
        ))

    area = sum(u.area_m2 or 0.0 for u in units) / 1e6
    return Analysis(
        communes=tuple(sorted(members)), population=population,
        population_year=graph.population_year, units=len(units), area_km2=round(area, 3),
        size_class=size_class, size_rule=rule.id, headroom=room, parts=tuple(parts),
        enclaves=tuple(surrounded), departements=departements, regions=regions,
        overlaps=tuple(overlaps), warnings=tuple(warnings),
        without_polygon=tuple(u.code for u in units if not u.has_polygon),
    )


def _minority(units: list[Unit], attribute: str) -> tuple[str, ...]:
    """The units outside the area (département or région) that holds most of the people."""
    totals: dict[str, int] = {}
    for unit in units:
        key = getattr(unit, attribute)
        totals[key] = totals.get(key, 0) + unit.population
    main = max(totals, key=lambda key: (totals[key], key))
    return tuple(u.code for u in units if getattr(u, attribute) != main)


def _overlaps(claims: Iterable[Claim], units: Mapping[str, Unit], own_status: str
              ) -> list[Overlap]:
    by_cpts: dict[int, list[Claim]] = {}
    for claim in claims:
        by_cpts.setdefault(claim.cpts_id, []).append(claim)
    result = []
    for cpts_id, group in sorted(by_cpts.items()):
        codes = tuple(sorted({c.code for c in group}))
        result.append(Overlap(
            cpts_id=cpts_id, name=group[0].name, status=group[0].status,
            severity=overlap_severity(own_status, group[0].status), communes=codes,
            population=sum(units[c].population for c in codes if c in units)))
    return result
