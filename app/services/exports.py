"""Exports of a perimeter as a file: CSV for Excel (`;`, UTF-8 with BOM), XLSX (communes and a
summary), GeoJSON (the dissolved outline, then the communes) and GeoPackage (layers `perimetre`
and `communes`). Whoever may read the whole CPTS may export it (`can_export_cpts`). Text that a
spreadsheet would run as a formula is neutralised in CSV and XLSX (`app.domain.csv_safety`)."""

import io
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import shapely

from app.domain.communes import search_form
from app.domain.cpts_access import Visibility, can_export_cpts, status_label
from app.domain.csv_safety import excel_csv, xlsx_append
from app.repo import cpts as cpts_repo
from app.repo import exports as repo
from app.services import cpts as cpts_service
from app.services import indicator_exports
from app.services.cpts import Context

ExportFormat = Literal["csv", "xlsx", "geojson", "gpkg"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
# The CPTS on every row (files of several CPTS can be stacked, filtered, pivoted), then the
# commune; the last row, « Total », sums the population of the perimeter. One table, no
# comment line: Excel, LibreOffice and pandas read it as it is.
CSV_CPTS_COLUMNS = ("cpts_id", "cpts_nom", "cpts_stade", "cpts_version")
CSV_COMMUNE_COLUMNS = ("code_commune", "nom_commune", "departement", "population",
                       "population_year")
CSV_COLUMNS = CSV_CPTS_COLUMNS + CSV_COMMUNE_COLUMNS
CSV_TOTAL = "Total"


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        return f'attachment; filename="{self.filename}"'


def file_name(cpts_id: int, name: str, extension: str) -> str:
    """`cpts-12-nice-est.csv`: ASCII letters, digits and hyphens only."""
    slug = "-".join(search_form(name).split())[:60].strip("-")
    return f"cpts-{cpts_id}" + (f"-{slug}" if slug else "") + f".{extension}"


def _readable(ctx: Context, cpts_id: int) -> dict[str, Any]:
    current = cpts_service.load_readable(ctx, cpts_id)
    row = current.row
    if row["is_scenario"]:
        allowed = current.visibility is Visibility.FULL
    else:
        allowed = can_export_cpts(ctx.user, current.ref, publish_signed=ctx.publish_signed)
    if not allowed:
        raise cpts_service.not_found(cpts_id)
    return row


def export_cpts(ctx: Context, cpts_id: int, file_format: ExportFormat, *,
                with_communes: bool = True) -> ExportFile:
    _readable(ctx, cpts_id)
    view = cpts_service.read(ctx, cpts_id)
    view["indicators"] = indicator_exports.for_cpts(ctx, cpts_id)
    codes = list(view["communes"])
    if file_format == "csv":
        content = to_csv(repo.member_communes(ctx.conn, codes, geometry=False), view)
    elif file_format == "xlsx":
        content = to_xlsx(view, repo.member_communes(ctx.conn, codes, geometry=False))
    elif file_format == "geojson":
        communes = repo.member_communes(ctx.conn, codes, geometry=True) if with_communes else []
        content = to_geojson(view, cpts_repo.outline_geojson(ctx.conn, cpts_id), communes)
    else:
        content = to_gpkg(view, repo.current_outline(ctx.conn, cpts_id),
                          repo.member_communes(ctx.conn, codes, geometry=True))
    return ExportFile(content, MEDIA_TYPES[file_format],
                      file_name(cpts_id, view["name"], file_format))


def to_csv(communes: list[dict[str, Any]], cpts: dict[str, Any]) -> bytes:
    """`;`-separated, CRLF, UTF-8 with a BOM: Excel opens it with its accents. Each row: the
    CPTS (`id`, `name`, `status`, `version` of `cpts`) and one commune; then the « Total » row
    (number of communes, their départements, population summed)."""
    identity = [cpts["id"], cpts["name"], status_label(cpts["status"]), cpts["version"]]
    rows: list[list[Any]] = [[*identity, row["code"], row["nom"], row["departement"],
                              row["population"], row["population_year"]] for row in communes]
    years = sorted({row["population_year"] for row in communes})
    count = f"{len(communes)} commune" + ("s" if len(communes) > 1 else "")
    rows.append([*identity, CSV_TOTAL, count,
                 ", ".join(sorted({row["departement"] for row in communes})),
                 sum(int(row["population"]) for row in communes),
                 years[0] if len(years) == 1 else ", ".join(str(year) for year in years)])
    return excel_csv(CSV_COLUMNS, rows)


def _summary(view: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("CPTS", view["name"]),
        ("Numéro", view["id"]),
        ("Stade", status_label(view["status"])),
        ("Version", view["version"]),
        ("Communes (unités)", view["units"]),
        ("Population", view["population"]),
        ("Millésime de la population", view["population_year"]),
        ("Taille ACI", view["size_class"]),
        ("Règle de taille", view["size_rule"]),
        ("Borne des seuils", view["size_rule_bound"]),
        ("Plafond annuel de la taille (€)", view["funding_ceiling_eur"]),
        ("Superficie (km²)", view["area_km2"]),
        ("Départements", ", ".join(view["departements"])),
        ("Alertes", " ; ".join(w["detail"] for w in view["warnings"]) or "aucune"),
        ("Exporté le", date.today().isoformat()),
    ]


def to_xlsx(view: dict[str, Any], communes: list[dict[str, Any]]) -> bytes:
    """Sheet « Communes » (the CSV's commune columns) and sheet « Synthèse » (population,
    class, rule, version). Text is stored as text: a name starting with `=` never becomes a
    formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Communes"
    xlsx_append(sheet, CSV_COMMUNE_COLUMNS)
    for row in communes:
        xlsx_append(sheet, (row["code"], row["nom"], row["departement"], row["population"],
                        row["population_year"]))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (14, 36, 12, 12, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    summary = workbook.create_sheet("Synthèse")
    for label, value in _summary(view):
        xlsx_append(summary, (label, value))
        summary.cell(summary.max_row, 1).font = Font(bold=True)
    summary.column_dimensions["A"].width = 34
    summary.column_dimensions["B"].width = 60
    indicator_exports.add_sheet(workbook, view.get("indicators"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _properties(view: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "perimetre", "id": view["id"], "name": view["name"],
            "status": view["status"], "version": view["version"], "units": view["units"],
            "population": view["population"], "population_year": view["population_year"],
            "size_class": view["size_class"], "size_rule": view["size_rule"]}


def to_geojson(view: dict[str, Any], outline: dict[str, Any] | None,
               communes: list[dict[str, Any]]) -> bytes:
    """A FeatureCollection: the dissolved outline with the CPTS figures, then each commune."""
    features: list[dict[str, Any]] = [{
        "type": "Feature", "id": f"cpts-{view['id']}", "geometry": outline,
        "properties": _properties(view)}]
    features += [{
        "type": "Feature", "id": row["code"], "geometry": row["geojson"],
        "properties": {"kind": "commune", "code": row["code"], "nom": row["nom"],
                       "departement": row["departement"], "population": row["population"],
                       "population_year": row["population_year"]}}
        for row in communes]
    document = {"type": "FeatureCollection", "name": view["name"], "features": features}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_gpkg(view: dict[str, Any], outline: bytes | None,
            communes: list[dict[str, Any]]) -> bytes:
    """A GeoPackage with layers `perimetre` (one feature) and `communes`, in EPSG:4326."""
    import geopandas
    import pyogrio

    perimeter = geopandas.GeoDataFrame(
        [_properties(view)], geometry=[shapely.from_wkb(outline) if outline else None],
        crs="EPSG:4326")
    members = geopandas.GeoDataFrame(
        [{"code": r["code"], "nom": r["nom"], "departement": r["departement"],
          "population": r["population"], "population_year": r["population_year"]}
         for r in communes],
        geometry=[shapely.from_wkb(bytes(r["wkb"])) if r["wkb"] else None for r in communes],
        crs="EPSG:4326")
    with tempfile.TemporaryDirectory(prefix="cpts-export-") as directory:
        path = Path(directory) / "perimetre.gpkg"
        pyogrio.write_dataframe(perimeter, path, layer="perimetre", driver="GPKG",
                                promote_to_multi=True)
        pyogrio.write_dataframe(members, path, layer="communes", driver="GPKG",
                                promote_to_multi=True)
        return path.read_bytes()
