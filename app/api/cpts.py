"""CPTS routes: list, create, read, change (with If-Match), versions, stages, simulation,
export."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import BaseModel, Field

from app.api.cpts_history import CptsAt
from app.auth.deps import AuditActor, OptionalPrincipal
from app.db import ConnDep
from app.domain.cpts_access import Status
from app.domain.size_rules import rule_for
from app.repo import cpts as repo
from app.services import cpts as service
from app.services import cpts_history as history_service
from app.services import exports as export_service
from app.services import html_export
from app.services.cpts import Context
from app.services.exports import MEDIA_TYPES, ExportFormat

router = APIRouter(tags=["cpts"])

CodeList = Annotated[list[Annotated[str, Field(max_length=10)]], Field(max_length=5000)]


def get_context(request: Request, conn: ConnDep, principal: OptionalPrincipal,
                actor: AuditActor) -> Context:
    state = request.app.state
    return Context(
        conn=conn,
        graph=state.graph_cache.get(conn),
        rules=repo.size_rules(conn),
        user=principal.user if principal else None,
        actor=actor,
        publish_signed=state.settings.publish_signed_cpts,
    )


CptsContext = Annotated[Context, Depends(get_context)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="Version lue (ETag)")]


class Headroom(BaseModel):
    next_class: int | None
    population_to_next: int | None
    previous_class: int | None
    population_to_previous: int | None


class WarningOut(BaseModel):
    code: Literal["overlap", "non_contiguous", "enclave", "crosses_departement",
                  "crosses_region", "near_threshold", "stale_commune", "hidden_overlap",
                  "cog_partial_merge", "cog_split", "cog_restored_commune", "cog_unknown_code"]
    detail: str
    communes: list[str]


class OverlapOut(BaseModel):
    cpts_id: int
    name: str
    status: str
    severity: Literal["information", "warning", "conflict"]
    communes: list[str]
    population: int


class HiddenOverlaps(BaseModel):
    """Overlaps with CPTS the user may not see (unsubmitted drafts, CPTS outside its regions):
    counted, never named. Agency scenarios are never counted."""

    cpts: int = Field(description="Nombre de projets recouvrants non consultables")
    communes: int = Field(description="Nombre de communes du périmètre qu'ils recouvrent")


class PerimeterFigures(BaseModel):
    communes: list[str]
    population: int
    population_year: int
    units: int
    area_km2: float
    size_class: int = Field(ge=1, le=4)
    size_rule: str
    size_rule_bound: str
    funding_ceiling_eur: int | None
    headroom: Headroom
    parts: list[list[str]]
    enclaves: list[list[str]]
    departements: list[str]
    regions: list[str]
    overlaps: list[OverlapOut]
    hidden_overlaps: HiddenOverlaps
    warnings: list[WarningOut]
    without_polygon: list[str]


class CptsOut(PerimeterFigures):
    id: int
    name: str
    status: Status
    version: int
    region: str
    siege_commune: str | None
    is_scenario: bool
    archived: bool
    submitted: bool
    pending_status: Status | None
    validated_version: int | None
    stage_dates: dict[str, str]
    visibility: Literal["full"]


class CptsOutline(BaseModel):
    id: int
    name: str
    status: Status
    version: int
    visibility: Literal["outline"]
    communes: list[str]


class CptsListItem(BaseModel):
    id: int
    name: str
    status: Status
    region: str
    version: int
    is_scenario: bool
    archived: bool
    population: int
    population_year: int
    size_class: int
    size_rule: str
    units: int


class CptsCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    status: Status = Status.PRE_PROJET
    communes: CodeList
    siege_commune: str | None = Field(default=None, max_length=10)
    is_scenario: bool = Field(default=False, description="Scénario privé de l'ARS")
    reason: str | None = Field(default=None, max_length=2000)
    effective_date: date | None = None


class CptsPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Status | None = None
    communes: CodeList | None = None
    add: CodeList = []
    remove: CodeList = []
    siege_commune: str | None = Field(
        default=None, max_length=10,
        description="Nouveau siège, l'une des communes du périmètre : l'ARS en charge suit")
    reason: str | None = Field(default=None, max_length=2000)
    effective_date: date | None = None


class Simulation(BaseModel):
    cpts_id: int | None = None
    communes: CodeList | None = None
    add: CodeList = []
    remove: CodeList = []


class SimulationOut(PerimeterFigures):
    added: list[str]
    removed: list[str]
    population_before: int


class VersionOut(BaseModel):
    version: int
    created_at: Any
    author_email: str | None
    reason: str | None
    effective_date: date
    name: str
    status: str
    archived: bool
    units: int
    added: list[str]
    removed: list[str]
    population: int
    population_before: int | None
    population_year: int
    size_class: int
    size_class_before: int | None
    size_rule: str


class StageRequest(BaseModel):
    comment: str | None = Field(default=None, max_length=4000)


class UnitComment(BaseModel):
    commune: str = Field(max_length=10)
    body: str = Field(min_length=1, max_length=4000)


class ChangesRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=4000)
    communes: list[UnitComment] = Field(default=[], max_length=500)


class ArchiveRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class SizeRuleOut(BaseModel):
    id: str
    label: str
    thresholds: list[int]
    lower_bound_inclusive: bool
    ceilings_eur: list[int | None]
    source: str
    valid_from: date
    valid_to: date | None
    in_force: bool


def _with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.get("/size-rules", response_model=list[SizeRuleOut])
def size_rules(conn: ConnDep) -> list[dict[str, Any]]:
    """Les règles de taille ACI, versionnées : seuils, borne, plafonds, source, dates."""
    rules = repo.size_rules(conn)
    current = rule_for(rules, date.today()).id
    return [{**rule.__dict__, "thresholds": list(rule.thresholds),
             "ceilings_eur": list(rule.ceilings_eur), "in_force": rule.id == current}
            for rule in rules]


@router.get("/cpts", response_model=list[CptsListItem])
def list_cpts(
    ctx: CptsContext,
    region: Annotated[str | None, Query(max_length=3)] = None,
    departement: Annotated[str | None, Query(max_length=3)] = None,
    status_filter: Annotated[str | None, Query(alias="status",
                                               description="stades séparés par des virgules")]
    = None,
    include_archived: bool = False,
) -> list[dict[str, Any]]:
    """Les CPTS visibles, avec leur population et leur taille."""
    statuses = [s for s in status_filter.split(",") if s] if status_filter else None
    rows = service.listing(ctx, region=region, departement=departement, statuses=statuses,
                           include_archived=include_archived)
    return [row | {"archived": row["archived_at"] is not None} for row in rows]


@router.post("/cpts", status_code=status.HTTP_201_CREATED, response_model=CptsOut)
def create_cpts(body: CptsCreate, ctx: CptsContext, response: Response) -> dict[str, Any]:
    """Crée une CPTS et la première version de son périmètre."""
    view = service.create_view(ctx, name=body.name, status=body.status.value,
                               communes=body.communes, siege_commune=body.siege_commune,
                               is_scenario=body.is_scenario, reason=body.reason,
                               effective_date=body.effective_date)
    response.headers["Location"] = f"/api/cpts/{view['id']}"
    _with_etag(response, view["version"])
    return view


@router.get("/cpts/{cpts_id}", response_model=CptsOut | CptsOutline | CptsAt)
def get_cpts(cpts_id: int, ctx: CptsContext, response: Response,
             at: Annotated[date | None, Query(description="La CPTS telle qu'elle était ce "
                                                           "jour-là (AAAA-MM-JJ)")] = None
             ) -> dict[str, Any]:
    """Une CPTS : périmètre, population, taille, marge, morceaux, enclaves, recouvrements."""
    if at is not None:
        return history_service.read_at(ctx, cpts_id, at)
    view = service.read(ctx, cpts_id)
    _with_etag(response, view["version"])
    return view


@router.patch("/cpts/{cpts_id}", response_model=CptsOut,
              responses={412: {"description": "Version périmée"},
                         428: {"description": "If-Match manquant"}})
def patch_cpts(cpts_id: int, body: CptsPatch, ctx: CptsContext, response: Response,
               if_match: IfMatch = None) -> dict[str, Any]:
    """Modifie le nom, le stade ou le périmètre (`communes`, ou `add` / `remove`)."""
    view = service.update_view(ctx, service.Change(
        cpts_id, service.parse_if_match(if_match), name=body.name,
        status=body.status.value if body.status else None, communes=body.communes,
        add=body.add, remove=body.remove, reason=body.reason,
        effective_date=body.effective_date, siege_commune=body.siege_commune))
    _with_etag(response, view["version"])
    return view


@router.get("/cpts/{cpts_id}/versions", response_model=list[VersionOut])
def cpts_versions(cpts_id: int, ctx: CptsContext) -> list[dict[str, Any]]:
    """Chaque version : qui, quand, pourquoi, communes ajoutées et retirées, population et
    taille avant et après."""
    return service.versions(ctx, cpts_id)


@router.get("/cpts/{cpts_id}/history")
def cpts_history(cpts_id: int, ctx: CptsContext) -> list[dict[str, Any]]:
    """Les étapes datées : création, demandes de stade, validations, demandes de
    modifications (avec les commentaires par commune)."""
    return service.history(ctx, cpts_id)


@router.post("/cpts/{cpts_id}/stage-request", status_code=status.HTTP_204_NO_CONTENT)
def request_stage(cpts_id: int, body: StageRequest, ctx: CptsContext) -> None:
    """Le porteur demande le passage au stade suivant (et soumet son brouillon à l'ARS)."""
    service.request_stage(ctx, cpts_id, comment=body.comment)


@router.post("/cpts/{cpts_id}/stage-request/accept", response_model=CptsOut)
def accept_stage(cpts_id: int, body: StageRequest, ctx: CptsContext, response: Response,
                 if_match: IfMatch = None) -> dict[str, Any]:
    """L'ARS valide le stade demandé : la version courante devient la version validée."""
    view = service.accept_stage_view(ctx, cpts_id,
                                     expected_version=service.parse_if_match(if_match),
                                     comment=body.comment)
    _with_etag(response, view["version"])
    return view


@router.post("/cpts/{cpts_id}/stage-request/changes", status_code=status.HTTP_204_NO_CONTENT)
def request_changes(cpts_id: int, body: ChangesRequest, ctx: CptsContext) -> None:
    """L'ARS renvoie la demande avec des commentaires, éventuellement par commune."""
    service.request_changes(ctx, cpts_id, comment=body.comment,
                            unit_comments=[(c.commune.strip().upper(), c.body)
                                           for c in body.communes])


@router.post("/cpts/{cpts_id}/archive", response_model=CptsOut)
def archive_cpts(cpts_id: int, body: ArchiveRequest, ctx: CptsContext, response: Response,
                 if_match: IfMatch = None) -> dict[str, Any]:
    """Archive la CPTS : elle sort de la couverture, son historique reste."""
    view = service.archive_view(ctx, cpts_id,
                                expected_version=service.parse_if_match(if_match),
                                reason=body.reason)
    _with_etag(response, view["version"])
    return view


@router.post("/cpts/{cpts_id}/restore", response_model=CptsOut)
def restore_cpts(cpts_id: int, body: ArchiveRequest, ctx: CptsContext, response: Response,
                 if_match: IfMatch = None) -> dict[str, Any]:
    """Restaure une CPTS archivée."""
    view = service.archive_view(ctx, cpts_id,
                                expected_version=service.parse_if_match(if_match),
                                reason=body.reason, restore=True)
    _with_etag(response, view["version"])
    return view


@router.post("/simulations/perimeter", response_model=SimulationOut)
def simulate(body: Simulation, ctx: CptsContext) -> dict[str, Any]:
    """Calcule population, taille et alertes d'un périmètre modifié, sans rien enregistrer."""
    return service.simulate(ctx, cpts_id=body.cpts_id, communes=body.communes, add=body.add,
                            remove=body.remove)


@router.get(
    "/cpts/{cpts_id}/export", response_class=Response,
    responses={200: {"description": "Le périmètre en fichier (pièce jointe)",
                     "content": {media: {} for media in
                                 [*MEDIA_TYPES.values(), html_export.MEDIA_TYPE]}}},
)
def export_cpts(
    cpts_id: int,
    ctx: CptsContext,
    file_format: Annotated[ExportFormat | Literal["html"], Query(alias="format")] = "csv",
    communes: Annotated[bool, Query(description="GeoJSON : ajouter chaque commune au contour")]
    = True,
) -> Response:
    """Le périmètre en fichier : CSV (`;`, UTF-8 avec BOM, pour Excel), XLSX (communes et
    synthèse), GeoJSON (contour fusionné puis communes) ou GeoPackage (couches `perimetre` et
    `communes`) ou carte HTML autonome (Leaflet inclus, s'ouvre sans réseau)."""
    if file_format == "html":
        exported = html_export.export_html(ctx, cpts_id)
    else:
        exported = export_service.export_cpts(ctx, cpts_id, file_format, with_communes=communes)
    return Response(exported.content, media_type=exported.media_type,
                    headers={"Content-Disposition": exported.content_disposition})
