"""The rows of an XLSX workbook sent to an import, read without trusting the file.

An XLSX is a ZIP archive of XML parts. Before anything is decompressed, the archive's directory
is checked: number of parts, total size once decompressed (`UploadLimits`), and the compression
ratio of each large part (30 MB of `<row/>` packed into 47 KB is a bomb, not a list of CPTS).
Python's `zipfile` never inflates a part beyond the size its directory declares.

The small parts that say where the sheets are (relationships, workbook) are read whole with
`defusedxml`. Sheets and shared strings are read as streams through expat, 64 KiB at a time,
by handlers that keep only the current row: no element tree, no interned names, so memory does
not grow with the file. The reader yields rows as they come, empty `<row/>` included (the
caller counts them and stops at its row limit); `row_tags_exceed` first counts the row tags in
the raw bytes, so that a sheet of millions of empty rows is refused without parsing them. Any
DTD, entity declaration or external reference is refused (billion laughs, external entities:
a workbook never has one), and so are truncated or malformed XML, nesting deeper than
`MAX_XML_DEPTH` and a single XML token (a start tag with its attributes, a comment) longer
than `MAX_XML_TOKEN_BYTES`.

Pure functions on bytes: no HTTP, no SQL. Every refusal is a `ProblemError`.
"""

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from app.domain.upload_limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_SHARED_STRINGS,
    MAX_XLSX_METADATA_BYTES,
    MAX_XLSX_PARTS,
    MAX_XML_DEPTH,
    MAX_XML_TOKEN_BYTES,
    RATIO_CHECKED_FROM,
    UploadLimits,
    mebibytes,
    shorten,
    thousands,
)
from app.errors import ProblemError

CHUNK = 64 * 1024
_COLUMN = re.compile(r"([A-Za-z]{1,3})\d*")
_INTEGER = re.compile(r"-?\d{1,15}")


def unreadable(reason: str = "") -> ProblemError:
    return ProblemError(422, "unreadable_file",
                        "Classeur XLSX illisible" + (f" : {reason}" if reason else " (fichier "
                        "abîmé, ou archive ZIP qui n'est pas un classeur)") + ".")


def _forbidden(what: str) -> ProblemError:
    return ProblemError(422, "xml_forbidden",
                        f"Classeur XLSX refusé : son XML contient {what}, ce qu'un classeur Excel "
                        "ou LibreOffice ne contient jamais (protection contre les bombes XML).")


def _local(name: str) -> str:
    """`row` for `row`, `x:row` or `{namespace}row`."""
    return name.rpartition("}")[2].rpartition(":")[2]


@dataclass(frozen=True)
class Sheet:
    name: str
    path: str  # its part in the archive


def check_archive(archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    """Refuse an archive that would cost too much to decompress, before decompressing it."""
    parts = archive.infolist()
    if len(parts) > MAX_XLSX_PARTS:
        raise ProblemError(422, "xlsx_too_many_parts",
                           f"Classeur XLSX refusé : l'archive compte {thousands(len(parts))} "
                           f"fichiers (au plus {thousands(MAX_XLSX_PARTS)}).")
    total = sum(part.file_size for part in parts)
    if total > limits.max_xlsx_uncompressed_bytes:
        biggest = max(parts, key=lambda part: part.file_size)
        raise ProblemError(
            413, "xlsx_too_large",
            f"Classeur XLSX trop volumineux une fois décompressé : {mebibytes(total)} (dont "
            f"{mebibytes(biggest.file_size)} pour « {shorten(biggest.filename, 60)} »), la "
            f"limite est de {mebibytes(limits.max_xlsx_uncompressed_bytes)}. Enregistrez les "
            "données en CSV, ou retirez les feuilles inutiles.")
    for part in parts:
        if (part.file_size > RATIO_CHECKED_FROM
                and part.file_size > MAX_COMPRESSION_RATIO * max(part.compress_size, 1)):
            ratio = part.file_size // max(part.compress_size, 1)
            raise ProblemError(
                413, "xlsx_compression_ratio",
                f"Classeur XLSX refusé : « {shorten(part.filename, 60)} » passe de "
                f"{thousands(part.compress_size)} octets à {mebibytes(part.file_size)} une fois "
                f"décompressé ({thousands(ratio)} fois plus ; au plus "
                f"{MAX_COMPRESSION_RATIO} pour un classeur réel).")


class _Stream:
    """Expat handlers that keep only what the caller needs: the cells of the current row (a
    sheet), or the strings (the shared strings part)."""

    def __init__(self, strings: list[str] | None) -> None:
        self.depth = 0
        self.strings = strings  # None: reading the shared strings themselves
        self.shared: list[str] = []
        self.rows: list[tuple[int, list[object]]] = []
        self.line = 0
        self.cells: dict[int, object] = {}
        self.next_column = 0
        self.cell: tuple[int, str] | None = None  # column and type of the open <c>
        self.capture = False  # inside a <v>, or a <t> that is not phonetic
        self.phonetic = 0
        self.text: list[str] = []
        self.size = 0
        self.names: dict[str, str] = {}  # local names of the tags met (a few dozen)

    def _tag(self, name: str) -> str:
        tag = self.names.get(name)
        if tag is None:
            tag = _local(name)
            if len(self.names) < 256:
                self.names[name] = tag
        return tag

    def start(self, name: str, attributes: list[str]) -> None:
        self.depth += 1
        if self.depth > MAX_XML_DEPTH:
            raise unreadable(f"XML imbriqué sur plus de {MAX_XML_DEPTH} niveaux")
        tag = self._tag(name)
        if tag == "row":
            found = (attributes[1] if len(attributes) == 2 and attributes[0] == "r"
                     else _attribute(attributes, "r"))
            self.line = int(found) if found is not None and found.isdigit() and len(
                found) <= 9 else self.line + 1
            self.cells = {}
            self.next_column = 0
        elif tag == "c":
            column = _column(_attribute(attributes, "r"), self.next_column)
            self.next_column = column + 1
            self.cell = (column, _attribute(attributes, "t") or "n")
            self._reset()
        elif tag == "si":
            self._reset()
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "v" or (tag == "t" and not self.phonetic):
            self.capture = True

    def end(self, name: str) -> None:
        self.depth -= 1
        tag = self._tag(name)
        if tag == "row":
            if self.cells:
                width = max(self.cells) + 1
                self.rows.append((self.line, [self.cells.get(i) for i in range(width)]))
                self.cells = {}
            else:
                self.rows.append((self.line, []))
        elif tag in ("v", "t"):
            self.capture = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "c" and self.cell is not None:
            column, kind = self.cell
            self.cell = None
            if column < MAX_COLUMNS:
                value = self._value(kind, "".join(self.text))
                if value is not None:
                    self.cells[column] = value
        elif tag == "si" and self.strings is None:
            if len(self.shared) >= MAX_SHARED_STRINGS:
                raise ProblemError(413, "xlsx_too_large",
                                   "Classeur XLSX trop volumineux : plus de "
                                   f"{thousands(MAX_SHARED_STRINGS)} textes différents.")
            self.shared.append("".join(self.text))

    def data(self, text: str) -> None:
        if self.capture and self.size < MAX_CELL_CHARS:
            kept = text[:MAX_CELL_CHARS - self.size]
            self.text.append(kept)
            self.size += len(kept)

    def _reset(self) -> None:
        self.text = []
        self.size = 0
        self.capture = False
        self.phonetic = 0

    def _value(self, kind: str, text: str) -> object:
        if kind == "s":
            strings = self.strings or []
            index = int(text) if text.strip().isdigit() and len(text.strip()) <= 9 else -1
            return strings[index] if 0 <= index < len(strings) else None
        if kind in ("inlineStr", "str", "e", "d"):
            return text
        if kind == "b":
            return text.strip() == "1"
        text = text.strip()
        if not text:
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            return text


def _attribute(attributes: list[str], wanted: str) -> str | None:
    """An attribute of expat's ordered list [name, value, name, value, …]."""
    for index in range(0, len(attributes) - 1, 2):
        if _local(attributes[index]) == wanted:
            return attributes[index + 1]
    return None


def _column(reference: str | None, default: int) -> int:
    """0 for `A1`, 27 for `AB3`; `default` when the cell has no reference."""
    found = _COLUMN.fullmatch(reference) if reference else None
    if found is None:
        return default
    index = 0
    for letter in found.group(1).upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _expat(handler: _Stream) -> Any:
    """An expat parser that refuses any DTD, entity or external reference (as defusedxml does)
    and reports to `handler` without building or interning anything."""

    def doctype(*_: object) -> None:
        raise _forbidden("une déclaration de type de document (DTD)")

    def entity(*_: object) -> None:
        raise _forbidden("une déclaration d'entité")

    def external(*_: object) -> int:
        raise _forbidden("une référence externe")

    parser = expat.ParserCreate(intern=None)  # None: names are not interned (no growth)
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    return parser


class Workbook:
    """An XLSX archive, checked, with its worksheets in order. Use it in a `with` block."""

    def __init__(self, data: bytes, limits: UploadLimits) -> None:
        self.limits = limits
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
            raise unreadable() from None
        try:
            check_archive(self.archive, limits)
            self.names = set(self.archive.namelist())
            workbook = self._target(self._relationships(""), "/officeDocument")
            if workbook is None:
                if "xl/workbook.xml" not in self.names:
                    raise unreadable("l'archive ne contient pas de classeur")
                workbook = "xl/workbook.xml"
            relations = self._relationships(workbook)
            self.sheets = self._sheets(workbook, relations)
            self._strings_part = self._target(relations, "/sharedStrings")
        except ProblemError:
            self.archive.close()
            raise
        self._strings: list[str] | None = None

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.archive.close()

    @property
    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.sheets]

    def sheet(self, name: str) -> Sheet:
        return next(sheet for sheet in self.sheets if sheet.name == name)

    # --- the small parts, read whole ----------------------------------------------------------

    def _small_part(self, path: str) -> Element:
        try:
            info = self.archive.getinfo(path)
        except KeyError:
            raise unreadable(f"la partie « {shorten(path, 60)} » manque") from None
        if info.file_size > MAX_XLSX_METADATA_BYTES:
            raise ProblemError(413, "xlsx_too_large",
                               f"Classeur XLSX refusé : la partie « {shorten(path, 60)} » pèse "
                               f"{mebibytes(info.file_size)} (au plus "
                               f"{mebibytes(MAX_XLSX_METADATA_BYTES)}).")
        content = self._read(path)
        try:
            root: Element = defused_fromstring(content, forbid_dtd=True)
        except DefusedXmlException:
            raise _forbidden("une DTD, une entité ou une référence externe") from None
        except ParseError as exc:
            line, column = exc.position
            raise unreadable(f"XML mal formé dans « {shorten(path, 60)} » (ligne {line}, "
                             f"colonne {column})") from None
        return root

    def _read(self, path: str) -> bytes:
        try:
            with self.archive.open(path) as stream:
                return stream.read(MAX_XLSX_METADATA_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                NotImplementedError):
            raise unreadable(f"la partie « {shorten(path, 60)} » est abîmée") from None

    def _relationships(self, part: str) -> list[tuple[str, str, str]]:
        """(id, type, target path) of the relationships of `part` ("" for the package)."""
        folder, name = posixpath.split(part)
        path = posixpath.join(folder, "_rels", f"{name}.rels")
        if path not in self.names:
            return []
        found = []
        for element in self._small_part(path).iter():
            if _local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
                continue
            target = element.get("Target", "")
            resolved = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target)))
            found.append((element.get("Id", ""), element.get("Type", ""), resolved))
        return found

    def _target(self, relations: list[tuple[str, str, str]], kind: str) -> str | None:
        return next((target for _, type_, target in relations
                     if type_.endswith(kind) and target in self.names), None)

    def _sheets(self, workbook: str, relations: list[tuple[str, str, str]]) -> list[Sheet]:
        worksheets = {rid: target for rid, type_, target in relations
                      if type_.endswith("/worksheet") and target in self.names}
        sheets = []
        for element in self._small_part(workbook).iter():
            if _local(element.tag) != "sheet":
                continue
            rid = next((value for key, value in element.attrib.items()
                        if _local(key) == "id"), None)
            if rid in worksheets:
                sheets.append(Sheet(element.get("name", ""), worksheets[rid]))
        if not sheets:
            raise unreadable("le classeur n'a aucune feuille de calcul")
        return sheets

    # --- the large parts, streamed ------------------------------------------------------------

    def _stream(self, path: str, handler: _Stream) -> Iterator[None]:
        """Feed `path` to `handler` 64 KiB at a time; yields after each piece."""
        parser = _expat(handler)
        fed = 0
        try:
            with self.archive.open(path) as stream:
                while chunk := stream.read(CHUNK):
                    fed += len(chunk)
                    if fed > self.limits.max_xlsx_uncompressed_bytes:
                        raise ProblemError(
                            413, "xlsx_too_large",
                            f"Classeur XLSX trop volumineux une fois décompressé : la limite "
                            f"est de {mebibytes(self.limits.max_xlsx_uncompressed_bytes)}.")
                    parser.Parse(chunk, False)
                    if fed - parser.CurrentByteIndex > MAX_XML_TOKEN_BYTES:
                        raise unreadable(f"un élément XML de « {shorten(path, 60)} » dépasse "
                                         f"{mebibytes(MAX_XML_TOKEN_BYTES)}")
                    yield
                parser.Parse(b"", True)
                yield
        except expat.ExpatError as exc:
            raise unreadable(f"XML tronqué ou mal formé dans « {shorten(path, 60)} » (ligne "
                             f"{exc.lineno}, colonne {exc.offset})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                NotImplementedError):
            raise unreadable(f"la partie « {shorten(path, 60)} » est abîmée") from None

    def strings(self) -> list[str]:
        """The shared strings (read once, on first use)."""
        if self._strings is None:
            handler = _Stream(None)
            if self._strings_part is not None:
                for _ in self._stream(self._strings_part, handler):
                    pass
            self._strings = handler.shared
        return self._strings

    def row_tags_exceed(self, sheet: Sheet, limit: int) -> bool:
        """Whether the sheet has more than `limit` `<row` tags, counted in the raw bytes at C
        speed, before any parsing (parsing them costs ~100 times more); stops as soon as the
        count passes. (A `<rowBreaks` counts too: one more at most.)"""
        count = 0
        carry = b""
        try:
            with self.archive.open(sheet.path) as stream:
                while chunk := stream.read(CHUNK):
                    data = carry + chunk
                    count += data.count(b"<row")
                    if count > limit + 1:
                        return True
                    carry = data[-3:]  # never a whole `<row`: no tag is counted twice
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                NotImplementedError):
            raise unreadable(f"la partie « {shorten(sheet.path, 60)} » est abîmée") from None
        return False

    def rows(self, sheet: Sheet) -> Iterator[tuple[int, list[object]]]:
        """(row number, cell values) of each `<row>` of the sheet, empty ones included; the
        values of the first `MAX_COLUMNS` columns (None for a blank cell)."""
        handler = _Stream(self.strings())
        for _ in self._stream(sheet.path, handler):
            if handler.rows:
                ready, handler.rows = handler.rows, []
                yield from ready
