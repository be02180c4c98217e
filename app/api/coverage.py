"""Coverage route: population and communes covered, zones blanches and overlaps of a scope,
at the chosen stages, as the perimeters stood on a day; as JSON, GeoJSON, CSV or XLSX."""

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from app.api.cpts import CptsContext
from app.services import coverage as service
from app.services import coverage_exports as exports
from app.services import coverage_gpkg

router = APIRouter(tags=["coverage"])

Severity = Literal["information", "warning", "conflict"]


class CptsName(BaseModel):
    """A CPTS in a list: named when the user may see it, else only its stage."""

    id: int | None
    name: str | None
    status: str
    named: bool


class Neighbour(CptsName):
    population: int
    size_class: int
    population_with_zone: int
    size_class_with_zone: int
    border_communes: int


class WhiteZone(BaseModel):
    id: str
    communes: list[str]
    population: int
    area_km2: float
    departements: list[str]
    enclave: bool
    extends_outside_scope: bool
    without_polygon: list[str]
    adjacent_cpts: list[Neighbour]
    other_stage_cpts: list[CptsName]


class UnitOverlap(BaseModel):
    commune: str
    nom: str
    departement: str
    population: int
    severity: Severity
    cpts: list[CptsName]


class PairOverlap(BaseModel):
    cpts: list[CptsName]
    communes: list[str]
    population: int
    severity: Severity


class StageFigures(BaseModel):
    status: str
    label: str
    counted: bool
    cpts: int
    population_covered: int
    communes_covered: int
    coverage_rate: float
    population_most_advanced: int
    communes_most_advanced: int


class Figures(BaseModel):
    population_total: int
    population_covered: int
    population_uncovered: int
    coverage_rate: float
    communes_total: int
    communes_covered: int
    communes_uncovered: int
    communes_coverage_rate: float


class DepartementFigures(Figures):
    departement: str
    nom: str | None
    white_zones: int


class CoverageOut(Figures):
    scope: str
    scope_kind: Literal["national", "region", "departement", "epci"]
    scope_code: str | None
    scope_name: str | None
    statuses: list[str]
    covered_means: str
    counting_rule: str
    at: date
    population_year: int
    size_rule: str
    size_rule_bound: str
    cpts_counted: int
    by_stage: list[StageFigures]
    by_departement: list[DepartementFigures]
    white_zones: list[WhiteZone]
    overlaps: list[UnitOverlap]
    overlap_pairs: list[PairOverlap]


FILE_TYPES: dict[str, dict[str, object]] = {
    "application/geo+json": {}, "text/csv": {},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
    "application/geopackage+sqlite3": {},
}


@router.get("/coverage", response_model=CoverageOut,
            responses={200: {"content": FILE_TYPES,
                             "description": "La couverture (JSON) ou un fichier"}})
def coverage(
    ctx: CptsContext,
    scope: Annotated[str, Query(max_length=40, description=(
        "`national`, `region:<code>`, `departement:<code>` ou `epci:<siren>`"))] = "national",
    statuses: Annotated[str | None, Query(max_length=80, description=(
        "Stades comptés comme couverts, séparés par des virgules (défaut : tous)"))] = None,
    at: Annotated[date | None, Query(description=(
        "Les périmètres tels qu'ils étaient ce jour-là (défaut : aujourd'hui)"))] = None,
    file_format: Annotated[Literal["json", "geojson", "csv", "xlsx", "gpkg"],
                           Query(alias="format")] = "json",
    table: Annotated[exports.CsvTable, Query(description="CSV : la table exportée")] = "zones",
) -> Response:
    """Couverture d'un territoire par les CPTS : population et communes couvertes (au total,
    par stade, par département), zones blanches (groupes contigus de communes non couvertes,
    avec les CPTS voisines et l'effet d'un rattachement sur leur taille, enclaves signalées)
    et recouvrements (par commune et par paire de CPTS, avec leur gravité).

    Une « commune » est une unité de périmètre (commune, ou arrondissement à Paris, Lyon et
    Marseille). Les stades retenus sont toujours rappelés (`statuses`, `covered_means`). Une
    zone blanche est coupée au bord du périmètre d'analyse (`extends_outside_scope`) ; son id
    est `zb-` suivi du plus petit code de ses communes. Une commune sans contour compte dans les
    totaux et forme, non couverte, une zone à elle seule. Les CPTS que l'utilisateur ne peut pas
    voir sont comptées mais non nommées (`named` faux)."""
    query = service.parse_query(scope, statuses, at)
    report = service.compute(ctx, query)
    if file_format == "json":
        body = json.dumps(report.view, ensure_ascii=False, separators=(",", ":"))
        return Response(body.encode("utf-8"), media_type="application/json")
    if file_format == "geojson":
        exported = exports.to_geojson(ctx, report)
    elif file_format == "csv":
        exported = exports.to_csv(report, table)
    elif file_format == "gpkg":
        exported = coverage_gpkg.to_gpkg(ctx, report)
    else:
        exported = exports.to_xlsx(report)
    return Response(exported.content, media_type=exported.media_type,
                    headers={"Content-Disposition": exported.content_disposition})
