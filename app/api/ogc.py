"""OGC API – Features routes under `/ogc/`: landing page, API description, conformance,
collections, items (paged with `next` links) and single features, in GeoJSON, in the CRS asked
for with `crs` (Part 2). Access: the same token and rules as `/api` (`app.auth.policy`); what
each user reads of each collection is decided in `app.services.ogc`."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response

from app.api.cpts import CptsContext
from app.errors import ProblemError
from app.ogc import protocol
from app.services import ogc as service

router = APIRouter(prefix="/ogc", tags=["ogc"])

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
RESERVED = {"bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "zoom", "scale", "f",
            "scope"}
ACCEPTED_FORMATS = {None, "json", "geojson", JSON, GEOJSON}
MAX_FILTER_LENGTH = 100


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _check_format(f: str | None) -> None:
    if f not in ACCEPTED_FORMATS:
        raise ProblemError(400, "ogc_format_unsupported",
                           "Seuls les formats JSON et GeoJSON sont servis (f=json).")


def _json(document: dict[str, Any], media_type: str = JSON) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, separators=(",", ":")),
                    media_type=media_type)


Format = Annotated[str | None, Query(max_length=40, description="json (seul format servi)")]


@router.get("", include_in_schema=False)
@router.get("/", summary="Page d'accueil OGC API – Features")
def landing(request: Request, f: Format = None) -> Response:
    """Les liens vers la description de l'API, la conformité et les collections."""
    _check_format(f)
    base = _base(request)
    return _json({
        "title": "CPTS — territoires : OGC API – Features",
        "description": "Communes, territoires de référence, périmètres des CPTS, zones blanches "
                       "et chevauchements, selon vos droits (jeton personnel : en-tête "
                       "Authorization: Bearer).",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": JSON, "title": "Cette page"},
            {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI,
             "title": "Description de l'API (OpenAPI 3)"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": JSON,
             "title": "Classes de conformité"},
            {"href": f"{base}/collections", "rel": "data", "type": JSON,
             "title": "Collections"},
        ]})


@router.get("/api", summary="Description OpenAPI du service OGC")
def api_description(request: Request) -> Response:
    """La partie `/ogc` du document OpenAPI de l'application."""
    document = dict(request.app.openapi())
    document["paths"] = {path: item for path, item in document.get("paths", {}).items()
                         if path.startswith("/ogc")}
    return _json(document, OPENAPI)


@router.get("/conformance", summary="Classes de conformité")
def conformance(f: Format = None) -> Response:
    _check_format(f)
    return _json({"conformsTo": protocol.CONFORMANCE})


def _collection_document(base: str, found: service.Collection, bbox: list[float] | None
                         ) -> dict[str, Any]:
    return {
        "id": found.id, "title": found.title, "description": found.description,
        "itemType": "feature",
        "crs": protocol.crs_uris(), "storageCrs": protocol.CRS84,
        "extent": {"spatial": {"bbox": [bbox] if bbox else [], "crs": protocol.CRS84}},
        "links": [
            {"href": f"{base}/collections/{found.id}", "rel": "self", "type": JSON,
             "title": found.title},
            {"href": f"{base}/collections/{found.id}/items", "rel": "items", "type": GEOJSON,
             "title": f"{found.title} (GeoJSON)"},
        ],
        "filtres": list(found.queryables),
    }


@router.get("/collections", summary="Collections")
def collections(request: Request, ctx: CptsContext, f: Format = None) -> Response:
    """Les collections que vous pouvez lire."""
    _check_format(f)
    base = _base(request)
    bbox = service.extent(ctx)
    return _json({
        "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON,
                   "title": "Collections"}],
        "crs": protocol.crs_uris(),
        "collections": [_collection_document(base, c, bbox)
                        for c in service.visible_collections(ctx)]})


CollectionId = Annotated[str, Path(max_length=40, description="Identifiant de la collection")]


@router.get("/collections/{collection_id}", summary="Une collection")
def collection(request: Request, ctx: CptsContext, collection_id: CollectionId,
               f: Format = None) -> Response:
    _check_format(f)
    found = service.collection(ctx, collection_id)
    return _json(_collection_document(_base(request), found, service.extent(ctx)))


def _query(request: Request, found: service.Collection, *, limit: int, offset: int,
           bbox: str | None, bbox_crs: str | None, crs: str | None, when: str | None,
           zoom: float | None, scale: float | None, scope: str | None,
           feature_id: str | None = None) -> service.ItemsQuery:
    filters = {key: value for key, value in request.query_params.items()
               if key not in RESERVED}
    if any(len(value) > MAX_FILTER_LENGTH for value in filters.values()):
        raise ProblemError(400, "ogc_bad_filter",
                           f"Valeur de filtre trop longue (au plus {MAX_FILTER_LENGTH} "
                           f"caractères).")
    if when is not None and found.temporal is None:
        raise ProblemError(400, "ogc_datetime_not_applicable",
                           f"La collection {found.id} n'a pas de date : `datetime` ne s'y "
                           f"applique pas.")
    if scope is not None and not found.scoped:
        raise ProblemError(400, "ogc_scope_not_applicable",
                           f"`scope` ne s'applique qu'aux zones blanches et aux "
                           f"chevauchements, pas à la collection {found.id}.")
    return service.ItemsQuery(
        crs=protocol.parse_crs(crs), band=protocol.band_for(zoom, scale),
        bbox=protocol.parse_bbox(bbox, bbox_crs), interval=protocol.parse_datetime(when),
        filters=filters, limit=limit, offset=offset, scope=scope, feature_id=feature_id)


Limit = Annotated[int, Query(ge=1, le=protocol.MAX_LIMIT, description=(
    "Nombre d'objets par page (1 à 10 000)"))]
Offset = Annotated[int, Query(ge=0, le=100_000_000, description="Rang du premier objet")]
BboxParam = Annotated[str | None, Query(max_length=200, description=(
    "ouest,sud,est,nord (CRS84 sauf `bbox-crs`)"))]
BboxCrs = Annotated[str | None, Query(alias="bbox-crs", max_length=200, description=(
    "CRS de `bbox` (URI OGC, ex. http://www.opengis.net/def/crs/EPSG/0/2154)"))]
CrsParam = Annotated[str | None, Query(max_length=200, description=(
    "CRS des géométries servies (défaut CRS84 ; EPSG:2154, EPSG:3857, EPSG:4326…)"))]
When = Annotated[str | None, Query(alias="datetime", max_length=80, description=(
    "CPTS : date d'effet de la version en vigueur, AAAA-MM-JJ ou intervalle début/fin"))]
Zoom = Annotated[float | None, Query(ge=0, le=30, description=(
    "Niveau de zoom de la carte : choisit la bande généralisée (≤ 6, ≤ 8, ≤ 10, sinon complet)"))]
Scale = Annotated[float | None, Query(gt=0, description=(
    "Dénominateur d'échelle (1:N), à la place de `zoom`"))]
Scope = Annotated[str | None, Query(max_length=40, description=(
    "Zones blanches, chevauchements : national, region:<code>, departement:<code>, "
    "epci:<siren>"))]


@router.get("/collections/{collection_id}/items", summary="Objets d'une collection",
            responses={200: {"content": {GEOJSON: {}}}})
def items(request: Request, ctx: CptsContext, collection_id: CollectionId,
          limit: Limit = protocol.DEFAULT_LIMIT, offset: Offset = 0, bbox: BboxParam = None,
          bbox_crs: BboxCrs = None, crs: CrsParam = None, when: When = None,
          zoom: Zoom = None, scale: Scale = None, scope: Scope = None,
          f: Format = None) -> Response:
    """Une page d'objets GeoJSON (`numberMatched`, `numberReturned`, lien `next`). Les autres
    paramètres sont des filtres d'égalité sur les propriétés (liste : `filtres` de la
    collection), ex. `?departement=06&stade=aci_signe`."""
    _check_format(f)
    found = service.collection(ctx, collection_id)
    query = _query(request, found, limit=limit, offset=offset, bbox=bbox, bbox_crs=bbox_crs,
                   crs=crs, when=when, zoom=zoom, scale=scale, scope=scope)
    page = service.items(ctx, found, query)
    base = f"{_base(request)}/collections/{found.id}"
    params = dict(request.query_params)
    links = [{"href": f"{base}/items?{urlencode(params)}" if params else f"{base}/items",
              "rel": "self", "type": GEOJSON, "title": "Cette page"},
             {"href": base, "rel": "collection", "type": JSON, "title": found.title}]
    if offset + len(page.features) < page.matched and page.features:
        links.append({"href": f"{base}/items?" + urlencode(
            params | {"offset": str(offset + len(page.features)), "limit": str(limit)}),
            "rel": "next", "type": GEOJSON, "title": "Page suivante"})
    if offset > 0:
        links.append({"href": f"{base}/items?" + urlencode(
            params | {"offset": str(max(0, offset - limit)), "limit": str(limit)}),
            "rel": "prev", "type": GEOJSON, "title": "Page précédente"})
    head = json.dumps({
        "type": "FeatureCollection", "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links}, ensure_ascii=False, separators=(",", ":"))
    body = head[:-1] + ',"features":[' + ",".join(page.features) + "]}"
    return Response(body, media_type=GEOJSON,
                    headers={"Content-Crs": f"<{query.crs.uri}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="Un objet",
            responses={200: {"content": {GEOJSON: {}}}})
def item(request: Request, ctx: CptsContext, collection_id: CollectionId,
         feature_id: Annotated[str, Path(max_length=60)], crs: CrsParam = None,
         zoom: Zoom = None, scale: Scale = None, scope: Scope = None,
         f: Format = None) -> Response:
    _check_format(f)
    found = service.collection(ctx, collection_id)
    query = _query(request, found, limit=1, offset=0, bbox=None, bbox_crs=None, crs=crs,
                   when=None, zoom=zoom, scale=scale, scope=scope, feature_id=feature_id)
    page = service.items(ctx, found, query)
    if not page.features:
        raise ProblemError(404, "ogc_feature_not_found",
                           f"Aucun objet « {feature_id} » accessible dans la collection "
                           f"{found.id}.")
    base = f"{_base(request)}/collections/{found.id}"
    links = ('[{"href":' + _quote(f"{base}/items/{feature_id}") + ',"rel":"self","type":"'
             + GEOJSON + '"},{"href":' + _quote(base) + ',"rel":"collection","type":"'
             + JSON + '"}]')
    body = page.features[0][:-1] + ',"links":' + links + "}"
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{query.crs.uri}>"})


def _quote(text: str) -> str:
    return json.dumps(text)
