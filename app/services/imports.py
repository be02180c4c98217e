"""Bulk import of CPTS perimeters (`POST /api/imports/cpts`, `cpts import FILE`), all or nothing.

Reads the file (`app.domain.imports`), measures GeoJSON polygons against the communes, matches
the rows against the reference data (`app.domain.import_matching`), then creates the CPTS that
do not exist and updates those that do through `app.services.cpts`, in the caller's
transaction. Any error and nothing is written: the `ProblemError` lists every error with its
line. A dry run does the same work inside a savepoint that it rolls back.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from app.auth import audit
from app.auth.policy import Role
from app.domain.cpts_access import STATUSES, Status, Visibility, split_claims
from app.domain.import_geojson import rows_from_shares
from app.domain.import_matching import ImportReference, Plan, PlannedCpts, build_reference
from app.domain.import_matching import plan_import as plan_rows
from app.domain.imports import Issue, ParsedFile, SourceRow, read_import
from app.domain.perimeter import Claim, ReferenceGraph, analyse, normalise_members
from app.domain.upload_limits import UploadLimits
from app.errors import ProblemError
from app.repo import cpts as cpts_repo
from app.repo import imports as repo
from app.services import cpts as cpts_service
from app.services.cpts import Change, CheckedChange, Context, Current, NewCpts


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    share: float = 0.5  # GeoJSON: least share of a commune's area inside a polygon
    sheet: str | None = None  # XLSX: the sheet to read when several have the columns
    # Stage of the CPTS the import creates; None: a draft for carriers, the letter of intent
    # for agencies (which do not open drafts) — see `creation_status`.
    status: str | None = None
    filename: str | None = None  # for the versions' reason and the audit log
    limits: UploadLimits | None = None  # what reading the file may cost (None: defaults)


@dataclass(frozen=True)
class Outcome:
    planned: PlannedCpts
    members: tuple[str, ...]
    cpts_id: int
    action: str  # created, updated, unchanged
    version: int
    status: str


class _ReferenceCache:
    """The matching data of the last graph seen (rebuilt when a new release is loaded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[ReferenceGraph, ImportReference] | None = None

    def get(self, ctx: Context) -> ImportReference:
        with self._lock:
            if self._entry is None or self._entry[0] is not ctx.graph:
                reference = build_reference(ctx.graph, repo.former_codes(ctx.conn),
                                            repo.departements(ctx.conn))
                self._entry = (ctx.graph, reference)
            return self._entry[1]


_references = _ReferenceCache()


def creation_status(ctx: Context, options: ImportOptions) -> str:
    """The stage given, or the first stage the importing user may create."""
    if options.status is not None:
        return options.status
    if ctx.user is not None and ctx.user.role is Role.ARS:
        return Status.LETTRE_INTENTION.value
    return Status.PRE_PROJET.value


def _check_options(options: ImportOptions) -> None:
    if not 0 < options.share <= 1:
        raise ProblemError(422, "invalid_share", "La part de surface doit être comprise entre 0 "
                                                 "(exclu) et 1.")
    if options.status is not None and options.status not in STATUSES:
        raise ProblemError(422, "unknown_status", f"Stade inconnu : {options.status}. Stades : "
                                                  + ", ".join(STATUSES) + ".")


def rejection(errors: Sequence[Issue], rows: int) -> ProblemError:
    """Every error, file-level ones first then by line; the first one gives the code."""
    ordered = sorted(errors, key=lambda e: (e.line is not None, e.line or 0))
    first = ordered[0]
    return ProblemError(
        422, first.code,
        f"Import refusé, rien n'a été enregistré : {len(ordered)} erreur(s) pour {rows} "
        f"ligne(s) lue(s). {first.detail}" + (" …" if len(ordered) > 1 else ""),
        title="Import refusé", errors=[e.as_dict() for e in ordered])


def source_rows(ctx: Context, parsed: ParsedFile, share: float
                ) -> tuple[list[SourceRow], list[Issue], list[Issue]]:
    """The rows of a table, or of the communes that lie at least `share` inside each polygon."""
    if not parsed.polygons:
        return list(parsed.rows), [], []
    shares = repo.area_shares(ctx.conn, [(p.line, shapely.to_wkb(p.geometry))
                                         for p in parsed.polygons])
    names = {code: ctx.graph.units[code].nom for found in shares.values()
             for code, _ in found if code in ctx.graph.units}
    return rows_from_shares(parsed.polygons, shares, names, threshold=share)


def existing_targets(ctx: Context, plan: Plan) -> tuple[dict[str, Current], list[Issue]]:
    """The CPTS of the file that already exist (same exact name, readable in full by the
    user), locked until the end of the import."""
    repo.lock_names(ctx.conn, [p.name for p in plan.perimeters])  # creation by name: no race
    named = repo.live_cpts_named(ctx.conn, [p.name for p in plan.perimeters])
    current = cpts_service.current_many(ctx, [int(row["id"]) for row in named],
                                        for_update=True)
    found: dict[str, list[Current]] = {}
    for state in current.values():
        if state.visibility is Visibility.FULL:
            found.setdefault(state.row["name"], []).append(state)
    targets: dict[str, Current] = {}
    errors: list[Issue] = []
    for planned in plan.perimeters:
        states = found.get(planned.name, [])
        if len(states) > 1:
            ids = ", ".join(f"n° {state.id}" for state in states)
            errors.append(Issue(planned.line, "ambiguous_cpts",
                                f"Ligne {planned.line} : plusieurs CPTS s'appellent « "
                                f"{planned.name} » ({ids}) : renommez-en une avant l'import."))
        elif states:
            targets[planned.name] = states[0]
    return targets, errors


def _reason(options: ImportOptions) -> str:
    return f"Import du fichier « {options.filename} »" if options.filename else "Import"


def _refused(planned: PlannedCpts, exc: ProblemError) -> Issue:
    return Issue(planned.line, exc.code, f"Ligne {planned.line}, « {planned.name} » : "
                                         f"{exc.detail}")


def write_plan(ctx: Context, plan: Plan, targets: dict[str, Current],
               options: ImportOptions) -> tuple[list[Outcome], list[Issue]]:
    """Create or update each CPTS. Every CPTS is checked first, and a refusal (access, stale
    version, perimeter) noted with its line; then, when none was refused, the new CPTS and the
    changed ones are written together, in a few statements whatever their number."""
    status = creation_status(ctx, options)
    reason = _reason(options)
    new: dict[int, tuple[PlannedCpts, NewCpts]] = {}
    changed: dict[int, tuple[PlannedCpts, CheckedChange]] = {}
    outcomes: dict[int, Outcome] = {}
    errors: list[Issue] = []
    for index, planned in enumerate(plan.perimeters):
        try:
            members = normalise_members(planned.codes, ctx.graph)
            target = targets.get(planned.name)
            if target is None:
                new[index] = (planned, cpts_service.check_creation(
                    ctx, name=planned.name, status=status, communes=list(members)))
                continue
            version = int(target.row["version"])
            if set(target.members) == set(members):
                outcomes[index] = Outcome(planned, members, target.id, "unchanged", version,
                                          target.row["status"])
                continue
            changed[index] = (planned, cpts_service.check_change(
                ctx, target, Change(target.id, version, communes=list(members),
                                    reason=reason)))
        except ProblemError as exc:
            errors.append(_refused(planned, exc))
    if errors:
        return [], errors
    ids = cpts_service.create_many(ctx, [checked for _, checked in new.values()],
                                   reason=reason)
    for (index, (planned, created)), cpts_id in zip(new.items(), ids, strict=True):
        outcomes[index] = Outcome(planned, created.members, cpts_id, "created", 1,
                                  created.status)
    versions = cpts_service.apply_changes(ctx, [checked for _, checked in changed.values()])
    for (index, (planned, checked)), version in zip(changed.items(), versions, strict=True):
        outcomes[index] = Outcome(planned, checked.version.members, checked.current.id,
                                  "updated", version, checked.current.row["status"])
    return [outcomes[index] for index in sorted(outcomes)], []


def other_claims(ctx: Context, plan: Plan, targets: dict[str, Current]
                 ) -> list[Claim]:
    """Live CPTS outside the file that hold the file's units, read before writing (the
    perimeters of the file itself are known without asking the database)."""
    codes = sorted({code for p in plan.perimeters for code in normalise_or_empty(p, ctx)})
    replaced = {target.id for target in targets.values()}
    return [claim for claim in cpts_repo.claims(ctx.conn, codes, exclude=None,
                                                include_scenarios=True)
            if claim.cpts_id not in replaced]


def normalise_or_empty(planned: PlannedCpts, ctx: Context) -> tuple[str, ...]:
    try:
        return normalise_members(planned.codes, ctx.graph)
    except ProblemError:
        return ()


def _claims_by_code(outside: list[Claim], outcomes: list[Outcome]) -> dict[str, list[Claim]]:
    by_code: dict[str, list[Claim]] = {}
    for claim in outside:
        by_code.setdefault(claim.code, []).append(claim)
    for outcome in outcomes:
        for code in outcome.members:
            by_code.setdefault(code, []).append(
                Claim(code, outcome.cpts_id, outcome.planned.name, outcome.status))
    return by_code


def report(ctx: Context, parsed: ParsedFile, plan: Plan, outcomes: list[Outcome],
           warnings: list[Issue], options: ImportOptions, outside: list[Claim]
           ) -> dict[str, Any]:
    """What the import did (or would do): per CPTS its population, class and overlaps as the
    perimeters stand after the import."""
    # Claims of CPTS outside the file are named only when the user may see them
    # (`app.domain.cpts_access`); the file's own perimeters are the user's to know.
    seen = cpts_service.visibility_of(ctx, {claim.cpts_id for claim in outside})
    own = {outcome.cpts_id for outcome in outcomes}
    by_code = _claims_by_code(outside, outcomes)
    rule = ctx.rule()
    unborn = ({o.cpts_id for o in outcomes if o.action == "created"} if options.dry_run
              else set())
    cpts = []
    for outcome in outcomes:
        claims, hidden = split_claims(
            [claim for code in outcome.members for claim in by_code.get(code, ())
             if claim.cpts_id != outcome.cpts_id],
            seen | dict.fromkeys(own, Visibility.FULL))
        result = analyse(outcome.members, ctx.graph, rule, claims, own_status=outcome.status)
        cpts.append({
            "line": outcome.planned.line, "name": outcome.planned.name,
            "id": None if outcome.cpts_id in unborn else outcome.cpts_id,
            "action": outcome.action, "version": outcome.version, "status": outcome.status,
            "communes": list(result.communes), "units": result.units,
            "population": result.population, "population_year": result.population_year,
            "size_class": result.size_class, "size_rule": result.size_rule,
            "overlaps": [{"cpts_id": None if o.cpts_id in unborn else o.cpts_id,
                          "name": o.name, "status": o.status, "severity": o.severity,
                          "communes": list(o.communes), "population": o.population}
                         for o in result.overlaps],
            "warnings": [w.as_dict() for w in result.warnings],
        })
        cpts_service.with_hidden_notice(cpts[-1], hidden)
    units = ctx.graph.units
    return {
        "dry_run": options.dry_run, "format": parsed.format, "encoding": parsed.encoding,
        "separator": parsed.separator, "sheet": parsed.sheet,
        "share": options.share if parsed.format == "geojson" else None,
        "rows": parsed.row_count,
        "created": sum(o.action == "created" for o in outcomes),
        "updated": sum(o.action == "updated" for o in outcomes),
        "unchanged": sum(o.action == "unchanged" for o in outcomes),
        "cpts": cpts,
        "uncovered": {"names": plan.pseudo_names, "communes": plan.uncovered,
                      "population": sum(units[c].population for c in plan.uncovered
                                        if c in units)},
        "warnings": [w.as_dict() for w in sorted(warnings, key=lambda w: (
            w.line is not None, w.line or 0))],
        "errors": [],
    }


def import_cpts(ctx: Context, data: bytes, options: ImportOptions) -> dict[str, Any]:
    """Import a file of CPTS perimeters; returns the report or raises with every error."""
    _check_options(options)
    parsed = read_import(data, sheet=options.sheet, limits=options.limits)
    reference = _references.get(ctx)
    rows, warnings, errors = source_rows(ctx, parsed, options.share)
    warnings = [*parsed.warnings, *warnings]
    errors = [*parsed.errors, *errors]
    plan = plan_rows(rows, reference)
    warnings += plan.warnings
    errors += plan.errors
    targets, ambiguous = existing_targets(ctx, plan)
    errors += ambiguous
    if errors:
        raise rejection(errors, parsed.row_count)
    outside = other_claims(ctx, plan, targets)
    with ctx.conn.transaction(force_rollback=options.dry_run):
        outcomes, refused = write_plan(ctx, plan, targets, options)
        if refused:
            raise rejection(refused, parsed.row_count)
        result = report(ctx, parsed, plan, outcomes, warnings, options, outside)
        if not options.dry_run and result["created"] + result["updated"]:
            _audit(ctx, result, outcomes, options)
    return result


def _audit(ctx: Context, result: dict[str, Any], outcomes: list[Outcome],
           options: ImportOptions) -> None:
    regions = sorted({ctx.graph.units[c].region for o in outcomes for c in o.members})
    audit.record(ctx.conn, ctx.actor, action="cpts.import", entity="import", entity_id=None,
                 summary=f"Import « {options.filename or 'fichier'} » : {result['rows']} "
                         f"ligne(s), {result['created']} CPTS créée(s), {result['updated']} "
                         f"modifiée(s), {result['unchanged']} inchangée(s).",
                 changes={"cpts": audit.change(None, [o.cpts_id for o in outcomes])},
                 regions=regions)
