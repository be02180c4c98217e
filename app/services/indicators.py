"""Indicator use cases: import a table (dry run, match report, all or nothing, a new version
each time), list the tables a user may read, aggregate them for a perimeter or a territory with
the département, région and France beside it, and give a map's values cut into classes.

Who may read a table is decided by `app.domain.indicator_access`; the values of the current
versions and the figures of every territory are kept in memory (`_Memory`) and read again only
when a new version is imported, so that an edit click costs a few milliseconds.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.auth import audit
from app.domain.coverage import parse_scope
from app.domain.cpts_access import Visibility, cpts_read_scope
from app.domain.indicator_access import (
    VISIBILITY_LABELS,
    can_read_indicator_table,
    can_upload_indicator_tables,
)
from app.domain.indicator_aggregates import (
    CATEGORY_PALETTE,
    Compiled,
    Geography,
    Scheme,
    class_bounds,
    class_of,
    headline,
    legend,
)
from app.domain.indicators import (
    Column,
    MatchReference,
    listed,
    match_rows,
    merge_matches,
    parse_definition,
    parse_rows,
    read_records,
)
from app.domain.perimeter import ReferenceGraph, normalise_members
from app.domain.upload_limits import UploadLimits, thousands
from app.errors import ProblemError
from app.repo import cpts as cpts_repo
from app.repo import imports as imports_repo
from app.repo import indicators as repo
from app.services import cpts as cpts_service
from app.services.cpts import Context

Level = Literal["departement", "region", "france"]
LEVEL_LABELS = {"departement": "département", "region": "région", "france": "France"}


@dataclass(frozen=True)
class TableOptions:
    dry_run: bool = False
    skip_unmatched: bool = False  # import the matched rows, list the others
    sheet: str | None = None
    filename: str | None = None
    limits: UploadLimits = field(default_factory=UploadLimits)


# --- Import ----------------------------------------------------------------------------------

def _refusal(issues: list[dict[str, Any]], what: str) -> ProblemError:
    return ProblemError(422, "indicator_import_refused",
                        f"Table refusée, rien n'est enregistré : {what}. Chaque ligne en cause "
                        "est listée.", errors=issues)


def import_table(ctx: Context, data: bytes, definition_text: str | bytes,
                 options: TableOptions) -> dict[str, Any]:
    """Read, check and match a table; write it as a new version unless it is a dry run. Any
    error, or an unmatched row when they are not skipped, and nothing is written."""
    if not can_upload_indicator_tables(ctx.user):
        raise ProblemError(403, "indicator_upload_forbidden", "Seuls les administrateurs et les "
                                                              "agents d'ARS importent des tables "
                                                              "d'indicateurs.")
    definition = parse_definition(definition_text)
    records = read_records(data, limits=options.limits, sheet=options.sheet)
    rows, errors = parse_rows(records, definition)
    reference = MatchReference.build(repo.reference_units(ctx.conn),
                                     imports_repo.former_codes(ctx.conn))
    matching = match_rows(rows, definition, reference)
    merged = merge_matches(matching.matches, definition, reference)
    errors += merged.errors
    unresolved = matching.unmatched + matching.ambiguous + merged.conflicts
    population = sum(ctx.graph.units[v.code].population for v in merged.values
                     if v.code in ctx.graph.units)
    summary = {
        "rows": len(records.rows), "matched_rows": len(matching.matches),
        "unmatched_rows": len(matching.unmatched), "ambiguous_rows": len(matching.ambiguous),
        "conflicts": len(merged.conflicts), "errors": len(errors),
        "communes": len(merged.values), "population": population,
        "population_year": ctx.graph.population_year,
    }
    report: dict[str, Any] = {
        "dry_run": options.dry_run, "table": definition.slug, "title": definition.title,
        "visibility": definition.visibility, "vintage": definition.vintage,
        "source": definition.source, "match_by": definition.match_by,
        "format": records.format, "encoding": records.encoding,
        "separator": records.separator, "sheet": records.sheet,
        "columns": [c.as_dict() for c in definition.columns],
        "summary": summary,
        "accepted": not errors and (options.skip_unmatched or not unresolved),
        "skip_unmatched": options.skip_unmatched, "version_id": None,
        "errors": listed(errors), "unmatched": listed(matching.unmatched),
        "ambiguous": listed(matching.ambiguous), "conflicts": listed(merged.conflicts),
        "notes": listed(matching.notes + merged.notes),
    }
    if options.dry_run:
        return report
    if errors:
        raise _refusal(listed(errors), f"{thousands(len(errors))} erreur(s)")
    if unresolved and not options.skip_unmatched:
        raise _refusal(listed(unresolved),
                       f"{thousands(len(unresolved))} ligne(s) sans commune certaine (non "
                       "trouvées, ambiguës ou contradictoires) ; corrigez-les ou importez avec "
                       "skip_unmatched=true pour ne garder que les lignes reconnues")
    if not merged.values:
        raise _refusal([], "aucune ligne n'a été rapprochée d'une commune")
    user_id = ctx.user.id if ctx.user is not None and ctx.user.id else None
    existing = repo.lock_table(ctx.conn, definition.slug)
    table_id = repo.save_table(ctx.conn, definition, user_id)
    version_id = repo.insert_version(
        ctx.conn, table_id, definition, filename=options.filename, rows=len(records.rows),
        matched=len(matching.matches), report={k: v for k, v in report.items()
                                               if k != "dry_run"},
        user_id=user_id, release=ctx.graph.release_id or None)
    repo.copy_values(ctx.conn, version_id, merged.values)
    report["version_id"] = version_id
    audit.record(ctx.conn, ctx.actor, action="indicators.import", entity="indicator_table",
                 entity_id=definition.slug,
                 summary=f"Table d'indicateurs « {definition.title} », millésime "
                         f"{definition.vintage} : {thousands(len(merged.values))} communes, "
                         f"{len(definition.columns)} colonne(s), "
                         f"{VISIBILITY_LABELS[definition.visibility]}.",
                 changes={"version": audit.change(None, version_id),
                          "visibility": audit.change(
                              existing["visibility"] if existing else None,
                              definition.visibility)})
    return report


# --- What is kept in memory ------------------------------------------------------------------

@dataclass
class Dataset:
    version_id: int
    table: str
    title: str
    visibility: str
    vintage: str
    source: str
    created_at: str
    columns: tuple[Column, ...]
    compiled: Compiled
    territories: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"table": self.table, "title": self.title, "visibility": self.visibility,
                "vintage": self.vintage, "source": self.source, "version_id": self.version_id}


@dataclass
class _State:
    key: tuple[int, int, int]
    versions: list[dict[str, Any]]
    datasets: dict[int, Dataset]
    geography: Geography
    groups: dict[tuple[str, str], tuple[str, ...]]


class _Memory:
    """The versions and the values read so far, for the current generation of tables and the
    current geodata release; checked with one small query per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}

    def state(self, ctx: Context) -> _State:
        info = ctx.conn.info
        where = f"{info.host}:{info.port}/{info.dbname}"
        key = (*repo.generation(ctx.conn), ctx.graph.release_id)
        with self._lock:
            state = self._states.get(where)
            if state is None or state.key != key:
                state = _State(key, repo.versions(ctx.conn), {}, _geography(ctx.graph),
                               _groups(ctx.graph))
                self._states[where] = state
            return state

    def dataset(self, ctx: Context, state: _State, version: dict[str, Any]) -> Dataset:
        version_id = int(version["id"])
        with self._lock:
            found = state.datasets.get(version_id)
        if found is not None:
            return found
        columns = repo.columns_of(ctx.conn, [version_id]).get(version_id, ())
        dataset = Dataset(version_id, version["slug"], version["title"], version["visibility"],
                          version["vintage"], version["source"], version["created_at"].isoformat(),
                          columns, Compiled(repo.values_of(ctx.conn, version_id), columns,
                                            state.geography,
                                            state.groups.get(("france", ""), ())))
        with self._lock:
            return state.datasets.setdefault(version_id, dataset)


_memory = _Memory()


def _geography(graph: ReferenceGraph) -> Geography:
    return Geography(population={c: u.population for c, u in graph.units.items()},
                     parents={c: u.parent for c, u in graph.units.items() if u.parent},
                     arrondissements=graph.arrondissements)


def _groups(graph: ReferenceGraph) -> dict[tuple[str, str], tuple[str, ...]]:
    """The units of every département, région, EPCI and bassin de vie, and of France."""
    found: dict[tuple[str, str], list[str]] = {}
    for code, unit in sorted(graph.units.items()):
        if not unit.is_unit:
            continue
        found.setdefault(("france", ""), []).append(code)
        found.setdefault(("departement", unit.departement), []).append(code)
        found.setdefault(("region", unit.region), []).append(code)
        if unit.epci:
            found.setdefault(("epci", unit.epci), []).append(code)
        if unit.bassin_de_vie:
            found.setdefault(("bassin_de_vie", unit.bassin_de_vie), []).append(code)
    return {key: tuple(codes) for key, codes in found.items()}


def _readable_versions(ctx: Context, state: _State, table: str | None, vintage: str | None
                       ) -> list[dict[str, Any]]:
    """For each table the user may read (or the one asked for), the version to use: the last
    import of the newest vintage, or of the vintage asked for."""
    chosen: dict[str, dict[str, Any]] = {}
    for version in state.versions:  # newest vintage first, then newest import
        if not can_read_indicator_table(ctx.user, version["visibility"]):
            continue
        if table is not None and version["slug"] != table:
            continue
        if vintage is not None and version["vintage"] != vintage:
            continue
        chosen.setdefault(version["slug"], version)
    if table is not None and not chosen:
        raise ProblemError(404, "indicator_table_not_found",
                           f"Aucune table d'indicateurs accessible ne s'appelle « {table} »"
                           + (f" au millésime {vintage}." if vintage else "."))
    return list(chosen.values())


# --- Listing ---------------------------------------------------------------------------------

def list_tables(ctx: Context) -> list[dict[str, Any]]:
    """The tables the user may read, each with every version (vintage) and its columns."""
    state = _memory.state(ctx)
    readable = [v for v in state.versions
                if can_read_indicator_table(ctx.user, v["visibility"])]
    columns = repo.columns_of(ctx.conn, [int(v["id"]) for v in readable])
    tables: dict[str, dict[str, Any]] = {}
    for version in readable:
        entry = tables.setdefault(version["slug"], {
            "table": version["slug"], "title": version["title"],
            "visibility": version["visibility"],
            "visibility_label": VISIBILITY_LABELS[version["visibility"]],
            "current_version": int(version["id"]), "versions": []})
        entry["versions"].append({
            "version_id": int(version["id"]), "vintage": version["vintage"],
            "source": version["source"], "match_by": version["match_by"],
            "filename": version["filename"], "rows": version["rows"],
            "matched_rows": version["matched"], "summary": version["summary"],
            "imported_at": version["created_at"].isoformat(),
            "imported_by": version["created_by_email"],
            "columns": [c.as_dict() for c in columns.get(int(version["id"]), ())]})
    return list(tables.values())


# --- Aggregates ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """What is aggregated: a set of units, named, and the areas it is compared with."""

    scope: str
    name: str | None
    units: tuple[str, ...]
    comparisons: tuple[tuple[Level, str], ...]


def _compare_with(graph: ReferenceGraph, units: Sequence[str], level: str) -> list[
        tuple[Level, str]]:
    population: dict[str, int] = {}
    for code in units:
        unit = graph.units[code]
        population[unit.departement] = population.get(unit.departement, 0) + unit.population
    if not population:
        return [("france", "")]
    departement = max(sorted(population), key=lambda d: population[d])
    region = next(graph.units[c].region for c in units
                  if graph.units[c].departement == departement)
    found: list[tuple[Level, str]] = []
    if level not in ("departement", "region", "national"):
        found.append(("departement", departement))
    if level not in ("region", "national"):
        found.append(("region", region))
    if level != "national":
        found.append(("france", ""))
    return found


def resolve_target(ctx: Context, state: _State, scope: str | None,
                   units: Sequence[str] | None) -> Target:
    graph = ctx.graph
    if units is not None:
        if scope is not None:
            raise ProblemError(422, "indicator_target_conflict", "Donnez soit `scope`, soit "
                                                                 "`units`, pas les deux.")
        members = normalise_members(units, graph)
        return Target("units", None, members,
                      tuple(_compare_with(graph, members, "units")))
    text = (scope or "national").strip()
    kind, _, code = text.partition(":")
    if kind.strip().lower() == "cpts":
        if not code.strip().isdigit() or len(code.strip()) > 12:
            raise ProblemError(422, "invalid_scope", f"Numéro de CPTS illisible : « {text} ».")
        current = cpts_service.load_readable(ctx, int(code))
        members = tuple(c for c in current.members if c in graph.units)
        return Target(f"cpts:{current.id}", current.row["name"], members,
                      tuple(_compare_with(graph, members, "cpts")))
    if kind.strip().lower() == "bassin_de_vie" and code.strip():
        parsed_kind, parsed_code = "bassin_de_vie", code.strip().upper()
    else:
        parsed = parse_scope(text)
        parsed_kind, parsed_code = parsed.kind, parsed.code or ""
    group = state.groups.get(("france" if parsed_kind == "national" else parsed_kind,
                              parsed_code))
    if not group:
        raise ProblemError(404, "scope_not_found", f"Aucune commune chargée dans « {text} ».")
    name = "France" if parsed_kind == "national" else _territory_name(ctx, parsed_kind,
                                                                      parsed_code)
    return Target(text if parsed_kind != "national" else "national", name, group,
                  tuple(_compare_with(graph, group, parsed_kind)))


def _territory_name(ctx: Context, kind: str, code: str) -> str | None:
    table = {"departement": "departement", "region": "region", "epci": "epci",
             "bassin_de_vie": "bassin_de_vie"}[kind]
    row = ctx.conn.execute(f"SELECT nom FROM {table} WHERE code = %s",  # noqa: S608
                           (code,)).fetchone()
    return None if row is None else str(row["nom"])


def _territory(state: _State, dataset: Dataset, level: Level, code: str
               ) -> list[dict[str, Any]]:
    key = (level, code)
    found = dataset.territories.get(key)
    if found is None:
        units = state.groups.get(("france", "") if level == "france" else key, ())
        found = dataset.compiled.aggregate(dataset.compiled.indices(units))
        dataset.territories[key] = found
    return found


def indicators(ctx: Context, *, scope: str | None, units: Sequence[str] | None,
               table: str | None = None, vintage: str | None = None) -> dict[str, Any]:
    """Every readable table aggregated over the target, with its comparison areas."""
    state = _memory.state(ctx)
    target = resolve_target(ctx, state, scope, units)
    names = {("departement", code): name for code, name in _names(ctx, "departement",
                                                                   target.comparisons)}
    names |= {("region", code): name for code, name in _names(ctx, "region",
                                                              target.comparisons)}
    comparisons = [{"level": level, "level_label": LEVEL_LABELS[level], "code": code or None,
                    "nom": "France" if level == "france" else names.get((level, code))}
                   for level, code in target.comparisons]
    tables = []
    for version in _readable_versions(ctx, state, table, vintage):
        dataset = _memory.dataset(ctx, state, version)
        own = dataset.compiled.aggregate(dataset.compiled.indices(target.units))
        others = [(level, _territory(state, dataset, level, code))
                  for level, code in target.comparisons]
        tables.append(dataset.meta() | {"indicators": [
            column.as_dict() | {"result": own[i],
                                "comparisons": {level: results[i] for level, results in others}}
            for i, column in enumerate(dataset.columns)]})
    population = sum(state.geography.population.get(u, 0) for u in target.units)
    return {"scope": target.scope, "name": target.name, "units": len(target.units),
            "population": population, "population_year": ctx.graph.population_year,
            "comparisons": comparisons, "tables": tables}


def _names(ctx: Context, kind: str, comparisons: Sequence[tuple[str, str]]
           ) -> list[tuple[str, str]]:
    codes = [code for level, code in comparisons if level == kind]
    if not codes:
        return []
    rows = ctx.conn.execute(f"SELECT code, nom FROM {kind} WHERE code = ANY(%s)",  # noqa: S608
                            (codes,)).fetchall()
    return [(r["code"], r["nom"]) for r in rows]


def for_cpts(ctx: Context, cpts_id: int) -> dict[str, Any] | None:
    """The indicators of a CPTS for its exports; None when no table is readable."""
    result = indicators(ctx, scope=f"cpts:{cpts_id}", units=None)
    return result if result["tables"] else None


# --- Map -------------------------------------------------------------------------------------

def _parse_indicator(text: str) -> tuple[str, str]:
    table, _, key = text.partition(".")
    if not table or not key:
        raise ProblemError(422, "invalid_indicator", f"Indicateur illisible : « {text[:80]} » "
                                                     "(table.colonne, par ex. "
                                                     "zonage_medecins.zonage).")
    return table, key


def choropleth(ctx: Context, *, indicator: str, level: Literal["commune", "cpts"],
               scheme: Scheme, k: int, category: str | None = None,
               vintage: str | None = None) -> dict[str, Any]:
    """One indicator per commune (its own value) or per visible CPTS (aggregated), cut into
    classes with a legend; a category column is drawn per commune by category, or as the
    share of the population in `category` (per commune: 1 or 0; per CPTS: aggregated)."""
    table, key = _parse_indicator(indicator)
    state = _memory.state(ctx)
    version = _readable_versions(ctx, state, table, vintage)[0]
    dataset = _memory.dataset(ctx, state, version)
    position = next((i for i, c in enumerate(dataset.columns) if c.key == key), None)
    if position is None:
        raise ProblemError(404, "indicator_not_found", f"La table « {table} » n'a pas de "
                                                       f"colonne « {key[:60]} ».")
    column = dataset.columns[position]
    if category is not None and column.aggregation == "share" and category not in {
            c.value for c in column.categories}:
        raise ProblemError(422, "unknown_category", f"« {category[:60]} » n'est pas une "
                                                    f"catégorie de « {column.label} ».")
    out: dict[str, Any] = dataset.meta() | {"indicator": column.as_dict(), "level": level,
                                             "scheme": scheme}
    compiled = dataset.compiled
    if level == "commune" and column.aggregation == "share" and category is None:
        indices = compiled.categories[position]
        values: dict[str, Any] = {code: column.categories[int(k)].value
                                  for code, k in zip(compiled.codes, indices, strict=True)
                                  if k >= 0}
        colours = {c.value: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)]
                   for i, c in enumerate(column.categories)}
        out["legend"] = [{"value": c.value, "label": c.label, "colour": colours[c.value],
                          "count": sum(v == c.value for v in values.values())}
                         for c in column.categories]
        out["classes"] = {code: colours[value] for code, value in values.items()}
        out["values"] = values
        return out
    numbers: dict[str, float] = {}
    if level == "commune" and column.aggregation == "share":
        wanted = next(i for i, c in enumerate(column.categories) if c.value == category)
        for code, index in zip(compiled.codes, compiled.categories[position], strict=True):
            if index >= 0:
                numbers[code] = 1.0 if int(index) == wanted else 0.0
    elif level == "commune":
        for code, number in zip(compiled.codes, compiled.numbers[position], strict=True):
            if number == number:  # not NaN
                numbers[code] = float(number)
    else:
        for cpts_id, members in _visible_perimeters(ctx).items():
            result = compiled.aggregate(compiled.indices(members), only=position)[0]
            value = headline(column, result, category)
            if value is not None:
                numbers[str(cpts_id)] = value
    if column.aggregation == "share":
        chosen = category or column.categories[0].value
        out["category"] = chosen
        out["unit"] = f"part de la population en {column.category_label(chosen)}"
    if not numbers:
        out |= {"legend": [], "classes": {}, "values": {}}
        return out
    bounds = class_bounds(list(numbers.values()), scheme, k)
    entries = legend(bounds, list(numbers.values()), None if column.aggregation == "share"
                     else column.unit, min(numbers.values()))
    out["legend"] = entries
    out["classes"] = {code: entries[class_of(bounds, v)]["colour"]
                      for code, v in numbers.items()}
    out["values"] = numbers
    return out


def _visible_perimeters(ctx: Context) -> dict[int, list[str]]:
    """The current units of every live CPTS the user may see in full (not scenarios)."""
    scope = cpts_read_scope(ctx.user, publish_signed=ctx.publish_signed)
    rows = cpts_repo.listing(ctx.conn, scope, region=None, departement=None, statuses=None,
                           include_archived=False)
    ids = [int(r["id"]) for r in rows]
    found = cpts_service.current_many(ctx, ids)
    return {cpts_id: [c for c in current.members if c in ctx.graph.units]
            for cpts_id, current in found.items()
            if current.visibility is Visibility.FULL and not current.ref.is_scenario}
