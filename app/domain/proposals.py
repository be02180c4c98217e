"""Proposed perimeters covering a whole territory: every uncovered unit of a scope is either
attached to an existing CPTS that borders it, or grouped into a proposed new CPTS.

Pure functions over the reference graph (no SQL, no HTTP). The rules, stated once here and
repeated in the answer:
- a zone is a connected group, through the unit adjacency table, of uncovered units of the
  scope lying in one région (a zone blanche crossing a régional border is two zones);
- a zone that holds at least the floor (the smallest ACI size, 40,000 by default) is cut into
  new CPTS by PySAL's max-p regionalisation (`spopt.region.MaxPHeuristic` on `libpysal`
  weights built from the adjacency table): each group is contiguous and reaches the floor,
  and the number of groups is as large as possible; the preferences (follow EPCI and bassins
  de vie, compact shapes) are the attributes whose within-group dissimilarity max-p minimises;
- a smaller zone cannot reach the floor on its own (it touches no other uncovered unit of its
  région): it is attached to bordering CPTS of its région that the user may see, each attached
  piece touching its CPTS, without pushing any of them over the maximum size class; the split
  between neighbours is chosen by the weighted costs, and a single neighbour is preferred when
  it costs no more;
- what can be neither grouped to the floor nor attached forms a group flagged with the reasons;
- a unit without polygon (no known neighbour) follows the unit that draws its territory.

The naive plan of the benchmark (`method="naive"`) attaches each zone whole to the bordering
CPTS with which it shares the longest border, whatever its size; a zone without one is a group.
"""

import heapq
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas

from app.domain.perimeter import ReferenceGraph
from app.domain.size_rules import SizeRule, size_class_for
from app.errors import ProblemError

Method = Literal["maxp", "naive"]
METHODS: tuple[str, ...] = ("maxp", "naive")
DEFAULT_SEED = 2024
# What an attachment to a CPTS costs, by its stage: changing a signed contract costs most.
STAGE_CHANGE_COST = {"aci_signe": 1.0, "projet_sante": 0.6, "lettre_intention": 0.4,
                     "pre_projet": 0.2}
# Distance between two units' points that counts as one unit of dissimilarity in max-p.
COMPACTNESS_SCALE_KM = 15.0
# max-p effort: construction rounds, fewer on large zones; candidate groups for leftovers.
MAXP_CONSTRUCTION_WORK = 20_000
MAXP_CONSTRUCTION_MAX = 40
MAXP_TOP_N = 2

# spopt draws from numpy's global generator: one plan at a time seeds and uses it.
_random_lock = threading.Lock()


@dataclass(frozen=True)
class Weights:
    """How much each preference weighs in the plan's cost (0: ignored)."""

    epci: float = 1.0
    bassin_de_vie: float = 1.0
    compactness: float = 1.0
    balance: float = 1.0
    signed_changes: float = 1.0


@dataclass(frozen=True)
class Options:
    min_population: int
    max_size_class: int = 4
    weights: Weights = field(default_factory=Weights)
    seed: int = DEFAULT_SEED
    method: str = "maxp"


def check_options(options: Options, rule: SizeRule) -> Options:
    """Refuse options that make no sense, with a French message."""
    last = len(rule.thresholds) + 1
    if not 1 <= options.max_size_class <= last:
        raise ProblemError(422, "invalid_max_size_class",
                           f"La taille maximale doit être comprise entre 1 et {last}.")
    if not 1 <= options.min_population <= 2_000_000:
        raise ProblemError(422, "invalid_min_population",
                           "Le seuil de population doit être compris entre 1 et 2 000 000.")
    if options.method not in METHODS:
        raise ProblemError(422, "invalid_method",
                           "Méthode inconnue : « maxp » (régionalisation) ou « naive ».")
    for name, value in options.weights.__dict__.items():
        if not (math.isfinite(value) and 0 <= value <= 10):
            raise ProblemError(422, "invalid_weight",
                               f"Le poids « {name} » doit être compris entre 0 et 10.")
    return options


@dataclass(frozen=True)
class Neighbour:
    """An existing CPTS that may receive units: counted, seen by the user, bordering."""

    cpts_id: int
    status: str
    region: str  # the région of its siège: its agency is in charge
    units: frozenset[str]
    population: int


@dataclass(frozen=True)
class Shapes:
    """What the plan knows of the units' shapes: shared border lengths (m), a point (km, on a
    local plane) and the unit that draws the territory of a unit without polygon."""

    borders: Mapping[str, Mapping[str, float]]
    points: Mapping[str, tuple[float, float]]
    hosts: Mapping[str, str] = field(default_factory=dict)

    def boundary(self, code: str, graph: ReferenceGraph) -> float:
        own = self.borders.get(code, {})
        return sum(own.values()) + (graph.units[code].edge_m or 0.0)


@dataclass(frozen=True)
class Territory:
    """The units to plan and what surrounds them."""

    graph: ReferenceGraph
    uncovered: tuple[str, ...]
    holders: Mapping[str, tuple[int, ...]]  # covered unit -> neighbours (ids) holding it
    neighbours: Mapping[int, Neighbour]
    shapes: Shapes


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str


@dataclass(frozen=True)
class Group:
    units: tuple[str, ...]
    population: int
    size_class: int
    region: str
    reaches_floor: bool
    siege: str  # the most populated unit: a suggested siège
    compactness: float  # Polsby-Popper, 1 for a disc
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Attachment:
    cpts_id: int
    status: str
    units: tuple[str, ...]
    population: int
    population_before: int
    population_after: int
    size_class_before: int
    size_class_after: int
    compactness_before: float
    compactness_after: float


@dataclass(frozen=True)
class Costs:
    epci_split: int
    bassin_de_vie_split: int
    compactness: float
    balance: float
    signed_changes: float

    def total(self, weights: Weights) -> float:
        return (weights.epci * self.epci_split + weights.bassin_de_vie * self.bassin_de_vie_split
                + weights.compactness * self.compactness + weights.balance * self.balance
                + weights.signed_changes * self.signed_changes)


@dataclass(frozen=True)
class Plan:
    options: Options
    size_rule: str
    zones: int
    groups: tuple[Group, ...]
    attachments: tuple[Attachment, ...]
    costs: Costs


def _pp(area_m2: float, perimeter_m: float) -> float:
    """Polsby-Popper compactness: 4πA/P² (1 for a disc, near 0 for a thin strip)."""
    return round(min(1.0, 4 * math.pi * area_m2 / perimeter_m ** 2), 4) if perimeter_m else 0.0


def compactness(units: Iterable[str], territory: Territory) -> float:
    members = set(units)
    graph, shapes = territory.graph, territory.shapes
    area = sum(graph.units[u].area_m2 or 0.0 for u in members)
    perimeter = 0.0
    for code in members:
        inner = sum(length for other, length in shapes.borders.get(code, {}).items()
                    if other in members)
        perimeter += shapes.boundary(code, graph) - inner
    return _pp(area, perimeter)


def zones(territory: Territory) -> list[tuple[str, ...]]:
    """Connected groups of uncovered units inside one région, in code order."""
    graph, remaining = territory.graph, set(territory.uncovered)
    found: list[tuple[str, ...]] = []
    for start in territory.uncovered:
        if start not in remaining:
            continue
        remaining.discard(start)
        region, members, stack = graph.units[start].region, [start], [start]
        while stack:
            for other in graph.neighbours.get(stack.pop(), frozenset()):
                if other in remaining and graph.units[other].region == region:
                    remaining.discard(other)
                    members.append(other)
                    stack.append(other)
        found.append(tuple(sorted(members)))
    return found


def _people(graph: ReferenceGraph, units: Iterable[str]) -> int:
    return sum(graph.units[u].population for u in units)


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


# --- New CPTS: max-p regionalisation -----------------------------------------------------------


def _attributes(units: Sequence[str], territory: Territory, weights: Weights
                ) -> pandas.DataFrame:
    """The columns whose within-group cityblock distance max-p minimises: one column per EPCI
    and per bassin de vie (two units of different EPCI are `weights.epci` apart) and the units'
    points (COMPACTNESS_SCALE_KM apart count `weights.compactness`)."""
    graph = territory.graph
    columns: dict[str, list[float]] = {}
    for kind, weight in (("epci", weights.epci), ("bassin_de_vie", weights.bassin_de_vie)):
        values = [getattr(graph.units[u], kind) or f"-{u}" for u in units]
        for value in sorted(set(values)):
            columns[f"{kind}:{value}"] = [weight / 2 if v == value else 0.0 for v in values]
    scale = weights.compactness / COMPACTNESS_SCALE_KM
    for axis in (0, 1):
        columns[f"point:{axis}"] = [territory.shapes.points.get(u, (0.0, 0.0))[axis] * scale
                                    for u in units]
    frame = pandas.DataFrame(columns)
    frame["population"] = [float(graph.units[u].population) for u in units]
    return frame


def _maxp(zone: Sequence[str], territory: Territory, options: Options) -> list[list[str]]:
    """Max-p groups of a connected zone holding at least the floor.

    spopt's construction phase grows groups from random seeds until each reaches the floor,
    then gives the units left over to neighbouring groups; of its rounds, those with the most
    groups are kept, and of these the one whose groups are the most homogeneous (the sum of
    the within-group distances over the attributes). spopt's simulated annealing is not run:
    its stopping rule lets it cycle for minutes on zones of a few dozen units."""
    from libpysal.weights import W  # type: ignore[import-untyped]
    from scipy.spatial.distance import pdist, squareform  # type: ignore[import-untyped]
    from spopt.region.maxp import _construction_phase  # type: ignore[import-untyped]

    graph = territory.graph
    if len(zone) == 1:
        return [list(zone)]
    position = {code: i for i, code in enumerate(zone)}
    adjacency = {i: sorted(position[n] for n in graph.neighbours.get(code, ()) if n in position)
                 for i, code in enumerate(zone)}
    weights = W(adjacency, silence_warnings=True)
    frame = _attributes(zone, territory, options.weights)
    attributes = frame[[c for c in frame.columns if c != "population"]].to_numpy()
    distances = squareform(pdist(attributes, metric="cityblock"))
    rounds = max(3, min(MAXP_CONSTRUCTION_MAX, MAXP_CONSTRUCTION_WORK // len(zone)))
    with _random_lock:
        np.random.seed(options.seed % 2**32)
        _, candidates = _construction_phase(
            np.arange(len(zone)), attributes, frame["population"].to_numpy(), distances,
            weights, options.min_population, MAXP_TOP_N, rounds)
    best: list[int] | None = None
    best_cost = math.inf
    for labels, regions, _ in candidates:
        cost = sum(float(distances[np.ix_(m, m)].sum()) / 2
                   for m in map(np.array, regions.values()))
        if cost < best_cost:
            best, best_cost = [int(label) for label in labels], cost
    assert best is not None
    groups: dict[int, list[str]] = {}
    for code, label in zip(zone, best, strict=True):
        groups.setdefault(label, []).append(code)
    return [sorted(units) for _, units in sorted(groups.items(), key=lambda kv: min(kv[1]))]


# --- Attachments to bordering CPTS -----------------------------------------------------------


def _cap(options: Options, rule: SizeRule, population: int) -> bool:
    return size_class_for(population, rule) <= options.max_size_class


def _touching(zone: Iterable[str], territory: Territory) -> dict[int, float]:
    """Neighbours (ids) bordering the zone, with the length of the shared border (m)."""
    found: dict[int, float] = {}
    for code in zone:
        for other, length in territory.shapes.borders.get(code, {}).items():
            for cpts_id in territory.holders.get(other, ()):
                found[cpts_id] = found.get(cpts_id, 0.0) + length
        for other in territory.graph.neighbours.get(code, ()):
            if other not in territory.shapes.borders.get(code, {}):
                for cpts_id in territory.holders.get(other, ()):
                    found.setdefault(cpts_id, 0.0)
    return found


@dataclass
class _Receiver:
    neighbour: Neighbour
    epcis: set[str]
    bassins: set[str]
    added: list[str] = field(default_factory=list)
    population: int = 0


def _unit_cost(code: str, receiver: _Receiver, territory: Territory, weights: Weights) -> float:
    unit = territory.graph.units[code]
    cost = 0.0
    if unit.epci not in receiver.epcis:
        cost += weights.epci
    if unit.bassin_de_vie not in receiver.bassins:
        cost += weights.bassin_de_vie
    borders = territory.shapes.borders.get(code, {})
    total = territory.shapes.boundary(code, territory.graph) or 1.0
    shared = sum(length for other, length in borders.items()
                 if other in receiver.neighbour.units or other in receiver.added)
    cost += weights.compactness * (1.0 - shared / total)
    if not receiver.added:
        cost += weights.signed_changes * STAGE_CHANGE_COST.get(receiver.neighbour.status, 1.0)
    return cost


def _grow(zone: Sequence[str], candidates: Sequence[Neighbour], territory: Territory,
          options: Options, rule: SizeRule) -> tuple[dict[int, list[str]], list[str]]:
    """Units given to candidates by cheapest first, each piece grown from its CPTS (so it
    stays contiguous with it), none pushing its CPTS over the cap; and the units left."""
    graph, weights = territory.graph, options.weights
    members = set(zone)
    receivers = {c.cpts_id: _Receiver(
        c, {graph.units[u].epci or "" for u in c.units if u in graph.units},
        {graph.units[u].bassin_de_vie or "" for u in c.units if u in graph.units})
        for c in candidates}
    heap: list[tuple[float, str, int]] = []
    for code in zone:
        around = graph.neighbours.get(code, frozenset())
        for other in around:
            for cpts_id in territory.holders.get(other, ()):
                if cpts_id in receivers:
                    receiver = receivers[cpts_id]
                    heap.append((_unit_cost(code, receiver, territory, weights), code, cpts_id))
    heapq.heapify(heap)
    given: dict[str, int] = {}
    while heap:
        _, code, cpts_id = heapq.heappop(heap)
        if code in given:
            continue
        receiver = receivers[cpts_id]
        people = graph.units[code].population
        if not _cap(options, rule, receiver.neighbour.population + receiver.population + people):
            continue
        given[code] = cpts_id
        receiver.added.append(code)
        receiver.population += people
        for other in graph.neighbours.get(code, frozenset()):
            if other in members and other not in given:
                heapq.heappush(heap, (_unit_cost(other, receiver, territory, weights), other,
                                      cpts_id))
    pieces = {cpts_id: sorted(r.added) for cpts_id, r in receivers.items() if r.added}
    return pieces, [code for code in zone if code not in given]


def _attachment(neighbour: Neighbour, units: Sequence[str], territory: Territory,
                rule: SizeRule) -> Attachment:
    people = _people(territory.graph, units)
    after = neighbour.population + people
    return Attachment(
        cpts_id=neighbour.cpts_id, status=neighbour.status, units=tuple(sorted(units)),
        population=people, population_before=neighbour.population, population_after=after,
        size_class_before=size_class_for(neighbour.population, rule),
        size_class_after=size_class_for(after, rule),
        compactness_before=compactness(neighbour.units, territory),
        compactness_after=compactness(neighbour.units | set(units), territory))


def _pieces(units: Iterable[str], territory: Territory) -> list[tuple[str, ...]]:
    sub = Territory(territory.graph, tuple(sorted(units)), territory.holders,
                    territory.neighbours, territory.shapes)
    return zones(sub)


def _group(units: Sequence[str], territory: Territory, options: Options, rule: SizeRule,
           reasons: Sequence[Reason] = ()) -> Group:
    graph = territory.graph
    people = _people(graph, units)
    reaches = people >= options.min_population
    return Group(
        units=tuple(sorted(units)), population=people, size_class=size_class_for(people, rule),
        region=graph.units[units[0]].region, reaches_floor=reaches,
        siege=max(units, key=lambda u: (graph.units[u].population, u)),
        compactness=compactness(units, territory),
        reasons=() if reaches else tuple(reasons))


def _small_zone_reasons(zone: Sequence[str], territory: Territory, options: Options,
                        touching: Mapping[int, float], region: str, capped: bool
                        ) -> list[Reason]:
    people = _people(territory.graph, zone)
    reasons = [Reason("zone_below_floor",
                      f"La zone ne compte que {_fmt(people)} habitants d'un seul tenant dans la "
                      f"région, sous le seuil de {_fmt(options.min_population)} : elle ne peut "
                      f"pas former seule une CPTS de taille suffisante.")]
    if not territory.graph.units[zone[0]].has_polygon:
        reasons.append(Reason("without_polygon",
                              "Commune sans contour : ses voisines ne sont pas connues."))
    elif capped:
        reasons.append(Reason("max_size_class",
                              f"Les CPTS voisines dépasseraient la taille "
                              f"{options.max_size_class} en la recevant."))
    elif any(territory.neighbours[c].region != region for c in touching):
        reasons.append(Reason("other_region", "Les seules CPTS voisines consultables ont leur "
                                              "siège dans une autre région."))
    else:
        reasons.append(Reason("no_neighbour", "Aucune CPTS voisine consultable ne peut la "
                                              "recevoir."))
    return reasons


def _zone_cost(pieces: Mapping[int, Sequence[str]], territory: Territory,
               weights: Weights) -> float:
    """The weighted cost of giving a small zone to these neighbours."""
    graph = territory.graph
    cost = 0.0
    for kind, weight in (("epci", weights.epci), ("bassin_de_vie", weights.bassin_de_vie)):
        owners: dict[str, set[int]] = {}
        for cpts_id, units in pieces.items():
            for code in units:
                owners.setdefault(getattr(graph.units[code], kind) or code, set()).add(cpts_id)
        cost += weight * sum(len(o) - 1 for o in owners.values())
    for cpts_id, units in pieces.items():
        neighbour = territory.neighbours[cpts_id]
        cost += weights.signed_changes * STAGE_CHANGE_COST.get(neighbour.status, 1.0)
        before = compactness(neighbour.units, territory)
        cost += weights.compactness * max(0.0, before - compactness(
            neighbour.units | set(units), territory))
    return cost


def _attach_small(zone: Sequence[str], territory: Territory, options: Options,
                  rule: SizeRule) -> tuple[list[Attachment], list[Group]]:
    graph = territory.graph
    region = graph.units[zone[0]].region
    touching = _touching(zone, territory)
    candidates = [territory.neighbours[c] for c in sorted(touching)
                  if territory.neighbours[c].region == region]
    people = _people(graph, zone)
    whole = [c for c in candidates if _cap(options, rule, c.population + people)]
    best: dict[int, list[str]] = {}
    left: list[str] = list(zone)
    if candidates:
        best, left = _grow(zone, candidates, territory, options, rule)
    if whole:
        single = min(whole, key=lambda c: (_zone_cost({c.cpts_id: zone}, territory,
                                                      options.weights), -touching[c.cpts_id],
                                           c.cpts_id))
        if left or _zone_cost({single.cpts_id: zone}, territory, options.weights) <= _zone_cost(
                best, territory, options.weights):
            best, left = {single.cpts_id: list(zone)}, []
    attachments = [_attachment(territory.neighbours[c], units, territory, rule)
                   for c, units in sorted(best.items())]
    groups = [_group(piece, territory, options, rule, _small_zone_reasons(
        piece, territory, options, touching, region, capped=bool(candidates)))
        for piece in _pieces(left, territory)]
    return attachments, groups


def _attach_naive(zone: Sequence[str], territory: Territory, options: Options,
                  rule: SizeRule) -> tuple[list[Attachment], list[Group]]:
    graph = territory.graph
    region = graph.units[zone[0]].region
    touching = _touching(zone, territory)
    around = [c for c in touching if territory.neighbours[c].region == region]
    if not around:
        return [], [_group(zone, territory, options, rule, _small_zone_reasons(
            zone, territory, options, touching, region, capped=False))]
    chosen = max(around, key=lambda c: (touching[c], -c))
    return [_attachment(territory.neighbours[chosen], zone, territory, rule)], []


# --- The plan --------------------------------------------------------------------------------


def _merge(attachments: list[Attachment], territory: Territory, rule: SizeRule
           ) -> list[Attachment]:
    """One attachment per CPTS (a CPTS may receive units of several zones)."""
    units: dict[int, list[str]] = {}
    for attachment in attachments:
        units.setdefault(attachment.cpts_id, []).extend(attachment.units)
    return [_attachment(territory.neighbours[c], found, territory, rule)
            for c, found in sorted(units.items())]


def _place_without_polygon(lonely: list[str], groups: list[Group],
                           attachments: list[Attachment], territory: Territory,
                           options: Options, rule: SizeRule) -> tuple[list[Group], list[str]]:
    """Units without polygon follow the unit that draws their territory (into its group, or
    its CPTS); the others are left for groups of their own."""
    left: list[str] = []
    graph = territory.graph
    for code in lonely:
        host = territory.shapes.hosts.get(code)
        home = next((i for i, g in enumerate(groups) if host in g.units), None)
        if home is not None:
            group = groups[home]
            groups[home] = _group([*group.units, code], territory, options, rule,
                                  group.reasons)
            continue
        people = graph.units[code].population
        given = {a.cpts_id: a.population for a in attachments if host in a.units}
        holder = next((c for c in [*given, *territory.holders.get(host or "", ())]
                       if territory.neighbours[c].region == graph.units[code].region
                       and _cap(options, rule, territory.neighbours[c].population
                                + sum(a.population for a in attachments if a.cpts_id == c)
                                + people)), None)
        if holder is not None:
            attachments.append(_attachment(territory.neighbours[holder], [code], territory,
                                           rule))
            continue
        left.append(code)
    return groups, left


def make_plan(territory: Territory, options: Options, rule: SizeRule) -> Plan:
    """The plan covering every uncovered unit of the territory."""
    graph = territory.graph
    groups: list[Group] = []
    attachments: list[Attachment] = []
    lonely: list[str] = []
    found = zones(territory)
    for zone in found:
        if not graph.units[zone[0]].has_polygon and len(zone) == 1:
            lonely.append(zone[0])
            continue
        people = _people(graph, zone)
        if options.method == "naive":
            given, made = _attach_naive(zone, territory, options, rule)
        elif people >= options.min_population:
            given, made = [], [_group(units, territory, options, rule)
                               for units in _maxp(zone, territory, options)]
        else:
            given, made = _attach_small(zone, territory, options, rule)
        attachments.extend(given)
        groups.extend(made)
    groups, left = _place_without_polygon(lonely, groups, attachments, territory, options, rule)
    for code in left:
        region = graph.units[code].region
        groups.append(_group([code], territory, options, rule, _small_zone_reasons(
            [code], territory, options, {}, region, capped=False)))
    merged = _merge(attachments, territory, rule)
    groups.sort(key=lambda g: g.units[0])
    return Plan(options=options, size_rule=rule.id, zones=len(found), groups=tuple(groups),
                attachments=tuple(merged), costs=costs(groups, merged, territory))


def costs(groups: Sequence[Group], attachments: Sequence[Attachment], territory: Territory
          ) -> Costs:
    """The cost terms of a plan, the same for every method:
    - EPCI and bassins de vie split: for each, the number of destinations (groups and CPTS)
      its planned units go to, minus one;
    - compactness: for each group, 1 − its Polsby-Popper ratio; for each attachment, what it
      takes from the CPTS's ratio;
    - balance: the coefficient of variation of the groups' populations;
    - signed changes: for each CPTS receiving units, its stage's cost (signed 1, draft 0.2)."""
    graph = territory.graph
    destinations = [g.units for g in groups] + [a.units for a in attachments]
    split = []
    for kind in ("epci", "bassin_de_vie"):
        owners: dict[str, set[int]] = {}
        for number, units in enumerate(destinations):
            for code in units:
                value = getattr(graph.units[code], kind)
                if value:
                    owners.setdefault(value, set()).add(number)
        split.append(sum(len(o) - 1 for o in owners.values()))
    shape = sum(1.0 - g.compactness for g in groups) + sum(
        max(0.0, a.compactness_before - a.compactness_after) for a in attachments)
    populations = [g.population for g in groups]
    balance = (float(np.std(populations) / np.mean(populations))
               if len(populations) > 1 and np.mean(populations) > 0 else 0.0)
    signed = sum(STAGE_CHANGE_COST.get(a.status, 1.0) for a in attachments)
    return Costs(epci_split=split[0], bassin_de_vie_split=split[1],
                 compactness=round(shape, 4), balance=round(balance, 4),
                 signed_changes=round(signed, 2))
