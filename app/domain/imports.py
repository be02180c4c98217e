"""Reading a bulk import file of CPTS perimeters: find its format (CSV, XLSX or GeoJSON) from
its content, decode it, find its columns and give its rows with their line numbers.

Pure functions, no HTTP and no SQL. A problem with the whole file (empty, undecodable, no
usable column) raises `ProblemError`; a problem with one row is an `Issue` carrying its line,
so that the report lists every one of them.

Reading is bounded (`app.domain.upload_limits`): every record counts towards the row limit,
blank ones included, and reading stops there; only the first `MAX_COLUMNS` columns are read
and a cell keeps its first `MAX_CELL_CHARS` characters, so what an error quotes stays short.
XLSX workbooks are read by `app.domain.spreadsheet`, which checks the archive first.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry

from app.domain.communes import COMMUNE_CODE, search_form
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

Format = Literal["csv", "xlsx", "geojson"]

# Header spellings, compared in their search form with `_` between words, best first.
CPTS_HEADERS = ("cpts", "nom_cpts", "nom_de_la_cpts", "cpts_nom", "libelle_cpts", "nom", "name")
CODE_HEADERS = ("code_commune", "code_insee", "codgeo", "insee", "code", "depcom", "insee_com",
                "code_com", "com")
COMMUNE_HEADERS = ("nom_commune", "commune", "libelle_commune", "libgeo", "nom_com",
                   "lib_commune")
DEPARTEMENT_HEADERS = ("departement", "dep", "code_departement", "code_dep", "dept", "num_dep")
# Whether the CPTS covers the whole commune (infra-communal splits, e.g. Nice at IRIS level).
WHOLE_HEADERS = ("whole_commune", "commune_entiere", "entiere")
PARTIAL_VALUES = frozenset({"non", "no", "n", "false", "faux", "0", "partielle", "partiel"})
SEPARATORS = (";", ",", "\t")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls)
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Issue:
    """A row-level error or warning of an import: its line (or feature number), a stable code,
    a French detail, and the communes or candidates it is about."""

    line: int | None
    code: str
    detail: str
    communes: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "code": self.code, "detail": self.detail}
        if self.communes:
            out["communes"] = list(self.communes)
        if self.candidates:
            out["candidates"] = list(self.candidates)
        return out


@dataclass(frozen=True)
class SourceRow:
    """One row of a table: a CPTS name and a commune given by code, or by name (with its
    département when the file has one)."""

    line: int
    cpts: str
    code: str | None = None
    commune: str | None = None
    departement: str | None = None
    partial: bool = False  # the file says the CPTS covers only part of the commune


@dataclass(frozen=True)
class SourcePolygon:
    """One GeoJSON feature: a CPTS name and its valid (multi)polygon in WGS84."""

    line: int  # the feature's number, from 1
    cpts: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class ParsedFile:
    format: Format
    rows: tuple[SourceRow, ...] = ()
    polygons: tuple[SourcePolygon, ...] = ()
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    warnings: tuple[Issue, ...] = ()
    errors: tuple[Issue, ...] = ()

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.polygons)


@dataclass(frozen=True)
class Columns:
    """Positions of the useful columns of a table (None: absent)."""

    cpts: int
    code: int | None
    commune: int | None
    departement: int | None
    whole: int | None = None


@dataclass
class _Table:
    rows: list[SourceRow] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)


def header_key(text: object) -> str:
    return search_form(str(text or "")).replace(" ", "_")


def find_columns(header: Sequence[object]) -> Columns | None:
    """The CPTS column and a commune column (code or name), or None when they are missing."""
    keys = [header_key(cell) for cell in header]

    def first(names: tuple[str, ...], taken: set[int]) -> int | None:
        for name in names:
            for index, key in enumerate(keys):
                if key == name and index not in taken:
                    return index
        return None

    cpts = first(CPTS_HEADERS, set())
    if cpts is None:
        return None
    code = first(CODE_HEADERS, {cpts})
    commune = first(COMMUNE_HEADERS, {cpts} | ({code} if code is not None else set()))
    if code is None and commune is None:
        return None
    taken = {cpts} | {i for i in (code, commune) if i is not None}
    departement = first(DEPARTEMENT_HEADERS, taken)
    whole = first(WHOLE_HEADERS, taken | ({departement} if departement is not None else set()))
    return Columns(cpts, code, commune, departement, whole)


def _missing_columns(found: Sequence[object], where: str = "", *, total: int | None = None
                     ) -> ProblemError:
    """The columns read are quoted, at most `MAX_LISTED` of them, each cut short: a header of a
    million columns gives a short error."""
    named = [str(h).strip() for h in found if str(h or "").strip()]
    listed = named[:MAX_LISTED]
    shown = ", ".join(f"« {shorten(h, 40)} »" for h in listed) or "aucune"
    if len(named) > len(listed):
        shown += f" et {thousands(len(named) - len(listed))} autre(s)"
    unread = (total or 0) - len(found)
    if unread > 0:
        shown += f" ; {thousands(unread)} colonne(s) non lue(s) après la {thousands(MAX_COLUMNS)}e"
    return ProblemError(
        422, "missing_columns",
        f"Colonnes introuvables{where} : il faut une colonne du nom de la CPTS (cpts, nom_cpts, "
        "nom) et une colonne de la commune (code_commune, code, insee, codgeo, ou nom_commune, "
        f"commune). Colonnes lues : {shown}.")


def cell_text(value: object) -> str:
    """A cell as text; whole numbers from a spreadsheet lose their `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def looks_like_code(value: str) -> bool:
    text = value.strip().upper()
    return bool(COMMUNE_CODE.match(text)) or (len(text) == 4 and text.isdigit())


def _at(cells: list[str], index: int | None) -> str | None:
    if index is None or index >= len(cells):
        return None
    return cells[index] or None


def too_many_rows(limit: int) -> ProblemError:
    return ProblemError(413, "too_many_rows",
                        f"Le fichier dépasse {thousands(limit)} lignes (lignes vides comprises) : "
                        "découpez-le en plusieurs imports.")


def _cells(record: Sequence[object]) -> list[str]:
    return [cell_text(value)[:MAX_CELL_CHARS] for value in record[:MAX_COLUMNS]]


def _table_rows(records: Iterable[tuple[int, Sequence[object]]], *, limits: UploadLimits,
                where: str = "") -> _Table:
    """Rows of a table whose first non-empty record is the header (or, when it has no header,
    whose first two columns are the CPTS and the commune code). Every record counts towards
    `limits.max_rows`, blank ones included."""
    table = _Table()
    columns: Columns | None = None
    for count, (line, record) in enumerate(records, start=1):
        if count > limits.max_rows:
            raise too_many_rows(limits.max_rows)
        if not record:
            continue
        cells = _cells(record)
        if not any(cells):
            continue
        if columns is None:
            columns = find_columns(cells)
            if columns is not None:
                continue
            if len(cells) >= 2 and looks_like_code(cells[1]) and not looks_like_code(cells[0]):
                columns = Columns(0, 1, None, None)
                table.warnings.append(Issue(line, "no_header", "Pas de ligne d'en-tête : la "
                                            "1re colonne est lue comme le nom de la CPTS, la 2e "
                                            "comme le code commune."))
            else:
                raise _missing_columns(cells, where, total=len(record))
        whole = _at(cells, columns.whole)
        table.rows.append(SourceRow(line, _at(cells, columns.cpts) or "",
                                    _at(cells, columns.code), _at(cells, columns.commune),
                                    _at(cells, columns.departement),
                                    partial=whole is not None and header_key(whole)
                                    in PARTIAL_VALUES))
    if columns is None or not table.rows:
        raise ProblemError(422, "empty_file", "Le fichier ne contient aucune ligne de données.")
    return table


# --- Detecting the format and decoding text ---------------------------------------------------

def detect_format(data: bytes) -> Format:
    """By content, not by name: ZIP magic is XLSX, a JSON object is GeoJSON, anything else CSV."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        raise ProblemError(415, "unsupported_format",
                           "Classeur Excel 97-2003 (.xls) : enregistrez-le au format .xlsx ou "
                           "CSV avant de l'importer.")
    start = data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data
    if start.lstrip()[:1] == b"{":
        return "geojson"
    return "csv"


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding read: UTF-8 (with or without BOM), UTF-16 with a BOM
    (Excel's « texte Unicode »), else Windows-1252 / Latin-1."""
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise _bad_encoding() from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _bad_encoding() from None
    if b"\x00" in data:
        raise _bad_encoding()
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        raise _bad_encoding()
    return text, encoding


def _bad_encoding() -> ProblemError:
    return ProblemError(422, "bad_encoding",
                        "Fichier illisible : ce n'est ni un CSV en UTF-8 ou Latin-1, ni un "
                        "classeur XLSX, ni du GeoJSON.")


def _empty() -> ProblemError:
    return ProblemError(422, "empty_file", "Le fichier est vide.")


def detect_separator(text: str) -> str:
    """The separator of the header line: the most frequent of `;`, `,` and tab outside quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ";"


# --- The three formats -------------------------------------------------------------------------

_CSV_ERRORS = (
    ("field larger than field limit", "un champ dépasse {limit} caractères"),
    ("new-line character seen in unquoted field", "retour à la ligne isolé hors guillemets"),
    ("unexpected end of data", "fin de fichier inattendue (guillemet non refermé)"),
    ("line contains NUL", "caractère nul"),
)


def _csv_reason(error: csv.Error) -> str:
    message = str(error)
    for english, french in _CSV_ERRORS:
        if message.startswith(english):
            return french.format(limit=thousands(csv.field_size_limit()))
    return "ligne mal formée"


def read_csv(data: bytes, *, limits: UploadLimits | None = None) -> ParsedFile:
    limits = limits or UploadLimits()
    text, encoding = decode_text(data)
    if not text.strip():
        raise _empty()
    separator = detect_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)

    def records() -> Iterable[tuple[int, list[str]]]:
        start = 1
        for record in reader:
            yield start, record
            start = reader.line_num + 1

    try:
        table = _table_rows(records(), limits=limits)
    except csv.Error as exc:
        raise ProblemError(422, "invalid_csv", f"CSV illisible ligne {reader.line_num} : "
                                               f"{_csv_reason(exc)}.") from None
    return ParsedFile("csv", rows=tuple(table.rows), encoding=encoding, separator=separator,
                      warnings=tuple(table.warnings), errors=tuple(table.errors))


def read_xlsx(data: bytes, *, sheet: str | None = None,
              limits: UploadLimits | None = None) -> ParsedFile:
    """The sheet that has the expected columns. Several sheets with them: refused as
    ambiguous unless `sheet` names one. The archive is checked before it is decompressed and
    the sheet read as a stream (`app.domain.spreadsheet`)."""
    limits = limits or UploadLimits()
    with Workbook(data, limits) as workbook:
        names = workbook.sheet_names
        if sheet is not None:
            if sheet not in names:
                raise ProblemError(422, "unknown_sheet", f"Le classeur n'a pas de feuille « "
                                   f"{shorten(sheet)} » ; feuilles : "
                                   + ", ".join(shorten(n) for n in names[:MAX_LISTED]) + ".")
            chosen = [sheet]
        else:
            chosen = [name for name in names if _sheet_has_columns(workbook, name)]
            if not chosen:
                raise _missing_columns([], " dans toutes les feuilles du classeur")
            if len(chosen) > 1:
                raise ProblemError(
                    422, "ambiguous_sheet",
                    "Plusieurs feuilles ont les colonnes attendues : " + ", ".join(
                        f"« {shorten(n)} »" for n in chosen[:MAX_LISTED]) + ". Indiquez "
                    "laquelle importer (paramètre sheet) ou gardez-en une seule.",
                    errors=[{"line": None, "code": "ambiguous_sheet", "sheet": n,
                             "detail": f"Feuille « {shorten(n)} »"}
                            for n in chosen[:MAX_LISTED]])
        if workbook.row_tags_exceed(workbook.sheet(chosen[0]), limits.max_rows):
            raise too_many_rows(limits.max_rows)
        table = _table_rows(workbook.rows(workbook.sheet(chosen[0])), limits=limits,
                            where=f" dans la feuille « {shorten(chosen[0])} »")
    warnings = list(table.warnings)
    if len(names) > 1:
        others = [n for n in names if n != chosen[0]]
        listed = ", ".join(f"« {shorten(n)} »" for n in others[:MAX_LISTED]) + (
            f" et {thousands(len(others) - MAX_LISTED)} autre(s)"
            if len(others) > MAX_LISTED else "")
        warnings.insert(0, Issue(None, "sheet_used", f"Feuille importée : « "
                                                     f"{shorten(chosen[0])} » ; ignorée(s) : "
                                                     f"{listed}."))
    return ParsedFile("xlsx", rows=tuple(table.rows), sheet=chosen[0],
                      warnings=tuple(warnings), errors=tuple(table.errors))


def _sheet_has_columns(workbook: Workbook, name: str) -> bool:
    """Whether the first non-empty row among the first 20 is a header (or a CPTS and a code)."""
    for count, (line, record) in enumerate(workbook.rows(workbook.sheet(name)), start=1):
        if count > 20 or line > 20:
            return False
        cells = _cells(record)
        if any(cells):
            return find_columns(cells) is not None or (
                len(cells) >= 2 and looks_like_code(cells[1]) and not looks_like_code(cells[0]))
    return False


def read_import(data: bytes, *, sheet: str | None = None,
                limits: UploadLimits | None = None) -> ParsedFile:
    """Any accepted file: CSV (`;`, `,` or tab; UTF-8 with or without BOM, or Latin-1), XLSX,
    or GeoJSON polygons; within `limits` (the defaults when None)."""
    limits = limits or UploadLimits()
    if not data.strip() or data.strip() == UTF8_BOM:
        raise _empty()
    kind = detect_format(data)
    if kind == "xlsx":
        return read_xlsx(data, sheet=sheet, limits=limits)
    if kind == "geojson":
        # imported here: app.domain.import_geojson builds on this module's rows and issues
        from app.domain.import_geojson import read_geojson

        return read_geojson(data, limits=limits)
    return read_csv(data, limits=limits)
