"""`/api/map/orientation`, `/api/map/labels`, `/api/map/place`, `/api/territories`: what the
map needs to find one's way — names to write on it, the user's own territory, territories by
name or code (type-ahead), and what lies at a point without a commune."""

import gzip
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from app.api.cpts import CptsContext
from app.errors import ProblemError
from app.services import labels as service

router = APIRouter(tags=["carte"])

GZIP_MIN_BYTES = 2048


def _json(request: Request, content: Any) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


class AreaLabelOut(BaseModel):
    code: str
    nom: str
    lon: float
    lat: float


class CptsLabelOut(BaseModel):
    id: int
    name: str
    lon: float
    lat: float


class TerritoryOut(BaseModel):
    regions: list[str] | None
    departements: list[str] | None
    bounds: list[float] | None
    cpts: list[int]


class OrientationOut(BaseModel):
    regions: list[AreaLabelOut]
    departements: list[AreaLabelOut]
    cpts: list[CptsLabelOut]
    territory: TerritoryOut
    muted_land: list[bool]


@router.get("/map/orientation", response_model=OrientationOut,
            responses={200: {"content": {"application/json": {}}}})
def map_orientation(request: Request, ctx: CptsContext) -> Response:
    """Les noms des régions, des départements et des CPTS visibles (un point dans chacun), le
    territoire de l'utilisateur (où la carte s'ouvre) et, pour chaque région du fond de la
    carte nationale (dans l'ordre de `land` de `/api/map/overview`), si elle est hors de ce
    territoire (dessinée en grisé, pas en zone blanche)."""
    return _json(request, service.orientation(ctx))


class CommuneLabelOut(BaseModel):
    code: str
    nom: str
    population: int
    lon: float
    lat: float


class CommuneLabelsOut(BaseModel):
    communes: list[CommuneLabelOut]


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(part) for part in text.split(","))
    except ValueError as exc:
        raise ProblemError(422, "bad_bbox", "Emprise illisible : ouest,sud,est,nord en degrés "
                           "décimaux.") from exc
    return w, s, e, n


@router.get("/map/labels", response_model=CommuneLabelsOut,
            responses={200: {"content": {"application/json": {}}}})
def map_labels(request: Request, ctx: CptsContext,
               bbox: Annotated[str, Query(description="ouest,sud,est,nord (WGS84)",
                                          max_length=100)]) -> Response:
    """Les communes les plus peuplées dont le point est dans l'emprise (noms écrits sur la
    carte à partir du zoom 10)."""
    return _json(request, service.commune_labels(ctx, _bbox(bbox)))


class PlaceOut(BaseModel):
    commune: dict[str, Any] | None
    departement: dict[str, Any] | None
    nearest: dict[str, Any] | None
    message: str


@router.get("/map/place", response_model=PlaceOut)
def map_place(ctx: CptsContext,
              lat: Annotated[float, Query(ge=-90, le=90)],
              lon: Annotated[float, Query(ge=-180, le=180)]) -> dict[str, Any]:
    """Ce qui se trouve en un point : la commune, ou à défaut le département et la commune la
    plus proche, avec une phrase qui le dit."""
    return service.place(ctx, lon, lat)


class TerritoryFoundOut(BaseModel):
    kind: str
    kind_label: str
    code: str
    nom: str
    label: str
    scope: str | None
    exact_code: bool
    bbox: list[float] | None


class TerritoriesOut(BaseModel):
    results: list[TerritoryFoundOut]


@router.get("/territories", response_model=TerritoriesOut)
def territories(ctx: CptsContext,
                q: Annotated[str, Query(max_length=100)]) -> dict[str, Any]:
    """Régions, départements, EPCI et bassins de vie par nom ou par code (`4` et `04` donnent
    le département 04), codes exacts d'abord, avec leur emprise."""
    return service.find_territories(ctx, q)
