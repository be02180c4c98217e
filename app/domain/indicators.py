"""Indicator tables: the declaration of a table (its columns, their unit, source, vintage and
aggregation rule), the reading of its rows and their matching to the units of the COG (by INSEE
code, former code, or postal code and name).

Pure functions, no HTTP and no SQL. The file is read by the same bounded readers as the CPTS
imports (`app.domain.imports`, `app.domain.spreadsheet`, limits of `app.domain.upload_limits`).
A problem with the whole file or the declaration raises `ProblemError`; a problem with one row
is an `Issue` with its line. Errors refuse the import; unmatched and ambiguous rows refuse it
too unless the caller skips them (they are then listed in the report, line by line).
"""

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.domain.communes import COMMUNE_CODE
from app.domain.import_matching import FormerCode, bare_key, commune_key
from app.domain.imports import (
    Issue,
    _csv_reason,
    _empty,
    cell_text,
    decode_text,
    detect_format,
    detect_separator,
    header_key,
    too_many_rows,
)
from app.domain.spreadsheet import Workbook
from app.domain.upload_limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_LISTED,
    UploadLimits,
    shorten,
    thousands,
)
from app.errors import ProblemError

Aggregation = Literal["sum", "mean", "share", "min", "max"]
AGGREGATIONS: tuple[str, ...] = ("sum", "mean", "share", "min", "max")
AGGREGATION_LABELS = {
    "sum": "somme", "mean": "moyenne pondérée", "share": "part de la population par catégorie",
    "min": "minimum", "max": "maximum",
}
Visibility = Literal["public", "restricted"]
SLUG = re.compile(r"^[a-z0-9][a-z0-9_]{0,62}$")
MAX_DECLARED_COLUMNS = 60
MAX_CATEGORIES = 50
MAX_TEXT = 300
MAX_ISSUES = 2_000  # issues listed in a report (the counts are always complete)
SIMPLE_NUMBER = re.compile(r"-?\d{1,15}(?:[.,]\d{1,15})?\Z")
NUMBER = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+)(?:[.,]\d+)?(?:[eE][+-]?\d+)?$")


# --- The declaration -------------------------------------------------------------------------

@dataclass(frozen=True)
class Category:
    value: str
    label: str


@dataclass(frozen=True)
class Column:
    """One declared column: where it is read, what it means and how it is aggregated."""

    key: str
    header: str
    label: str
    unit: str | None
    source: str
    vintage: str
    aggregation: Aggregation
    weight: str | None = None  # mean: "population" or the key of another (numeric) column
    categories: tuple[Category, ...] = ()
    empty_values: frozenset[str] = frozenset({""})

    @property
    def numeric(self) -> bool:
        return self.aggregation != "share"

    def category_label(self, value: str) -> str:
        return next((c.label for c in self.categories if c.value == value), value)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key, "header": self.header, "label": self.label, "unit": self.unit,
            "source": self.source, "vintage": self.vintage, "aggregation": self.aggregation,
            "aggregation_label": AGGREGATION_LABELS[self.aggregation]}
        if self.weight:
            out["weight"] = self.weight
        if self.categories:
            out["categories"] = [{"value": c.value, "label": c.label} for c in self.categories]
        return out


@dataclass(frozen=True)
class Definition:
    """What an import declares: the table, its vintage and source, how rows are matched and
    its columns."""

    slug: str
    title: str
    visibility: Visibility
    vintage: str
    source: str
    match_by: Literal["code", "postal_code"]
    code_header: str | None
    postal_header: str | None
    name_header: str | None
    columns: tuple[Column, ...]


def _definition_error(problems: list[str]) -> ProblemError:
    return ProblemError(
        422, "invalid_indicator_definition",
        "Déclaration de la table illisible : " + " ".join(problems[:MAX_LISTED]),
        errors=[{"line": None, "code": "invalid_indicator_definition", "detail": p}
                for p in problems[:MAX_LISTED]])


def _text(raw: Mapping[str, Any], name: str, problems: list[str], where: str, *,
          required: bool = True, default: str | None = None) -> str | None:
    value = raw.get(name, default)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{where} : le champ « {name} » est obligatoire.")
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.append(f"{where} : le champ « {name} » doit être un texte.")
        return default
    text = " ".join(str(value).split())
    if len(text) > MAX_TEXT or any(ord(ch) < 32 for ch in text):
        problems.append(f"{where} : le champ « {name} » est trop long ou contient des "
                        "caractères de contrôle.")
        return default
    return text


def parse_definition(text: str | bytes) -> Definition:
    """The declaration sent with the file (JSON), checked field by field; every problem is
    listed in French."""
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise _definition_error(["ce n'est pas du JSON valide."]) from None
    if not isinstance(raw, dict):
        raise _definition_error(["un objet JSON est attendu."])
    problems: list[str] = []
    slug = _text(raw, "table", problems, "Table") or ""
    if slug and not SLUG.match(slug):
        problems.append("Table : l'identifiant « table » s'écrit en minuscules, chiffres et _ "
                        "(63 caractères au plus), par ex. zonage_medecins.")
    title = _text(raw, "title", problems, "Table") or slug
    visibility = raw.get("visibility", "public")
    if visibility not in ("public", "restricted"):
        problems.append("Table : « visibility » vaut public (tout utilisateur connecté) ou "
                        "restricted (ARS et observateurs).")
    vintage = _text(raw, "vintage", problems, "Table") or ""
    source = _text(raw, "source", problems, "Table") or ""
    match = raw.get("match")
    code_header = postal_header = name_header = None
    match_by: Literal["code", "postal_code"] = "code"
    if not isinstance(match, dict) or not (match.get("code") or match.get("postal_code")):
        problems.append("Correspondance : « match » donne la colonne du code INSEE "
                        "({\"code\": \"codgeo\"}) ou celles du code postal et du nom "
                        "({\"postal_code\": \"Code_postal\", \"name\": \"Nom_commune\"}).")
    elif match.get("code"):
        code_header = _text(match, "code", problems, "Correspondance")
    else:
        match_by = "postal_code"
        postal_header = _text(match, "postal_code", problems, "Correspondance")
        name_header = _text(match, "name", problems, "Correspondance")
    columns = _columns(raw.get("columns"), problems, vintage, source)
    if problems:
        raise _definition_error(problems)
    return Definition(slug, title, visibility, vintage, source, match_by,
                      code_header, postal_header, name_header, tuple(columns))


def _columns(raw: object, problems: list[str], vintage: str, source: str) -> list[Column]:
    if not isinstance(raw, list) or not raw:
        problems.append("Colonnes : « columns » liste au moins une colonne déclarée.")
        return []
    if len(raw) > MAX_DECLARED_COLUMNS:
        problems.append(f"Colonnes : {MAX_DECLARED_COLUMNS} colonnes au plus par table.")
        return []
    columns: list[Column] = []
    for position, item in enumerate(raw, start=1):
        where = f"Colonne {position}"
        if not isinstance(item, dict):
            problems.append(f"{where} : un objet est attendu.")
            continue
        header = _text(item, "header", problems, where) or ""
        where = f"Colonne « {shorten(header, 40)} »" if header else where
        key = _text(item, "key", problems, where, required=False,
                    default=header_key(header)) or ""
        if key and not SLUG.match(key):
            problems.append(f"{where} : la clé « {shorten(key, 40)} » s'écrit en minuscules, "
                            "chiffres et _.")
        label = _text(item, "label", problems, where) or header
        unit = _text(item, "unit", problems, where, required=False)
        aggregation = item.get("aggregation")
        if aggregation not in AGGREGATIONS:
            problems.append(f"{where} : « aggregation » vaut sum (somme), mean (moyenne "
                            "pondérée), share (part de la population par catégorie), min ou "
                            "max.")
            continue
        weight = None
        if aggregation == "mean":
            weight = _text(item, "weight", problems, where, required=False,
                           default="population")
        categories: list[Category] = []
        if aggregation == "share":
            categories = _categories(item.get("categories"), problems, where)
        empty = item.get("empty_values", [""])
        if not isinstance(empty, list) or not all(isinstance(v, str) for v in empty):
            problems.append(f"{where} : « empty_values » est une liste de textes.")
            empty = [""]
        columns.append(Column(
            key=key, header=header, label=label, unit=unit,
            source=_text(item, "source", problems, where, required=False, default=source)
            or source,
            vintage=_text(item, "vintage", problems, where, required=False, default=vintage)
            or vintage,
            aggregation=aggregation, weight=weight, categories=tuple(categories),
            empty_values=frozenset(v.strip() for v in empty) | {""}))
    keys = [c.key for c in columns]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"Colonnes : la clé « {key} » est déclarée deux fois.")
    by_key = {c.key: c for c in columns}
    for column in columns:
        if column.weight and column.weight != "population":
            other = by_key.get(column.weight)
            if other is None or other.aggregation == "share" or other.key == column.key:
                problems.append(f"Colonne « {column.header} » : le poids « {column.weight} » "
                                "n'est ni population ni la clé d'une autre colonne numérique.")
    return columns


def _categories(raw: object, problems: list[str], where: str) -> list[Category]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_CATEGORIES:
        problems.append(f"{where} : une colonne « share » liste ses catégories (1 à "
                        f"{MAX_CATEGORIES}) : [{{\"value\": \"1_ZIP\", \"label\": \"ZIP\"}}, …].")
        return []
    found: list[Category] = []
    for item in raw:
        if isinstance(item, str):
            item = {"value": item}
        if not isinstance(item, dict):
            problems.append(f"{where} : une catégorie est un texte ou un objet.")
            continue
        value = _text(item, "value", problems, where) or ""
        found.append(Category(value, _text(item, "label", problems, where, required=False,
                                           default=value) or value))
    values = [c.value for c in found]
    if len(set(values)) != len(values):
        problems.append(f"{where} : une catégorie est déclarée deux fois.")
    return found


# --- Reading the file ------------------------------------------------------------------------

@dataclass(frozen=True)
class Records:
    """The records of a table file: header first, each with its line number."""

    format: Literal["csv", "xlsx"]
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None


def _cells(record: Sequence[object]) -> list[str]:
    return [cell_text(value)[:MAX_CELL_CHARS] for value in record[:MAX_COLUMNS]]


def _collect(records: Iterable[tuple[int, Sequence[object]]], limits: UploadLimits
             ) -> tuple[list[str], int, list[tuple[int, list[str]]]]:
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for count, (line, record) in enumerate(records, start=1):
        if count > limits.max_rows:
            raise too_many_rows(limits.max_rows)
        cells = _cells(record) if record else []
        if not any(cells):
            continue
        if header is None:
            header, header_line = cells, line
        else:
            rows.append((line, cells))
    if header is None or not rows:
        raise ProblemError(422, "empty_file", "Le fichier ne contient aucune ligne de données.")
    return header, header_line, rows


def read_records(data: bytes, *, limits: UploadLimits, sheet: str | None = None) -> Records:
    """A CSV (`;`, `,` or tab; UTF-8 or Latin-1) or an XLSX sheet, within `limits`: the same
    readers as the CPTS imports."""
    if not data.strip():
        raise _empty()
    kind = detect_format(data)
    if kind == "geojson":
        raise ProblemError(415, "unsupported_format", "Une table d'indicateurs est un CSV ou un "
                                                      "classeur XLSX, pas du GeoJSON.")
    if kind == "xlsx":
        with Workbook(data, limits) as workbook:
            names = workbook.sheet_names
            chosen = sheet if sheet is not None else (names[0] if names else None)
            if chosen is None or chosen not in names:
                raise ProblemError(422, "unknown_sheet", f"Le classeur n'a pas de feuille « "
                                   f"{shorten(chosen or '')} » ; feuilles : "
                                   + ", ".join(shorten(n) for n in names[:MAX_LISTED]) + ".")
            if workbook.row_tags_exceed(workbook.sheet(chosen), limits.max_rows):
                raise too_many_rows(limits.max_rows)
            header, header_line, rows = _collect(workbook.rows(workbook.sheet(chosen)), limits)
        return Records("xlsx", header, header_line, rows, sheet=chosen)
    text, encoding = decode_text(data)
    if not text.strip():
        raise _empty()
    separator = detect_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)

    def numbered() -> Iterator[tuple[int, list[str]]]:
        start = 1
        for record in reader:
            yield start, record
            start = reader.line_num + 1

    try:
        header, header_line, rows = _collect(numbered(), limits)
    except csv.Error as exc:
        raise ProblemError(422, "invalid_csv", f"CSV illisible ligne {reader.line_num} : "
                                               f"{_csv_reason(exc)}.") from None
    return Records("csv", header, header_line, rows, encoding=encoding, separator=separator)


# --- Rows and their values -------------------------------------------------------------------

@dataclass(frozen=True)
class TableRow:
    line: int
    key: str  # the code, or the postal code
    name: str | None
    numbers: tuple[float | None, ...]
    categories: tuple[str | None, ...]


def parse_number(text: str) -> float | None:
    """`12`, `12,5`, `1 234,5`, `-3.2e2`: a finite number, or None when it is not one."""
    if text and SIMPLE_NUMBER.match(text):  # the common case, without the general pattern
        return float(text.replace(",", "."))
    cleaned = text.strip().removesuffix("%").strip()
    if not NUMBER.match(cleaned):
        return None
    cleaned = re.sub(r"[ \u00a0\u202f]", "", cleaned).replace(",", ".")
    value = float(cleaned)
    return value if math.isfinite(value) else None


def locate(header: Sequence[str], definition: Definition, header_line: int) -> dict[str, int]:
    """Position of each declared header in the file (case, accents and spacing ignored); every
    missing one is listed."""
    keys = [header_key(cell) for cell in header]
    wanted = {"@code": definition.code_header, "@postal": definition.postal_header,
              "@name": definition.name_header}
    wanted |= {column.key: column.header for column in definition.columns}
    found: dict[str, int] = {}
    missing: list[str] = []
    for key, name in wanted.items():
        if name is None:
            continue
        target = header_key(name)
        if target in keys:
            found[key] = keys.index(target)
        else:
            missing.append(name)
    if missing:
        read = ", ".join(f"« {shorten(h, 40)} »" for h in header[:MAX_LISTED] if h)
        raise ProblemError(
            422, "missing_columns",
            f"Colonnes déclarées introuvables dans le fichier (en-tête ligne {header_line}) : "
            + ", ".join(f"« {shorten(m, 40)} »" for m in missing) + f". Colonnes lues : {read}.",
            errors=[{"line": header_line, "code": "missing_column",
                     "detail": f"Colonne « {shorten(m, 40)} » absente."} for m in missing])
    return found


def parse_rows(records: Records, definition: Definition
               ) -> tuple[list[TableRow], list[Issue]]:
    """The rows with their values checked against the declaration: a number where a number is
    declared, a declared category where categories are. Errors are listed per line."""
    positions = locate(records.header, definition, records.header_line)
    key_position = positions["@code" if definition.match_by == "code" else "@postal"]
    name_position = positions.get("@name", -1)
    specs = [(positions[c.key], c.empty_values, c.numeric, c.aggregation == "sum",
              frozenset(k.value for k in c.categories), c) for c in definition.columns]
    missing_key = "Code commune absent." if definition.match_by == "code" else \
        "Code postal absent."
    simple = SIMPLE_NUMBER.match
    rows: list[TableRow] = []
    errors: list[Issue] = []
    for line, cells in records.rows:
        size = len(cells)
        key = cells[key_position].strip() if key_position < size else ""
        if not key:
            errors.append(Issue(line, "missing_code", missing_key))
            continue
        numbers: list[float | None] = []
        categories: list[str | None] = []
        for position, empty, numeric, is_sum, allowed, column in specs:
            raw = cells[position].strip() if position < size else ""
            if raw in empty:
                numbers.append(None)
                categories.append(None)
                continue
            categories.append(None if numeric else raw)
            if not numeric:
                numbers.append(None)
                if raw not in allowed:
                    errors.append(_unknown_category(line, column, raw))
                continue
            value = float(raw.replace(",", ".")) if simple(raw) else parse_number(raw)
            numbers.append(value)
            if value is None:
                errors.append(Issue(line, "not_a_number", f"Colonne « {column.header} » : "
                                    f"« {shorten(raw, 40)} » n'est pas un nombre."))
            elif is_sum and value < 0:
                errors.append(Issue(line, "negative_count", f"Colonne « {column.header} » "
                                    f"(somme) : {shorten(raw, 40)} est négatif."))
        name = cells[name_position].strip() if 0 <= name_position < size else ""
        rows.append(TableRow(line, key, name or None, tuple(numbers), tuple(categories)))
    return rows, errors


def _unknown_category(line: int, column: Column, raw: str) -> Issue:
    declared = ", ".join(f"« {c.value} »" for c in column.categories[:10])
    return Issue(line, "unknown_category", f"Colonne « {column.header} » : « {shorten(raw, 60)} "
                 f"» n'est pas une catégorie déclarée ({declared}).")


# --- Matching rows to units ------------------------------------------------------------------

@dataclass(frozen=True)
class ReferenceUnit:
    code: str
    nom: str
    postal_codes: tuple[str, ...]


@dataclass
class MatchReference:
    """The communes and arrondissements of the loaded COG, their postal codes and former codes."""

    units: dict[str, ReferenceUnit]
    history: dict[str, tuple[FormerCode, ...]]
    by_postal: dict[str, list[str]] = field(default_factory=dict)
    former_by_new: dict[str, list[FormerCode]] = field(default_factory=dict)

    @classmethod
    def build(cls, units: Iterable[ReferenceUnit], history: Iterable[FormerCode]
              ) -> "MatchReference":
        reference = cls(units={u.code: u for u in units}, history={})
        grouped: dict[str, list[FormerCode]] = {}
        for entry in history:
            grouped.setdefault(entry.old_code, []).append(entry)
            reference.former_by_new.setdefault(entry.new_code, []).append(entry)
        reference.history = {code: tuple(entries) for code, entries in grouped.items()}
        for unit in reference.units.values():
            for postal in unit.postal_codes:
                reference.by_postal.setdefault(postal, []).append(unit.code)
        return reference


@dataclass(frozen=True)
class Match:
    row: TableRow
    code: str
    how: Literal["code", "former_code", "name", "former_name"]


@dataclass
class MatchResult:
    matches: list[Match] = field(default_factory=list)
    unmatched: list[Issue] = field(default_factory=list)
    ambiguous: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)


def _label(reference: MatchReference, code: str) -> str:
    unit = reference.units.get(code)
    return f"{unit.nom} ({code})" if unit else code


def _same_name(a: str, b: str) -> bool:
    key_a, key_b = commune_key(a), commune_key(b)
    return key_a == key_b or bare_key(key_a) == bare_key(key_b)


def _match_code(row: TableRow, reference: MatchReference) -> Match | Issue:
    code = row.key.upper()
    if len(code) == 4 and code.isdigit():
        code = "0" + code  # written as a number: the leading zero was lost
    if code in reference.units:
        return Match(row, code, "code")
    if not COMMUNE_CODE.match(code):
        return Issue(row.line, "invalid_code", f"« {shorten(row.key, 20)} » n'est pas un code "
                                               "commune INSEE.")
    former = {e.new_code for e in reference.history.get(code, ()) if e.new_code in
              reference.units}
    if len(former) == 1:
        return Match(row, former.pop(), "former_code")
    if len(former) > 1:
        return Issue(row.line, "ambiguous_former_code",
                     f"L'ancien code {code} correspond à plusieurs communes actuelles : "
                     + ", ".join(_label(reference, c) for c in sorted(former)) + ".",
                     communes=(code,), candidates=tuple(sorted(former)))
    return Issue(row.line, "unknown_code", f"Aucune commune chargée ne porte le code {code}.",
                 communes=(code,))


def _match_postal(row: TableRow, reference: MatchReference) -> Match | Issue:
    postal = row.key.strip()
    if postal.isdigit() and len(postal) < 5:
        postal = postal.zfill(5)  # written as a number: the leading zero was lost
    name = row.name or ""
    if not re.fullmatch(r"\d{5}", postal):
        return Issue(row.line, "invalid_postal_code", f"« {shorten(row.key, 20)} » n'est pas "
                                                      "un code postal.")
    candidates = reference.by_postal.get(postal, [])
    if not name:
        return Issue(row.line, "missing_name", f"Code postal {postal} sans nom de commune.")
    if not candidates:
        return Issue(row.line, "unknown_postal_code",
                     f"{shorten(name, 60)} ({postal}) : aucune commune chargée n'a ce code "
                     "postal.")
    named = [c for c in candidates if _same_name(reference.units[c].nom, name)]
    if len(named) == 1:
        return Match(row, named[0], "name")
    if len(named) > 1:
        return Issue(row.line, "ambiguous_name",
                     f"{shorten(name, 60)} ({postal}) : plusieurs communes de ce code postal "
                     "portent ce nom : " + ", ".join(_label(reference, c) for c in named) + ".",
                     candidates=tuple(named))
    former = sorted({c for c in candidates for e in reference.former_by_new.get(c, ())
                     if e.old_nom and _same_name(e.old_nom, name)})
    if len(former) == 1:
        return Match(row, former[0], "former_name")
    if len(former) > 1:
        return Issue(row.line, "ambiguous_former_name",
                     f"{shorten(name, 60)} ({postal}) : ancienne commune rattachée à plusieurs "
                     "communes actuelles : " + ", ".join(_label(reference, c) for c in former)
                     + ".", candidates=tuple(former))
    return Issue(row.line, "unknown_name",
                 f"{shorten(name, 60)} ({postal}) : aucune commune de ce code postal ne porte ce "
                 "nom ; communes de ce code postal : "
                 + ", ".join(_label(reference, c) for c in candidates[:10]) + ".",
                 candidates=tuple(candidates[:10]))


def match_rows(rows: Sequence[TableRow], definition: Definition,
               reference: MatchReference) -> MatchResult:
    result = MatchResult()
    matcher = _match_code if definition.match_by == "code" else _match_postal
    for row in rows:
        found = matcher(row, reference)
        if isinstance(found, Match):
            result.matches.append(found)
            if found.how in ("former_code", "former_name"):
                result.notes.append(Issue(
                    row.line, found.how, f"« {shorten(row.name or row.key, 60)} » : ancienne "
                    f"commune, comptée dans {_label(reference, found.code)}.",
                    communes=(found.code,)))
        elif found.code.startswith("ambiguous"):
            result.ambiguous.append(found)
        else:
            result.unmatched.append(found)
    return result


# --- One value per unit ----------------------------------------------------------------------

@dataclass(frozen=True)
class UnitValues:
    code: str
    numbers: tuple[float | None, ...]
    categories: tuple[str | None, ...]
    lines: tuple[int, ...]


@dataclass
class Merged:
    values: list[UnitValues] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)  # duplicate codes: always refused
    conflicts: list[Issue] = field(default_factory=list)  # different values for one commune
    notes: list[Issue] = field(default_factory=list)


def merge_matches(matches: Sequence[Match], definition: Definition,
                  reference: MatchReference) -> Merged:
    """One set of values per unit. With codes, a code given twice is an error. With postal
    codes a commune may have several rows (one per postal code): equal values are merged; rows
    matched by the current name win over rows of former communes; other differences leave the
    column without value for that commune and are reported as conflicts."""
    merged = Merged()
    grouped: dict[str, list[Match]] = {}
    for match in matches:
        grouped.setdefault(match.code, []).append(match)
    for code, group in grouped.items():
        if len(group) == 1:  # the common case: one row for the unit
            row = group[0].row
            merged.values.append(UnitValues(code, row.numbers, row.categories, (row.line,)))
            continue
        if definition.match_by == "code":
            current = [m for m in group if m.how == "code"]
            if len(current) > 1:
                merged.errors.extend(Issue(
                    m.row.line, "duplicate_code", f"Le code {code} figure plusieurs fois "
                    "(lignes " + ", ".join(str(o.row.line) for o in current) + ").",
                    communes=(code,)) for m in current[1:])
                continue
        preferred = [m for m in group if m.how in ("code", "name")] or group
        if len(preferred) < len(group):
            merged.notes.extend(Issue(
                m.row.line, "former_row_ignored", f"« {shorten(m.row.name or m.row.key, 60)} » "
                f": {_label(reference, code)} a sa propre ligne, qui est retenue.",
                communes=(code,)) for m in group if m not in preferred)
        numbers: list[float | None] = []
        categories: list[str | None] = []
        for position, column in enumerate(definition.columns):
            seen = {(m.row.numbers[position], m.row.categories[position]) for m in preferred}
            seen.discard((None, None))
            if len(seen) > 1:
                shown = sorted(str(c if c is not None else n) for n, c in seen)
                merged.conflicts.append(Issue(
                    preferred[0].row.line, "conflicting_values",
                    f"{_label(reference, code)}, colonne « {column.header} » : valeurs "
                    "différentes selon les lignes (" + ", ".join(
                        f"« {shorten(s, 40)} »" for s in shown[:5]) + ", lignes "
                    + ", ".join(str(m.row.line) for m in preferred[:10]) + ").",
                    communes=(code,)))
                seen = set()
            number, category = next(iter(seen)) if seen else (None, None)
            numbers.append(number)
            categories.append(category)
        merged.values.append(UnitValues(code, tuple(numbers), tuple(categories),
                                        tuple(sorted(m.row.line for m in preferred))))
    merged.values.sort(key=lambda v: v.code)
    return merged


def listed(issues: Sequence[Issue]) -> list[dict[str, Any]]:
    """Issues of a report, in line order, at most `MAX_ISSUES`."""
    ordered = sorted(issues, key=lambda i: (i.line or 0, i.code))
    return [issue.as_dict() for issue in ordered[:MAX_ISSUES]]


def count_text(count: int, singular: str, plural: str) -> str:
    return f"{thousands(count)} {singular if count == 1 else plural}"
