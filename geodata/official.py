"""Official files given with `cpts geodata load --source DIR`: IGN ADMIN EXPRESS COG and INSEE.

An agency that holds the official deliveries loads them instead of the registry packages:

- the commune outlines come from an IGN ADMIN EXPRESS COG delivery found anywhere under DIR,
  as a GeoPackage (layers `commune`, `arrondissement_municipal`,
  `commune_associee_ou_deleguee`) or as shapefiles (COMMUNE.shp, ARRONDISSEMENT_MUNICIPAL.shp,
  COMMUNE_ASSOCIEE_OU_DELEGUEE.shp), one or several territories, each in its own projection;
- the populations come from an INSEE table of populations légales (CSV or XLSX) when DIR holds
  one, otherwise from the POPULATION field of ADMIN EXPRESS;
- the structure of the current COG (codes, names, EPCI, départements, régions, former codes)
  still comes from the decoupage-administratif package: an ADMIN EXPRESS edition older than
  that COG is brought to the current codes with its history (merged communes are rebuilt from
  the outlines of the communes they were made from, their populations summed).

Nothing is written when the files are wrong: every problem is a ProblemError with a stable code.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from app.errors import ProblemError
from geodata import sources
from geodata.build import SourceSet
from geodata.cog import PLM_COMMUNES, RESTORED_WITHOUT_OUTLINE, build_history

COMMUNE = "COMMUNE"
ARRONDISSEMENT = "ARRONDISSEMENT_MUNICIPAL"
ASSOCIEE_DELEGUEE = "COMMUNE_ASSOCIEE_OU_DELEGUEE"
LAYER_NAMES = (COMMUNE, ARRONDISSEMENT, ASSOCIEE_DELEGUEE)

# Fields read from each layer (IGN ADMIN EXPRESS COG 3.x names, matched case-insensitively).
# POPULATION is required only when no INSEE table is given.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    COMMUNE: ("INSEE_COM",),
    ARRONDISSEMENT: ("INSEE_ARM",),
    ASSOCIEE_DELEGUEE: ("INSEE_CAD", "INSEE_COM", "NATURE"),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    COMMUNE: ("NOM", "INSEE_DEP", "INSEE_REG", "SIREN_EPCI"),
    ARRONDISSEMENT: ("INSEE_COM", "NOM"),
    ASSOCIEE_DELEGUEE: ("NOM",),
}
POPULATION_FIELD = "POPULATION"

# ADMIN EXPRESS COG of edition N carries the populations légales in force on 1 January N,
# that is the census vintage (millésime) N - 3.
ADMIN_EXPRESS_POPULATION_LAG = 3

SHAPEFILE_SIDECARS = (".dbf", ".shx", ".prj", ".cpg")
TABLE_SUFFIXES = (".csv", ".xlsx", ".ods")
HEADER_SCAN_ROWS = 30

_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DATE = re.compile(r"(?<!\d)(19[89]\d|20\d\d)-(0[1-9]|1[0-2])-(\d\d)(?!\d)")
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")
_PMUN = re.compile(r"^(?:pmun|population_municipale)(|_.*|\d{2}|\d{4})$")

# Column names of population tables, after normalisation (lower case, no accents, "_").
_COMMUNE_COLUMNS = ("com", "codgeo", "depcom", "insee_com", "code_insee", "code_commune_insee",
                    "codeinsee", "code_geo", "code_commune", "codecommune", "code_com", "codcom")
_ARM_COLUMNS = ("arm", "codarm", "code_arm", "insee_arm", "code_arrondissement_municipal")
_DEP_COLUMNS = ("dep", "coddep", "code_departement", "code_dep", "insee_dep")
_TYPE_COLUMNS = ("typecom", "type_com", "type_commune")
_LEVEL_COLUMNS = ("reg", "codreg", "code_region", "insee_reg", *_DEP_COLUMNS, "arr", "codarr",
                  "code_arrondissement", "can", "codcan", "code_canton")


def _problem(status: int, code: str, detail: str) -> ProblemError:
    return ProblemError(status, code, detail)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _normalise(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _files(source_dir: Path) -> list[Path]:
    """Every regular file under `source_dir`, hidden files and folders left out, sorted."""
    found = []
    for path in source_dir.rglob("*"):
        parts = path.relative_to(source_dir).parts
        if any(part.startswith((".", "~$")) for part in parts) or not path.is_file():
            continue
        found.append(path)
    return sorted(found)


# --------------------------------------------------------------------------- ADMIN EXPRESS


@dataclass(frozen=True)
class LayerSource:
    """One ADMIN EXPRESS layer: a shapefile, or a layer of a GeoPackage."""

    kind: str              # COMMUNE, ARRONDISSEMENT_MUNICIPAL, COMMUNE_ASSOCIEE_OU_DELEGUEE
    path: Path
    layer: str | None      # the layer name inside a GeoPackage; None for a shapefile

    @property
    def label(self) -> str:
        return f"{self.path.name} (couche {self.layer})" if self.layer else self.path.name


@dataclass(frozen=True)
class Edition:
    product: str           # ADMIN EXPRESS COG, or its generalised version ADMIN EXPRESS COG CARTO
    year: int | None
    date: str | None       # YYYY-MM-DD when the names carry it

    def describe(self) -> str:
        if self.year is None:
            return f"{self.product} (édition non datée)"
        suffix = f" (édition du {self.date})" if self.date else ""
        return f"{self.product} {self.year}{suffix}"


def _edition(path: Path, source_dir: Path) -> Edition:
    """The edition a file belongs to, read from its name and its folders' names up to DIR."""
    names = [path.stem, *(p.name for p in path.relative_to(source_dir).parents if p.name),
             source_dir.resolve().name]
    product = ("ADMIN EXPRESS COG CARTO" if any("CARTO" in name.upper() for name in names)
               else "ADMIN EXPRESS COG")
    for name in names:
        match = _DATE.search(name)
        if match:
            return Edition(product, int(match.group(1)), match.group(0))
    for name in names:
        years = set(_YEAR.findall(name))
        if len(years) == 1:
            return Edition(product, int(years.pop()), None)
    return Edition(product, None, None)


def find_layers(source_dir: Path) -> list[LayerSource]:
    """The ADMIN EXPRESS layers under `source_dir`; at least one COMMUNE layer, or an error."""
    if not source_dir.is_dir():
        raise _problem(400, "source_not_found",
                       f"Le dossier des fichiers officiels {source_dir} n'existe pas.")
    layers: list[LayerSource] = []
    archives: list[str] = []
    for path in _files(source_dir):
        suffix = path.suffix.lower()
        if suffix == ".shp" and path.stem.upper() in LAYER_NAMES:
            layers.append(LayerSource(path.stem.upper(), path, None))
        elif suffix == ".gpkg":
            try:
                names = [str(row[0]) for row in pyogrio.list_layers(path)]
            except (RuntimeError, OSError, ValueError) as exc:
                raise _unreadable(path, source_dir, exc) from exc
            for name in names:
                if name.upper() in LAYER_NAMES:
                    layers.append(LayerSource(name.upper(), path, name))
        elif suffix in (".7z", ".zip"):
            archives.append(path.name)
    if not any(layer.kind == COMMUNE for layer in layers):
        hint = (" Décompressez d'abord l'archive (" + ", ".join(archives[:3]) + ")."
                if archives else "")
        raise _problem(
            422, "source_missing_layer",
            f"Aucune couche COMMUNE d'ADMIN EXPRESS COG n'a été trouvée dans {source_dir} "
            "(GeoPackage avec une couche « commune » ou fichier COMMUNE.shp)." + hint,
        )
    return layers


def _unreadable(path: Path, source_dir: Path, exc: BaseException) -> ProblemError:
    reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return _problem(422, "source_unreadable",
                    f"Le fichier {_relative(path, source_dir)} est illisible : {reason}")


def read_layer(layer: LayerSource, source_dir: Path, with_population: bool) -> pd.DataFrame:
    """The layer with upper-case IGN field names and a WGS84 shapely `geometry` column."""
    where = _relative(layer.path, source_dir) + (f" (couche {layer.layer})" if layer.layer else "")
    try:
        info = pyogrio.read_info(layer.path, layer=layer.layer)
    except (RuntimeError, OSError, ValueError) as exc:
        raise _unreadable(layer.path, source_dir, exc) from exc
    by_upper = {str(name).upper(): str(name) for name in info["fields"]}
    required = list(REQUIRED_FIELDS[layer.kind])
    if with_population and layer.kind in (COMMUNE, ARRONDISSEMENT):
        required.append(POPULATION_FIELD)
    missing = [name for name in required if name not in by_upper]
    if missing:
        raise _problem(
            422, "source_missing_field",
            f"La couche {layer.kind} de {where} n'a pas le(s) champ(s) " + ", ".join(missing)
            + " (champs présents : " + ", ".join(sorted(by_upper)) + ")."
            + (" Sans table de populations INSEE, le champ POPULATION est nécessaire."
               if POPULATION_FIELD in missing else ""),
        )
    wanted = [*required, *(n for n in OPTIONAL_FIELDS[layer.kind] if n in by_upper)]
    if POPULATION_FIELD in by_upper and POPULATION_FIELD not in wanted:
        wanted.append(POPULATION_FIELD)
    try:
        frame = pyogrio.read_dataframe(layer.path, layer=layer.layer,
                                       columns=[by_upper[name] for name in wanted])
    except (RuntimeError, OSError, ValueError) as exc:
        raise _unreadable(layer.path, source_dir, exc) from exc
    if frame.crs is None:
        raise _problem(
            422, "source_unreadable",
            f"{where} n'indique pas son système de coordonnées"
            + (" (fichier .prj absent)." if layer.layer is None else "."),
        )
    frame = frame.rename(columns={by_upper[name]: name for name in wanted})
    try:
        geoms = np.asarray(frame.to_crs(4326).geometry.array, dtype=object)
    except (RuntimeError, ValueError) as exc:
        raise _unreadable(layer.path, source_dir, exc) from exc
    out = pd.DataFrame({name: frame[name].to_numpy() for name in wanted})
    out["geometry"] = [None if g is None or g.is_empty else shapely.force_2d(g) for g in geoms]
    out["file"] = where
    return out


def _code(value: Any) -> str | None:
    """An INSEE code as text: stripped, upper case, a lost leading zero restored."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if text.isdigit() and len(text) == 4:
        text = "0" + text
    return text or None


def _check_duplicates(frame: pd.DataFrame, kind: str) -> None:
    """The same code in two files: two deliveries (or editions) of one territory in DIR."""
    files = frame.groupby("code")["file"].nunique()
    clashes = files[files > 1]
    if len(clashes):
        code = str(clashes.index[0])
        where = sorted(set(frame.loc[frame["code"] == code, "file"]))
        raise _problem(
            422, "source_duplicate",
            f"Le code {code} de la couche {kind} figure dans plusieurs fichiers ("
            + ", ".join(where) + ") : le dossier contient plusieurs livraisons du même "
            "territoire. N'en gardez qu'une par territoire.",
        )


@dataclass
class Delivery:
    """What the ADMIN EXPRESS layers hold, before reconciliation with the current COG."""

    communes: pd.DataFrame       # code, population, geometry, file
    arrondissements: pd.DataFrame  # code, parent, population, geometry, file
    parts: pd.DataFrame          # code, type (COMD/COMA), parent, geometry, file
    editions: dict[str, Edition] = field(default_factory=dict)  # file → edition


def read_delivery(layers: Sequence[LayerSource], source_dir: Path,
                  with_population: bool) -> Delivery:
    frames: dict[str, list[pd.DataFrame]] = {kind: [] for kind in LAYER_NAMES}
    editions: dict[str, Edition] = {}
    for layer in layers:
        frame = read_layer(layer, source_dir, with_population)
        frames[layer.kind].append(frame)
        editions[_relative(layer.path, source_dir)] = _edition(layer.path, source_dir)

    def concat(kind: str, columns: list[str]) -> pd.DataFrame:
        parts = [f for f in frames[kind] if len(f)]
        if not parts:
            return pd.DataFrame(columns=[*columns, "geometry", "file"])
        return pd.concat(parts, ignore_index=True)

    com = concat(COMMUNE, ["INSEE_COM", POPULATION_FIELD])
    communes = pd.DataFrame({
        "code": [_code(v) for v in com["INSEE_COM"]],
        "population": _populations(com),
        "geometry": com["geometry"].to_numpy(), "file": com["file"].to_numpy(),
    })
    arm = concat(ARRONDISSEMENT, ["INSEE_ARM", "INSEE_COM", POPULATION_FIELD])
    arm_codes = [_code(v) for v in arm["INSEE_ARM"]]
    arm_parents = ([_code(v) for v in arm["INSEE_COM"]] if "INSEE_COM" in arm
                   else [None] * len(arm))
    arrondissements = pd.DataFrame({
        "code": arm_codes,
        "parent": [p or _plm_parent(c) for c, p in zip(arm_codes, arm_parents, strict=True)],
        "population": _populations(arm),
        "geometry": arm["geometry"].to_numpy(), "file": arm["file"].to_numpy(),
    })
    cad = concat(ASSOCIEE_DELEGUEE, ["INSEE_CAD", "INSEE_COM", "NATURE"])
    parts = pd.DataFrame({
        "code": [_code(v) for v in cad["INSEE_CAD"]],
        "type": [_nature(v) for v in cad["NATURE"]],
        "parent": [_code(v) for v in cad["INSEE_COM"]],
        "geometry": cad["geometry"].to_numpy(), "file": cad["file"].to_numpy(),
    })
    communes = communes[communes["code"].notna()].reset_index(drop=True)
    arrondissements = arrondissements[arrondissements["code"].notna()].reset_index(drop=True)
    parts = parts[parts["code"].notna() & parts["parent"].notna()].reset_index(drop=True)
    _check_duplicates(communes, COMMUNE)
    _check_duplicates(arrondissements, ARRONDISSEMENT)

    if not len(arrondissements) and communes["code"].isin(PLM_COMMUNES).any():
        raise _problem(
            422, "source_missing_layer",
            "La livraison contient Paris, Lyon ou Marseille mais pas la couche "
            "ARRONDISSEMENT_MUNICIPAL : les arrondissements n'auraient pas de contour.",
        )
    return Delivery(communes, arrondissements, parts, editions)


def _populations(frame: pd.DataFrame) -> list[int | None]:
    if POPULATION_FIELD not in frame:
        return [None] * len(frame)
    values = pd.to_numeric(frame[POPULATION_FIELD], errors="coerce")
    return [None if pd.isna(v) else int(v) for v in values]


def _plm_parent(code: str | None) -> str | None:
    if code is None:
        return None
    for plm, prefix in (("75056", "751"), ("69123", "6938"), ("13055", "132")):
        if code.startswith(prefix):
            return plm
    return None


def _nature(value: Any) -> str:
    text = _normalise(str(value or ""))
    return "COMA" if text.startswith("coma") or "associee" in text else "COMD"


# --------------------------------------------------------------------------- INSEE table


@dataclass(frozen=True)
class PopulationTable:
    path: Path
    populations: dict[str, int]
    year: int | None
    year_from: str | None
    encoding: str | None
    sheets: tuple[str, ...]


@dataclass(frozen=True)
class _Header:
    row: int
    code: int | None
    arm: int | None
    dep: int | None
    kind: int | None
    pmun: int
    year: int | None


def _find_header(rows: Sequence[Sequence[str]]) -> tuple[_Header | None, str]:
    """The header row of a commune-level table, or None and why ("other_level" or a reason)."""
    other_level = False
    saw_code = saw_pmun = False
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        names = [_normalise(str(cell or "")) for cell in row]
        pmun, year = None, None
        for position, name in enumerate(names):
            match = _PMUN.match(name)
            if match:
                pmun = position
                rest = match.group(1)
                years = _YEAR.findall(rest)
                short = re.fullmatch(r"_?(\d{2})", rest)
                if len(years) == 1:
                    year = int(years[0])
                elif short:
                    year = 2000 + int(short.group(1))
                break

        def first(candidates: tuple[str, ...], names: list[str] = names) -> int | None:
            for candidate in candidates:
                if candidate in names:
                    return names.index(candidate)
            return None

        code, arm = first(_COMMUNE_COLUMNS), first(_ARM_COLUMNS)
        saw_code = saw_code or code is not None or arm is not None
        saw_pmun = saw_pmun or pmun is not None
        if pmun is not None and (code is not None or arm is not None):
            return _Header(index, code, arm, first(_DEP_COLUMNS), first(_TYPE_COLUMNS), pmun,
                           year), ""
        if pmun is not None and first(_LEVEL_COLUMNS) is not None:
            other_level = True
    if other_level:
        return None, "other_level"
    if saw_code:
        return None, "pas de colonne PMUN (population municipale)"
    if saw_pmun:
        return None, "pas de colonne de code commune (COM, CODGEO…)"
    return None, "ni colonne de code commune (COM, CODGEO…) ni colonne PMUN"


def _full_code(raw: str, dep: str | None) -> str | None:
    code = _code(raw)
    if code is None:
        return None
    if len(code) <= 3 and code.isdigit() and dep:
        department = _code(dep) or ""
        if department.isdigit() and len(department) == 1:
            department = "0" + department
        code = department + (code.zfill(2)[-2:] if len(department) == 3 else code.zfill(3))
    return code


def _parse_count(raw: str) -> int | None:
    text = re.sub(r"[\s\u202f\u00a0]", "", raw).replace(",", ".")
    if not text:
        return None
    value = float(text)
    if value < 0 or value != int(value):
        raise ValueError(raw)
    return int(value)


def _table_rows(rows: Sequence[Sequence[str]], header: _Header, where: str) -> dict[str, int]:
    populations: dict[str, int] = {}

    def cell(row: Sequence[str], position: int | None) -> str:
        if position is None or position >= len(row):
            return ""
        value = row[position]
        return "" if value is None else str(value).strip()

    for number, row in enumerate(rows[header.row + 1:], start=header.row + 2):
        if header.kind is not None and cell(row, header.kind).upper() in ("COMD", "COMA"):
            continue
        raw_code = cell(row, header.arm) or cell(row, header.code)
        raw_pmun = cell(row, header.pmun)
        if not raw_code or not raw_pmun:
            continue
        code = _full_code(raw_code, cell(row, header.dep) or None)
        try:
            value = _parse_count(raw_pmun)
        except ValueError:
            raise _problem(
                422, "population_table_invalid",
                f"{where}, ligne {number} : la population « {raw_pmun} » n'est pas un nombre "
                "entier.",
            ) from None
        if code is None or not _CODE.match(code):
            raise _problem(
                422, "population_table_invalid",
                f"{where}, ligne {number} : « {raw_code} » n'est pas un code commune INSEE.",
            )
        if value is None:
            continue
        if populations.get(code, value) != value:
            raise _problem(
                422, "population_table_invalid",
                f"{where} : le code {code} figure deux fois avec des populations différentes.",
            )
        populations[code] = value
    return populations


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, {"utf-8-sig": "utf-8", "cp1252": "windows-1252"}.get(encoding, encoding)
    raise AssertionError("latin-1 decodes every byte")


def _csv_rows(path: Path, source_dir: Path) -> tuple[list[list[str]], str]:
    try:
        text, encoding = _decode(path.read_bytes())
    except OSError as exc:
        raise _unreadable(path, source_dir, exc) from exc
    lines = [line for line in text.splitlines()[:HEADER_SCAN_ROWS] if line.strip()]
    sample = "\n".join(lines)
    delimiter = max((";", ",", "\t", "|"), key=sample.count)
    return list(csv.reader(io.StringIO(text), delimiter=delimiter)), encoding


def _sheet_rows(path: Path, source_dir: Path) -> list[tuple[str, list[list[str]]]]:
    try:
        sheets = [str(row[0]) for row in pyogrio.list_layers(path)]
        out = []
        for sheet in sheets:
            frame = pyogrio.read_dataframe(path, layer=sheet, read_geometry=False,
                                           HEADERS="DISABLE", FIELD_TYPES="STRING")
            rows = [["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                     for v in record] for record in frame.itertuples(index=False)]
            out.append((sheet, rows))
    except (RuntimeError, OSError, ValueError) as exc:
        raise _unreadable(path, source_dir, exc) from exc
    return out


def _year_from_names(path: Path, source_dir: Path) -> int | None:
    """A year the file's name (or a folder's between DIR and it) states without ambiguity."""
    for name in (path.stem, *(p.name for p in path.relative_to(source_dir).parents if p.name)):
        years = set(_YEAR.findall(name))
        if len(years) == 1:
            return int(years.pop())
        if len(years) > 1:
            return None
    return None


def read_population_table(path: Path, source_dir: Path) -> PopulationTable | None:
    """The populations of a table, or None when it is a table of another level (régions…)."""
    where = _relative(path, source_dir)
    if path.suffix.lower() == ".csv":
        rows, encoding = _csv_rows(path, source_dir)
        sheets: list[tuple[str, list[list[str]]]] = [("", rows)]
    else:
        sheets, encoding = _sheet_rows(path, source_dir), None
    populations: dict[str, int] = {}
    years: set[int] = set()
    used: list[str] = []
    reasons: list[str] = []
    for sheet, rows in sheets:
        header, reason = _find_header(rows)
        label = f"{where} (feuille {sheet})" if sheet else where
        if header is None:
            reasons.append(reason)
            continue
        for code, value in _table_rows(rows, header, label).items():
            if populations.get(code, value) != value:
                raise _problem(
                    422, "population_table_invalid",
                    f"{where} : le code {code} figure deux fois avec des populations "
                    "différentes.")
            populations[code] = value
        if header.year is not None:
            years.add(header.year)
        used.append(sheet)
    if not used:
        if "other_level" in reasons:
            return None
        reason = next((r for r in reasons if r != "other_level"), "table vide")
        raise _problem(
            422, "population_table_invalid",
            f"{where} n'est pas une table de populations légales par commune : {reason}. "
            "Colonnes attendues : un code commune (COM, CODGEO, ou DEP et CODCOM) ou "
            "d'arrondissement municipal (ARM) et PMUN.",
        )
    if not populations:
        raise _problem(422, "population_table_invalid",
                       f"{where} ne contient aucune population de commune.")
    if len(years) == 1:
        year: int | None = years.pop()
        year_from: str | None = "colonne PMUN de la table"
    else:
        year = _year_from_names(path, source_dir)
        year_from = "nom du fichier" if year is not None else None
    return PopulationTable(path, populations, year, year_from, encoding, tuple(used))


def find_population_tables(source_dir: Path) -> list[PopulationTable]:
    tables = []
    for path in _files(source_dir):
        suffix = path.suffix.lower()
        if suffix == ".xls":
            raise _problem(
                422, "source_unreadable",
                f"{_relative(path, source_dir)} est au format Excel 97 (.xls), qui n'est pas lu : "
                "enregistrez-le en .xlsx ou en .csv.")
        if suffix in TABLE_SUFFIXES:
            table = read_population_table(path, source_dir)
            if table is not None:
                tables.append(table)
    return tables


# --------------------------------------------------------------------------- reconciliation


def _forward(decoupage: dict[str, list[dict[str, Any]]]) -> tuple[set[str], dict[str, str]]:
    """Current codes (communes and arrondissements) and former code → current code."""
    items = decoupage["communes"]
    current = {c["code"] for c in items
               if c["type"] in ("commune-actuelle", "arrondissement-municipal")}
    history = build_history(items)
    history = history[~history["old_code"].isin(current) & history["new_code"].isin(current)]
    forward = dict(zip(history.drop_duplicates("old_code")["old_code"],
                       history.drop_duplicates("old_code")["new_code"], strict=True))
    return current, forward


def to_current_codes(values: dict[str, int], current: set[str],
                     forward: dict[str, str]) -> dict[str, int]:
    """Populations by current code: former communes are added to the one they merged into.

    A commune that was split off since (restored) is missing from the table while the commune
    it came from is counted with it: neither figure would be right, both are left out (the
    build keeps the COG's figures for them).
    """
    result: dict[str, int] = {}
    for code, value in values.items():
        target = code if code in current else forward.get(code)
        if target is not None:
            result[target] = result.get(target, 0) + value
    for restored, origin in RESTORED_WITHOUT_OUTLINE.items():
        if restored in current and restored not in values:
            result.pop(origin, None)
    return result


def polygons_frame(delivery: Delivery, current: set[str],
                   forward: dict[str, str]) -> pd.DataFrame:
    """Rows code, type (COM, COMD, COMA, ARM), parent, geometry for geodata.polygons.

    Communes of an older edition that have since merged become parts (type COMD) of the
    current commune, which is then rebuilt from them, its own former outline included.
    """
    communes = delivery.communes
    targets = {forward[c] for c in communes["code"] if c not in current and c in forward}
    merged = communes["code"].isin(targets) | (~communes["code"].isin(current)
                                               & communes["code"].map(forward).isin(targets))
    com = pd.DataFrame({"code": communes["code"], "type": "COM", "parent": None,
                        "geometry": communes["geometry"]})
    com.loc[merged, "type"] = "COMD"
    com.loc[merged, "parent"] = [c if c in targets else forward[c]
                                 for c in communes.loc[merged, "code"]]
    arm = pd.DataFrame({"code": delivery.arrondissements["code"], "type": "ARM",
                        "parent": delivery.arrondissements["parent"],
                        "geometry": delivery.arrondissements["geometry"]})
    parts = delivery.parts.copy()
    parts["parent"] = [p if p in current else forward.get(p, p) for p in parts["parent"]]
    parts = parts[~parts["parent"].isin(targets)]
    frame = pd.concat([com, arm, parts[["code", "type", "parent", "geometry"]]],
                      ignore_index=True)
    frame["geometry"] = frame["geometry"].astype(object)
    frame["parent"] = frame["parent"].astype(object).where(frame["parent"].notna(), None)
    return frame


# --------------------------------------------------------------------------- the source set


def _describe_files(layers: Iterable[LayerSource], source_dir: Path,
                    editions: dict[str, Edition]) -> list[dict[str, str]]:
    by_file: dict[Path, list[LayerSource]] = {}
    for layer in layers:
        by_file.setdefault(layer.path, []).append(layer)
    out = []
    for path, in_file in sorted(by_file.items()):
        relative = _relative(path, source_dir)
        name = editions[relative].describe()
        if in_file[0].layer is None:
            files = [path] + [p for p in (path.with_suffix(s) for s in SHAPEFILE_SIDECARS)
                              if p.exists()]
            files += [p for p in (path.with_suffix(s.upper()) for s in SHAPEFILE_SIDECARS)
                      if p.exists() and p not in files]
            for item in files:
                out.append({"name": f"{name} — {in_file[0].kind}",
                            "file": _relative(item, source_dir), "sha256": sources.sha256(item)})
        else:
            layers_read = ", ".join(layer.layer or "" for layer in in_file)
            out.append({"name": f"{name} — {layers_read}", "file": relative,
                        "sha256": sources.sha256(path)})
    return out


def _check_year(year: int) -> int:
    if not 1990 <= year <= 2100:
        raise _problem(400, "population_year_invalid",
                       f"Le millésime de population {year} n'est pas une année plausible.")
    return year


def _from_tables(tables: Sequence[PopulationTable],
                 population_year: int | None) -> tuple[dict[str, int], int, str]:
    """Populations of the INSEE tables, their vintage and where the vintage was read."""
    raw: dict[str, int] = {}
    for table in tables:
        for code, value in table.populations.items():
            if raw.get(code, value) != value:
                raise _problem(
                    422, "population_table_invalid",
                    f"Le code {code} figure dans plusieurs tables de populations avec des "
                    "valeurs différentes.")
            raw[code] = value
    if population_year is not None:
        return raw, population_year, "option --population-year"
    years = {t.year for t in tables if t.year is not None}
    if len(years) > 1:
        raise _problem(
            422, "population_year_conflict",
            "Les tables de populations portent des millésimes différents ("
            + ", ".join(map(str, sorted(years))) + ") : gardez-en une seule ou précisez "
            "--population-year.")
    if not years or any(t.year is None for t in tables):
        raise _problem(
            422, "population_year_unknown",
            "Le millésime de la table de populations INSEE ne se lit ni dans ses colonnes ni "
            "dans le nom du fichier : précisez-le avec --population-year (ex. 2023).")
    return raw, years.pop(), next(t.year_from or "" for t in tables)


def _from_admin_express(delivery: Delivery, editions: Sequence[int],
                        population_year: int | None) -> tuple[dict[str, int], int, str]:
    """The POPULATION field of the layers, its vintage and where the vintage was read."""
    raw: dict[str, int] = {}
    for frame in (delivery.communes, delivery.arrondissements):
        for code, value in zip(frame["code"], frame["population"], strict=True):
            if value is not None:
                raw[code] = int(value)
    if population_year is not None:
        return raw, population_year, "option --population-year"
    if len(editions) != 1:
        raise _problem(
            422, "population_year_unknown",
            "Le millésime des populations d'ADMIN EXPRESS ne se déduit pas de l'édition (nom de "
            "la livraison sans date, ou plusieurs éditions) : précisez-le avec "
            "--population-year.")
    year = editions[0] - ADMIN_EXPRESS_POPULATION_LAG
    return raw, year, (f"édition ADMIN EXPRESS COG {editions[0]} (populations légales en "
                       f"vigueur au 1er janvier {editions[0]}, millésime {year})")


def official_sources(source_dir: Path, cache_dir: Path,
                     population_year: int | None = None,
                     cog_package: str = sources.DECOUPAGE_VERSION) -> SourceSet:
    """The source set of an ADMIN EXPRESS COG delivery (and INSEE table) under `source_dir`,
    with the codes of the COG of @etalab/decoupage-administratif `cog_package`."""
    source_dir = Path(source_dir)
    tarball = sources.fetch_decoupage(cache_dir, cog_package)
    cog_year = (sources.DECOUPAGE_COG_YEAR if cog_package == sources.DECOUPAGE_VERSION
                else sources.decoupage_cog_year(tarball.path))
    if population_year is not None:
        _check_year(population_year)
    layers = find_layers(source_dir)
    tables = find_population_tables(source_dir)
    delivery = read_delivery(layers, source_dir, with_population=not tables)

    editions = sorted({e for e in delivery.editions.values()},
                      key=lambda e: (e.year or 0, e.date or ""))
    years = sorted({e.year for e in editions if e.year is not None})
    if years and years[-1] > cog_year:
        raise _problem(
            422, "source_cog_mismatch",
            f"L'édition ADMIN EXPRESS COG {years[-1]} est plus récente que le COG "
            f"{cog_year} du découpage administratif utilisé pour les codes : "
            "mettez à jour le paquet @etalab/decoupage-administratif avant de la charger.",
        )

    if tables:
        raw, year, year_from = _from_tables(tables, population_year)
        population_source = "INSEE, populations légales (PMUN) : " + ", ".join(
            _relative(t.path, source_dir) for t in tables)
    else:
        raw, year, year_from = _from_admin_express(delivery, years, population_year)
        population_source = "ADMIN EXPRESS COG, champ POPULATION"
    _check_year(year)

    decoupage = sources.read_decoupage(tarball.path)
    current, forward = _forward(decoupage)
    override = to_current_codes(raw, current, forward)
    polygons = polygons_frame(delivery, current, forward)
    zonings, labels = sources.read_supracommunal()

    descriptions = _describe_files(layers, source_dir, delivery.editions)
    for table in tables:
        entry = {"name": "INSEE, populations légales", "file": _relative(table.path, source_dir),
                 "sha256": sources.sha256(table.path)}
        if table.encoding:
            entry["encoding"] = table.encoding
        if any(table.sheets):
            entry["sheets"] = ", ".join(table.sheets)
        descriptions.append(entry)
    descriptions += [
        {"name": "population municipale", "source": population_source, "year": str(year),
         "year_from": year_from},
        tarball.describe(f"{sources.DECOUPAGE_PACKAGE}@{cog_package}"),
        {"name": "supracommunal_2024 (INSEE, COGugaison)", "file": "geodata/reference"},
    ]
    vintage = " ; ".join(e.describe() for e in editions)
    return SourceSet(
        cog_year=cog_year,
        population_year=year,
        geometry_vintage=vintage,
        decoupage=decoupage,
        polygons=polygons,
        zonings=zonings,
        zoning_labels=labels,
        descriptions=descriptions,
        population_override=override,
    )
