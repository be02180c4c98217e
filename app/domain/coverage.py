"""Coverage of a territory by CPTS perimeters: covered and uncovered people and units, by stage
and by département, zones blanches (connected groups of uncovered units) with the CPTS around
them, and overlaps. Pure functions over the reference graph: no SQL, no HTTP.

Conventions, stated once here and repeated in the API documentation:
- a "commune" in the figures is a unit of perimeters: a commune, or an arrondissement municipal
  in Paris, Lyon and Marseille;
- which CPTS exist on a day, and which count at all, is decided by the caller
  (`counts_in_coverage`); which stages count as covered is the `statuses` argument;
- a zone blanche is a connected component, through the adjacency table, of the uncovered units
  of the scope; it is cut at the border of the scope. Its id is `zb-` followed by the lowest unit
  code of the component: it stays the same as long as that unit stays uncovered and in the zone;
- a unit without polygon counts in every total; uncovered, it is a zone of its own (nothing is
  known of its neighbours), never an enclave.
"""

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations

from app.domain.perimeter import OPEN_EDGE_M, STATUSES, ReferenceGraph, Unit, overlap_severity
from app.domain.size_rules import SizeRule, size_class_for
from app.errors import ProblemError

SCOPE_KINDS = ("national", "region", "departement", "epci")
SEVERITY_RANK = {"information": 0, "warning": 1, "conflict": 2}
WHITE_ZONE_PREFIX = "zb-"


@dataclass(frozen=True)
class Scope:
    """National, or one région, département or EPCI (SIREN) by its code."""

    kind: str
    code: str | None = None

    def __str__(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"


def parse_scope(text: str | None) -> Scope:
    """`national`, `region:93`, `departement:06`, `epci:200030195`."""
    value = (text or "national").strip()
    kind, _, code = value.partition(":")
    kind = kind.strip().lower()
    code = code.strip().upper()
    if kind == "national" and not code:
        return Scope("national")
    if kind in SCOPE_KINDS[1:] and code and len(code) <= 12 and code.isalnum():
        return Scope(kind, code)
    raise ProblemError(422, "invalid_scope",
                       f"Périmètre d'analyse illisible : « {value} ». Valeurs possibles : "
                       "national, region:<code>, departement:<code>, epci:<siren>.")


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """The stages that count as covered, in lifecycle order; none given: every stage."""
    if text is None or not text.strip():
        return STATUSES
    given = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(given - set(STATUSES))
    if unknown:
        raise ProblemError(422, "unknown_status",
                           "Stade(s) inconnu(s) : " + ", ".join(unknown) + ". Stades : "
                           + ", ".join(STATUSES) + ".")
    return tuple(s for s in STATUSES if s in given)


def scope_units(graph: ReferenceGraph, scope: Scope) -> tuple[str, ...]:
    """The units of perimeters inside the scope, in code order; refused when there are none."""
    units = graph.units.values()
    if scope.kind == "national":
        codes = [u.code for u in units if u.is_unit]
    else:
        codes = [u.code for u in units if u.is_unit and getattr(u, scope.kind) == scope.code]
    if not codes:
        raise ProblemError(404, "unknown_scope",
                           f"Aucune commune chargée ne correspond à « {scope} ».")
    return tuple(sorted(codes))


def counts_in_coverage(status: str, submitted_on: date | None, day: date) -> bool:
    """Whether a (non-scenario, non-archived) perimeter counts on `day`.

    A draft (`pre_projet`) is its carriers' private work until they hand it to the agency: it
    counts from the day it was submitted. Every later stage counts. Agency scenarios never
    count; the caller never passes them.
    """
    if status != "pre_projet":
        return True
    return submitted_on is not None and submitted_on <= day


@dataclass(frozen=True)
class Perimeter:
    """One CPTS as it stood on the day: its stage and its units (known to the graph)."""

    cpts_id: int
    name: str
    status: str
    units: frozenset[str]
    population: int


def perimeter(graph: ReferenceGraph, cpts_id: int, name: str, status: str,
              codes: Iterable[str]) -> Perimeter:
    """A perimeter from stored unit codes; codes absent from the loaded COG are left out."""
    known = frozenset(c for c in codes if c in graph.units and graph.units[c].is_unit)
    return Perimeter(cpts_id, name, status, known,
                     sum(graph.units[c].population for c in known))


@dataclass(frozen=True)
class Tally:
    population_total: int = 0
    population_covered: int = 0
    communes_total: int = 0
    communes_covered: int = 0

    @property
    def population_uncovered(self) -> int:
        return self.population_total - self.population_covered

    @property
    def communes_uncovered(self) -> int:
        return self.communes_total - self.communes_covered

    @property
    def coverage_rate(self) -> float:
        return _rate(self.population_covered, self.population_total)

    @property
    def communes_coverage_rate(self) -> float:
        return _rate(self.communes_covered, self.communes_total)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(frozen=True)
class StageTally:
    """What the CPTS at one stage cover in the scope.

    `population`/`communes`: units held by at least one CPTS at this stage (a unit held at two
    stages counts in both). `*_most_advanced`: units whose most advanced holder is at this stage
    (these add up to the units held at any stage).
    """

    status: str
    counted: bool
    cpts: int
    population: int
    communes: int
    population_most_advanced: int
    communes_most_advanced: int


@dataclass(frozen=True)
class DepartementTally:
    code: str
    tally: Tally
    white_zones: int


@dataclass(frozen=True)
class Absorption:
    """A CPTS bordering a zone blanche, and what it would weigh if it took the whole zone."""

    cpts_id: int
    population: int
    size_class: int
    population_with_zone: int
    size_class_with_zone: int
    border_units: int  # its units that touch the zone


@dataclass(frozen=True)
class WhiteZone:
    id: str
    communes: tuple[str, ...]
    population: int
    area_km2: float
    departements: tuple[str, ...]
    adjacent: tuple[Absorption, ...]
    enclave: bool
    extends_outside_scope: bool
    without_polygon: tuple[str, ...]
    held_at_other_stages: tuple[int, ...]  # CPTS at stages not counted holding zone units


@dataclass(frozen=True)
class UnitOverlap:
    commune: str
    population: int
    cpts_ids: tuple[int, ...]
    severity: str


@dataclass(frozen=True)
class PairOverlap:
    cpts_ids: tuple[int, int]
    communes: tuple[str, ...]
    population: int
    severity: str


@dataclass(frozen=True)
class Coverage:
    statuses: tuple[str, ...]
    size_rule: str
    tally: Tally
    cpts: tuple[int, ...]  # CPTS at a counted stage holding units of the scope
    by_stage: tuple[StageTally, ...]
    by_departement: tuple[DepartementTally, ...]
    white_zones: tuple[WhiteZone, ...]
    overlaps: tuple[UnitOverlap, ...]
    overlap_pairs: tuple[PairOverlap, ...]


def compute_coverage(graph: ReferenceGraph, perimeters: Sequence[Perimeter],
                     scope_codes: Sequence[str], statuses: Collection[str],
                     rule: SizeRule) -> Coverage:
    """Every figure of the coverage of `scope_codes` by `perimeters` at `statuses`."""
    units = graph.units
    counted = [p.status in statuses for p in perimeters]
    holders: dict[str, list[int]] = {}
    for index, held in enumerate(perimeters):
        for code in held.units:
            holders.setdefault(code, []).append(index)

    stage_rank = {status: rank for rank, status in enumerate(STATUSES)}
    stage_cpts: list[set[int]] = [set() for _ in STATUSES]
    stage_figures = [[0, 0, 0, 0] for _ in STATUSES]  # population, communes, most advanced x2
    departements: dict[str, list[int]] = {}
    in_scope_cpts: set[int] = set()
    overlaps: list[UnitOverlap] = []
    pairs: dict[tuple[int, int], list[str]] = {}
    uncovered: set[str] = set()
    total = [0, 0, 0, 0]
    for code in scope_codes:
        unit = units[code]
        people = unit.population
        figures = departements.get(unit.departement)
        if figures is None:
            figures = departements[unit.departement] = [0, 0, 0, 0]
        figures[0] += people
        figures[2] += 1
        held_by = holders.get(code)
        if not held_by:
            uncovered.add(code)
            continue
        ranks = {stage_rank[perimeters[i].status] for i in held_by}
        for rank in ranks:
            stage_figures[rank][0] += people
            stage_figures[rank][1] += 1
        top = stage_figures[max(ranks)]
        top[2] += people
        top[3] += 1
        for i in held_by:
            stage_cpts[stage_rank[perimeters[i].status]].add(i)
        covering = [i for i in held_by if counted[i]]
        if not covering:
            uncovered.add(code)
            continue
        in_scope_cpts.update(covering)
        figures[1] += people
        figures[3] += 1
        if len(covering) > 1:
            overlaps.append(_unit_overlap(code, people, covering, perimeters, pairs))
    for figures in departements.values():
        for position in range(4):
            total[position] += figures[position]

    zones = _white_zones(graph, uncovered, holders, counted, perimeters, rule)
    zones_per_departement: dict[str, int] = {}
    for zone in zones:
        for code in zone.departements:
            zones_per_departement[code] = zones_per_departement.get(code, 0) + 1
    return Coverage(
        statuses=tuple(s for s in STATUSES if s in statuses),
        size_rule=rule.id,
        tally=Tally(total[0], total[1], total[2], total[3]),
        cpts=tuple(sorted(perimeters[i].cpts_id for i in in_scope_cpts)),
        by_stage=tuple(
            StageTally(status, status in statuses, len(stage_cpts[rank]),
                       *stage_figures[rank])
            for rank, status in enumerate(STATUSES)),
        by_departement=tuple(
            DepartementTally(code, Tally(*figures), zones_per_departement.get(code, 0))
            for code, figures in sorted(departements.items())),
        white_zones=tuple(zones),
        overlaps=tuple(overlaps),
        overlap_pairs=tuple(_pair_overlaps(pairs, perimeters, units)),
    )


def _unit_overlap(code: str, people: int, covering: list[int], perimeters: Sequence[Perimeter],
                  pairs: dict[tuple[int, int], list[str]]) -> UnitOverlap:
    severity = "information"
    ordered = sorted(covering, key=lambda i: perimeters[i].cpts_id)
    for first, second in combinations(ordered, 2):
        pairs.setdefault((first, second), []).append(code)
        found = overlap_severity(perimeters[first].status, perimeters[second].status)
        if SEVERITY_RANK[found] > SEVERITY_RANK[severity]:
            severity = found
    return UnitOverlap(code, people, tuple(perimeters[i].cpts_id for i in ordered), severity)


def _pair_overlaps(pairs: dict[tuple[int, int], list[str]], perimeters: Sequence[Perimeter],
                   units: Mapping[str, Unit]) -> list[PairOverlap]:
    found = []
    for (first, second), codes in pairs.items():
        a, b = perimeters[first], perimeters[second]
        found.append(PairOverlap(
            (a.cpts_id, b.cpts_id), tuple(sorted(codes)),
            sum(units[c].population for c in codes),
            overlap_severity(a.status, b.status)))
    found.sort(key=lambda p: (-SEVERITY_RANK[p.severity], -p.population, p.cpts_ids))
    return found


def _components(uncovered: set[str], graph: ReferenceGraph) -> list[list[str]]:
    remaining = set(uncovered)
    components = []
    neighbours = graph.neighbours
    empty: frozenset[str] = frozenset()
    for start in sorted(uncovered):
        if start not in remaining:
            continue
        remaining.discard(start)
        component = [start]
        queue = deque([start])
        while queue:
            for neighbour in neighbours.get(queue.popleft(), empty):
                if neighbour in remaining:
                    remaining.discard(neighbour)
                    component.append(neighbour)
                    queue.append(neighbour)
        components.append(component)
    return components


def _white_zones(graph: ReferenceGraph, uncovered: set[str],
                 holders: dict[str, list[int]], counted: list[bool],
                 perimeters: Sequence[Perimeter], rule: SizeRule) -> list[WhiteZone]:
    units = graph.units
    empty: frozenset[str] = frozenset()
    zones = []
    for component in _components(uncovered, graph):
        members = set(component)
        border: dict[int, set[str]] = {}
        outside = False
        for code in component:
            for neighbour in graph.neighbours.get(code, empty):
                if neighbour in members:
                    continue
                covering = [i for i in holders.get(neighbour, ()) if counted[i]]
                if not covering:
                    outside = True  # an uncovered neighbour beyond the scope's border
                for i in covering:
                    border.setdefault(i, set()).add(neighbour)
        codes = tuple(sorted(component))
        people = sum(units[c].population for c in codes)
        drawn = all(units[c].has_polygon for c in codes)
        open_edge = any((units[c].edge_m or 0.0) > OPEN_EDGE_M for c in codes)
        adjacent = sorted(
            (Absorption(
                cpts_id=perimeters[i].cpts_id, population=perimeters[i].population,
                size_class=size_class_for(perimeters[i].population, rule),
                population_with_zone=perimeters[i].population + people,
                size_class_with_zone=size_class_for(perimeters[i].population + people, rule),
                border_units=len(touching))
             for i, touching in border.items()),
            key=lambda a: a.cpts_id)
        elsewhere = sorted({perimeters[i].cpts_id for c in codes for i in holders.get(c, ())})
        zones.append(WhiteZone(
            id=WHITE_ZONE_PREFIX + codes[0], communes=codes, population=people,
            area_km2=round(sum(units[c].area_m2 or 0.0 for c in codes) / 1e6, 3),
            departements=tuple(sorted({units[c].departement for c in codes})),
            adjacent=tuple(adjacent),
            enclave=len(adjacent) == 1 and drawn and not open_edge and not outside,
            extends_outside_scope=outside,
            without_polygon=tuple(c for c in codes if not units[c].has_polygon),
            held_at_other_stages=tuple(elsewhere),
        ))
    zones.sort(key=lambda z: (-z.population, z.id))
    return zones
