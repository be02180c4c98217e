"""Coverage as files: GeoJSON (zones blanches with their dissolved outline, then the units held
by several CPTS), CSV (`;`, UTF-8 with BOM, one table) and XLSX (synthèse, zones, rattachements,
overlaps, paires, par_departement). Every file says its scope, date and counted stages. Text
that a spreadsheet would run as a formula (a CPTS named `=HYPERLINK(…)`) is neutralised in CSV
and XLSX (`app.domain.csv_safety`)."""

import io
import json
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import shapely

from app.domain.communes import search_form
from app.domain.cpts_access import STATUS_LABELS
from app.domain.csv_safety import excel_csv, xlsx_append
from app.domain.dissolve import dissolve
from app.repo import coverage as repo
from app.services.coverage import CoverageReport
from app.services.cpts import Context
from app.services.exports import MEDIA_TYPES, ExportFile

CsvTable = Literal["zones", "rattachements", "overlaps", "paires", "par_departement"]
CSV_TABLES: tuple[CsvTable, ...] = ("zones", "rattachements", "overlaps", "paires",
                                    "par_departement")
COORDINATE_DECIMALS = 6


def file_name(report: CoverageReport, extension: str, table: str | None = None) -> str:
    """`couverture-departement-06-2025-03-01.csv`: ASCII letters, digits and hyphens."""
    scope = "-".join(search_form(str(report.query.scope).replace(":", " ")).split())
    suffix = f"-{table.replace('_', '-')}" if table else ""
    return f"couverture-{scope}-{report.query.at.isoformat()}{suffix}.{extension}"


def _cpts_label(entry: dict[str, Any]) -> str:
    stage = STATUS_LABELS.get(entry["status"], entry["status"])
    if not entry["named"]:
        return f"CPTS non visible ({stage})"
    return f"{entry['name']} (n° {entry['id']}, {stage})"


def _context_columns(view: dict[str, Any]) -> list[Any]:
    return [view["scope"], view["at"], ",".join(view["statuses"])]


CONTEXT_HEADERS = ["perimetre_analyse", "date", "stades_couverts"]


def tables(view: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the report, by name: headers and rows."""
    context = _context_columns(view)
    year = view["population_year"]
    zones = [
        [z["id"], len(z["communes"]), " ".join(z["communes"]), z["population"], year,
         z["area_km2"], " ".join(z["departements"]), "oui" if z["enclave"] else "non",
         "oui" if z["extends_outside_scope"] else "non", " ".join(z["without_polygon"]),
         len(z["adjacent_cpts"]), " ; ".join(_cpts_label(a) for a in z["adjacent_cpts"]),
         " ; ".join(_cpts_label(a) for a in z["other_stage_cpts"]), *context]
        for z in view["white_zones"]]
    attachments = [
        [z["id"], z["population"], a["id"], a["name"], a["status"], a["population"],
         a["size_class"], a["population_with_zone"], a["size_class_with_zone"],
         a["border_communes"], view["size_rule"], year, *context]
        for z in view["white_zones"] for a in z["adjacent_cpts"]]
    overlaps = [
        [o["commune"], o["nom"], o["departement"], o["population"], year, o["severity"],
         len(o["cpts"]), " ; ".join(_cpts_label(c) for c in o["cpts"]), *context]
        for o in view["overlaps"]]
    pairs = [
        [_cpts_label(p["cpts"][0]), _cpts_label(p["cpts"][1]), p["severity"],
         len(p["communes"]), " ".join(p["communes"]), p["population"], year, *context]
        for p in view["overlap_pairs"]]
    departements = [
        [d["departement"], d["nom"], d["population_total"], d["population_covered"],
         d["population_uncovered"], d["coverage_rate"], d["communes_total"],
         d["communes_covered"], d["communes_uncovered"], d["white_zones"], year, *context]
        for d in view["by_departement"]]
    return {
        "zones": (["zone_id", "communes", "codes_communes", "population", "millesime",
                   "superficie_km2", "departements", "enclave", "deborde_du_perimetre",
                   "sans_contour", "cpts_voisines", "cpts_voisines_detail",
                   "cpts_autres_stades", *CONTEXT_HEADERS], zones),
        "rattachements": (["zone_id", "population_zone", "cpts_id", "cpts_nom", "stade",
                           "population_cpts", "taille", "population_avec_zone",
                           "taille_avec_zone", "communes_en_contact", "regle_taille",
                           "millesime", *CONTEXT_HEADERS], attachments),
        "overlaps": (["code_commune", "nom_commune", "departement", "population", "millesime",
                      "gravite", "nombre_cpts", "cpts", *CONTEXT_HEADERS], overlaps),
        "paires": (["cpts_a", "cpts_b", "gravite", "communes", "codes_communes", "population",
                    "millesime", *CONTEXT_HEADERS], pairs),
        "par_departement": (["departement", "nom", "population_totale", "population_couverte",
                             "population_non_couverte", "taux_couverture", "communes",
                             "communes_couvertes", "communes_non_couvertes", "zones_blanches",
                             "millesime", *CONTEXT_HEADERS], departements),
    }


def to_csv(report: CoverageReport, table: CsvTable) -> ExportFile:
    headers, rows = tables(report.view)[table]
    return ExportFile(excel_csv(headers, rows), MEDIA_TYPES["csv"],
                      file_name(report, "csv", table))


def summary(view: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Périmètre d'analyse", f"{view['scope']} — {view['scope_name'] or ''}".strip(" —")),
        ("Date des périmètres", view["at"]),
        ("Stades comptés comme couverts", ", ".join(STATUS_LABELS[s] for s in view["statuses"])),
        ("Règle de comptage", view["counting_rule"]),
        ("Millésime de la population", view["population_year"]),
        ("Règle de taille", f"{view['size_rule']} ({view['size_rule_bound']})"),
        ("Population totale", view["population_total"]),
        ("Population couverte", view["population_covered"]),
        ("Population non couverte", view["population_uncovered"]),
        ("Taux de couverture (population)", view["coverage_rate"]),
        ("Communes", view["communes_total"]),
        ("Communes couvertes", view["communes_covered"]),
        ("Communes non couvertes", view["communes_uncovered"]),
        ("CPTS comptées", view["cpts_counted"]),
        ("Zones blanches", len(view["white_zones"])),
        ("dont enclaves", sum(1 for z in view["white_zones"] if z["enclave"])),
        ("Communes en recouvrement", len(view["overlaps"])),
        *((f"Couvert au stade {s['label']} (population)", s["population_covered"])
          for s in view["by_stage"]),
    ]


def to_xlsx(report: CoverageReport) -> ExportFile:
    """One sheet per table, plus « synthese »; text stays text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "synthese"
    for label, value in summary(report.view):
        xlsx_append(sheet, [label, value])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 42
    sheet.column_dimensions["B"].width = 80
    for title, (headers, rows) in tables(report.view).items():
        page = workbook.create_sheet(title)
        xlsx_append(page, headers)
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in rows:
            xlsx_append(page, row)
        page.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return ExportFile(buffer.getvalue(), MEDIA_TYPES["xlsx"], file_name(report, "xlsx"))


def _rounded(geometry: shapely.Geometry) -> dict[str, Any]:
    def snap(coordinates: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.round(coordinates, COORDINATE_DECIMALS)

    document: dict[str, Any] = json.loads(
        shapely.to_geojson(shapely.transform(geometry, snap)))
    return document


def _outline(codes: Iterable[str], geometries: dict[str, bytes]) -> dict[str, Any] | None:
    pieces = [geometries[c] for c in codes if c in geometries]
    if not pieces:
        return None
    return _rounded(dissolve(shapely.from_wkb(pieces)))


def to_geojson(ctx: Context, report: CoverageReport) -> ExportFile:
    """A FeatureCollection in WGS84: one feature per zone blanche (its dissolved outline; the
    units form an exact coverage), then one per unit held by several CPTS. The figures of the
    whole report are in the foreign member `coverage`."""
    view = report.view
    codes = sorted({c for z in view["white_zones"] for c in z["communes"]}
                   | {o["commune"] for o in view["overlaps"]})
    geometries = repo.unit_geometries(ctx.conn, codes)
    features: list[dict[str, Any]] = []
    for zone in view["white_zones"]:
        features.append({
            "type": "Feature", "id": zone["id"],
            "geometry": _outline(zone["communes"], geometries),
            "properties": {
                "kind": "white_zone", "id": zone["id"], "communes": len(zone["communes"]),
                "codes": " ".join(zone["communes"]), "population": zone["population"],
                "population_year": view["population_year"], "area_km2": zone["area_km2"],
                "departements": " ".join(zone["departements"]), "enclave": zone["enclave"],
                "adjacent_cpts": " ; ".join(_cpts_label(a) for a in zone["adjacent_cpts"]),
                "adjacent_count": len(zone["adjacent_cpts"])}})
    for overlap in view["overlaps"]:
        wkb = geometries.get(overlap["commune"])
        features.append({
            "type": "Feature", "id": f"overlap-{overlap['commune']}",
            "geometry": _rounded(shapely.from_wkb(wkb)) if wkb else None,
            "properties": {
                "kind": "overlap", "commune": overlap["commune"], "nom": overlap["nom"],
                "population": overlap["population"],
                "population_year": view["population_year"], "severity": overlap["severity"],
                "cpts_count": len(overlap["cpts"]),
                "cpts": " ; ".join(_cpts_label(c) for c in overlap["cpts"])}})
    figures = {key: value for key, value in view.items()
               if key not in ("white_zones", "overlaps", "overlap_pairs")}
    document = {"type": "FeatureCollection", "name": file_name(report, "geojson")[:-8],
                "coverage": figures, "features": features}
    content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ExportFile(content, MEDIA_TYPES["geojson"], file_name(report, "geojson"))
