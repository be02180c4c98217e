"""CPTS use cases: read, simulate, create, change the perimeter, move through the stages.

Each use case checks access with `app.auth.policy`, analyses the perimeter with
`app.domain.perimeter`, writes through `app.repo.cpts` and records the audit entry, all in the
caller's transaction. Routers, the command line and the bulk import call these functions.
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from app.auth import audit
from app.auth.audit import Actor
from app.auth.policy import (
    CptsRef,
    Role,
    ScenarioRef,
    Status,
    User,
    Visibility,
    can_change_status,
    can_comment_cpts,
    can_create_cpts,
    can_edit_cpts,
    can_edit_scenario,
    can_read_scenario,
    can_submit_cpts,
    cpts_visibility,
)
from app.db import Conn
from app.domain.perimeter import (
    STATUS_LABELS,
    STATUSES,
    Analysis,
    ReferenceGraph,
    analyse,
    normalise_members,
)
from app.domain.size_rules import SizeRule, rule_for
from app.errors import ProblemError
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

    @property
    def sees_scenarios(self) -> bool:
        return self.user is not None and self.user.role in (Role.ADMIN, Role.ARS)


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


def cpts_ref(conn: Conn, row: dict[str, Any]) -> CptsRef:
    return CptsRef(
        id=int(row["id"]),
        status=Status(row["status"]),
        region=row["region"],
        regions=frozenset(repo.member_regions(conn, row["id"])),
        submitted=row["submitted_at"] is not None,
        overlaps=frozenset(repo.overlapping_ids(conn, row["id"])),
    )


def _not_found(cpts_id: int) -> ProblemError:
    return ProblemError(404, "cpts_not_found", f"Aucune CPTS accessible ne porte le numéro "
                                               f"{cpts_id}.")


def _visibility(ctx: Context, row: dict[str, Any]) -> Visibility:
    if row["is_scenario"]:
        scenario = ScenarioRef(int(row["id"]), row["region"])
        return Visibility.FULL if can_read_scenario(ctx.user, scenario) else Visibility.NONE
    return cpts_visibility(ctx.user, cpts_ref(ctx.conn, row), publish_signed=ctx.publish_signed)


def load_readable(ctx: Context, cpts_id: int, *, for_update: bool = False
                  ) -> tuple[dict[str, Any], Visibility]:
    row = repo.get(ctx.conn, cpts_id, for_update=for_update)
    if row is None:
        raise _not_found(cpts_id)
    visibility = _visibility(ctx, row)
    if visibility is Visibility.NONE:
        raise _not_found(cpts_id)
    return row, visibility


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
    row, visibility = load_readable(ctx, cpts_id)
    codes = repo.members(ctx.conn, cpts_id)
    if visibility is Visibility.OUTLINE:
        return {"id": int(row["id"]), "name": row["name"], "status": row["status"],
                "version": int(row["version"]), "visibility": "outline", "communes": codes}
    known = [c for c in codes if c in ctx.graph.units]
    result = analyse(known, ctx.graph, ctx.rule(), _claims(ctx, known, cpts_id),
                     own_status=row["status"])
    view = _state(row) | {"visibility": "full"} | analysis_dict(result, ctx.rules)
    view["communes"] = codes
    stale = sorted(set(codes) - set(known))
    if stale:
        view["warnings"].append({
            "code": "stale_commune",
            "detail": "Codes absents du COG chargé (à migrer) : " + ", ".join(stale) + ".",
            "communes": stale})
    return view


def _claims(ctx: Context, codes: list[str] | tuple[str, ...], exclude: int | None
            ) -> list[Any]:
    return repo.claims(ctx.conn, codes, exclude=exclude, include_scenarios=ctx.sees_scenarios)


def simulate(ctx: Context, *, cpts_id: int | None, communes: list[str] | None,
             add: list[str], remove: list[str]) -> dict[str, Any]:
    """The totals, class and warnings a change would give; writes nothing."""
    status = "pre_projet"
    current: list[str] = []
    if cpts_id is not None:
        row, visibility = load_readable(ctx, cpts_id)
        if visibility is not Visibility.FULL:
            raise _not_found(cpts_id)
        status = row["status"]
        current = repo.members(ctx.conn, cpts_id)
    members = _next_members(ctx.graph, current, communes, add, remove)
    result = analyse(members, ctx.graph, ctx.rule(), _claims(ctx, members, cpts_id),
                     own_status=status)
    before = sum(ctx.graph.units[c].population for c in current if c in ctx.graph.units)
    return analysis_dict(result, ctx.rules) | {
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


def _outlines(conn: Conn, codes: list[str]) -> dict[str, bytes | None]:
    full, light = repo.dissolved_outlines(conn, codes)
    return {"outline": full, "outline_g1": light}


def _write_version(ctx: Context, *, cpts_id: int, version: int, name: str, status: str,
                   archived: bool, members: tuple[str, ...], previous: list[str],
                   reason: str | None, effective_date: date | None) -> Analysis:
    result = analyse(members, ctx.graph, ctx.rule(effective_date))
    added = sorted(set(members) - set(previous))
    removed = sorted(set(previous) - set(members))
    repo.insert_version(
        ctx.conn, cpts_id=cpts_id, version=version, author_id=ctx.actor.user_id,
        author_email=ctx.actor.email, reason=reason,
        effective_date=effective_date or date.today(), name=name, status=status,
        archived=archived, units=list(members), added=added, removed=removed,
        population=result.population, population_year=result.population_year,
        size_class=result.size_class, size_rule=result.size_rule,
        **_outlines(ctx.conn, list(members)),
    )
    repo.apply_member_diff(ctx.conn, cpts_id, added, removed)
    return result


def _majority_region(graph: ReferenceGraph, members: tuple[str, ...]) -> str:
    totals: dict[str, int] = {}
    for code in members:
        unit = graph.units[code]
        totals[unit.region] = totals.get(unit.region, 0) + unit.population
    return max(totals, key=lambda region: (totals[region], region))


def create(ctx: Context, *, name: str, status: str, communes: list[str],
           siege_commune: str | None = None, is_scenario: bool = False,
           reason: str | None = None, effective_date: date | None = None) -> int:
    """A new CPTS with its first version; returns its id."""
    name = _clean_name(name)
    _check_status(status)
    members = normalise_members(communes, ctx.graph)
    if siege_commune is not None:
        siege_commune = siege_commune.strip().upper()
        if siege_commune not in ctx.graph.units:
            raise ProblemError(422, "unknown_commune",
                               f"Le siège {siege_commune} n'est pas un code commune connu.")
        region = ctx.graph.units[siege_commune].region
    else:
        region = _majority_region(ctx.graph, members)
    if is_scenario:
        if not can_edit_scenario(ctx.user, ScenarioRef(0, region)):
            raise ProblemError(403, "forbidden", "Seuls les agents de l'ARS de la région "
                                                 "tiennent des scénarios.")
    elif not can_create_cpts(ctx.user, region, Status(status)):
        raise ProblemError(403, "forbidden", _creation_refusal(ctx.user, status))
    if ctx.user is not None and ctx.user.role is Role.CARRIER and status != Status.PRE_PROJET:
        raise ProblemError(403, "forbidden", "Un porteur crée son projet au stade pré-projet ; "
                                             "l'ARS valide les stades suivants.")
    today = (effective_date or date.today()).isoformat()
    cpts_id = repo.insert(ctx.conn, name=name, status=status, region=region,
                          siege_commune=siege_commune, is_scenario=is_scenario,
                          created_by=ctx.actor.user_id, stage_dates={status: today})
    result = _write_version(ctx, cpts_id=cpts_id, version=1, name=name, status=status,
                            archived=False, members=members, previous=[], reason=reason,
                            effective_date=effective_date)
    repo.add_event(ctx.conn, cpts_id=cpts_id, kind="created", from_status=None,
                   to_status=status, version=1, actor_id=ctx.actor.user_id,
                   actor_email=ctx.actor.email, comment=reason)
    if ctx.user is not None and ctx.user.role is Role.CARRIER:
        repo.add_member_user(ctx.conn, ctx.user.id, cpts_id)
    audit.record(ctx.conn, ctx.actor, action="cpts.create", entity="cpts", entity_id=cpts_id,
                 summary=f"CPTS « {name} » créée ({STATUS_LABELS[status]}) : "
                         f"{result.units} unités, {_people(result.population)} habitants, "
                         f"taille {result.size_class}.",
                 changes={"communes": audit.change(None, list(members))},
                 regions=sorted(set(result.regions) | {region}))
    return cpts_id


def _creation_refusal(user: User | None, status: str) -> str:
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
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ProblemError(422, "empty_name", "Le nom de la CPTS est vide.")
    if len(cleaned) > 200:
        raise ProblemError(422, "name_too_long", "Le nom de la CPTS dépasse 200 caractères.")
    return cleaned


def parse_if_match(header: str | None) -> int:
    if header is None:
        raise ProblemError(428, "if_match_required",
                           "Indiquez la version modifiée dans l'en-tête If-Match (reçue dans "
                           "l'ETag de la lecture).", title="Version requise")
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    try:
        return int(value.strip('"'))
    except ValueError:
        raise ProblemError(400, "invalid_if_match",
                           f"En-tête If-Match illisible : {header}.") from None


def _stale(row: dict[str, Any], expected: int) -> ProblemError:
    return ProblemError(
        412, "stale_version",
        f"Quelqu'un a enregistré la CPTS entre-temps : vous modifiez la version {expected}, "
        f"la version actuelle est la {row['version']}. Rechargez-la avant de recommencer.",
        errors=[{"expected_version": expected, "current_version": int(row["version"])}],
        headers={"ETag": f'"{row["version"]}"'})


def update(ctx: Context, cpts_id: int, *, expected_version: int, name: str | None = None,
           status: str | None = None, communes: list[str] | None = None,
           add: list[str] | None = None, remove: list[str] | None = None,
           reason: str | None = None, effective_date: date | None = None) -> int:
    """Change the name, the status or the perimeter; returns the new version number."""
    row, visibility = load_readable(ctx, cpts_id, for_update=True)
    if int(row["version"]) != expected_version:
        raise _stale(row, expected_version)
    ref = cpts_ref(ctx.conn, row)
    if row["is_scenario"]:
        allowed = can_edit_scenario(ctx.user, ScenarioRef(cpts_id, row["region"]))
    else:
        allowed = visibility is Visibility.FULL and can_edit_cpts(ctx.user, ref)
    perimeter_change = communes is not None or bool(add) or bool(remove)
    if (perimeter_change or name is not None) and not allowed:
        raise ProblemError(403, "forbidden", _edit_refusal(ctx.user, ref))
    if row["archived_at"] is not None:
        raise ProblemError(409, "cpts_archived", "Cette CPTS est archivée : restaurez-la avant "
                                                 "de la modifier.")
    new_status = row["status"]
    stage_dates = dict(row["stage_dates"])
    if status is not None and status != row["status"]:
        target = _check_status(status)
        if not can_change_status(ctx.user, ref, target):
            raise ProblemError(403, "forbidden", "Seule l'ARS en charge valide un changement de "
                                                 "stade.")
        new_status = target.value
        stage_dates[new_status] = (effective_date or date.today()).isoformat()
    new_name = _clean_name(name) if name is not None else row["name"]
    previous = repo.members(ctx.conn, cpts_id)
    members = (_next_members(ctx.graph, previous, communes, add or [], remove or [])
               if perimeter_change else tuple(previous))
    if new_name == row["name"] and new_status == row["status"] and set(members) == set(previous):
        raise ProblemError(422, "no_change", "Cette modification ne change rien à la CPTS.")
    version = int(row["version"]) + 1
    before = sum(ctx.graph.units[c].population for c in previous if c in ctx.graph.units)
    result = _write_version(ctx, cpts_id=cpts_id, version=version, name=new_name,
                            status=new_status, archived=False, members=members,
                            previous=previous, reason=reason, effective_date=effective_date)
    fields: dict[str, Any] = {"version": version, "name": new_name, "status": new_status,
                              "stage_dates": stage_dates}
    if new_status != row["status"]:
        fields |= {"pending_status": None, "validated_version": version}
    repo.update_state(ctx.conn, cpts_id, **fields)
    added = sorted(set(members) - set(previous))
    removed = sorted(set(previous) - set(members))
    changes: dict[str, Any] = {}
    if added or removed:
        changes["communes"] = {"added": added, "removed": removed}
        changes["population"] = audit.change(before, result.population)
    if new_name != row["name"]:
        changes["name"] = audit.change(row["name"], new_name)
    if new_status != row["status"]:
        changes["status"] = audit.change(row["status"], new_status)
    audit.record(ctx.conn, ctx.actor, action="cpts.update", entity="cpts", entity_id=cpts_id,
                 summary=f"CPTS « {new_name} » v{version} : +{len(added)} / −{len(removed)} "
                         f"unités, {_people(before)} → {_people(result.population)} habitants"
                         f" (taille {result.size_class}).",
                 changes=changes, regions=sorted(set(result.regions) | {row["region"]}))
    return version


def _edit_refusal(user: User | None, ref: CptsRef) -> str:
    if user is not None and user.role is Role.CARRIER and ref.id in user.cpts_ids:
        return ("Votre CPTS a dépassé le stade du pré-projet : seule l'ARS en charge modifie "
                "désormais son périmètre.")
    return "Vous ne pouvez pas modifier cette CPTS."


def versions(ctx: Context, cpts_id: int) -> list[dict[str, Any]]:
    _, visibility = load_readable(ctx, cpts_id)
    if visibility is not Visibility.FULL:
        raise _not_found(cpts_id)
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
    _, visibility = load_readable(ctx, cpts_id)
    if visibility is not Visibility.FULL:
        raise _not_found(cpts_id)
    return repo.events(ctx.conn, cpts_id)


def _next_stage(status: str) -> Status | None:
    index = STATUSES.index(status)
    return Status(STATUSES[index + 1]) if index + 1 < len(STATUSES) else None


def request_stage(ctx: Context, cpts_id: int, *, comment: str | None) -> None:
    """A carrier asks the agency to move its CPTS to the next stage (submits a draft)."""
    row, _ = load_readable(ctx, cpts_id, for_update=True)
    ref = cpts_ref(ctx.conn, row)
    target = _next_stage(row["status"])
    if target is None:
        raise ProblemError(409, "last_stage", "La CPTS a déjà signé son contrat ACI.")
    member = ctx.user is not None and (ctx.user.role is Role.ADMIN
                                       or ref.id in ctx.user.cpts_ids)
    if not member:
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
    """The agency accepts the requested stage: the current perimeter is frozen as validated."""
    row, _ = load_readable(ctx, cpts_id, for_update=True)
    if int(row["version"]) != expected_version:
        raise _stale(row, expected_version)
    if row["pending_status"] is None:
        raise ProblemError(409, "no_stage_request", "Aucun passage de stade n'est demandé.")
    ref = cpts_ref(ctx.conn, row)
    target = Status(row["pending_status"])
    if not can_change_status(ctx.user, ref, target):
        raise ProblemError(403, "forbidden", "Seule l'ARS en charge valide un stade.")
    version = update(ctx, cpts_id, expected_version=expected_version, status=target.value,
                     reason=comment or f"Stade « {STATUS_LABELS[target]} » validé")
    repo.add_event(ctx.conn, cpts_id=cpts_id, kind="stage_accepted", from_status=row["status"],
                   to_status=target.value, version=version, actor_id=ctx.actor.user_id,
                   actor_email=ctx.actor.email, comment=comment)
    return version


def request_changes(ctx: Context, cpts_id: int, *, comment: str,
                    unit_comments: list[tuple[str, str]]) -> None:
    """The agency sends the request back with comments, some attached to units."""
    row, _ = load_readable(ctx, cpts_id, for_update=True)
    ref = cpts_ref(ctx.conn, row)
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
    """Take a CPTS out of coverage (or bring it back); its history stays."""
    row, visibility = load_readable(ctx, cpts_id, for_update=True)
    if int(row["version"]) != expected_version:
        raise _stale(row, expected_version)
    ref = cpts_ref(ctx.conn, row)
    allowed = ctx.user is not None and (
        ctx.user.role is Role.ADMIN
        or (ctx.user.role is Role.ARS and row["region"] in ctx.user.regions)
        or (visibility is Visibility.FULL and can_edit_cpts(ctx.user, ref)))
    if not allowed:
        raise ProblemError(403, "forbidden", "Vous ne pouvez pas archiver cette CPTS.")
    if (row["archived_at"] is not None) != restore:
        raise ProblemError(409, "archive_state", "La CPTS est déjà archivée." if not restore
                           else "La CPTS n'est pas archivée.")
    version = int(row["version"]) + 1
    members = tuple(repo.members(ctx.conn, cpts_id))
    _write_version(ctx, cpts_id=cpts_id, version=version, name=row["name"],
                   status=row["status"], archived=not restore, members=members,
                   previous=list(members), reason=reason, effective_date=None)
    repo.update_state(ctx.conn, cpts_id, version=version,
                      archived_at=None if restore else _now(ctx))
    repo.add_event(ctx.conn, cpts_id=cpts_id, kind="restored" if restore else "archived",
                   from_status=row["status"], to_status=row["status"], version=version,
                   actor_id=ctx.actor.user_id, actor_email=ctx.actor.email, comment=reason)
    audit.record(ctx.conn, ctx.actor, action="cpts.restore" if restore else "cpts.archive",
                 entity="cpts", entity_id=cpts_id,
                 summary=f"CPTS « {row['name']} » {'restaurée' if restore else 'archivée'}.",
                 regions=sorted(ref.all_regions))
    return version
