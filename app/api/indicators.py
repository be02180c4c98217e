"""Indicator routes: upload a table (`POST /api/indicators/tables?dry_run=`), list the tables
(`GET /api/indicators/tables`), aggregate them for a perimeter or a territory
(`GET /api/indicators?scope=…` or `?units=…`) and give one indicator for a map
(`GET /api/indicators/map`).

The file is read by the bounded upload reader of the CPTS imports (`app.api.imports`); the
declaration of the table travels beside it in the multipart field `definition` (JSON).
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from app.api.cpts import CptsContext
from app.api.imports import MULTIPART_ENVELOPE, _read_limited, _too_large, upload_limits
from app.domain.upload_limits import UploadLimits
from app.errors import ProblemError
from app.services import indicators as service
from app.services.indicators import TableOptions
from app.settings import Settings

router = APIRouter(tags=["indicators"])

MAX_DEFINITION_BYTES = 256 * 1024


@dataclass(frozen=True)
class TableUpload:
    data: bytes
    definition: str
    filename: str | None
    limits: UploadLimits


async def table_upload(request: Request) -> TableUpload:
    """The file (field `file`) and its declaration (field `definition`), within the upload
    limits of the settings."""
    settings: Settings = request.app.state.settings
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > (
            limit + MAX_DEFINITION_BYTES + MULTIPART_ENVELOPE):
        raise _too_large(settings)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ProblemError(415, "multipart_required", "Envoyez le fichier (champ « file ») et sa "
                                                      "déclaration (champ « definition ») en "
                                                      "multipart/form-data.")
    async with request.form(max_files=1, max_fields=10,
                            max_part_size=MAX_DEFINITION_BYTES) as form:
        file = form.get("file")
        definition = form.get("definition")
        if not isinstance(file, UploadFile):
            raise ProblemError(422, "missing_file", "Joignez le fichier dans le champ « file » "
                                                    "(multipart/form-data).")
        if not isinstance(definition, str) or not definition.strip():
            raise ProblemError(422, "missing_definition",
                               "Joignez la déclaration de la table (JSON) dans le champ "
                               "« definition » : table, title, vintage, source, match, "
                               "columns.")
        return TableUpload(data=await _read_limited(file, limit, settings),
                           definition=definition, filename=(file.filename or "")[:200] or None,
                           limits=upload_limits(settings))


TableUploadDep = Annotated[TableUpload, Depends(table_upload)]


class ImportSummary(BaseModel):
    rows: int
    matched_rows: int
    unmatched_rows: int
    ambiguous_rows: int
    conflicts: int
    errors: int
    communes: int
    population: int
    population_year: int


class TableReport(BaseModel):
    dry_run: bool
    accepted: bool
    skip_unmatched: bool
    version_id: int | None
    table: str
    title: str
    visibility: Literal["public", "restricted"]
    vintage: str
    source: str
    match_by: Literal["code", "postal_code"]
    format: Literal["csv", "xlsx"]
    encoding: str | None
    separator: str | None
    sheet: str | None
    columns: list[dict[str, Any]]
    summary: ImportSummary
    errors: list[dict[str, Any]]
    unmatched: list[dict[str, Any]]
    ambiguous: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    notes: list[dict[str, Any]]


_DEFINITION_EXAMPLE = (
    '{"table": "zonage_medecins", "title": "Zonage médecins et ZRR", "visibility": "public", '
    '"vintage": "2024", "source": "ARS, zonage médecins", '
    '"match": {"postal_code": "Code_postal", "name": "Nom_commune"}, '
    '"columns": [{"header": "Zonage", "key": "zonage", "label": "Zonage médecins", '
    '"aggregation": "share", "categories": [{"value": "1_ZIP", "label": "ZIP"}, '
    '{"value": "2_ZAC", "label": "ZAC"}]}]}')

_REQUEST_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file", "definition"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "CSV (`;` ou `,`, UTF-8 ou Latin-1) ou XLSX : une ligne par "
                                    "commune ou arrondissement"},
            "definition": {"type": "string", "example": _DEFINITION_EXAMPLE,
                           "description": "Déclaration JSON : table, title, visibility (public "
                                          "ou restricted), vintage, source, match (code, ou "
                                          "postal_code et name), columns (header, key, label, "
                                          "unit, aggregation sum|mean|share|min|max, weight, "
                                          "categories, source, vintage)"}}}}},
}


@router.post("/indicators/tables", response_model=TableReport,
             openapi_extra={"requestBody": _REQUEST_BODY},
             responses={413: {"description": "Fichier trop volumineux"},
                        422: {"description": "Table refusée : chaque ligne en cause listée"}})
def upload_table(
    upload: TableUploadDep,
    ctx: CptsContext,
    dry_run: Annotated[bool, Query(description="Tout vérifier et rendre le compte rendu sans "
                                               "rien enregistrer")] = False,
    skip_unmatched: Annotated[bool, Query(description="Enregistrer les lignes reconnues et "
                                                      "lister les autres (sinon : refus)")]
    = False,
    sheet: Annotated[str | None, Query(max_length=100, description="XLSX : la feuille à lire "
                                                                   "(défaut : la première)")]
    = None,
) -> dict[str, Any]:
    """Importe une table d'indicateurs par commune : chaque colonne déclarée avec libellé,
    unité, source, millésime et règle d'agrégation. Les lignes sont rapprochées des communes
    par code INSEE (ou ancien code), ou par code postal et nom. Tout ou rien ; chaque import est
    une nouvelle version (un nouveau millésime n'efface pas le précédent)."""
    return service.import_table(ctx, upload.data, upload.definition, TableOptions(
        dry_run=dry_run, skip_unmatched=skip_unmatched, sheet=sheet,
        filename=upload.filename, limits=upload.limits))


@router.get("/indicators/tables")
def list_tables(ctx: CptsContext) -> list[dict[str, Any]]:
    """Les tables d'indicateurs que l'utilisateur peut lire, avec chaque millésime importé et
    ses colonnes déclarées."""
    return service.list_tables(ctx)


@router.get("/indicators")
def indicators(
    ctx: CptsContext,
    scope: Annotated[str | None, Query(max_length=40, description=(
        "`cpts:<id>`, `national`, `region:<code>`, `departement:<code>`, `epci:<siren>` ou "
        "`bassin_de_vie:<code>`"))] = None,
    units: Annotated[str | None, Query(max_length=40_000, description=(
        "Un périmètre en cours d'édition : codes des communes séparés par des virgules"))]
    = None,
    table: Annotated[str | None, Query(max_length=63, description="Une seule table")] = None,
    vintage: Annotated[str | None, Query(max_length=60, description="Le millésime (défaut : "
                                                                    "le plus récent)")] = None,
) -> dict[str, Any]:
    """Les indicateurs agrégés d'un périmètre ou d'un territoire, selon la règle déclarée de
    chaque colonne, avec leur millésime et les mêmes chiffres pour le département, la région
    et la France. `coverage` : part de la population couverte par des valeurs."""
    codes = None if units is None else [c for c in units.split(",") if c.strip()]
    return service.indicators(ctx, scope=scope, units=codes, table=table, vintage=vintage)


@router.get("/indicators/map")
def indicator_map(
    ctx: CptsContext,
    indicator: Annotated[str, Query(max_length=130, description="`table.colonne`")],
    level: Annotated[Literal["commune", "cpts"], Query(description=(
        "Par commune, ou par CPTS (agrégé sur son périmètre)"))] = "commune",
    scheme: Annotated[Literal["quantiles", "jenks"], Query(description=(
        "Classes : quantiles ou seuils naturels de Jenks"))] = "quantiles",
    k: Annotated[int, Query(ge=2, le=7, description="Nombre de classes")] = 5,
    category: Annotated[str | None, Query(max_length=100, description=(
        "Colonne par catégorie : la catégorie dont la part est cartographiée"))] = None,
    vintage: Annotated[str | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    """Un indicateur pour une carte choroplèthe : valeur par commune (ou par CPTS visible),
    classes calculées par mapclassify, couleur de chacune et légende."""
    return service.choropleth(ctx, indicator=indicator, level=level, scheme=scheme, k=k,
                              category=category, vintage=vintage)
