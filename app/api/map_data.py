"""`/api/map/…`: what the map page reads besides tiles (visible perimeters with their units,
allowed actions, groups of units, polygon selections, short descriptions of units)."""

import gzip
import json
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from app.api.cpts import CodeList, CptsContext
from app.domain.communes import is_commune_code, normalise_code
from app.domain.cpts_access import Actions
from app.errors import ProblemError
from app.services import map_data as service

router = APIRouter(tags=["carte"])

GZIP_MIN_BYTES = 2048


class OverviewCptsOut(BaseModel):
    id: int
    name: str
    status: str
    pending_status: str | None
    region: str
    version: int
    is_scenario: bool
    archived: bool
    population: int
    size_class: int
    colour: int | None = Field(description=(
        "couleur sur la carte : indice dans la palette de la page (coloration du graphe des "
        "CPTS voisines, parmi celles que l'utilisateur voit ; aucune pour une CPTS archivée)"))


class PerimeterOut(OverviewCptsOut):
    communes: list[str]


class PerimetersOut(BaseModel):
    population_year: int
    size_rule: str
    cpts: list[PerimeterOut]


class GroupOut(BaseModel):
    kind: str
    code: str
    nom: str
    communes: list[str]
    population: int
    bbox: list[float] | None


class SelectionIn(BaseModel):
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon en WGS84")

    @field_validator("geometry")
    @classmethod
    def _in_wgs84(cls, geometry: dict[str, Any]) -> dict[str, Any]:
        """Every point a finite longitude and latitude: 1e10, NaN or Infinity (which the JSON
        parser accepts) never reach PostGIS. Raises ProblemError, which pydantic lets through."""
        pending: list[tuple[object, int]] = [(geometry.get("coordinates"), 0)]
        while pending:
            value, depth = pending.pop()
            if not isinstance(value, list):
                continue
            if depth > 3:
                raise ProblemError(422, "invalid_selection", "Polygone de sélection illisible : "
                                                             "coordonnées trop imbriquées.")
            numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
            if not numbers:
                pending.extend((item, depth + 1) for item in value)
            elif len(numbers) != len(value) or len(value) < 2 or any(
                    isinstance(v, float) and not math.isfinite(v) for v in value) or not (
                    -180 <= value[0] <= 180 and -90 <= value[1] <= 90):
                raise ProblemError(
                    422, "invalid_coordinates",
                    "Coordonnées de la sélection invalides : chaque point doit être une longitude "
                    "entre -180 et 180 et une latitude entre -90 et 90 (WGS84), en nombres finis.")
        return geometry


class SelectionOut(BaseModel):
    communes: list[str]
    min_share: float
    rule: str


class UnitsIn(BaseModel):
    codes: CodeList


class UnitOut(BaseModel):
    code: str
    nom: str
    type: str
    departement: str
    region: str
    epci: str | None
    bassin_de_vie: str | None
    population: int
    population_year: int


class UnitsOut(BaseModel):
    units: list[UnitOut]
    bbox: list[float] | None


def _json(request: Request, content: Any) -> Response:
    """JSON, gzip-compressed when the client accepts it (national listings weigh ~1 MB)."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _json_body(request, body)


def _json_body(request: Request, body: bytes, *, compresslevel: int = 5) -> Response:
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=compresslevel)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@router.get("/map/perimeters", response_model=PerimetersOut,
            responses={200: {"content": {"application/json": {}}}})
def map_perimeters(
    request: Request,
    ctx: CptsContext,
    statuses: Annotated[str | None, Query(description="stades séparés par des virgules")]
    = None,
    include_archived: bool = False,
) -> Response:
    """Les CPTS visibles avec leurs communes, pour colorer la carte (une seule requête)."""
    wanted = [s for s in statuses.split(",") if s] if statuses else None
    return _json(request, service.perimeters(ctx, wanted, include_archived=include_archived))


class OverlapOut(BaseModel):
    code: str
    cpts: list[int]
    geometry: dict[str, Any]


class OtherClaimOut(BaseModel):
    code: str
    cpts: list[int] = Field(description="les CPTS de `cpts` qui revendiquent la commune")
    names: list[str] = Field(description="les autres CPTS que l'utilisateur voit en contour")
    hidden: int = Field(description="nombre de projets que l'utilisateur ne peut pas voir, "
                                    "comptés sans être nommés")
    hidden_text: str | None = Field(description="la phrase de la fiche de la commune pour eux")
    geometry: dict[str, Any]


class OverviewOut(BaseModel):
    population_year: int
    size_rule: str
    cpts: list[OverviewCptsOut]
    outlines: dict[str, dict[str, Any]] = Field(
        description="contour généralisé (GeoJSON, WGS84) de chaque CPTS, par identifiant")
    overlaps: list[OverlapOut]
    land: list[dict[str, Any]] = Field(description="les régions (GeoJSON), fond des zones "
                                                   "blanches")
    other_claims: list[OtherClaimOut] = Field(
        description="communes d'une CPTS listée revendiquées aussi par des CPTS hors de la "
                    "liste : nommées si l'utilisateur les voit en contour, sinon comptées")


class UnitAtOut(BaseModel):
    code: str


@router.get("/map/overview", response_model=OverviewOut,
            responses={200: {"content": {"application/json": {}}}})
def map_overview(request: Request, ctx: CptsContext) -> Response:
    """La carte nationale de la couverture en un document léger : les CPTS visibles (sans leurs
    communes) avec leur contour généralisé, les communes revendiquées par plusieurs CPTS (pour
    les hachures) et le fond des régions, sur lequel les zones blanches apparaissent."""
    # level 1: ~1 MB of coordinates in ~10 ms instead of ~40 ms, for a fifth more bytes
    return _json_body(request, service.overview(ctx), compresslevel=1)


@router.get("/map/unit-at", response_model=UnitAtOut,
            responses={404: {"description": "Aucune commune à cet endroit"}})
def map_unit_at(lat: Annotated[float, Query(ge=-90, le=90)],
                lon: Annotated[float, Query(ge=-180, le=180)],
                ctx: CptsContext) -> dict[str, str]:
    """La commune (ou l'arrondissement) sous un point : un clic sur la carte nationale."""
    return service.unit_at(ctx, lon, lat)


class NeighbourOut(BaseModel):
    code: str
    nom: str
    lat: float
    lon: float


class NeighboursOut(NeighbourOut):
    geometry: dict[str, Any] = Field(description="Contour simplifié (~10 m), GeoJSON WGS84")
    neighbours: list[NeighbourOut] = Field(description="Unités qui partagent une limite")


@router.get("/map/neighbours/{code}", response_model=NeighboursOut,
            responses={404: {"description": "Aucune unité de la carte n'a ce code"}})
def map_neighbours(code: str, ctx: CptsContext) -> dict[str, Any]:
    """Une commune (ou un arrondissement), son contour et ses voisines avec leur point : les
    flèches du clavier passent de l'une à l'autre sur la carte. Géographie seulement."""
    code = normalise_code(code)
    if not is_commune_code(code):
        raise ProblemError(422, "invalid_commune_code",
                           f"« {code} » n'est pas un code commune INSEE (5 caractères, ex. "
                           f"06088 ou 2A004).")
    return service.neighbours(ctx, code)


@router.get("/map/cpts/{cpts_id}/actions", response_model=Actions)
def map_actions(cpts_id: int, ctx: CptsContext) -> Actions:
    """Ce que l'utilisateur peut faire de cette CPTS (la page cache le reste). Le schéma est
    celui de la règle elle-même (`app.domain.cpts_access.Actions`) : une action ajoutée à la
    règle arrive à la page sans second modèle à tenir à jour."""
    return service.actions(ctx, cpts_id)


@router.get("/map/groups/{kind}/{code}", response_model=GroupOut)
def map_group(kind: Literal["epci", "bassin_de_vie"], code: str,
              ctx: CptsContext) -> dict[str, Any]:
    """Les communes d'un EPCI ou d'un bassin de vie (« ajouter tout l'EPCI »)."""
    return service.group(ctx, kind, code)


@router.post("/map/selection", response_model=SelectionOut)
def map_selection(body: SelectionIn, ctx: CptsContext) -> dict[str, Any]:
    """Les communes d'un rectangle ou d'un polygone tracé : celles dont au moins la moitié de
    la surface est dans la zone. N'écrit rien."""
    return service.selection(ctx, body.geometry)


@router.post("/map/units", response_model=UnitsOut)
def map_units(body: UnitsIn, ctx: CptsContext) -> dict[str, Any]:
    """Nom, population et rattachements d'une liste de communes, et leur emprise. N'écrit
    rien."""
    return service.units(ctx, body.codes)
