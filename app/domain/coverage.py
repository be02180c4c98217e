"""Coverage of a territory by CPTS perimeters: covered and uncovered people and units, by stage
and by département, zones blanches (connected groups of uncovered units) with the CPTS around
them, and overlaps. Pure functions over the reference graph: no SQL, no HTTP.

Conventions, stated once here and repeated in the API documentation:
- a "commune" in the figures is a unit of perimeters: a commune, or an arrondissement municipal
  in Paris, Lyon and Marseille;
- which CPTS exist on a day, and which count at all, is decided by the caller
  (`counts_in_coverage`); which stages count as covered is the `statuses` argument;
- a zone blanche is a connected component, through the adjacency table, of the uncovered units
  of the scope; it is cut at the border of the scope (`extends_outside_scope`). Its id is `zb-`
  followed by the lowest unit code of the component: it stays the same as long as that unit
  stays uncovered and in the zone;
- a unit without polygon counts in every total; uncovered, it is a zone of its own (nothing is
  known of its neighbours), never an enclave;
- an enclave ("confetti") is a zone bordered by exactly one CPTS, with no unit touching the sea,
  a national border or anything uncovered beyond the scope (open edge <= OPEN_EDGE_M).

The figures of the whole country must come back in a few tens of milliseconds: the units are
indexed once per geodata release (`index_units`) and the counting is done on numpy arrays.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain, combinations, repeat

import numpy as np
import numpy.typing as npt

from app.domain.cpts_access import STATUSES
from app.domain.perimeter import OPEN_EDGE_M, ReferenceGraph, overlap_severity
from app.domain.size_rules import SizeRule, size_class_for
from app.errors import ProblemError

SCOPE_KINDS = ("national", "region", "departement", "epci")
SEVERITY_RANK = {"information": 0, "warning": 1, "conflict": 2}
STAGE_RANK = {status: rank for rank, status in enumerate(STATUSES)}
WHITE_ZONE_PREFIX = "zb-"

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


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


def counts_in_coverage(status: str, submitted_on: date | None, day: date) -> bool:
    """Whether a (non-scenario, non-archived) perimeter counts on `day`.

    A draft (`pre_projet`) is its carriers' private work until they hand it to the agency: it
    counts from the day it was submitted. Every later stage counts. Agency scenarios never
    count; the caller never passes them.
    """
    if status != "pre_projet":
        return True
    return submitted_on is not None and submitted_on <= day


@dataclass(frozen=True, eq=False)
class UnitIndex:
    """The units of perimeters of one geodata release as arrays, in code order."""

    codes: tuple[str, ...]
    position: dict[str, int]
    population: Ints
    area_m2: Floats
    has_polygon: Bools
    open_edge: Bools
    departement: Ints  # position in `departements`
    departements: tuple[str, ...]
    areas: dict[str, tuple[dict[str, int], Ints]]  # region, departement, epci: ids per unit
    neighbours: tuple[tuple[int, ...], ...]  # positions, ascending
    edge_from: Ints  # every adjacency, both ways
    edge_to: Ints


def index_units(graph: ReferenceGraph) -> UnitIndex:
    """Arrays over the units of perimeters (computed once per release by the caller)."""
    units = sorted((u for u in graph.units.values() if u.is_unit), key=lambda u: u.code)
    codes = tuple(u.code for u in units)
    position = {code: i for i, code in enumerate(codes)}
    areas: dict[str, tuple[dict[str, int], Ints]] = {}
    for kind in SCOPE_KINDS[1:]:
        values = [getattr(u, kind) for u in units]
        ids = {value: i for i, value in enumerate(sorted({v for v in values if v}))}
        areas[kind] = (ids, np.array([ids.get(v, -1) if v else -1 for v in values],
                                     dtype=np.int64))
    neighbours = tuple(
        tuple(sorted(position[n] for n in graph.neighbours.get(code, ()) if n in position))
        for code in codes)
    edge_from = np.array([i for i, around in enumerate(neighbours) for _ in around],
                         dtype=np.int64)
    edge_to = np.array([n for around in neighbours for n in around], dtype=np.int64)
    departements, departement_ids = areas["departement"]
    return UnitIndex(
        codes=codes, position=position,
        population=np.array([u.population for u in units], dtype=np.int64),
        area_m2=np.array([u.area_m2 or 0.0 for u in units], dtype=np.float64),
        has_polygon=np.array([u.has_polygon for u in units], dtype=np.bool_),
        open_edge=np.array([(u.edge_m or 0.0) > OPEN_EDGE_M for u in units], dtype=np.bool_),
        departement=departement_ids,
        departements=tuple(sorted(departements, key=lambda code: departements[code])),
        areas=areas, neighbours=neighbours, edge_from=edge_from, edge_to=edge_to)


def scope_mask(index: UnitIndex, scope: Scope) -> Bools:
    """Which units lie in the scope; refused when none does."""
    if scope.kind == "national":
        mask = np.ones(len(index.codes), dtype=np.bool_)
    else:
        ids, per_unit = index.areas[scope.kind]
        found = ids.get(scope.code or "")
        mask = (per_unit == found) if found is not None else np.zeros(len(index.codes),
                                                                        dtype=np.bool_)
    if not mask.any():
        raise ProblemError(404, "unknown_scope",
                           f"Aucune commune chargée ne correspond à « {scope} ».")
    return mask


@dataclass(frozen=True, eq=False)
class Perimeter:
    """One CPTS as it stood on the day: its stage and its units (positions in the index)."""

    cpts_id: int
    name: str
    status: str
    positions: Ints
    population: int

    def codes(self, index: UnitIndex) -> tuple[str, ...]:
        return tuple(index.codes[i] for i in self.positions)


def perimeters(index: UnitIndex, entries: Sequence[tuple[int, str, str, Sequence[str]]]
               ) -> list[Perimeter]:
    """Perimeters from `(cpts_id, name, status, unit codes)`; codes absent from the loaded COG
    are left out, a code given twice counts once. Done for all at once: a national request
    reads about 35,000 codes."""
    lengths = [len(codes) for _, _, _, codes in entries]
    owners = np.repeat(np.arange(len(entries), dtype=np.int64), lengths)
    flat = list(chain.from_iterable(codes for _, _, _, codes in entries))
    found = np.fromiter(map(index.position.get, flat, repeat(-1, len(flat))), dtype=np.int64,
                        count=len(flat))
    known = found >= 0
    key = np.unique(owners[known] * len(index.codes) + found[known])
    owner, unit = np.divmod(key, len(index.codes))
    bounds = np.searchsorted(owner, np.arange(len(entries) + 1))
    people = np.bincount(owner, weights=index.population[unit].astype(np.float64),
                         minlength=len(entries))
    return [Perimeter(cpts_id, name, status, unit[bounds[i]:bounds[i + 1]], int(people[i]))
            for i, (cpts_id, name, status, _) in enumerate(entries)]


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
        return rate(self.population_covered, self.population_total)

    @property
    def communes_coverage_rate(self) -> float:
        return rate(self.communes_covered, self.communes_total)


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(frozen=True)
class StageTally:
    """What the CPTS at one stage hold in the scope.

    `population`/`communes`: units held by at least one CPTS at this stage (a unit held at two
    stages counts in both). `*_most_advanced`: units whose most advanced holder is at this stage
    (these add up to the units held at any stage). `counted`: the stage counts as covered.
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


@dataclass(frozen=True)
class _Members:
    """Who holds what: one row per (unit, perimeter), with the perimeter's stage."""

    units: Ints
    perimeters: Ints
    stages: Ints
    counted: Bools  # per perimeter


def _members(perimeters: Sequence[Perimeter], statuses: Collection[str]) -> _Members:
    lengths = [len(p.positions) for p in perimeters]
    units = (np.concatenate([p.positions for p in perimeters]) if perimeters
             else np.zeros(0, dtype=np.int64))
    owners = np.repeat(np.arange(len(perimeters), dtype=np.int64), lengths)
    stage = np.array([STAGE_RANK[p.status] for p in perimeters], dtype=np.int64)
    counted = np.array([p.status in statuses for p in perimeters], dtype=np.bool_)
    return _Members(units, owners, stage[owners] if len(owners) else owners, counted)


def compute_coverage(index: UnitIndex, perimeters: Sequence[Perimeter], scope: Scope,
                     statuses: Collection[str], rule: SizeRule) -> Coverage:
    """Every figure of the coverage of `scope` by `perimeters` at `statuses`."""
    size = len(index.codes)
    mask = scope_mask(index, scope)
    held = _members(perimeters, statuses)
    counted_rows = held.counted[held.perimeters] if len(held.perimeters) else np.zeros(
        0, dtype=np.bool_)
    holders = np.bincount(held.units[counted_rows], minlength=size)
    covered = (holders > 0) & mask
    population = index.population
    tally = Tally(int(population[mask].sum()), int(population[covered].sum()),
                  int(mask.sum()), int(covered.sum()))

    inside = mask[held.units]
    scoped_units, scoped_owners = held.units[inside], held.perimeters[inside]
    scoped_stages = held.stages[inside]
    most_advanced = np.full(size, -1, dtype=np.int64)
    np.maximum.at(most_advanced, scoped_units, scoped_stages)
    by_stage = []
    for rank, status in enumerate(STATUSES):
        at_stage = scoped_stages == rank
        stage_units = np.zeros(size, dtype=np.bool_)
        stage_units[scoped_units[at_stage]] = True
        top = most_advanced == rank
        by_stage.append(StageTally(
            status, status in statuses, int(np.unique(scoped_owners[at_stage]).size),
            int(population[stage_units].sum()), int(stage_units.sum()),
            int(population[top].sum()), int(top.sum())))
    in_scope_cpts = np.unique(scoped_owners[held.counted[scoped_owners]])

    zones = _white_zones(index, mask & ~covered, holders, held, counted_rows, perimeters,
                         rule)
    overlaps = _overlaps(index, mask & (holders > 1), held, counted_rows, perimeters)
    return Coverage(
        statuses=tuple(s for s in STATUSES if s in statuses),
        size_rule=rule.id,
        tally=tally,
        cpts=tuple(sorted(perimeters[i].cpts_id for i in in_scope_cpts)),
        by_stage=tuple(by_stage),
        by_departement=_by_departement(index, mask, covered, zones),
        white_zones=tuple(zones),
        overlaps=overlaps,
        overlap_pairs=tuple(_pairs(overlaps, perimeters, index)),
    )


def _by_departement(index: UnitIndex, mask: Bools, covered: Bools,
                    zones: list[WhiteZone]) -> tuple[DepartementTally, ...]:
    count = len(index.departements)
    departement = index.departement
    weights = index.population.astype(np.float64)
    total = np.bincount(departement[mask], weights=weights[mask], minlength=count)
    people = np.bincount(departement[covered], weights=weights[covered], minlength=count)
    units = np.bincount(departement[mask], minlength=count)
    held = np.bincount(departement[covered], minlength=count)
    zones_in: dict[str, int] = {}
    for zone in zones:
        for code in zone.departements:
            zones_in[code] = zones_in.get(code, 0) + 1
    return tuple(
        DepartementTally(code, Tally(int(total[i]), int(people[i]), int(units[i]),
                                     int(held[i])), zones_in.get(code, 0))
        for i, code in enumerate(index.departements) if units[i])


def _overlaps(index: UnitIndex, shared: Bools, held: _Members, counted_rows: Bools,
              perimeters: Sequence[Perimeter]) -> tuple[UnitOverlap, ...]:
    rows = np.flatnonzero(shared[held.units] & counted_rows)
    by_unit: dict[int, list[int]] = {}
    for unit, owner in zip(held.units[rows].tolist(), held.perimeters[rows].tolist(),
                           strict=True):
        by_unit.setdefault(unit, []).append(owner)
    found = []
    for unit in sorted(by_unit):
        owners = sorted(by_unit[unit], key=lambda i: perimeters[i].cpts_id)
        severity = max((overlap_severity(perimeters[a].status, perimeters[b].status)
                        for a, b in combinations(owners, 2)), key=SEVERITY_RANK.__getitem__)
        found.append(UnitOverlap(index.codes[unit], int(index.population[unit]),
                                 tuple(perimeters[i].cpts_id for i in owners), severity))
    return tuple(found)


def _pairs(overlaps: Iterable[UnitOverlap], perimeters: Sequence[Perimeter],
           index: UnitIndex) -> list[PairOverlap]:
    status = {p.cpts_id: p.status for p in perimeters}
    shared: dict[tuple[int, int], list[UnitOverlap]] = {}
    for overlap in overlaps:
        for pair in combinations(overlap.cpts_ids, 2):
            shared.setdefault(pair, []).append(overlap)
    found = [
        PairOverlap(pair, tuple(o.commune for o in units), sum(o.population for o in units),
                    overlap_severity(status[pair[0]], status[pair[1]]))
        for pair, units in shared.items()]
    found.sort(key=lambda p: (-SEVERITY_RANK[p.severity], -p.population, p.cpts_ids))
    return found


def _components(index: UnitIndex, uncovered: Bools) -> tuple[Ints, int]:
    """A zone number for every uncovered unit (-1 elsewhere), zones numbered in the order of
    their lowest unit code.

    Connected components on arrays: every unit points to a lower unit of its component; each
    round hooks trees onto the lowest label seen across an edge and halves the paths, until
    nothing moves (a handful of rounds for the whole of France)."""
    keep = uncovered[index.edge_from] & uncovered[index.edge_to]
    source, target = index.edge_from[keep], index.edge_to[keep]
    root = np.arange(len(index.codes), dtype=np.int64)
    while True:
        before = root.copy()
        across = root[target]
        np.minimum.at(root, root[source], across)
        np.minimum.at(root, source, across)
        root = root[root[root]]
        if np.array_equal(root, before):
            break
    labels = np.full(len(index.codes), -1, dtype=np.int64)
    members = np.flatnonzero(uncovered)
    lowest, numbers = np.unique(root[members], return_inverse=True)
    labels[members] = numbers
    return labels, len(lowest)


def _pairs_of(first: Ints, second: Ints, base: int) -> tuple[Ints, Ints, Ints]:
    """The distinct (first, second) pairs, in order, and how often each occurs."""
    keys, counts = np.unique(first * base + second, return_counts=True)
    left, right = np.divmod(keys, base)
    return left, right, counts


def _white_zones(index: UnitIndex, uncovered: Bools, holders: Ints, held: _Members,
                 counted_rows: Bools, perimeters: Sequence[Perimeter], rule: SizeRule
                 ) -> list[WhiteZone]:
    labels, count = _components(index, uncovered)
    if not count:
        return []
    size, owners_count = len(index.codes), max(1, len(perimeters))
    members = np.flatnonzero(uncovered)
    zone_of = labels[members]
    population = np.bincount(zone_of, weights=index.population[members].astype(np.float64),
                             minlength=count)
    area = np.bincount(zone_of, weights=index.area_m2[members], minlength=count)
    undrawn = np.bincount(zone_of, weights=(~index.has_polygon[members]).astype(np.float64),
                          minlength=count)
    open_edge = np.bincount(zone_of, weights=index.open_edge[members].astype(np.float64),
                            minlength=count)
    order = np.lexsort((members, zone_of))
    groups = np.split(members[order], np.cumsum(np.bincount(zone_of, minlength=count))[:-1])
    departements: list[list[str]] = [[] for _ in range(count)]
    zones_at, departement_at, _ = _pairs_of(zone_of, index.departement[members],
                                            len(index.departements))
    for zone, departement in zip(zones_at.tolist(), departement_at.tolist(), strict=True):
        departements[zone].append(index.departements[departement])

    # Edges leaving a zone: to a unit some counted CPTS holds, or to an uncovered unit beyond
    # the scope (the zone goes on outside).
    leaving = (labels[index.edge_from] >= 0) & (labels[index.edge_to] < 0)
    edge_zone, edge_to = labels[index.edge_from[leaving]], index.edge_to[leaving]
    held_beyond = holders[edge_to] > 0
    outside = np.bincount(edge_zone[~held_beyond], minlength=count) > 0
    touching_zone, touching_unit, _ = _pairs_of(edge_zone[held_beyond], edge_to[held_beyond],
                                                size)
    # Each (zone, unit it touches) with each counted CPTS holding that unit.
    rows = np.flatnonzero(counted_rows)
    by_unit = np.argsort(held.units[rows], kind="stable")
    holder_units, holder_owners = held.units[rows][by_unit], held.perimeters[rows][by_unit]
    first = np.searchsorted(holder_units, touching_unit, side="left")
    lengths = np.searchsorted(holder_units, touching_unit, side="right") - first
    offsets = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    border_zone, border_owner, border_units = _pairs_of(
        np.repeat(touching_zone, lengths), holder_owners[offsets], owners_count)
    border: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for zone, owner, units in zip(border_zone.tolist(), border_owner.tolist(),
                                  border_units.tolist(), strict=True):
        border[zone].append((owner, units))
    # CPTS at stages not counted that hold units of a zone.
    inside = labels[held.units] >= 0
    elsewhere: list[list[int]] = [[] for _ in range(count)]
    other_zone, other_owner, _ = _pairs_of(labels[held.units[inside]],
                                           held.perimeters[inside], owners_count)
    for zone, owner in zip(other_zone.tolist(), other_owner.tolist(), strict=True):
        elsewhere[zone].append(perimeters[owner].cpts_id)

    codes_of = index.codes
    undrawn_units = {codes_of[i] for i in members[~index.has_polygon[members]].tolist()}
    zones = []
    for zone, group in enumerate(groups):
        people = int(population[zone])
        codes = tuple([codes_of[i] for i in group.tolist()])
        adjacent = tuple(sorted(
            (_absorption(perimeters[owner], people, units, rule)
             for owner, units in border[zone]), key=lambda a: a.cpts_id))
        zones.append(WhiteZone(
            id=WHITE_ZONE_PREFIX + codes[0], communes=codes, population=people,
            area_km2=round(float(area[zone]) / 1e6, 3),
            departements=tuple(departements[zone]), adjacent=adjacent,
            enclave=(len(adjacent) == 1 and not undrawn[zone] and not open_edge[zone]
                     and not outside[zone]),
            extends_outside_scope=bool(outside[zone]),
            without_polygon=tuple(c for c in codes if c in undrawn_units) if undrawn[zone]
            else (),
            held_at_other_stages=tuple(sorted(elsewhere[zone]))))
    zones.sort(key=lambda z: (-z.population, z.id))
    return zones


def _absorption(held: Perimeter, people: int, border_units: int, rule: SizeRule
                ) -> Absorption:
    return Absorption(
        cpts_id=held.cpts_id, population=held.population,
        size_class=size_class_for(held.population, rule),
        population_with_zone=held.population + people,
        size_class_with_zone=size_class_for(held.population + people, rule),
        border_units=border_units)
