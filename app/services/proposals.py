"""Proposals use case: a plan covering every uncovered unit of a territory
(`app.domain.proposals`), computed without writing anything, and its saving as agency
scenarios.

Which CPTS count as covering is the coverage's rule (`app.services.coverage`: the perimeters
in force today, never a scenario, a draft once submitted), at the stages the caller chose.
Who may receive units: a counted CPTS that borders them, whose siège lies in the same région,
and that the user may see in full (`app.services.cpts.visibility_of`): a CPTS the user may not
read is never proposed, never named; its units stay covered, nothing more.

Who may ask: administrators anywhere; agencies and task forces (observers) for territories
inside their régions (the route rule keeps carriers out).
"""

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from app.auth.policy import Role
from app.domain import cpts_colours
from app.domain.coverage import Scope, parse_scope, parse_statuses, scope_mask
from app.domain.cpts_access import STATUS_LABELS, Visibility, can_keep_scenarios
from app.domain.perimeter import ReferenceGraph, normalise_members
from app.domain.proposals import (
    STAGE_CHANGE_COST,
    Neighbour,
    Options,
    Plan,
    Shapes,
    Territory,
    Weights,
    check_options,
    make_plan,
)
from app.errors import ProblemError
from app.repo import coverage as coverage_repo
from app.repo import cpts as cpts_repo
from app.repo import proposals as repo
from app.services import cpts as cpts_service
from app.services import map_data
from app.services.coverage import covered_means, perimeters_on, unit_index
from app.services.cpts import Context

PREFERENCES = {
    "epci": ("Suivre les EPCI", "Chaque EPCI dont les communes planifiées vont dans plusieurs "
                                "CPTS (nouvelles ou existantes) coûte une unité par CPTS de "
                                "plus."),
    "bassin_de_vie": ("Suivre les bassins de vie", "Même règle pour les bassins de vie 2022."),
    "compactness": ("Formes compactes", "Pour chaque nouvelle CPTS, 1 moins son indice de "
                                        "Polsby-Popper (4πA/P², 1 pour un disque) ; pour un "
                                        "rattachement, ce qu'il fait perdre à la CPTS."),
    "balance": ("Populations équilibrées", "Coefficient de variation des populations des "
                                           "nouvelles CPTS."),
    "signed_changes": ("Peu de changements aux CPTS signées",
                       "Chaque CPTS qui reçoit des communes coûte selon son stade : ACI signé "
                       "1, projet de santé 0,6, lettre d'intention 0,4, pré-projet 0,2."),
}
RULES = (
    "Une zone est un groupe contigu (table de contiguïté des communes) de communes non "
    "couvertes du territoire, dans une seule région.",
    "Une zone qui atteint le seuil est découpée en nouvelles CPTS par la régionalisation max-p "
    "de PySAL (spopt) : chaque groupe est contigu, dans une seule région, atteint le seuil, et "
    "le nombre de groupes est le plus grand possible ; EPCI, bassins de vie et distances entre "
    "communes sont les attributs que chaque groupe doit avoir homogènes.",
    "Une zone plus petite est rattachée à des CPTS voisines de sa région que vous pouvez "
    "consulter, chaque morceau touchant sa CPTS, sans faire dépasser à aucune la taille "
    "maximale ; le partage entre voisines suit les coûts pondérés, une seule voisine est "
    "préférée à coût égal.",
    "Ce qui ne peut ni atteindre le seuil ni être rattaché forme un groupe signalé, avec la "
    "raison. Une commune sans contour suit la commune qui dessine son territoire.",
)
MAX_SCENARIOS = 300


@dataclass(frozen=True)
class ProposalQuery:
    scope: Scope | None
    units: tuple[str, ...] | None
    statuses: tuple[str, ...]
    options: Options


_shapes: dict[int, tuple["weakref.ref[ReferenceGraph]", Shapes]] = {}
_shapes_lock = threading.Lock()


def shapes_for(ctx: Context) -> Shapes:
    """Border lengths and points, read once per reference graph (per geodata release)."""
    graph = ctx.graph
    with _shapes_lock:
        found = _shapes.get(id(graph))
        if found is not None and found[0]() is graph:
            return found[1]
    shapes = repo.read_shapes(ctx.conn)
    with _shapes_lock:
        for key in [key for key, (ref, _) in _shapes.items() if ref() is None]:
            del _shapes[key]
        _shapes[id(graph)] = (weakref.ref(graph), shapes)
    return shapes


def parse_query(ctx: Context, *, scope: str | None, units: Sequence[str] | None,
                statuses: Sequence[str] | str | None, min_population: int | None,
                max_size_class: int | None, weights: Weights | None, seed: int | None,
                method: str | None) -> ProposalQuery:
    """A checked request: one of scope or units, known stages, sensible options."""
    if (scope is None) == (not units):
        raise ProblemError(422, "scope_or_units",
                           "Donnez soit un territoire (`scope` : region:<code>, "
                           "departement:<code>, epci:<siren>), soit une liste de communes "
                           "(`units`), pas les deux.")
    parsed_scope = parse_scope(scope) if scope is not None else None
    members = normalise_members(units, ctx.graph) if units else None
    text = statuses if isinstance(statuses, str) or statuses is None else ",".join(statuses)
    rule = ctx.rule()
    options = check_options(Options(
        min_population=min_population if min_population is not None else rule.thresholds[0],
        max_size_class=max_size_class if max_size_class is not None else len(
            rule.thresholds) + 1,
        weights=weights or Weights(), seed=seed if seed is not None else 2024,
        method=method or "maxp"), rule)
    return ProposalQuery(parsed_scope, members, parse_statuses(text), options)


def _scope_units(ctx: Context, query: ProposalQuery) -> list[str]:
    if query.units is not None:
        return list(query.units)
    assert query.scope is not None
    index = unit_index(ctx.graph)
    mask = scope_mask(index, query.scope)
    return [index.codes[i] for i in np.flatnonzero(mask).tolist()]


def _check_regions(ctx: Context, query: ProposalQuery, units: Sequence[str]) -> None:
    user = ctx.user
    if user is None or user.role is Role.ADMIN:
        return
    regions = {ctx.graph.units[c].region for c in units}
    outside = sorted(regions - user.regions)
    if outside or (query.scope is not None and query.scope.kind == "national"):
        raise ProblemError(403, "scope_outside_regions",
                           "Vous ne pouvez proposer un plan que pour un territoire de vos "
                           "régions" + (f" (hors de vos régions : {', '.join(outside)})."
                                        if outside else "."))


@dataclass
class Planned:
    """A plan with what the view needs: the territory and the CPTS rows named in it."""

    query: ProposalQuery
    plan: Plan
    territory: Territory
    scope_units: list[str]
    covered: set[str]
    names: dict[int, str] = field(default_factory=dict)
    sieges: dict[int, str | None] = field(default_factory=dict)


def territory_for(ctx: Context, query: ProposalQuery, day: date | None = None
                  ) -> tuple[Territory, list[str], set[str], dict[int, dict[str, Any]]]:
    """The units to plan, the CPTS that may receive them (as the user may know them)."""
    graph = ctx.graph
    units = _scope_units(ctx, query)
    _check_regions(ctx, query, units)
    index = unit_index(graph)
    rows, held = perimeters_on(ctx, index, day or date.today())
    counted = [p for p in held if p.status in query.statuses]
    holders: dict[str, list[int]] = {}
    for perimeter in counted:
        for code in perimeter.codes(index):
            holders.setdefault(code, []).append(perimeter.cpts_id)
    scope_set = set(units)
    uncovered = tuple(sorted(c for c in units if c not in holders))
    uncovered_set = set(uncovered)
    around = {cpts_id for code in uncovered for other in graph.neighbours.get(code, ())
              if other not in uncovered_set for cpts_id in holders.get(other, ())}
    host_holders = {cpts_id for code in uncovered
                    for cpts_id in holders.get(shapes_for(ctx).hosts.get(code, ""), ())}
    candidates = sorted(around | host_holders)
    seen = cpts_service.visibility_of(ctx, candidates) if candidates else {}
    allowed = {c for c in candidates if seen.get(c) is Visibility.FULL}
    by_id = {p.cpts_id: p for p in counted}
    row_of = {int(r["cpts_id"]): r for r in rows}
    neighbours = {c: Neighbour(cpts_id=c, status=by_id[c].status, region=row_of[c]["region"],
                               units=frozenset(by_id[c].codes(index)),
                               population=by_id[c].population) for c in allowed}
    territory = Territory(
        graph=graph, uncovered=uncovered,
        holders={code: tuple(sorted(c for c in ids if c in allowed))
                 for code, ids in holders.items() if any(c in allowed for c in ids)},
        neighbours=neighbours, shapes=shapes_for(ctx))
    covered = {c for c in units if c in holders and c in scope_set}
    return territory, units, covered, {c: row_of[c] for c in allowed}


def compute(ctx: Context, query: ProposalQuery) -> Planned:
    territory, units, covered, rows = territory_for(ctx, query)
    plan = make_plan(territory, query.options, ctx.rule())
    return Planned(query, plan, territory, units, covered,
                   names={c: r["name"] for c, r in rows.items()})


# --- The answer ----------------------------------------------------------------------------


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _areas(ctx: Context, destinations: list[tuple[str, ...]], kind: str
           ) -> list[list[dict[str, Any]]]:
    """For each destination, the EPCI (or bassins de vie) it touches: code, name, how many of
    its units, and whether the plan splits it between destinations."""
    graph = ctx.graph
    owners: dict[str, set[int]] = {}
    for number, units in enumerate(destinations):
        for code in units:
            value = getattr(graph.units[code], kind)
            if value:
                owners.setdefault(value, set()).add(number)
    names = repo.area_names(ctx.conn, kind, sorted(owners))
    found = []
    for units in destinations:
        counts: dict[str, int] = {}
        for code in units:
            value = getattr(graph.units[code], kind)
            if value:
                counts[value] = counts.get(value, 0) + 1
        found.append([{"code": code, "nom": names.get(code), "communes": count,
                       "split": len(owners[code]) > 1}
                      for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))])
    return found


def _tally(ctx: Context, units: Sequence[str], covered: set[str]) -> dict[str, Any]:
    graph = ctx.graph
    total = sum(graph.units[c].population for c in units)
    people = sum(graph.units[c].population for c in units if c in covered)
    return {"population_total": total, "population_covered": people,
            "coverage_rate": round(people / total, 4) if total else 0.0,
            "communes_total": len(units), "communes_covered": sum(1 for c in units
                                                                 if c in covered)}


def group_name(ctx: Context, siege: str) -> str:
    unit = ctx.graph.units[siege]
    return f"Proposition — {unit.nom} ({unit.departement})"


def apart_from_drawn(own: Sequence[int], touching: Mapping[int, set[int]],
                     drawn_near: Sequence[set[int]],
                     k: int = len(cpts_colours.PALETTE.cpts)) -> list[int]:
    """The colours `own` of the proposals (by position; `touching`: the proposals each one
    touches, which `own` already tells apart) renamed, separately in each group of proposals
    that touch, so that as few proposals as possible share the colour of a CPTS drawn next to
    them (`drawn_near`: for each proposal, the map colours of those CPTS). A renaming keeps
    neighbours apart; of the best ones, the one renaming the fewest colours is taken (`own`
    stays as it is when nothing clashes)."""
    renamed = list(own)
    left = set(range(len(own)))
    while left:
        component, queue = set(), [min(left)]
        while queue:
            number = queue.pop()
            if number in component:
                continue
            component.add(number)
            queue.extend(touching.get(number, ()))
        left -= component
        clashes = np.zeros((k, k))
        for number in component:
            for other in drawn_near[number]:
                clashes[own[number], other] += 1
        # fewest clashes first (each worth more than renaming every colour), then fewest renamed
        cost = clashes * (k + 1) + (1 - np.eye(k))
        _, names = linear_sum_assignment(cost)
        for number in component:
            renamed[number] = int(names[own[number]])
    return renamed


def plan_colours(ctx: Context, destinations: Sequence[Sequence[str]]) -> list[int]:
    """The colour index (in the map's palette) of each proposed perimeter, by its position:
    the map's rule (`app.domain.cpts_colours.assign`: neighbouring proposals differ), then
    apart from the CPTS the map draws around them, as far as renaming colours allows."""
    if not destinations:
        return []
    graph = ctx.graph
    units_of = dict(enumerate(destinations))
    own = cpts_colours.assign(units_of, graph.neighbours)
    drawn = map_data.colours(ctx)
    rings = [{other for code in units for other in (code, *graph.neighbours.get(code, ()))}
             for units in destinations]
    holders: dict[str, set[int]] = {}
    for claim in cpts_repo.claims(ctx.conn, set().union(*rings), exclude=None,
                                  include_scenarios=True):
        if claim.cpts_id in drawn:
            holders.setdefault(claim.code, set()).add(claim.cpts_id)
    near = [{drawn[cpts_id] for code in ring for cpts_id in holders.get(code, ())}
            for ring in rings]
    return apart_from_drawn([own[number] for number in range(len(destinations))],
                            cpts_colours.neighbours(units_of, graph.neighbours), near)


def view(ctx: Context, planned: Planned) -> dict[str, Any]:
    graph, plan, query = ctx.graph, planned.plan, planned.query
    rule = ctx.rule()
    options = plan.options
    destinations = [g.units for g in plan.groups] + [a.units for a in plan.attachments]
    epcis = _areas(ctx, destinations, "epci")
    bassins = _areas(ctx, destinations, "bassin_de_vie")
    colours = plan_colours(ctx, destinations)
    planned_units = {c for units in destinations for c in units}
    scope = query.scope
    groups = []
    for number, group in enumerate(plan.groups):
        siege = graph.units[group.siege]
        groups.append({
            "id": f"P{number + 1}", "name": group_name(ctx, group.siege),
            "colour": colours[number],
            "communes": list(group.units), "units": len(group.units),
            "population": group.population, "size_class": group.size_class,
            "region": group.region,
            "departements": sorted({graph.units[c].departement for c in group.units}),
            "siege_commune": group.siege, "siege_nom": siege.nom,
            "reaches_floor": group.reaches_floor, "compactness": group.compactness,
            "epci": epcis[number], "bassins_de_vie": bassins[number],
            "reasons": [{"code": r.code, "detail": r.detail} for r in group.reasons]})
    attachments = []
    for offset, attachment in enumerate(plan.attachments):
        number = len(plan.groups) + offset
        attachments.append({
            "cpts_id": attachment.cpts_id, "name": planned.names[attachment.cpts_id],
            "colour": colours[number],
            "status": attachment.status, "status_label": STATUS_LABELS[attachment.status],
            "communes": list(attachment.units), "units": len(attachment.units),
            "population": attachment.population,
            "population_before": attachment.population_before,
            "population_after": attachment.population_after,
            "size_class_before": attachment.size_class_before,
            "size_class_after": attachment.size_class_after,
            "compactness_before": attachment.compactness_before,
            "compactness_after": attachment.compactness_after,
            "exceeds_max_size_class": attachment.size_class_after > options.max_size_class,
            "epci": epcis[number], "bassins_de_vie": bassins[number]})
    costs = plan.costs
    weights = options.weights
    return {
        "scope": str(scope) if scope is not None else "units",
        "scope_name": None if scope is None else "France" if scope.code is None
        else coverage_repo.scope_name(ctx.conn, scope.kind, scope.code),
        "statuses": list(query.statuses),
        "covered_means": covered_means(query.statuses),
        "population_year": graph.population_year,
        "size_rule": rule.id,
        "method": options.method,
        "options": {"min_population": options.min_population,
                    "max_size_class": options.max_size_class, "seed": options.seed,
                    "weights": dict(weights.__dict__)},
        "rules": list(RULES),
        "preferences": [{"term": term, "weight": getattr(weights, term), "label": label,
                         "detail": detail} for term, (label, detail) in PREFERENCES.items()],
        "zones": plan.zones,
        "groups": groups,
        "attachments": attachments,
        "costs": {**costs.__dict__, "total": round(costs.total(weights), 4)},
        "summary": {
            "communes_planned": len(planned_units),
            "population_planned": sum(graph.units[c].population for c in planned_units),
            "groups": len(groups),
            "groups_reaching_floor": sum(1 for g in plan.groups if g.reaches_floor),
            "attachments": len(attachments),
            "signed_cpts_changed": sum(1 for a in plan.attachments if a.status == "aci_signe"),
            "stage_cost": dict(STAGE_CHANGE_COST)},
        "coverage_before": _tally(ctx, planned.scope_units, planned.covered),
        "coverage_after": _tally(ctx, planned.scope_units, planned.covered | planned_units),
        "writes_nothing": True,
    }


def geojson(ctx: Context, planned: Planned, answer: dict[str, Any]) -> dict[str, Any]:
    """The plan's perimeters for the map: one feature per proposed group and attachment, with
    the entry's properties (its `colour` index among them, as in the answer)."""
    entries = [("group", g) for g in answer["groups"]] + [
        ("attachment", a) for a in answer["attachments"]]
    shapes = repo.outlines(ctx.conn, [entry["communes"] for _, entry in entries])
    features = []
    for (kind, entry), geometry in zip(entries, shapes, strict=True):
        properties = {key: value for key, value in entry.items()
                      if key not in ("communes", "epci", "bassins_de_vie", "reasons")}
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": properties | {"kind": kind}})
    return {"type": "FeatureCollection", "features": features}


# --- Saving as scenarios ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioGroup:
    communes: list[str]
    siege_commune: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ScenarioAttachment:
    cpts_id: int
    communes: list[str]


def save_scenarios(ctx: Context, groups: Sequence[ScenarioGroup],
                   attachments: Sequence[ScenarioAttachment], reason: str | None
                   ) -> list[dict[str, Any]]:
    """Each proposed group, and each CPTS with its attachment, as an agency scenario (private,
    never counted), all or nothing. A scenario is created only in the agency's régions, its
    siège one of its communes (`app.services.cpts.check_creation`)."""
    if not can_keep_scenarios(ctx.user):
        raise ProblemError(403, "forbidden", "Seuls les agents de l'ARS et les administrateurs "
                                             "tiennent des scénarios.")
    if not groups and not attachments:
        raise ProblemError(422, "empty_plan", "Le plan ne contient aucun périmètre à "
                                              "enregistrer.")
    if len(groups) + len(attachments) > MAX_SCENARIOS:
        raise ProblemError(422, "plan_too_large",
                           f"Au plus {MAX_SCENARIOS} scénarios par enregistrement.")
    checked = []
    why = reason or "Plan proposé (zones blanches)"
    for group in groups:
        units = normalise_members(group.communes, ctx.graph)
        siege = group.siege_commune or max(
            units, key=lambda c: (ctx.graph.units[c].population, c))
        checked.append(cpts_service.check_creation(
            ctx, name=group.name or group_name(ctx, siege), status="pre_projet",
            communes=list(units), siege_commune=siege, is_scenario=True))
    if attachments:
        current = cpts_service.current_many(ctx, [a.cpts_id for a in attachments])
        for attachment in attachments:
            found = current.get(attachment.cpts_id)
            if found is None or found.visibility is not Visibility.FULL:
                raise cpts_service.not_found(attachment.cpts_id)
            if (found.ref.is_scenario or found.ref.private_draft
                    or found.row["archived_at"] is not None):
                raise ProblemError(422, "not_attachable",
                                   f"La CPTS n° {attachment.cpts_id} ne compte pas dans la "
                                   "couverture (scénario, brouillon non soumis ou archivée) : "
                                   "un plan n'y rattache rien.")
            added = normalise_members(attachment.communes, ctx.graph)
            members = sorted({c for c in found.members if c in ctx.graph.units} | set(added))
            siege = found.row["siege_commune"]
            if siege is None or siege not in members:
                siege = max(members, key=lambda c: (ctx.graph.units[c].population, c))
            checked.append(cpts_service.check_creation(
                ctx, name=f"Scénario — {found.row['name']} + {len(added)} commune(s)",
                status=found.row["status"], communes=members, siege_commune=siege,
                is_scenario=True))
    ids = cpts_service.create_many(ctx, checked, reason=why)
    return [{"id": cpts_id, "name": c.name, "communes": len(c.members),
             "population": sum(ctx.graph.units[u].population for u in c.members)}
            for cpts_id, c in zip(ids, checked, strict=True)]


def describe_plan(plan: Plan) -> str:
    """One French line summing a plan up (logs, benchmark)."""
    reached = sum(1 for g in plan.groups if g.reaches_floor)
    return (f"{len(plan.groups)} nouvelle(s) CPTS dont {reached} au seuil, "
            f"{len(plan.attachments)} rattachement(s), {plan.zones} zone(s), "
            f"{_fmt(sum(g.population for g in plan.groups))} habitants regroupés")
