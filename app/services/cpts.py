"""CPTS use cases: read, simulate, create, change the perimeter, move through the stages.

Each use case checks access with `app.auth.policy`, analyses the perimeter with
`app.domain.perimeter`, writes through `app.repo.cpts` and records the audit entry, all in the
caller's transaction. Routers, the command line and the bulk import call these functions.
The routers' writes (`create_view`, `update_view`, `accept_stage_view`, `archive_view`) answer
the CPTS as `read` would give it just after, built from what the write computed and wrote
(`fresh_outlook`): the CPTS is not read again.
"""

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from app.auth import audit
from app.auth.audit import Actor
from app.auth.policy import Role, User
from app.db import Conn
from app.domain.cpts_access import (
    STATUS_LABELS,
    STATUSES,
    CptsRef,
    HiddenClaims,
    Status,
    Visibility,
    can_archive_cpts,
    can_change_status,
    can_comment_cpts,
    can_create_cpts,
    can_edit_cpts,
    can_move_cpts,
    can_request_stage,
    can_submit_cpts,
    cpts_read_scope,
    cpts_visibility,
    next_stage,
    sees_everything,
    siege_in_perimeter,
    split_claims,
)
from app.domain.etag import parse_if_match as parse_if_match  # the routers read it here
from app.domain.names import check_characters, clean_name
from app.domain.perimeter import (
    Analysis,
    Claim,
    ReferenceGraph,
    analyse,
    normalise_members,
    overlapping,
)
from app.domain.size_rules import SizeRule, rule_for
from app.errors import ProblemError
from app.repo import cog_migration as cog_alerts
from app.repo import cpts as repo
from app.repo.reference import read_graph


@dataclass(frozen=True)
class Context:
    """What every use case needs: the transaction, the reference data and who acts."""

    conn: Conn
    graph: ReferenceGraph
    rules: list[SizeRule]
    user: User | None
    actor: Actor
    publish_signed: bool = False

    def rule(self, day: date | None = None) -> SizeRule:
        return rule_for(self.rules, day or date.today())


# The command line (imports, scenario generator, administration) acts with every right. This user
# exists in no table: the audit log records the actor `Actor.command_line()`, whose id is NULL.
COMMAND_LINE_USER = User(id=0, email="ligne de commande", role=Role.ADMIN)


def command_line_context(conn: Conn, *, graph: ReferenceGraph | None = None,
                         user: User = COMMAND_LINE_USER, actor: Actor | None = None,
                         publish_signed: bool = False) -> Context:
    """A context for work done outside HTTP: scripts, command line, tests, benchmarks."""
    return Context(conn=conn, graph=graph or read_graph(conn), rules=repo.size_rules(conn),
                   user=user, actor=actor or Actor.command_line(), publish_signed=publish_signed)


def _people(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def analysis_dict(result: Analysis, rules: list[SizeRule]) -> dict[str, Any]:
    rule = next(r for r in rules if r.id == result.size_rule)
    ceiling = rule.ceilings_eur[result.size_class - 1]
    return {
        "communes": list(result.communes),
        "population": result.population,
        "population_year": result.population_year,
        "units": result.units,
        "area_km2": result.area_km2,
        "size_class": result.size_class,
        "size_rule": result.size_rule,
        "size_rule_bound": "borne inférieure incluse" if rule.lower_bound_inclusive
        else "borne inférieure exclue",
        "funding_ceiling_eur": ceiling,
        "headroom": {
            "next_class": result.headroom.next_class,
            "population_to_next": result.headroom.population_to_next,
            "previous_class": result.headroom.previous_class,
            "population_to_previous": result.headroom.population_to_previous,
        },
        "parts": [list(part) for part in result.parts],
        "enclaves": [list(enclave) for enclave in result.enclaves],
        "departements": list(result.departements),
        "regions": list(result.regions),
        "overlaps": [
            {"cpts_id": o.cpts_id, "name": o.name, "status": o.status, "severity": o.severity,
             "communes": list(o.communes), "population": o.population}
            for o in result.overlaps
        ],
        "warnings": [w.as_dict() for w in result.warnings],
        "without_polygon": list(result.without_polygon),
    }


@dataclass(frozen=True)
class Standing:
    """What the access rules need to know of a CPTS, its current units, and the live CPTS
    (itself included, scenarios too) that hold each of them."""

    ref: CptsRef
    members: list[str]
    claims: list[Claim]


def standings(conn: Conn, graph: ReferenceGraph, rows: Sequence[dict[str, Any]]
              ) -> dict[int, Standing]:
    """The standing of each CPTS in two queries whatever their number: its units, then every
    claim on them (a look-up by unit; a self-join of `cpts_member` would have its plan depend
    on statistics that a bulk import in progress leaves stale)."""
    members = repo.members_many(conn, [int(row["id"]) for row in rows])
    claims = repo.claims(conn, sorted({code for units in members.values() for code in units}),
                         exclude=None, include_scenarios=True)
    overlaps = overlapping(members, claims)
    by_code: dict[str, list[Claim]] = {}
    for claim in claims:
        by_code.setdefault(claim.code, []).append(claim)
    found = {}
    for row in rows:
        cpts_id, units = int(row["id"]), members[int(row["id"])]
        ref = CptsRef(
            id=cpts_id, status=Status(row["status"]), region=row["region"],
            regions=frozenset(graph.units[c].region for c in units if c in graph.units),
            submitted=row["submitted_at"] is not None, overlaps=frozenset(overlaps[cpts_id]),
            is_scenario=bool(row["is_scenario"]))
        found[cpts_id] = Standing(ref, units, [c for u in units for c in by_code.get(u, ())])
    return found


def not_found(cpts_id: int) -> ProblemError:
    return ProblemError(404, "cpts_not_found", f"Aucune CPTS accessible ne porte le numéro "
                                               f"{cpts_id}.")


@dataclass(frozen=True)
class Current:
    """A CPTS as it stands, with what the access rules know of it and what the user sees."""

    row: dict[str, Any]
    standing: Standing
    visibility: Visibility

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def ref(self) -> CptsRef:
        return self.standing.ref

    @property
    def members(self) -> list[str]:
        """Its current units, in code order."""
        return self.standing.members


def current_many(ctx: Context, ids: Sequence[int], *, for_update: bool = False
                 ) -> dict[int, Current]:
    """The CPTS of `ids` that exist, locked with `for_update`, whatever the user may see."""
    rows = repo.get_many(ctx.conn, ids, for_update=for_update)
    standing = standings(ctx.conn, ctx.graph, list(rows.values()))
    return {cpts_id: Current(row, standing[cpts_id], cpts_visibility(
                ctx.user, standing[cpts_id].ref, publish_signed=ctx.publish_signed))
            for cpts_id, row in rows.items()}


def visibility_of(ctx: Context, ids: Iterable[int],
                  known: Mapping[int, Sequence[str]] | None = None) -> dict[int, Visibility]:
    """What the user may see of each of these CPTS (scenarios included), in two queries
    whatever their number: their rows, and the units of them and of the user's own CPTS
    (a carrier sees the outline of a submitted draft only where it overlaps one of its own);
    the units of `known` (a CPTS being read or just written) are not read again."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if sees_everything(ctx.user):
        return dict.fromkeys(wanted, Visibility.FULL)
    rows = repo.get_many(ctx.conn, wanted)
    own = ctx.user.cpts_ids if ctx.user is not None else frozenset()
    known = known or {}
    members = {cpts_id: list(units) for cpts_id, units in known.items()}
    missing = sorted((set(rows) | own) - set(known))
    if missing:
        members |= repo.members_many(ctx.conn, missing)
    own_units = {cpts_id: set(members.get(cpts_id, ())) for cpts_id in own}
    units = ctx.graph.units
    found = {}
    for cpts_id, row in rows.items():
        held = members[cpts_id]
        ref = CptsRef(
            id=cpts_id, status=Status(row["status"]), region=row["region"],
            regions=frozenset(units[c].region for c in held if c in units),
            submitted=row["submitted_at"] is not None, is_scenario=bool(row["is_scenario"]),
            overlaps=frozenset(other for other, theirs in own_units.items()
                               if other != cpts_id and not theirs.isdisjoint(held)))
        found[cpts_id] = cpts_visibility(ctx.user, ref, publish_signed=ctx.publish_signed)
    return found


def claims_seen(ctx: Context, claims: Iterable[Claim],
                known: Mapping[int, Sequence[str]] | None = None
                ) -> tuple[list[Claim], HiddenClaims]:
    """Claims on units as the user may know them: those of CPTS it may see, and a count of
    the others (`app.domain.cpts_access.split_claims`)."""
    claims = list(claims)
    return split_claims(claims, visibility_of(ctx, {c.cpts_id for c in claims}, known))


def with_hidden_notice(view: dict[str, Any], hidden: HiddenClaims) -> dict[str, Any]:
    """The analysis view with the count of overlaps the user may not see named."""
    notice = hidden.notice()
    view["hidden_overlaps"] = {"cpts": hidden.cpts, "communes": hidden.units}
    if notice is not None:
        view["warnings"].append({"code": notice["code"], "detail": notice["detail"],
                                 "communes": []})
    return view


def load_readable(ctx: Context, cpts_id: int, *, for_update: bool = False) -> Current:
    """The CPTS if the user may see it (even as an outline); otherwise 404."""
    current = current_many(ctx, [cpts_id], for_update=for_update).get(cpts_id)
    if current is None or current.visibility is Visibility.NONE:
        raise not_found(cpts_id)
    return current


def listing(ctx: Context, *, region: str | None = None, departement: str | None = None,
            statuses: Sequence[str] | None = None, include_archived: bool = False
            ) -> list[dict[str, Any]]:
    """The CPTS the user may read (`cpts_read_scope`), current version, filtered."""
    for status in statuses or ():
        _check_status(status)
    return repo.listing(ctx.conn, cpts_read_scope(ctx.user, publish_signed=ctx.publish_signed),
                        region=region, departement=departement,
                        statuses=list(statuses) if statuses else None,
                        include_archived=include_archived)


def covering(ctx: Context, code: str) -> dict[str, Any]:
    """The CPTS whose perimeter holds a unit (for Paris, Lyon and Marseille: one of its
    arrondissements), as the user may know them, and a count of the others."""
    units = ctx.graph.arrondissements.get(code) or (code,)
    named, hidden = claims_seen(ctx, repo.claims(ctx.conn, units, exclude=None,
                                                 include_scenarios=True))
    found: dict[int, dict[str, Any]] = {}
    for claim in sorted(named, key=lambda c: (c.name, c.cpts_id, c.code)):
        entry = found.setdefault(claim.cpts_id, {
            "id": claim.cpts_id, "name": claim.name, "status": claim.status,
            "is_scenario": claim.is_scenario, "communes": []})
        entry["communes"].append(claim.code)
    where = "cette commune" if len(units) == 1 else "des arrondissements de cette commune"
    return {"cpts": list(found.values()), "hidden_cpts": hidden.notice(where)}


def _state(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]), "name": row["name"], "status": row["status"],
        "version": int(row["version"]), "region": row["region"],
        "siege_commune": row["siege_commune"], "is_scenario": row["is_scenario"],
        "archived": row["archived_at"] is not None,
        "submitted": row["submitted_at"] is not None,
        "pending_status": row["pending_status"],
        "validated_version": row["validated_version"],
        "stage_dates": row["stage_dates"],
    }


def read(ctx: Context, cpts_id: int) -> dict[str, Any]:
    """The CPTS with its live analysis (overlaps as the other perimeters stand now)."""
    current = load_readable(ctx, cpts_id)
    outlook = _outlook(ctx, current.row, current.members, current.visibility,
                       [c for c in current.standing.claims if c.cpts_id != cpts_id])
    return _render(ctx, outlook, cog_alerts.current_alerts(ctx.conn, cpts_id))


@dataclass(frozen=True)
class Outlook:
    """A CPTS as the user may see it: how much, and in full the analysis of its perimeter
    against the claims of the CPTS the user may know, with a count of the others."""

    row: dict[str, Any]
    codes: list[str]
    visibility: Visibility
    result: Analysis | None = None
    hidden: HiddenClaims = field(default_factory=HiddenClaims)


def _outlook(ctx: Context, row: dict[str, Any], codes: list[str], visibility: Visibility,
             others: list[Claim]) -> Outlook:
    if visibility is not Visibility.FULL:
        return Outlook(row, codes, visibility)
    known = [c for c in codes if c in ctx.graph.units]
    seen, hidden = claims_seen(ctx, [c for c in others if c.code in ctx.graph.units],
                               {int(row["id"]): codes})
    result = analyse(known, ctx.graph, ctx.rule(), seen, own_status=row["status"])
    return Outlook(row, codes, visibility, result, hidden)


def _render(ctx: Context, outlook: Outlook, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """The view `GET /api/cpts/{id}` answers: an outline, or the state and the analysis."""
    row, codes, result = outlook.row, outlook.codes, outlook.result
    if result is None:
        return {"id": int(row["id"]), "name": row["name"], "status": row["status"],
                "version": int(row["version"]), "visibility": "outline", "communes": codes}
    view = with_hidden_notice(
        _state(row) | {"visibility": "full"} | analysis_dict(result, ctx.rules), outlook.hidden)
    view["communes"] = codes
    stale = sorted(set(codes) - set(ctx.graph.units))
    if stale:
        view["warnings"].append({
            "code": "stale_commune",
            "detail": "Codes absents du COG chargé (à migrer) : " + ", ".join(stale) + ".",
            "communes": stale})
    view["warnings"].extend(alerts)
    return view


def fresh_outlook(ctx: Context, row: dict[str, Any], members: Sequence[str]) -> Outlook:
    """What the user will see of a CPTS that a write leaves as `row` with `members`, worked out
    in the write's transaction before it writes, without reading the CPTS again: one look-up
    finds the other live CPTS holding its units (what the access rules know of it, and the
    overlaps), then the visibility of those (`visibility_of`). A write whose result the user
    could not see is refused as `read` would (404). Rendered once written (`_render`, with no
    COG alert: the write makes a new version, and the COG migration raises alerts only on the
    versions it writes itself); `written_analysis` lets the write store its analysis."""
    cpts_id, codes = int(row["id"]), sorted(members)
    claims = repo.claims(ctx.conn, codes, exclude=cpts_id, include_scenarios=True)
    units = ctx.graph.units
    ref = CptsRef(
        id=cpts_id, status=Status(row["status"]), region=row["region"],
        regions=frozenset(units[c].region for c in codes if c in units),
        submitted=row["submitted_at"] is not None,
        overlaps=frozenset(c.cpts_id for c in claims), is_scenario=bool(row["is_scenario"]))
    visibility = cpts_visibility(ctx.user, ref, publish_signed=ctx.publish_signed)
    if visibility is Visibility.NONE:
        raise not_found(cpts_id)
    return _outlook(ctx, row, codes, visibility, claims)


def written_analysis(ctx: Context, outlook: Outlook, version: "NewVersion") -> Analysis | None:
    """The outlook's analysis when it is the one the version stores (the same units, all in
    the COG, and the same size rule: its overlaps are not stored)."""
    result = outlook.result
    if (result is None or set(result.communes) != set(version.members)
            or result.size_rule != ctx.rule(version.effective_date).id):
        return None
    return result


def _claims(ctx: Context, codes: list[str] | tuple[str, ...], exclude: int | None
            ) -> tuple[list[Claim], HiddenClaims]:
    return claims_seen(ctx, repo.claims(ctx.conn, codes, exclude=exclude,
                                        include_scenarios=True))


def simulate(ctx: Context, *, cpts_id: int | None, communes: list[str] | None,
             add: list[str], remove: list[str]) -> dict[str, Any]:
    """The totals, class and warnings a change would give; writes nothing."""
    status = "pre_projet"
    current: list[str] = []
    if cpts_id is not None:
        stored = load_readable(ctx, cpts_id)
        if stored.visibility is not Visibility.FULL:
            raise not_found(cpts_id)
        status, current = stored.row["status"], stored.members
    members = _next_members(ctx.graph, current, communes, add, remove)
    others, hidden = _claims(ctx, members, cpts_id)
    result = analyse(members, ctx.graph, ctx.rule(), others, own_status=status)
    before = sum(ctx.graph.units[c].population for c in current if c in ctx.graph.units)
    return with_hidden_notice(analysis_dict(result, ctx.rules), hidden) | {
        "added": sorted(set(members) - set(current)),
        "removed": sorted(set(current) - set(members)),
        "population_before": before,
    }


def _next_members(graph: ReferenceGraph, current: list[str], communes: list[str] | None,
                  add: list[str], remove: list[str]) -> tuple[str, ...]:
    if communes is not None:
        if add or remove:
            raise ProblemError(422, "perimeter_conflicting_fields",
                               "Donnez soit la liste complète `communes`, soit `add` et "
                               "`remove`, pas les deux.")
        return normalise_members(communes, graph)
    additions = normalise_members(add, graph) if add else ()
    removals = {code.strip().upper() for code in remove}
    unknown = sorted(removals - set(current))
    expanded_removals = set(removals)
    for code in list(removals):
        expanded_removals.update(graph.arrondissements.get(code, ()))
    unknown = sorted(c for c in unknown if not set(graph.arrondissements.get(c, ())) & set(
        current))
    if unknown:
        raise ProblemError(
            422, "not_a_member", "Ces communes ne font pas partie du périmètre : "
            + ", ".join(unknown) + ".",
            errors=[{"code": "not_a_member", "commune": c} for c in unknown])
    members = (set(current) | set(additions)) - expanded_removals
    return normalise_members(sorted(members), graph)


def _check_status(status: str) -> Status:
    if status not in STATUSES:
        raise ProblemError(422, "unknown_status", f"Stade inconnu : {status}. Stades : "
                           + ", ".join(STATUSES) + ".")
    return Status(status)


# From this many versions written at once, outlines are dissolved beside the analyses.
PARALLEL_OUTLINES_FROM = 20


@dataclass(frozen=True)
class NewVersion:
    """A version to write: the CPTS as it will stand, and its units before."""

    cpts_id: int
    version: int
    name: str
    status: str
    archived: bool
    members: tuple[str, ...]
    previous: list[str]
    reason: str | None
    effective_date: date | None


def _write_versions(ctx: Context, new: Sequence[NewVersion],
                    analysed: Sequence[Analysis | None] = ()) -> list[Analysis]:
    """Analyse, dissolve and store new versions, and bring the members in line with them,
    in a few statements whatever their number. `analysed`: analyses already made of some of
    them (`written_analysis`), not made again."""
    if not new:
        return []
    given = list(analysed) or [None] * len(new)

    def analyses() -> list[Analysis]:
        return [found or analyse(v.members, ctx.graph, ctx.rule(v.effective_date))
                for v, found in zip(new, given, strict=True)]

    if len(new) < PARALLEL_OUTLINES_FROM:
        results = analyses()
        outlines = repo.dissolved_outlines(ctx.conn, [v.members for v in new])
    else:
        # Many versions (imports, COG migrations): the outlines' polygons are fetched and
        # dissolved (database waits and GEOS, both without the GIL) while this thread analyses
        # the perimeters; nothing else uses the connection meanwhile.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(repo.dissolved_outlines, ctx.conn, [v.members for v in new])
            results = analyses()
            outlines = pending.result()
    rows, diffs = [], []
    for v, result, (outline, light) in zip(new, results, outlines, strict=True):
        added = sorted(set(v.members) - set(v.previous))
        removed = sorted(set(v.previous) - set(v.members))
        rows.append(repo.VersionRow(
            cpts_id=v.cpts_id, version=v.version, author_id=ctx.actor.user_id,
            author_email=ctx.actor.email, reason=v.reason,
            effective_date=v.effective_date or date.today(), name=v.name, status=v.status,
            archived=v.archived, units=v.members, added=added, removed=removed,
            population=result.population, population_year=result.population_year,
            size_class=result.size_class, size_rule=result.size_rule, outline=outline,
            outline_g1=light))
        diffs.append(repo.MemberDiff(v.cpts_id, added, removed))
    repo.insert_versions(ctx.conn, rows)
    repo.apply_member_diffs(ctx.conn, diffs)
    return results


def _write_version(ctx: Context, new: NewVersion, analysed: Analysis | None = None
                   ) -> Analysis:
    return _write_versions(ctx, [new], [analysed])[0]


def _majority_region(graph: ReferenceGraph, members: tuple[str, ...]) -> str:
    totals: dict[str, int] = {}
    for code in members:
        unit = graph.units[code]
        totals[unit.region] = totals.get(unit.region, 0) + unit.population
    return max(totals, key=lambda region: (totals[region], region))


def _check_siege(graph: ReferenceGraph, siege: str | None, members: Sequence[str]
                 ) -> str | None:
    """The siège, which must be one of the perimeter's communes (the region in charge follows
    from it: naming a siège elsewhere would hand the CPTS to another agency)."""
    if siege is None:
        return None
    siege = siege.strip().upper()
    if siege not in graph.units:
        raise ProblemError(422, "unknown_commune",
                           f"Le siège {siege} n'est pas un code commune connu.")
    parents = {code: graph.units[code].parent for code in members if code in graph.units}
    if not siege_in_perimeter(siege, members, parents):
        unit = graph.units[siege]
        raise ProblemError(422, "siege_outside_perimeter",
                           f"Le siège {unit.nom} ({siege}) ne fait pas partie du périmètre : "
                           f"le siège doit être l'une de ses communes.")
    return siege


def _region_in_charge(graph: ReferenceGraph, siege: str | None, members: Sequence[str],
                      current: str | None = None) -> str:
    """The region of the siège; without one, the region the CPTS already has while its
    perimeter still touches it, else the region holding most of its people."""
    if siege is not None:
        return graph.units[siege].region
    if current is not None and any(graph.units[c].region == current
                                   for c in members if c in graph.units):
        return current
    return _majority_region(graph, tuple(c for c in members if c in graph.units))


@dataclass(frozen=True)
class NewCpts:
    """A CPTS checked for creation: clean name, known stage, valid perimeter, allowed."""

    name: str
    status: str
    region: str
    siege_commune: str | None
    is_scenario: bool
    members: tuple[str, ...]


def check_creation(ctx: Context, *, name: str, status: str, communes: list[str],
                   siege_commune: str | None = None, is_scenario: bool = False) -> NewCpts:
    """Everything that may refuse a new CPTS, before anything is written."""
    name = _clean_name(name)
    _check_status(status)
    members = normalise_members(communes, ctx.graph)
    siege_commune = _check_siege(ctx.graph, siege_commune, members)
    region = _region_in_charge(ctx.graph, siege_commune, members)
    if is_scenario:
        if not can_create_cpts(ctx.user, region, Status(status), is_scenario=True):
            raise ProblemError(403, "forbidden", "Seuls les agents de l'ARS de la région "
                                                 "tiennent des scénarios.")
    elif not can_create_cpts(ctx.user, region, Status(status)):
        raise ProblemError(403, "forbidden", _creation_refusal(ctx.user, status))
    return NewCpts(name, status, region, siege_commune, is_scenario, members)


def create_many(ctx: Context, new: Sequence[NewCpts], *, reason: str | None = None,
                effective_date: date | None = None) -> list[int]:
    """Checked CPTS, each with its first version, its creation event and its audit entry, in
    a few statements whatever their number (bulk imports); returns their ids in order."""
    if not new:
        return []
    ids = _insert_new(ctx, new, effective_date)
    _write_new(ctx, ids, new, reason=reason, effective_date=effective_date)
    return ids


def _insert_new(ctx: Context, new: Sequence[NewCpts], effective_date: date | None
                ) -> list[int]:
    return repo.insert_many(ctx.conn, [
        repo.NewCptsRow(name=c.name, status=c.status, region=c.region,
                        siege_commune=c.siege_commune, is_scenario=c.is_scenario,
                        created_by=ctx.actor.user_id,
                        stage_dates=_first_stage_dates(c, effective_date))
        for c in new])


def _first_versions(ids: Sequence[int], new: Sequence[NewCpts], reason: str | None,
                    effective_date: date | None) -> list[NewVersion]:
    return [NewVersion(cpts_id=cpts_id, version=1, name=c.name, status=c.status,
                       archived=False, members=c.members, previous=[], reason=reason,
                       effective_date=effective_date)
            for cpts_id, c in zip(ids, new, strict=True)]


def _write_new(ctx: Context, ids: Sequence[int], new: Sequence[NewCpts], *,
               reason: str | None, effective_date: date | None,
               analysed: Sequence[Analysis | None] = ()) -> None:
    """The first version, the creation event and the audit entry of CPTS just inserted."""
    results = _write_versions(ctx, _first_versions(ids, new, reason, effective_date), analysed)
    repo.add_events(ctx.conn, [
        repo.EventRow(cpts_id=cpts_id, kind="created", from_status=None, to_status=c.status,
                      version=1, actor_id=ctx.actor.user_id, actor_email=ctx.actor.email,
                      comment=reason)
        for cpts_id, c in zip(ids, new, strict=True)])
    if ctx.user is not None and ctx.user.role is Role.CARRIER:
        for cpts_id in ids:
            repo.add_member_user(ctx.conn, ctx.user.id, cpts_id)
    audit.record_many(ctx.conn, ctx.actor, [
        audit.Entry(action="cpts.create", entity="cpts", entity_id=cpts_id,
                    summary=f"CPTS « {c.name} » créée ({STATUS_LABELS[c.status]}) : "
                            f"{result.units} unités, {_people(result.population)} habitants, "
                            f"taille {result.size_class}.",
                    changes={"communes": audit.change(None, list(c.members))},
                    regions=sorted(set(result.regions) | {c.region}))
        for cpts_id, c, result in zip(ids, new, results, strict=True)])


def create(ctx: Context, *, name: str, status: str, communes: list[str],
           siege_commune: str | None = None, is_scenario: bool = False,
           reason: str | None = None, effective_date: date | None = None) -> int:
    """A new CPTS with its first version; returns its id."""
    _check_comments(reason)
    new = check_creation(ctx, name=name, status=status, communes=communes,
                         siege_commune=siege_commune, is_scenario=is_scenario)
    return create_many(ctx, [new], reason=reason, effective_date=effective_date)[0]


def create_view(ctx: Context, *, name: str, status: str, communes: list[str],
                siege_commune: str | None = None, is_scenario: bool = False,
                reason: str | None = None, effective_date: date | None = None
                ) -> dict[str, Any]:
    """`create`, answered with the new CPTS as its creator now sees it (as `read` gives it)."""
    _check_comments(reason)
    new = check_creation(ctx, name=name, status=status, communes=communes,
                         siege_commune=siege_commune, is_scenario=is_scenario)
    ids = _insert_new(ctx, [new], effective_date)
    # the row just inserted: the columns it leaves to their defaults are empty
    row = {"id": ids[0], "name": new.name, "status": new.status, "version": 1,
           "region": new.region, "siege_commune": new.siege_commune,
           "is_scenario": new.is_scenario, "archived_at": None, "submitted_at": None,
           "pending_status": None, "validated_version": None,
           "stage_dates": _first_stage_dates(new, effective_date)}
    creator = as_creator(ctx, ids[0])
    outlook = fresh_outlook(creator, row, new.members)
    version = _first_versions(ids, [new], reason, effective_date)[0]
    _write_new(ctx, ids, [new], reason=reason, effective_date=effective_date,
               analysed=[written_analysis(ctx, outlook, version)])
    return _render(creator, outlook, [])


def _first_stage_dates(new: NewCpts, effective_date: date | None) -> dict[str, str]:
    return {new.status: (effective_date or date.today()).isoformat()}


def _creation_refusal(user: User | None, status: str) -> str:
    if user is not None and user.role is Role.CARRIER:
        return ("Un porteur crée son projet au stade pré-projet ; l'ARS valide les stades "
                "suivants.")
    if user is not None and user.role is Role.ARS and status == Status.PRE_PROJET:
        return ("Une ARS n'ouvre pas de brouillon de CPTS : enregistrez la CPTS à partir de la "
                "lettre d'intention, ou tenez un scénario privé (is_scenario).")
    return "Vous ne pouvez pas créer de CPTS dans cette région."


def as_creator(ctx: Context, cpts_id: int) -> Context:
    """The context of a carrier who just created `cpts_id`: it is now one of its members."""
    if ctx.user is None or ctx.user.role is not Role.CARRIER:
        return ctx
    return replace(ctx, user=replace(ctx.user, cpts_ids=ctx.user.cpts_ids | {cpts_id}))


def _clean_name(name: str) -> str:
    return clean_name(name, "Le nom de la CPTS")


def _check_comments(*texts: str | None) -> None:
    """Comments and reasons keep their line breaks but no control or bidi character."""
    for text in texts:
        if text:
            check_characters(text, "Le commentaire", keep_line_breaks=True)


def _stale(row: dict[str, Any], expected: int) -> ProblemError:
    return ProblemError(
        412, "stale_version",
        f"Quelqu'un a enregistré la CPTS entre-temps : vous modifiez la version {expected}, "
        f"la version actuelle est la {row['version']}. Rechargez-la avant de recommencer.",
        errors=[{"expected_version": expected, "current_version": int(row["version"])}],
        headers={"ETag": f'"{row["version"]}"'})


@dataclass(frozen=True)
class Change:
    """A change asked for one CPTS: a field left to None (or empty) stays as it is."""

    cpts_id: int
    expected_version: int
    name: str | None = None
    status: str | None = None
    communes: list[str] | None = None
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    reason: str | None = None
    effective_date: date | None = None
    siege_commune: str | None = None


@dataclass(frozen=True)
class CheckedChange:
    """A change that may be written: the CPTS before it and its next version."""

    current: Current
    version: NewVersion
    stage_dates: dict[str, str]
    siege_commune: str | None
    region: str

    def state(self) -> dict[str, Any]:
        """The columns of the `cpts` row the change sets."""
        new, row = self.version, self.current.row
        fields: dict[str, Any] = {"version": new.version, "name": new.name,
                                  "status": new.status, "stage_dates": self.stage_dates,
                                  "siege_commune": self.siege_commune, "region": self.region}
        if new.status != row["status"]:
            fields |= {"pending_status": None, "validated_version": new.version}
        return fields

    def row_after(self) -> dict[str, Any]:
        """The `cpts` row as the change leaves it."""
        return self.current.row | self.state()


def check_change(ctx: Context, current: Current, change: Change) -> CheckedChange:
    """Everything that may refuse a change, before anything is written (`current` read with
    `for_update`)."""
    _check_comments(change.reason)
    row, ref, previous = current.row, current.ref, current.members
    if int(row["version"]) != change.expected_version:
        raise _stale(row, change.expected_version)
    allowed = current.visibility is Visibility.FULL and can_edit_cpts(ctx.user, ref)
    perimeter_change = change.communes is not None or bool(change.add) or bool(change.remove)
    if (perimeter_change or change.name is not None or change.siege_commune is not None
            ) and not allowed:
        raise ProblemError(403, "forbidden", _edit_refusal(ctx.user, ref))
    if row["archived_at"] is not None:
        raise ProblemError(409, "cpts_archived", "Cette CPTS est archivée : restaurez-la avant "
                                                 "de la modifier.")
    new_status = row["status"]
    stage_dates = dict(row["stage_dates"])
    if change.status is not None and change.status != row["status"]:
        target = _check_status(change.status)
        if not can_change_status(ctx.user, ref, target):
            raise ProblemError(403, "forbidden", "Seule l'ARS en charge valide un changement de "
                                                 "stade.")
        new_status = target.value
        stage_dates[new_status] = (change.effective_date or date.today()).isoformat()
    new_name = _clean_name(change.name) if change.name is not None else row["name"]
    members = (_next_members(ctx.graph, previous, change.communes, change.add, change.remove)
               if perimeter_change else tuple(previous))
    siege, region = _check_move(ctx, row, change.siege_commune, members, perimeter_change)
    if (new_name == row["name"] and new_status == row["status"]
            and set(members) == set(previous) and siege == row["siege_commune"]):
        raise ProblemError(422, "no_change", "Cette modification ne change rien à la CPTS.")
    version = NewVersion(
        cpts_id=current.id, version=int(row["version"]) + 1, name=new_name, status=new_status,
        archived=False, members=members, previous=previous, reason=change.reason,
        effective_date=change.effective_date)
    return CheckedChange(current, version, stage_dates, siege, region)


def _check_move(ctx: Context, row: dict[str, Any], new_siege: str | None,
                members: tuple[str, ...], perimeter_change: bool) -> tuple[str | None, str]:
    """The siège and region in charge after a change; an agency may only move a CPTS between
    its own regions, and the siège stays one of the perimeter's communes."""
    siege = row["siege_commune"]
    if new_siege is not None:
        siege = _check_siege(ctx.graph, new_siege, members)
    elif siege is not None and perimeter_change:
        parents = {code: ctx.graph.units[code].parent for code in members
                   if code in ctx.graph.units}
        if not siege_in_perimeter(siege, members, parents):
            raise ProblemError(
                422, "siege_outside_perimeter",
                f"Le siège ({siege}) ne ferait plus partie du périmètre : désignez un autre "
                f"siège (siege_commune) dans la même modification.")
    region = _region_in_charge(ctx.graph, siege, members, current=row["region"])
    if region != row["region"] and not can_move_cpts(ctx.user, row["region"], region):
        raise ProblemError(
            403, "region_not_in_charge",
            f"Cette modification confierait la CPTS à l'ARS de la région {region}, qui n'est "
            f"pas l'une des vôtres : seule une ARS en charge des deux régions peut le faire.")
    return siege, region


def apply_changes(ctx: Context, checked: Sequence[CheckedChange],
                  analysed: Sequence[Analysis | None] = ()) -> list[int]:
    """Write checked changes, each as a new version with its audit entry, in a few statements
    whatever their number; returns the new version numbers."""
    results = _write_versions(ctx, [c.version for c in checked], analysed)
    states: list[tuple[int, dict[str, Any]]] = []
    entries: list[audit.Entry] = []
    for c, result in zip(checked, results, strict=True):
        row, new = c.current.row, c.version
        states.append((c.current.id, c.state()))
        added = sorted(set(new.members) - set(new.previous))
        removed = sorted(set(new.previous) - set(new.members))
        before = sum(ctx.graph.units[u].population for u in new.previous
                     if u in ctx.graph.units)
        changes: dict[str, Any] = {}
        if added or removed:
            changes["communes"] = {"added": added, "removed": removed}
            changes["population"] = audit.change(before, result.population)
        if new.name != row["name"]:
            changes["name"] = audit.change(row["name"], new.name)
        if new.status != row["status"]:
            changes["status"] = audit.change(row["status"], new.status)
        if c.region != row["region"] or c.siege_commune != row["siege_commune"]:
            changes["siege"] = audit.change(
                {"commune": row["siege_commune"], "region": row["region"]},
                {"commune": c.siege_commune, "region": c.region})
        entries.append(audit.Entry(
            action="cpts.update", entity="cpts", entity_id=c.current.id,
            summary=f"CPTS « {new.name} » v{new.version} : +{len(added)} / −{len(removed)} "
                    f"unités, {_people(before)} → {_people(result.population)} habitants"
                    f" (taille {result.size_class}).",
            changes=changes, regions=sorted(set(result.regions) | {row["region"]})))
    repo.update_states(ctx.conn, states)
    audit.record_many(ctx.conn, ctx.actor, entries)
    return [c.version.version for c in checked]


def update(ctx: Context, cpts_id: int, *, expected_version: int, name: str | None = None,
           status: str | None = None, communes: list[str] | None = None,
           add: list[str] | None = None, remove: list[str] | None = None,
           reason: str | None = None, effective_date: date | None = None,
           siege_commune: str | None = None) -> int:
    """Change the name, the status, the siège or the perimeter; returns the new version
    number."""
    return _update(ctx, Change(
        cpts_id, expected_version, name=name, status=status, communes=communes,
        add=add or [], remove=remove or [], reason=reason, effective_date=effective_date,
        siege_commune=siege_commune)).version.version


def update_view(ctx: Context, change: Change) -> dict[str, Any]:
    """`update`, answered with the CPTS as it now stands (as `read` gives it)."""
    view = _apply_one(ctx, check_change(
        ctx, load_readable(ctx, change.cpts_id, for_update=True), change), view=True)
    assert view is not None
    return view


def _update(ctx: Context, change: Change) -> CheckedChange:
    checked = check_change(ctx, load_readable(ctx, change.cpts_id, for_update=True), change)
    _apply_one(ctx, checked, view=False)
    return checked


def _apply_one(ctx: Context, checked: CheckedChange, *, view: bool) -> dict[str, Any] | None:
    """Write one checked change; with `view`, answer the CPTS as it then stands, from the
    row, units and analysis of the write (`fresh_outlook`)."""
    if not view:
        apply_changes(ctx, [checked])
        return None
    outlook = fresh_outlook(ctx, checked.row_after(), checked.version.members)
    apply_changes(ctx, [checked], [written_analysis(ctx, outlook, checked.version)])
    return _render(ctx, outlook, [])


def _edit_refusal(user: User | None, ref: CptsRef) -> str:
    if user is not None and user.role is Role.CARRIER and ref.id in user.cpts_ids:
        return ("Votre CPTS a dépassé le stade du pré-projet : seule l'ARS en charge modifie "
                "désormais son périmètre.")
    return "Vous ne pouvez pas modifier cette CPTS."


def versions(ctx: Context, cpts_id: int) -> list[dict[str, Any]]:
    if load_readable(ctx, cpts_id).visibility is not Visibility.FULL:
        raise not_found(cpts_id)
    rows = repo.versions(ctx.conn, cpts_id)
    previous: dict[str, Any] | None = None
    out = []
    for row in rows:
        out.append(row | {
            "population_before": previous["population"] if previous else None,
            "size_class_before": previous["size_class"] if previous else None,
        })
        previous = row
    return out


def history(ctx: Context, cpts_id: int) -> list[dict[str, Any]]:
    if load_readable(ctx, cpts_id).visibility is not Visibility.FULL:
        raise not_found(cpts_id)
    return repo.events(ctx.conn, cpts_id)


def request_stage(ctx: Context, cpts_id: int, *, comment: str | None) -> None:
    """A carrier asks the agency to move its CPTS to the next stage (submits a draft)."""
    _check_comments(comment)
    current = load_readable(ctx, cpts_id, for_update=True)
    row, ref = current.row, current.ref
    target = next_stage(row["status"])
    if target is None:
        raise ProblemError(409, "last_stage", "La CPTS a déjà signé son contrat ACI.")
    if not can_request_stage(ctx.user, ref):
        raise ProblemError(403, "forbidden", "Seuls les porteurs de la CPTS demandent le passage "
                                             "au stade suivant.")
    if row["pending_status"] is not None:
        raise ProblemError(409, "stage_already_requested",
                           f"Un passage au stade « {STATUS_LABELS[row['pending_status']]} » est "
                           f"déjà demandé.")
    fields: dict[str, Any] = {"pending_status": target.value}
    if row["status"] == Status.PRE_PROJET and can_submit_cpts(ctx.user, ref):
        fields["submitted_at"] = _now(ctx)
    repo.update_state(ctx.conn, cpts_id, **fields)
    repo.add_event(ctx.conn, cpts_id=cpts_id, kind="stage_requested", from_status=row["status"],
                   to_status=target.value, version=int(row["version"]),
                   actor_id=ctx.actor.user_id, actor_email=ctx.actor.email, comment=comment)
    audit.record(ctx.conn, ctx.actor, action="cpts.stage_request", entity="cpts",
                 entity_id=cpts_id,
                 summary=f"Passage au stade « {STATUS_LABELS[target]} » demandé pour "
                         f"« {row['name']} ».",
                 changes={"pending_status": audit.change(None, target.value)},
                 regions=sorted(ref.all_regions))


def _now(ctx: Context) -> Any:
    found = ctx.conn.execute("SELECT now() AS now").fetchone()
    assert found is not None
    return found["now"]


def accept_stage(ctx: Context, cpts_id: int, *, expected_version: int,
                 comment: str | None) -> int:
    """The agency accepts the requested stage: the current perimeter is frozen as validated;
    returns the new version number."""
    return _accept_stage(ctx, cpts_id, expected_version, comment, view=False)[0]


def accept_stage_view(ctx: Context, cpts_id: int, *, expected_version: int,
                      comment: str | None) -> dict[str, Any]:
    """`accept_stage`, answered with the CPTS as it now stands (as `read` gives it)."""
    view = _accept_stage(ctx, cpts_id, expected_version, comment, view=True)[1]
    assert view is not None
    return view


def _accept_stage(ctx: Context, cpts_id: int, expected_version: int, comment: str | None,
                  *, view: bool) -> tuple[int, dict[str, Any] | None]:
    _check_comments(comment)
    current = load_readable(ctx, cpts_id, for_update=True)
    row, ref = current.row, current.ref
    if int(row["version"]) != expected_version:
        raise _stale(row, expected_version)
    if row["pending_status"] is None:
        raise ProblemError(409, "no_stage_request", "Aucun passage de stade n'est demandé.")
    target = Status(row["pending_status"])
    if not can_change_status(ctx.user, ref, target):
        raise ProblemError(403, "forbidden", "Seule l'ARS en charge valide un stade.")
    checked = check_change(ctx, current, Change(
        cpts_id, expected_version, status=target.value,
        reason=comment or f"Stade « {STATUS_LABELS[target]} » validé"))
    answer = _apply_one(ctx, checked, view=view)
    repo.add_event(ctx.conn, cpts_id=cpts_id, kind="stage_accepted", from_status=row["status"],
                   to_status=target.value, version=checked.version.version,
                   actor_id=ctx.actor.user_id, actor_email=ctx.actor.email, comment=comment)
    return checked.version.version, answer


def request_changes(ctx: Context, cpts_id: int, *, comment: str,
                    unit_comments: list[tuple[str, str]]) -> None:
    """The agency sends the request back with comments, some attached to units."""
    _check_comments(comment, *(body for _, body in unit_comments))
    current = load_readable(ctx, cpts_id, for_update=True)
    row, ref = current.row, current.ref
    if row["pending_status"] is None:
        raise ProblemError(409, "no_stage_request", "Aucun passage de stade n'est demandé.")
    if not (can_change_status(ctx.user, ref, Status(row["pending_status"]))
            and can_comment_cpts(ctx.user, ref)):
        raise ProblemError(403, "forbidden", "Seule l'ARS en charge demande des modifications.")
    unknown = [code for code, _ in unit_comments if code not in ctx.graph.units]
    if unknown:
        raise ProblemError(422, "unknown_commune", "Codes inconnus : " + ", ".join(unknown) + ".")
    repo.update_state(ctx.conn, cpts_id, pending_status=None)
    event = repo.add_event(ctx.conn, cpts_id=cpts_id, kind="changes_requested",
                           from_status=row["status"], to_status=row["pending_status"],
                           version=int(row["version"]), actor_id=ctx.actor.user_id,
                           actor_email=ctx.actor.email, comment=comment)
    for code, body in unit_comments:
        repo.add_comment(ctx.conn, cpts_id=cpts_id, event_id=event, code=code, body=body,
                         author_id=ctx.actor.user_id)
    audit.record(ctx.conn, ctx.actor, action="cpts.changes_requested", entity="cpts",
                 entity_id=cpts_id,
                 summary=f"Modifications demandées pour « {row['name']} » "
                         f"({len(unit_comments)} commentaire(s) sur des communes).",
                 regions=sorted(ref.all_regions))


def archive(ctx: Context, cpts_id: int, *, expected_version: int, reason: str | None,
            restore: bool = False) -> int:
    """Take a CPTS out of coverage (or bring it back); its history stays. Returns the new
    version number."""
    return _archive(ctx, cpts_id, expected_version, reason, restore, view=False)[0]


def archive_view(ctx: Context, cpts_id: int, *, expected_version: int, reason: str | None,
                 restore: bool = False) -> dict[str, Any]:
    """`archive`, answered with the CPTS as it now stands (as `read` gives it)."""
    view = _archive(ctx, cpts_id, expected_version, reason, restore, view=True)[1]
    assert view is not None
    return view


def _archive(ctx: Context, cpts_id: int, expected_version: int, reason: str | None,
             restore: bool, *, view: bool) -> tuple[int, dict[str, Any] | None]:
    _check_comments(reason)
    current = load_readable(ctx, cpts_id, for_update=True)
    row, ref, visibility = current.row, current.ref, current.visibility
    if int(row["version"]) != expected_version:
        raise _stale(row, expected_version)
    if not (visibility is Visibility.FULL and can_archive_cpts(ctx.user, ref)):
        raise ProblemError(403, "forbidden", "Vous ne pouvez pas archiver cette CPTS.")
    if (row["archived_at"] is not None) != restore:
        raise ProblemError(409, "archive_state", "La CPTS est déjà archivée." if not restore
                           else "La CPTS n'est pas archivée.")
    version = int(row["version"]) + 1
    members = tuple(current.members)
    new = NewVersion(
        cpts_id=cpts_id, version=version, name=row["name"], status=row["status"],
        archived=not restore, members=members, previous=list(members), reason=reason,
        effective_date=None)
    state = {"version": version, "archived_at": None if restore else _now(ctx)}
    outlook = fresh_outlook(ctx, row | state, members) if view else None
    _write_version(ctx, new, written_analysis(ctx, outlook, new) if outlook else None)
    repo.update_state(ctx.conn, cpts_id, **state)
    repo.add_event(ctx.conn, cpts_id=cpts_id, kind="restored" if restore else "archived",
                   from_status=row["status"], to_status=row["status"], version=version,
                   actor_id=ctx.actor.user_id, actor_email=ctx.actor.email, comment=reason)
    audit.record(ctx.conn, ctx.actor, action="cpts.restore" if restore else "cpts.archive",
                 entity="cpts", entity_id=cpts_id,
                 summary=f"CPTS « {row['name']} » {'restaurée' if restore else 'archivée'}.",
                 regions=sorted(ref.all_regions))
    return version, _render(ctx, outlook, []) if outlook else None
