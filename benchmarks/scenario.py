"""A deterministic, realistic national scenario of CPTS perimeters, for benchmarks and tests.

From the loaded geodata alone (the units, their EPCI, bassin de vie, population and
adjacency) and a seed, `plan()` draws CPTS the way carriers draw them: mostly one EPCI; big
EPCI (métropoles, Paris) cut into contiguous parts of about 90,000–160,000 people; some
mid-sized EPCI cut in two; the small rural EPCI grouped by bassin de vie. Each région leaves a
share of its candidates uncovered (about 85 % of the population is covered over France, from
about 55 % to 97 % by région, as in 2024), preferring small rural ones. Then it digs zones
blanches of all sizes (whole candidates, a few units on borders, single units inside a CPTS:
enclaves), makes neighbours claim the same units (about 100 units nationally: drafts, letters
of intent and a few signed conflicts), spreads the stages (about 70 % signed), gives some CPTS
an earlier version (a letter of intent before the contract, a smaller first perimeter), and
adds agency scenarios and an archived CPTS, neither of which may count in coverage.

`write()` creates them with `app.services.cpts` (as an administrator on the command line) in
one transaction: every CPTS is a first version, then its later versions, as in real use.
Drafts are submitted to the agency, except a few kept private by their carriers.

    python -m benchmarks.scenario --database-url URL [--seed N] [--departements 15,42]
"""

import argparse
import heapq
import math
import random
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.db import Conn, connect
from app.domain.perimeter import OPEN_EDGE_M, ReferenceGraph
from app.repo.reference import read_graph
from app.services import coverage as coverage_service
from app.services import cpts as cpts_service

DEFAULT_SEED = 2024
MARKER = "Scénario généré"  # start of the reason of every version written here
NATIONAL_POPULATION = 68_000_000
BIG_EPCI = 150_000  # cut into parts
SMALL_EPCI = 40_000  # grouped by bassin de vie
MIN_PIECE = 25_000  # smaller pieces of a bassin de vie join a neighbouring candidate
HALVED_SHARE = 0.12  # mid-sized EPCI cut in two
COVERAGE_MEAN, COVERAGE_SPREAD = 0.875, 0.08
COVERAGE_RANGE = (0.55, 0.97)
STAGE_WEIGHTS = {"aci_signe": 0.70, "projet_sante": 0.05, "lettre_intention": 0.18,
                 "pre_projet": 0.07}
PRIVATE_DRAFT_SHARE = 0.2  # drafts their carriers have not submitted yet
OVERLAP_UNITS_PER_MILLION = 1.5  # about 100 over France
ENCLAVES_PER_MILLION = 0.3  # about 20
BORDER_ZONES_PER_MILLION = 1.0  # small zones dug on borders, about 70
PAIR_SEVERITIES = (("information", 0.3), ("warning", 0.55), ("conflict", 0.15))
FIRST_DAY, LAST_DAY = date(2019, 9, 1), date(2025, 6, 30)


@dataclass
class PlannedCpts:
    key: str  # stable: where the candidate comes from
    name: str
    units: set[str]
    status: str = "aci_signe"
    submitted: bool = True
    effective: date = FIRST_DAY
    first_units: set[str] | None = None  # a smaller first version, extended on `effective`
    first_status: str | None = None  # an earlier stage, left on `effective`
    first_effective: date | None = None
    pinned: bool = False  # its stage was set by an overlap and must not change
    region: str = ""


@dataclass
class Plan:
    seed: int
    cpts: list[PlannedCpts]
    uncovered_candidates: list[PlannedCpts]
    scenarios: list[PlannedCpts] = field(default_factory=list)
    archived: list[PlannedCpts] = field(default_factory=list)
    enclaves: list[tuple[str, ...]] = field(default_factory=list)
    overlap_units: set[str] = field(default_factory=set)


def _people(graph: ReferenceGraph, codes: Iterable[str]) -> int:
    return sum(graph.units[c].population for c in codes)


def _neighbours(graph: ReferenceGraph, code: str) -> list[str]:
    return sorted(graph.neighbours.get(code, ()))


def _components(codes: set[str], graph: ReferenceGraph) -> list[set[str]]:
    remaining = set(codes)
    parts = []
    for start in sorted(codes):
        if start not in remaining:
            continue
        remaining.discard(start)
        part = {start}
        queue = deque([start])
        while queue:
            for other in _neighbours(graph, queue.popleft()):
                if other in remaining:
                    remaining.discard(other)
                    part.add(other)
                    queue.append(other)
        parts.append(part)
    return parts


def _hops(start: str, members: set[str], graph: ReferenceGraph) -> dict[str, int]:
    distance = {start: 0}
    queue = deque([start])
    while queue:
        code = queue.popleft()
        for other in _neighbours(graph, code):
            if other in members and other not in distance:
                distance[other] = distance[code] + 1
                queue.append(other)
    return distance


def split(codes: set[str], parts: int, graph: ReferenceGraph, rng: random.Random
          ) -> list[set[str]]:
    """Cut a territory into `parts` contiguous pieces of similar population: seeds far apart,
    then the least populated piece always takes its next neighbour."""
    ordered = sorted(codes)
    parts = max(1, min(parts, len(ordered)))
    seeds = [rng.choice(ordered)]
    nearest = {c: math.inf for c in ordered}
    while len(seeds) < parts:
        for code, hops in _hops(seeds[-1], codes, graph).items():
            nearest[code] = min(nearest[code], hops)
        far = max((c for c in ordered if c not in seeds),
                  key=lambda c: (nearest[c] if nearest[c] != math.inf else 10**6,
                                 graph.units[c].population, c))
        seeds.append(far)
    pieces = [{seed} for seed in seeds]
    owner = {seed: index for index, seed in enumerate(seeds)}
    heap = [(graph.units[seed].population, index) for index, seed in enumerate(seeds)]
    heapq.heapify(heap)
    while len(owner) < len(ordered):
        stuck = []
        grown = False
        while heap:
            people, index = heapq.heappop(heap)
            frontier = sorted({n for c in pieces[index] for n in _neighbours(graph, c)
                               if n in codes and n not in owner})
            if not frontier:
                stuck.append((people, index))
                continue
            taken = frontier[0]
            pieces[index].add(taken)
            owner[taken] = index
            heapq.heappush(heap, (people + graph.units[taken].population, index))
            grown = True
            break
        for item in stuck:
            heapq.heappush(heap, item)
        if not grown:  # the rest is cut off (islands): to the least populated piece
            taken = next(c for c in ordered if c not in owner)
            people, index = heapq.heappop(heap)
            pieces[index].add(taken)
            owner[taken] = index
            heapq.heappush(heap, (people + graph.units[taken].population, index))
    return pieces


@dataclass(frozen=True)
class Names:
    epci: dict[str, str]
    bassin_de_vie: dict[str, str]


def read_names(conn: Conn) -> Names:
    return Names(
        {r["code"]: r["nom"] for r in conn.execute("SELECT code, nom FROM epci")},
        {r["code"]: r["nom"] for r in conn.execute("SELECT code, nom FROM bassin_de_vie")})


def _main_commune(graph: ReferenceGraph, codes: set[str]) -> str:
    return max(sorted(codes), key=lambda c: graph.units[c].population)


def candidates(graph: ReferenceGraph, names: Names, units: set[str], rng: random.Random
               ) -> list[PlannedCpts]:
    """Territories a CPTS could have, covering every unit once."""
    by_epci: dict[str, set[str]] = {}
    for code in sorted(units):
        unit = graph.units[code]
        by_epci.setdefault(unit.epci or f"sans-epci-{unit.departement}", set()).add(code)
    found: list[PlannedCpts] = []
    pool: set[str] = set()
    for epci, codes in sorted(by_epci.items()):
        people = _people(graph, codes)
        label = names.epci.get(epci, f"territoire {epci}")
        if people >= BIG_EPCI or (people >= 60_000 and rng.random() < HALVED_SHARE):
            count = (max(2, round(people / rng.uniform(110_000, 200_000)))
                     if people >= BIG_EPCI else 2)
            for number, piece in enumerate(split(codes, count, graph, rng), start=1):
                main = graph.units[_main_commune(graph, piece)].nom
                found.append(PlannedCpts(f"epci:{epci}:{number}",
                                         f"CPTS {main} ({label})", piece))
        elif people < SMALL_EPCI:
            pool |= codes
        else:
            found.append(PlannedCpts(f"epci:{epci}", f"CPTS {label}", set(codes)))
    by_bassin: dict[str, set[str]] = {}
    for code in sorted(pool):
        by_bassin.setdefault(graph.units[code].bassin_de_vie or code, set()).add(code)
    pieces: list[PlannedCpts] = []
    for bassin, codes in sorted(by_bassin.items()):
        label = names.bassin_de_vie.get(bassin, graph.units[_main_commune(graph, codes)].nom)
        for number, part in enumerate(_components(codes, graph), start=1):
            pieces.append(PlannedCpts(f"bv:{bassin}:{number}",
                                      f"CPTS du bassin de {label}", part))
    found += _merge_small(graph, pieces, found)
    return found


def _merge_small(graph: ReferenceGraph, pieces: list[PlannedCpts],
                 found: list[PlannedCpts]) -> list[PlannedCpts]:
    """Pieces under MIN_PIECE people join the least populated neighbouring candidate."""
    everything = found + pieces
    owner = {code: index for index, c in enumerate(everything) for code in c.units}
    merged: set[int] = set()
    order = sorted(range(len(found), len(everything)),
                   key=lambda i: (_people(graph, everything[i].units), everything[i].key))
    for index in order:
        piece = everything[index]
        if _people(graph, piece.units) >= MIN_PIECE:
            continue
        around = sorted({owner[n] for c in piece.units for n in _neighbours(graph, c)
                         if n in owner and owner[n] != index})
        if not around:
            continue
        target = min(around, key=lambda i: (_people(graph, everything[i].units), i))
        everything[target].units |= piece.units
        for code in piece.units:
            owner[code] = target
        merged.add(index)
    return [everything[i] for i in range(len(found), len(everything)) if i not in merged]


def _region(graph: ReferenceGraph, codes: set[str]) -> str:
    totals: dict[str, int] = {}
    for code in codes:
        unit = graph.units[code]
        totals[unit.region] = totals.get(unit.region, 0) + unit.population
    return max(sorted(totals), key=lambda r: totals[r])


def choose_uncovered(graph: ReferenceGraph, found: list[PlannedCpts], rng: random.Random
                     ) -> tuple[list[PlannedCpts], list[PlannedCpts]]:
    """Each région leaves candidates uncovered up to its own rate, smaller ones first."""
    by_region: dict[str, list[PlannedCpts]] = {}
    for candidate in found:
        candidate.region = _region(graph, candidate.units)
        by_region.setdefault(candidate.region, []).append(candidate)
    kept: list[PlannedCpts] = []
    left: list[PlannedCpts] = []
    for region in sorted(by_region):
        group = by_region[region]
        rate = min(max(rng.gauss(COVERAGE_MEAN, COVERAGE_SPREAD), COVERAGE_RANGE[0]),
                   COVERAGE_RANGE[1])
        total = sum(_people(graph, c.units) for c in group)
        wanted = (1 - rate) * total
        order = sorted(group, key=lambda c: (rng.random() * math.log(
            10 + _people(graph, c.units)), c.key))
        dropped = 0
        for candidate in order:
            people = _people(graph, candidate.units)
            if dropped < wanted and dropped + people <= wanted * 1.15 + 5_000:
                left.append(candidate)
                dropped += people
            else:
                kept.append(candidate)
    kept.sort(key=lambda c: c.key)
    left.sort(key=lambda c: c.key)
    return kept, left


def _scaled(per_million: float, population: int, minimum: int) -> int:
    return max(minimum, round(per_million * population / 1e6))


def _interior(graph: ReferenceGraph, code: str, units: set[str]) -> bool:
    unit = graph.units[code]
    return (unit.has_polygon and (unit.edge_m or 0.0) <= OPEN_EDGE_M
            and bool(graph.neighbours.get(code))
            and all(n in units for n in graph.neighbours.get(code, ())))


def dig_enclaves(graph: ReferenceGraph, kept: list[PlannedCpts], count: int,
                 rng: random.Random) -> list[tuple[str, ...]]:
    """Leave out one unit (sometimes two adjacent ones) deep inside a CPTS: a confetti."""
    found: list[tuple[str, ...]] = []
    for candidate in rng.sample(kept, len(kept)):
        if len(found) >= count:
            break
        if len(candidate.units) < 6:
            continue
        main = _main_commune(graph, candidate.units)
        inside = [c for c in sorted(candidate.units)
                  if c != main and _interior(graph, c, candidate.units)]
        if not inside:
            continue
        first = rng.choice(inside)
        hole = {first}
        if rng.random() < 0.3:
            second = [n for n in _neighbours(graph, first) if n in inside and n != main]
            if second:
                hole.add(second[0])
        candidate.units -= hole
        if len(_components(candidate.units, graph)) > 1:  # never cut a CPTS in two
            candidate.units |= hole
            continue
        found.append(tuple(sorted(hole)))
    return found


def dig_border_zones(graph: ReferenceGraph, kept: list[PlannedCpts], count: int,
                     reserved: set[str], rng: random.Random) -> None:
    """Take one to three border units out of CPTS: small zones blanches between neighbours."""
    owner = {code: c for c in kept for code in c.units}
    dug = 0
    for candidate in rng.sample(kept, len(kept)):
        if dug >= count:
            break
        if len(candidate.units) < 4:
            continue
        main = _main_commune(graph, candidate.units)
        border = [c for c in sorted(candidate.units)
                  if c != main and c not in reserved
                  and any(owner.get(n) is not candidate for n in _neighbours(graph, c))]
        if not border:
            continue
        start = rng.choice(border)
        hole = [start]
        size = rng.randint(1, 3)
        for other in _neighbours(graph, start):
            if len(hole) >= size:
                break
            if other in candidate.units and other != main and other not in reserved:
                hole.append(other)
        remaining = candidate.units - set(hole)
        if not remaining or len(_components(remaining, graph)) > len(
                _components(candidate.units, graph)):
            continue
        candidate.units = remaining
        for code in hole:
            owner.pop(code, None)
        reserved.update(hole)
        dug += 1


def draw_stages(kept: list[PlannedCpts], rng: random.Random) -> None:
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    for candidate in kept:
        candidate.status = rng.choices(stages, weights)[0]
        candidate.submitted = (candidate.status != "pre_projet"
                               or rng.random() >= PRIVATE_DRAFT_SHARE)


def make_overlaps(graph: ReferenceGraph, kept: list[PlannedCpts], target: int,
                  reserved: set[str], rng: random.Random) -> set[str]:
    """Neighbours claim one to four units of each other: drafts (information), letters of
    intent (warning), a few signed contracts (conflict)."""
    owner = {code: c for c in kept for code in c.units}
    by_key = {c.key: c for c in kept}
    claimed: set[str] = set()
    pairs = 0
    severities = [s for s, _ in PAIR_SEVERITIES]
    weights = [w for _, w in PAIR_SEVERITIES]
    for claimant in rng.sample(kept, len(kept)):
        if len(claimed) >= target:
            break
        if claimant.pinned or (claimant.status == "pre_projet" and not claimant.submitted):
            continue
        touching: dict[str, list[str]] = {}
        for code in sorted(claimant.units):
            for other in _neighbours(graph, code):
                holder = owner.get(other)
                if (holder is None or holder is claimant or other in reserved
                        or other in claimed):
                    continue
                touching.setdefault(holder.key, []).append(other)
        options = [k for k in sorted(touching) if not by_key[k].pinned]
        if not options:
            continue
        key = rng.choice(options)
        holder = by_key[key]
        taken = sorted(set(touching[key]))[:rng.randint(1, 4)]
        taken = [c for c in taken if c != _main_commune(graph, holder.units)]
        if not taken:
            continue
        # The first pairs show each severity once, even in a small scenario.
        severity = (severities[pairs] if pairs < len(severities)
                    else rng.choices(severities, weights)[0])
        pairs += 1
        if severity == "information":
            claimant.status = holder.status = "pre_projet"
        elif severity == "conflict":
            claimant.status = holder.status = "aci_signe"
        else:
            claimant.status = "lettre_intention"
            if holder.status == "pre_projet" and not holder.submitted:
                holder.status = "projet_sante"
        claimant.submitted = holder.submitted = True
        claimant.pinned = holder.pinned = True
        claimant.units |= set(taken)
        claimed.update(taken)
    return claimed


def keep_one_draft_private(graph: ReferenceGraph, kept: list[PlannedCpts],
                           rng: random.Random) -> None:
    """At least one small draft its carriers have not submitted, even in a small scenario."""
    if any(c.status == "pre_projet" and not c.submitted for c in kept):
        return
    free = sorted((c for c in kept if not c.pinned),
                  key=lambda c: (_people(graph, c.units), c.key))
    if free:
        chosen = rng.choice(free[:5])
        chosen.status, chosen.submitted = "pre_projet", False


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def draw_history(graph: ReferenceGraph, kept: list[PlannedCpts], rng: random.Random) -> None:
    """Dates, and an earlier version for some: a letter of intent before the contract, or a
    first perimeter one or two units smaller."""
    for candidate in kept:
        candidate.effective = _day(rng, FIRST_DAY, LAST_DAY)
        roll = rng.random()
        if roll < 0.15 and candidate.status in ("aci_signe", "projet_sante"):
            candidate.first_status = "lettre_intention"
        elif roll < 0.22 and len(candidate.units) > 3:
            main = _main_commune(graph, candidate.units)
            extension = [c for c in sorted(candidate.units) if c != main][:rng.randint(1, 2)]
            first = candidate.units - set(extension)
            if len(_components(first, graph)) <= len(_components(candidate.units, graph)):
                candidate.first_units = first
        if candidate.first_status or candidate.first_units:
            candidate.first_effective = _day(rng, FIRST_DAY, candidate.effective)


def plan(graph: ReferenceGraph, names: Names, *, seed: int = DEFAULT_SEED,
         departements: Sequence[str] = ()) -> Plan:
    """The whole scenario, from the graph and the seed alone."""
    rng = random.Random(seed)
    wanted = set(departements)
    units = {c for c, u in graph.units.items()
             if u.is_unit and (not wanted or u.departement in wanted)}
    population = _people(graph, units)
    found = candidates(graph, names, units, rng)
    kept, left = choose_uncovered(graph, found, rng)
    enclaves = dig_enclaves(graph, kept, _scaled(ENCLAVES_PER_MILLION, population, 2), rng)
    reserved = {c for hole in enclaves for c in hole}
    dig_border_zones(graph, kept, _scaled(BORDER_ZONES_PER_MILLION, population, 3),
                     reserved, rng)
    draw_stages(kept, rng)
    claimed = make_overlaps(graph, kept, _scaled(OVERLAP_UNITS_PER_MILLION, population, 6),
                            reserved, rng)
    keep_one_draft_private(graph, kept, rng)
    draw_history(graph, kept, rng)
    kept = [c for c in kept if c.units]
    _distinct_names(kept + left)
    result = Plan(seed, kept, left, enclaves=enclaves, overlap_units=claimed)
    # Agency scenarios over zones blanches, and a CPTS archived since: neither counts.
    for number, candidate in enumerate(left[:3], start=1):
        result.scenarios.append(PlannedCpts(
            f"scenario:{number}", f"Scénario ARS {number} : {candidate.name}",
            set(candidate.units), status="lettre_intention", region=candidate.region))
    if len(left) > 3:
        gone = left[3]
        result.archived.append(PlannedCpts(
            "archived:1", f"{gone.name} (dissoute)", set(gone.units), status="aci_signe",
            effective=FIRST_DAY))
    return result


def _distinct_names(planned: list[PlannedCpts]) -> None:
    """Two CPTS never share a name here: the second gets « (2) », and so on."""
    seen: dict[str, int] = {}
    for candidate in sorted(planned, key=lambda c: c.key):
        count = seen.get(candidate.name, 0) + 1
        seen[candidate.name] = count
        if count > 1:
            candidate.name = f"{candidate.name} ({count})"


def admin_context(conn: Conn, graph: ReferenceGraph) -> cpts_service.Context:
    return cpts_service.command_line_context(conn, graph=graph)


def already_written(conn: Conn) -> int:
    row = conn.execute(
        "SELECT count(DISTINCT cpts_id) AS n FROM cpts_version WHERE reason LIKE %s",
        (MARKER + "%",)).fetchone()
    return 0 if row is None else int(row["n"])


def write(conn: Conn, graph: ReferenceGraph, scenario: Plan) -> dict[str, int]:
    """Create every planned CPTS with `app.services.cpts`, in one transaction."""
    ctx = admin_context(conn, graph)
    reason = f"{MARKER} (graine {scenario.seed})"
    made = {"cpts": 0, "versions": 0, "scenarios": 0, "archived": 0}
    with conn.transaction():
        for planned in scenario.cpts:
            status = planned.first_status or planned.status
            units = planned.first_units or planned.units
            first_day = planned.first_effective or planned.effective
            cpts_id = cpts_service.create(ctx, name=planned.name, status=status,
                                          communes=sorted(units), reason=reason,
                                          effective_date=first_day)
            made["cpts"] += 1
            made["versions"] += 1
            if planned.first_status or planned.first_units:
                cpts_service.update(
                    ctx, cpts_id, expected_version=1,
                    status=planned.status if planned.first_status else None,
                    communes=sorted(planned.units) if planned.first_units else None,
                    reason=reason, effective_date=planned.effective)
                made["versions"] += 1
            if planned.status == "pre_projet" and planned.submitted:
                cpts_service.request_stage(ctx, cpts_id, comment=reason)
        for planned in scenario.scenarios:
            cpts_service.create(ctx, name=planned.name, status=planned.status,
                                communes=sorted(planned.units), is_scenario=True,
                                reason=reason, effective_date=FIRST_DAY)
            made["scenarios"] += 1
        for planned in scenario.archived:
            cpts_id = cpts_service.create(ctx, name=planned.name, status=planned.status,
                                          communes=sorted(planned.units), reason=reason,
                                          effective_date=planned.effective)
            cpts_service.archive(ctx, cpts_id, expected_version=1, reason=reason)
            made["archived"] += 1
    return made


def describe(conn: Conn, graph: ReferenceGraph) -> str:
    """What the database now holds: counts by stage, overlaps, zones and coverage rates."""
    ctx = admin_context(conn, graph)
    everything = coverage_service.compute(
        ctx, coverage_service.parse_query("national", None, None)).view
    signed = coverage_service.compute(
        ctx, coverage_service.parse_query("national", "aci_signe", None)).view
    zones = everything["white_zones"]
    sizes = sorted(len(z["communes"]) for z in zones)
    stages = ", ".join(f"{s['status']} {s['cpts']}" for s in everything["by_stage"])
    lines = [
        f"CPTS comptées : {everything['cpts_counted']} ({stages})",
        f"Couverture tous stades : {everything['coverage_rate']:.1%} de la population, "
        f"{everything['communes_coverage_rate']:.1%} des communes",
        f"Couverture ACI signé seulement : {signed['coverage_rate']:.1%}",
        f"Communes en recouvrement : {len(everything['overlaps'])} ; paires : "
        f"{len(everything['overlap_pairs'])} ("
        + ", ".join(f"{s} {sum(p['severity'] == s for p in everything['overlap_pairs'])}"
                    for s in ("information", "warning", "conflict")) + ")",
        f"Zones blanches : {len(zones)} dont {sum(z['enclave'] for z in zones)} enclaves ; "
        f"taille (communes) min {sizes[0] if sizes else 0}, médiane "
        f"{sizes[len(sizes) // 2] if sizes else 0}, max {sizes[-1] if sizes else 0}",
    ]
    return "\n".join(lines)


def generate(database_url: str, *, seed: int = DEFAULT_SEED, departements: Sequence[str] = ()
             ) -> dict[str, int] | None:
    """Plan and write the scenario into the database; None when one is already there."""
    with connect(database_url) as conn:
        if already_written(conn):
            return None
        graph = read_graph(conn)
        scenario = plan(graph, read_names(conn), seed=seed, departements=departements)
        return write(conn, graph, scenario)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenario",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--departements", default="",
                        help="codes séparés par des virgules (défaut : tout ce qui est chargé)")
    args = parser.parse_args(argv)
    departements = [c for c in args.departements.split(",") if c]
    made = generate(args.database_url, seed=args.seed, departements=departements)
    if made is None:
        print("Un scénario généré est déjà enregistré dans cette base : rien n'est écrit.",
              file=sys.stderr)
    else:
        print(f"Écrit : {made['cpts']} CPTS ({made['versions']} versions), "
              f"{made['scenarios']} scénarios d'ARS, {made['archived']} CPTS archivée(s).")
    with connect(args.database_url) as conn:
        print(describe(conn, read_graph(conn)))
    return 0 if made is not None else 1


if __name__ == "__main__":
    sys.exit(main())
