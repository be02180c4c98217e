"""Bulk import route: `POST /api/imports/cpts`, a file of CPTS perimeters, all or nothing.

The upload is read by `upload_body` before any database work, and after the access guard: a
declared size (Content-Length) above the limit is refused before the body is read; a raw body
without a declared size is read until it passes the limit. (A multipart body sent without a
Content-Length is first spooled to a temporary file by the form parser, 1 MiB in memory at
most, then refused at the limit.) What reading the file may then cost (decompressed size of an
XLSX, rows) is bounded by the settings too (`app.domain.upload_limits`).
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from app.api.cpts import CptsContext
from app.domain.cpts_access import Status
from app.domain.upload_limits import UploadLimits
from app.errors import ProblemError
from app.services import imports as service
from app.services.imports import ImportOptions
from app.settings import Settings

router = APIRouter(tags=["imports"])

MULTIPART_ENVELOPE = 64 * 1024  # room for the multipart boundaries and part headers
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    limits: UploadLimits


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(max_xlsx_uncompressed_bytes=settings.max_xlsx_uncompressed_bytes,
                        max_rows=settings.max_import_rows)


def _too_large(settings: Settings) -> ProblemError:
    mib = settings.max_upload_bytes / (1024 * 1024)
    return ProblemError(413, "upload_too_large",
                        f"Fichier trop volumineux : la limite est de {mib:g} Mio.")


async def _read_limited(file: UploadFile, limit: int, settings: Settings) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(settings)
        chunks.append(chunk)
    return b"".join(chunks)


async def upload_body(request: Request) -> Upload:
    """The uploaded file: multipart field `file`, or the raw request body."""
    settings: Settings = request.app.state.settings
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_ENVELOPE:
        raise _too_large(settings)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _too_large(settings)
        return Upload(data=bytes(body), filename=None, limits=upload_limits(settings))
    async with request.form(max_files=1, max_fields=10) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ProblemError(422, "missing_file", "Joignez le fichier dans le champ « file » "
                                                    "(multipart/form-data).")
        return Upload(data=await _read_limited(file, limit, settings),
                      filename=(file.filename or "")[:200] or None,
                      limits=upload_limits(settings))


UploadDep = Annotated[Upload, Depends(upload_body)]


class IssueOut(BaseModel):
    line: int | None
    code: str
    detail: str
    communes: list[str] = []
    candidates: list[str] = []


class ImportOverlap(BaseModel):
    cpts_id: int | None
    name: str
    status: str
    severity: str
    communes: list[str]
    population: int


class ImportedCpts(BaseModel):
    line: int
    name: str
    id: int | None
    action: Literal["created", "updated", "unchanged"]
    version: int
    status: str
    communes: list[str]
    units: int
    population: int
    population_year: int
    size_class: int
    size_rule: str
    overlaps: list[ImportOverlap]
    warnings: list[dict[str, Any]]


class Uncovered(BaseModel):
    names: list[str]
    communes: list[str]
    population: int


class ImportReport(BaseModel):
    dry_run: bool
    format: Literal["csv", "xlsx", "geojson"]
    encoding: str | None
    separator: str | None
    sheet: str | None
    share: float | None
    rows: int
    created: int
    updated: int
    unchanged: int
    cpts: list[ImportedCpts]
    uncovered: Uncovered
    warnings: list[IssueOut]
    errors: list[IssueOut]


_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {
                "type": "string", "format": "binary",
                "description": "CSV (`;` ou `,`, UTF-8 avec ou sans BOM, ou Latin-1), XLSX ou "
                               "GeoJSON de polygones"}}}},
        "text/csv": {"schema": {"type": "string"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/imports/cpts", response_model=ImportReport,
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={413: {"description": "Fichier trop volumineux (envoi, XLSX décompressé ou "
                                    "nombre de lignes)"},
               422: {"description": "Import refusé : chaque erreur avec sa ligne"}},
)
def import_cpts(
    upload: UploadDep,
    ctx: CptsContext,
    dry_run: Annotated[bool, Query(description="Tout vérifier sans rien enregistrer")] = False,
    share: Annotated[float, Query(gt=0, le=1, description="GeoJSON : part minimale de la "
                                                          "surface d'une commune dans le "
                                                          "polygone")] = 0.5,
    sheet: Annotated[str | None, Query(max_length=100,
                                       description="XLSX : la feuille à lire")] = None,
    status: Annotated[Status | None, Query(
        description="Stade des CPTS créées (par défaut : pré-projet pour un porteur, lettre "
                    "d'intention pour une ARS)")] = None,
) -> dict[str, Any]:
    """Importe un fichier de lignes `cpts;code_commune` (ou de noms de communes avec leur
    département, ou de polygones GeoJSON) : crée les CPTS absentes, met à jour les autres, tout
    ou rien. Les communes des pseudo-CPTS (« HORS CPTS », « Zone blanche ») sont notées non
    couvertes. Le compte rendu donne par CPTS la population et la taille qui en résultent."""
    return service.import_cpts(ctx, upload.data, ImportOptions(
        dry_run=dry_run, share=share, sheet=sheet, status=status.value if status else None,
        filename=upload.filename, limits=upload.limits))
