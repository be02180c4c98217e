"""`GET /api/tiles/{layer}/{z}/{x}/{y}.pbf`: Mapbox vector tiles of the reference layers."""

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from app.errors import ProblemError
from app.repo.tiles import LAYERS, MAX_ZOOM, TILE_SCHEMA, Layer, Vintage
from app.settings import Settings
from app.tilecache import TileService

router = APIRouter(tags=["tuiles"])

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_service_lock = threading.Lock()


def get_tile_service(request: Request) -> TileService:
    """The application's tile service, made on first use with its pool and settings."""
    state = request.app.state
    with _service_lock:
        service: TileService | None = getattr(state, "tile_service", None)
        if service is None or service.pool is not state.pool:
            settings: Settings = state.settings
            service = TileService(state.pool, settings.tile_cache_size, settings.tile_max_age_s)
            state.tile_service = service
        return service


TileServiceDep = Annotated[TileService, Depends(get_tile_service)]


def layer_named(name: str) -> Layer:
    layer = LAYERS.get(name)
    if layer is None:
        raise ProblemError(
            404, "unknown_layer",
            f"La couche « {name} » n'existe pas ; couches disponibles : {', '.join(LAYERS)}.")
    return layer


def check_coordinates(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise ProblemError(
            422, "invalid_tile_coordinates",
            f"Le niveau de zoom {z} n'est pas servi : il va de 0 à {MAX_ZOOM}.")
    last = (1 << z) - 1
    if not (0 <= x <= last and 0 <= y <= last):
        raise ProblemError(
            422, "invalid_tile_coordinates",
            f"La tuile {z}/{x}/{y} n'existe pas : au zoom {z}, x et y vont de 0 à {last}.")


def etag_of(vintage: Vintage) -> str:
    return f'"{TILE_SCHEMA}-{vintage.token}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list with our ETag."""
    if if_none_match is None:
        return False
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


_LAYER_LIST = ", ".join(f"`{name}`" for name in LAYERS)


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "La tuile (Mapbox Vector Tile)"},
        204: {"description": "Tuile vide : aucun objet de la couche dans cette tuile"},
        304: {"description": "La tuile n'a pas changé depuis l'ETag envoyé (If-None-Match)"},
        404: {"description": "Couche inconnue (`unknown_layer`, problem+json)"},
        422: {"description": "Zoom ou coordonnées hors limites (`invalid_tile_coordinates`)"},
    },
)
def get_tile(
    tiles: TileServiceDep,
    layer: Annotated[str, Path(description=f"Couche : {_LAYER_LIST}")],
    z: Annotated[int, Path(description=f"Niveau de zoom, de 0 à {MAX_ZOOM}")],
    x: Annotated[int, Path(description="Colonne, de 0 à 2^z - 1")],
    y: Annotated[int, Path(description="Ligne, de 0 à 2^z - 1, depuis le nord")],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Une tuile vectorielle (Mapbox Vector Tile, étendue 4096, une seule couche par tuile).

    Couches et attributs : `communes` (`code`, `nom`, `population`, `type` ; les arrondissements
    municipaux au lieu de Paris, Lyon et Marseille ; à partir du zoom 6, avec le seul `code` au
    zoom 6), `departements`, `epci`, `regions`, `bassins_de_vie` (`code`, `nom`). Les contours
    sont généralisés selon le zoom. Une tuile sans objet répond `204` sans contenu. L'`ETag`
    change à chaque rechargement des données géographiques.
    """
    tile_layer = layer_named(layer)
    check_coordinates(z, x, y)
    vintage = tiles.vintage()
    headers = {"ETag": etag_of(vintage), "Cache-Control": f"public, max-age={tiles.max_age_s}"}
    if etag_matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    body = tiles.tile(vintage, tile_layer, z, x, y)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)
