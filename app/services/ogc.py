"""The collections of the OGC API – Features service and what each user may read of them.

Reference layers (`communes`, `arrondissements`, `epci`, `bassins_de_vie`, `departements`,
`regions`) are read by everybody the route admits. The CPTS layers go through the one place
that decides visibility:
- `cpts` and `cpts_communes` serve the CPTS of `app.services.cpts.listing` (the SQL form of
  `cpts_read_scope`): what `GET /api/cpts` lists to the same user, scenarios included for the
  agency of their region, private drafts for their carriers only;
- the CPTS covering a commune are split with `split_claims` over `visibility_of`: those the user
  may see are named, the others counted (`cpts_non_nommees`), scenarios never;
- `zones_blanches` and `chevauchements` are `app.services.coverage.compute` for the default
  stages, with its namer: private CPTS are counted, never named.
An anonymous visitor (admitted only when PUBLISH_SIGNED_CPTS is set) reads the reference layers
and the signed CPTS (`cpts`, `cpts_communes`), nothing derived from unpublished projects.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from app.domain.cpts_access import (
    STATUS_LABELS,
    STATUSES,
    Visibility,
    split_claims,
)
from app.domain.dissolve import dissolve
from app.domain.perimeter import Claim
from app.errors import ProblemError
from app.ogc import protocol
from app.ogc.protocol import Band, Bbox, Crs, Interval
from app.repo import cpts as cpts_repo
from app.repo import ogc as repo
from app.services import coverage as coverage_service
from app.services import cpts as cpts_service
from app.services.cpts import Context


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    queryables: tuple[str, ...]
    public: bool = True  # read by anonymous visitors when PUBLISH_SIGNED_CPTS is set
    temporal: str | None = None  # the property `datetime` selects on
    scoped: bool = False  # takes `scope` (national, region:93, …) as the coverage does


_UNIT = ("code", "nom", "departement", "region", "epci", "bassin_de_vie")
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection("communes", "Communes",
               "Communes du COG en vigueur : population légale et son millésime, EPCI, bassin "
               "de vie, CPTS qui la couvrent (à Paris, Lyon et Marseille : par leurs "
               "arrondissements).", _UNIT),
    Collection("arrondissements", "Arrondissements municipaux",
               "Arrondissements de Paris, Lyon et Marseille, unités des périmètres de CPTS.",
               (*_UNIT, "commune")),
    Collection("epci", "EPCI", "Intercommunalités à fiscalité propre (SIREN).",
               ("code", "nom", "type")),
    Collection("bassins_de_vie", "Bassins de vie 2022", "Bassins de vie de l'INSEE (2022).",
               ("code", "nom")),
    Collection("departements", "Départements", "Départements.", ("code", "nom", "region")),
    Collection("regions", "Régions", "Régions.", ("code", "nom")),
    Collection("cpts", "CPTS",
               "Un contour par CPTS (fusion de ses communes, version en vigueur) : nom, stade, "
               "population, taille ACI, version et sa date d'effet (`datetime` porte sur "
               "`date_version`).",
               ("nom", "stade", "taille", "region", "departement"), temporal="date_version"),
    Collection("cpts_communes", "CPTS × communes",
               "Une ligne par CPTS et par unité de son périmètre en vigueur.",
               ("cpts_id", "stade", "code", "departement", "region")),
    Collection("zones_blanches", "Zones blanches",
               "Groupes contigus d'unités couvertes par aucune CPTS (tous stades, périmètres "
               "en vigueur aujourd'hui), avec les CPTS voisines ; `scope` comme "
               "`GET /api/coverage`.", ("departement", "enclave"), public=False, scoped=True),
    Collection("chevauchements", "Chevauchements",
               "Unités revendiquées par plusieurs CPTS (tous stades), avec la gravité ; les "
               "CPTS que vous ne pouvez pas consulter sont comptées sans être nommées.",
               ("code", "departement", "gravite"), public=False, scoped=True),
)}
REFERENCE_TABLES = {"communes": "commune", "arrondissements": "commune", "epci": "epci",
                    "bassins_de_vie": "bassin_de_vie", "departements": "departement",
                    "regions": "region"}


# Encoded geometries, by database, feature, version of the data, band and CRS: a client that
# reads a layer twice (GDAL reads the first page once for the schema, then again) or pages
# through it again gets them without projecting and writing them anew.
GEOMETRIES_KEPT = 60_000
_geometries: OrderedDict[tuple[Any, ...], str | None] = OrderedDict()
_geometries_lock = threading.Lock()


def _database(ctx: Context) -> str:
    info = ctx.conn.info
    return f"{info.host}:{info.port}/{info.dbname}"


def cached_geometries(keys: Sequence[tuple[Any, ...]],
                      encode: Callable[[list[int]], list[str | None]]) -> list[str | None]:
    """The encoded geometry of each key; `encode(positions)` makes the missing ones."""
    found: list[str | None] = [None] * len(keys)
    missing = []
    with _geometries_lock:
        for position, key in enumerate(keys):
            if key in _geometries:
                _geometries.move_to_end(key)
                found[position] = _geometries[key]
            else:
                missing.append(position)
    if missing:
        made = encode(missing)
        with _geometries_lock:
            for position, text in zip(missing, made, strict=True):
                found[position] = text
                _geometries[keys[position]] = text
            while len(_geometries) > GEOMETRIES_KEPT:
                _geometries.popitem(last=False)
    return found


GEOMETRY_CHUNK = 500


def page_geometries(keys: Sequence[tuple[Any, ...]],
                    encode: Callable[[list[int]], list[str | None]]) -> list[str | None]:
    """The encoded geometries of a page's features in order, made by chunks until the page is
    full (`protocol.PAGE_BYTES`): those of later chunks are not made."""
    found: list[str | None] = []
    size = 0
    while len(found) < len(keys) and size < protocol.PAGE_BYTES:
        start = len(found)

        def shifted(positions: list[int], start: int = start) -> list[str | None]:
            return encode([start + p for p in positions])

        chunk = cached_geometries(keys[start:start + GEOMETRY_CHUNK], shifted)
        found += chunk
        size += sum(len(geometry or "") for geometry in chunk)
    return found[:protocol.fitting(found)]


@dataclass(frozen=True)
class ItemsQuery:
    crs: Crs = protocol.DEFAULT_CRS
    band: Band = protocol.FULL
    bbox: Bbox | None = None
    interval: Interval | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    limit: int = protocol.DEFAULT_LIMIT
    offset: int = 0
    scope: str | None = None
    feature_id: str | None = None  # one feature (`/items/{featureId}`)


@dataclass(frozen=True)
class Page:
    matched: int
    features: list[str]


def extent(ctx: Context) -> list[float] | None:
    """The box of the loaded geography (CRS84), the spatial extent of every collection."""
    return repo.extent(ctx.conn)


def visible_collections(ctx: Context) -> list[Collection]:
    return [c for c in COLLECTIONS.values() if ctx.user is not None or c.public]


def collection(ctx: Context, collection_id: str) -> Collection:
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise ProblemError(404, "ogc_collection_not_found",
                           f"Aucune collection « {collection_id[:60]} ». Collections : "
                           + ", ".join(COLLECTIONS) + ".")
    if ctx.user is None and not found.public:
        raise ProblemError(401, "unauthenticated",
                           "Connectez-vous (jeton personnel) pour lire cette collection.")
    return found


def check_filters(found: Collection, filters: Mapping[str, str]) -> None:
    unknown = sorted(set(filters) - set(found.queryables))
    if unknown:
        raise ProblemError(
            400, "ogc_unknown_parameter",
            f"Paramètre inconnu pour la collection {found.id} : " + ", ".join(unknown)
            + ". Filtres possibles : " + ", ".join(found.queryables) + ".")


def items(ctx: Context, found: Collection, query: ItemsQuery) -> Page:
    check_filters(found, query.filters)
    if found.id in REFERENCE_TABLES:
        return _reference(ctx, found, query)
    if found.id == "cpts":
        return _cpts(ctx, query)
    if found.id == "cpts_communes":
        return _cpts_units(ctx, query)
    if found.id == "zones_blanches":
        return _white_zones(ctx, query)
    return _overlaps(ctx, query)


def _page_of(features: Sequence[Any], query: ItemsQuery) -> Sequence[Any]:
    return features[query.offset:query.offset + query.limit]


# --- Reference layers ------------------------------------------------------------------------

# The codes of a reference layer in order, by database, geodata release, table and filters:
# the count and the page of a request without `bbox` are taken from them (counting 35,000
# communes and walking the index to an offset of 30,000 cost more than the rest of a page).
CODE_LISTS_KEPT = 32
_code_lists: OrderedDict[tuple[Any, ...], list[str]] = OrderedDict()
_code_lists_lock = threading.Lock()


def _reference_page(ctx: Context, table: str, filters: Mapping[str, str | Sequence[str]],
                    query: ItemsQuery) -> tuple[int, list[dict[str, Any]]]:
    """How many rows of the layer match, and the page."""
    if query.bbox is not None or "code" in filters:  # one feature, or a box: asked of SQL
        return repo.reference_page(ctx.conn, table, filters=filters, bbox=query.bbox,
                                   limit=query.limit, offset=query.offset)
    key = (_database(ctx), ctx.graph.release_id, table,
           tuple(sorted((name, value if isinstance(value, str) else tuple(value))
                        for name, value in filters.items())))
    with _code_lists_lock:
        codes = _code_lists.get(key)
        if codes is not None:
            _code_lists.move_to_end(key)
    if codes is None:
        codes = repo.reference_codes(ctx.conn, table, filters)
        with _code_lists_lock:
            _code_lists[key] = codes
            while len(_code_lists) > CODE_LISTS_KEPT:
                _code_lists.popitem(last=False)
    page = codes[query.offset:query.offset + query.limit]
    return len(codes), repo.reference_rows(ctx.conn, table, page) if page else []


def _reference(ctx: Context, found: Collection, query: ItemsQuery) -> Page:
    table = REFERENCE_TABLES[found.id]
    filters: dict[str, str | Sequence[str]] = {
        ("parent" if name == "commune" else name): value
        for name, value in query.filters.items()}
    if query.feature_id is not None:
        filters["code"] = query.feature_id
    if table == "commune":
        filters["type"] = "ARM" if found.id == "arrondissements" else "COM"
    column, srid = repo.geometry_column(query.band, query.crs.srid)
    matched, rows = _reference_page(ctx, table, filters, query)

    def encode(positions: list[int]) -> list[str | None]:
        codes = [rows[p]["code"] for p in positions]
        decimals = query.band.decimals(query.crs)
        stored = repo.table_geometries(ctx.conn, table, codes, column, srid, query.crs, decimals)
        return protocol.encode_stored([stored.get(code) for code in codes], srid, query.crs,
                                      decimals)

    # the graph is read again when another geodata release is loaded
    release = (_database(ctx), ctx.graph.release_id, table, column, query.crs.uri)
    geometries = page_geometries([(*release, r["code"]) for r in rows], encode)
    rows = rows[:len(geometries)]
    properties = _unit_properties(ctx, rows) if table == "commune" else rows
    return Page(matched, [protocol.feature(row["code"], geometry, props) for row, geometry, props
                          in zip(rows, geometries, properties, strict=True)])


def known_visibility(ctx: Context, ids: Iterable[int]) -> dict[int, Visibility]:
    """What the user may see of each of these CPTS (`visibility_of`: the rule of
    `cpts_visibility` on these CPTS only, free for an administrator), not the whole listing."""
    return cpts_service.visibility_of(ctx, ids)


def _unit_properties(ctx: Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Communes and arrondissements with the CPTS covering them as the user may know them."""
    units = {r["code"]: ctx.graph.arrondissements.get(r["code"]) or (r["code"],) for r in rows}
    claims = cpts_repo.claims(ctx.conn, sorted({u for us in units.values() for u in us}),
                              exclude=None, include_scenarios=True)
    visibility = known_visibility(ctx, {c.cpts_id for c in claims})
    by_unit: dict[str, list[Claim]] = {}
    for claim in claims:
        by_unit.setdefault(claim.code, []).append(claim)
    out = []
    for row in rows:
        named, hidden = split_claims([c for u in units[row["code"]] for c in by_unit.get(u, ())],
                                     visibility)
        cpts: dict[int, Claim] = {}
        for claim in sorted(named, key=lambda c: (c.name, c.cpts_id)):
            cpts.setdefault(claim.cpts_id, claim)
        out.append({
            "code": row["code"], "nom": row["nom"],
            "type": "arrondissement" if row["type"] == "ARM" else "commune",
            **({"commune": row["parent"]} if row["type"] == "ARM" else {}),
            "departement": row["departement"], "region": row["region"], "epci": row["epci"],
            "bassin_de_vie": row["bassin_de_vie"], "population": row["population"],
            "millesime_population": row["population_year"],
            "superficie_km2": None if row["area_m2"] is None
            else round(float(row["area_m2"]) / 1e6, 3),
            "note_contour": row["polygon_note"],
            "nb_cpts": len(cpts),
            "cpts": " ; ".join(c.name for c in cpts.values()) or None,
            "cpts_ids": " ".join(str(i) for i in cpts) or None,
            "cpts_stades": " ; ".join(STATUS_LABELS.get(c.status, c.status)
                                      for c in cpts.values()) or None,
            # counted for signed-in users only: an anonymous visitor learns nothing of drafts
            "cpts_non_nommees": None if ctx.user is None else hidden.cpts,
        })
    return out


# --- CPTS ------------------------------------------------------------------------------------

def _readable_cpts(ctx: Context, filters: Mapping[str, str], *, territory: bool
                   ) -> list[dict[str, Any]]:
    """The CPTS the user may read (`listing`), with the property filters applied."""
    status = filters.get("stade")
    rows = cpts_service.listing(
        ctx, region=filters.get("region") if territory else None,
        departement=filters.get("departement") if territory else None,
        statuses=[status] if status else None)
    if "taille" in filters:
        if filters["taille"] not in ("1", "2", "3", "4"):
            raise ProblemError(400, "ogc_bad_filter", "`taille` : 1, 2, 3 ou 4.")
        rows = [r for r in rows if str(r["size_class"]) == filters["taille"]]
    if "nom" in filters:
        rows = [r for r in rows if r["name"] == filters["nom"]]
    if "cpts_id" in filters:
        rows = [r for r in rows if str(r["id"]) == filters["cpts_id"].strip()]
    return rows


def _cpts_properties(row: dict[str, Any], effective: Any) -> dict[str, Any]:
    stages = row["stage_dates"] or {}
    return {
        "id": int(row["id"]), "nom": row["name"], "stade": row["status"],
        "stade_libelle": STATUS_LABELS.get(row["status"], row["status"]),
        "population": row["population"], "millesime_population": row["population_year"],
        "taille": row["size_class"], "regle_taille": row["size_rule"],
        "communes": row["units"], "version": row["version"],
        "date_version": None if effective is None else effective.isoformat(),
        "region": row["region"], "siege": row["siege_commune"],
        "scenario": bool(row["is_scenario"]),
        **{f"date_{status}": stages.get(status) for status in STATUSES[1:]},
    }


def _cpts(ctx: Context, query: ItemsQuery) -> Page:
    rows = {int(r["id"]): r for r in _readable_cpts(ctx, query.filters, territory=True)}
    if query.feature_id is not None:
        rows = {i: r for i, r in rows.items() if str(i) == query.feature_id}
    if query.bbox is None and query.interval is None:
        matching = list(rows)  # `listing` gives them in the same order (name, id)
    else:
        matching = [int(m["id"]) for m in repo.cpts_matching(
            ctx.conn, sorted(rows), bbox=query.bbox, interval=query.interval)]
    page = list(_page_of(matching, query))
    light = query.band.name == "geom_g1"

    def encode(positions: list[int]) -> list[str | None]:
        ids = [page[p] for p in positions]
        decimals = query.band.decimals(query.crs)
        outlines = repo.cpts_outlines(ctx.conn, ids, light=light, crs=query.crs,
                                      decimals=decimals)
        return protocol.encode_stored([outlines.get(i) for i in ids], 4326, query.crs, decimals)

    database = _database(ctx)
    geometries = page_geometries(
        [(database, "cpts", i, int(rows[i]["version"]), light, query.crs.uri) for i in page],
        encode)
    page = page[:len(geometries)]
    dates = repo.effective_dates(ctx.conn, page)
    return Page(len(matching), [
        protocol.feature(i, geometry, _cpts_properties(rows[i], dates.get(i)))
        for i, geometry in zip(page, geometries, strict=True)])


def _cpts_units(ctx: Context, query: ItemsQuery) -> Page:
    filters = dict(query.filters)
    if query.feature_id is not None:
        cpts_id, _, code = query.feature_id.partition("-")
        filters |= {"cpts_id": cpts_id, "code": code}
    rows = {int(r["id"]): r for r in _readable_cpts(ctx, filters, territory=False)}
    unit_filters = {k: v for k, v in filters.items() if k in ("code", "departement", "region")}
    column, srid = repo.geometry_column(query.band, query.crs.srid)
    matched, units = repo.cpts_units_page(
        ctx.conn, sorted(rows), filters=unit_filters, bbox=query.bbox, column=column,
        source_srid=srid, crs=query.crs, decimals=query.band.decimals(query.crs),
        limit=query.limit, offset=query.offset)
    geometries = protocol.encode_stored([u["geometry"] for u in units], srid, query.crs,
                                        query.band.decimals(query.crs))
    features = []
    for unit, geometry in zip(units, geometries[:protocol.fitting(geometries)], strict=False):
        row = rows[int(unit["cpts_id"])]
        features.append(protocol.feature(f"{unit['cpts_id']}-{unit['code']}", geometry, {
            "cpts_id": int(unit["cpts_id"]), "cpts_nom": row["name"], "stade": row["status"],
            "stade_libelle": STATUS_LABELS.get(row["status"], row["status"]),
            "code": unit["code"], "nom": unit["nom"], "departement": unit["departement"],
            "region": unit["region"], "population": unit["population"],
            "millesime_population": unit["population_year"]}))
    return Page(matched, features)


# --- Coverage: zones blanches and overlaps ---------------------------------------------------

def _label(entry: dict[str, Any]) -> str:
    stage = STATUS_LABELS.get(entry["status"], entry["status"])
    if not entry["named"]:
        return f"CPTS non visible ({stage})"
    return f"{entry['name']} (n° {entry['id']}, {stage})"


def _report(ctx: Context, query: ItemsQuery) -> coverage_service.CoverageReport:
    if ctx.user is None:  # figures drawn from unpublished projects: signed-in users only
        raise ProblemError(401, "unauthenticated",
                           "Connectez-vous (jeton personnel) pour lire cette collection.")
    return coverage_service.compute(ctx, coverage_service.parse_query(query.scope, None, None))


def _flag(value: str, name: str) -> bool:
    if value.lower() not in ("true", "false", "oui", "non", "1", "0"):
        raise ProblemError(400, "ogc_bad_filter", f"`{name}` : true ou false.")
    return value.lower() in ("true", "oui", "1")


def _in_bbox(ctx: Context, groups: list[tuple[str, ...]], bbox: Bbox | None) -> list[bool]:
    if bbox is None:
        return [True] * len(groups)
    inside = repo.units_in_bbox(ctx.conn, sorted({c for g in groups for c in g}), bbox)
    return [not inside.isdisjoint(group) for group in groups]


def _shapes(ctx: Context, groups: Sequence[Sequence[str]], query: ItemsQuery) -> list[str | None]:
    """The dissolved outline of each group of units (the units of a band form an exact
    coverage: an edge-based union is enough), encoded in the requested CRS."""
    column, srid = repo.geometry_column(query.band, query.crs.srid)
    stored = repo.unit_geometries(ctx.conn, sorted({c for g in groups for c in g}), column)
    shapes = []
    for group in groups:
        pieces = [stored[c] for c in group if c in stored]
        shapes.append(dissolve(shapely.from_wkb(pieces)) if pieces else None)
    return protocol.encode_shapes(np.array(shapes, dtype=object), srid, query.crs,
                                  query.band.decimals(query.crs))


def _white_zones(ctx: Context, query: ItemsQuery) -> Page:
    report = _report(ctx, query)
    view = report.view
    zones = view["white_zones"]
    if "departement" in query.filters:
        zones = [z for z in zones if query.filters["departement"] in z["departements"]]
    if "enclave" in query.filters:
        wanted = _flag(query.filters["enclave"], "enclave")
        zones = [z for z in zones if z["enclave"] is wanted]
    if query.feature_id is not None:
        zones = [z for z in zones if z["id"] == query.feature_id]
    kept = _in_bbox(ctx, [tuple(z["communes"]) for z in zones], query.bbox)
    zones = [z for z, keep in zip(zones, kept, strict=True) if keep]
    geometries = _shapes(ctx, [z["communes"] for z in _page_of(zones, query)], query)
    geometries = geometries[:protocol.fitting(geometries)]
    page = _page_of(zones, query)[:len(geometries)]
    return Page(len(zones), [protocol.feature(zone["id"], geometry, {
        "id": zone["id"], "communes": len(zone["communes"]), "codes": " ".join(zone["communes"]),
        "population": zone["population"], "millesime_population": view["population_year"],
        "superficie_km2": zone["area_km2"], "departements": " ".join(zone["departements"]),
        "enclave": zone["enclave"], "deborde_du_perimetre": zone["extends_outside_scope"],
        "sans_contour": " ".join(zone["without_polygon"]) or None,
        "nb_cpts_voisines": len(zone["adjacent_cpts"]),
        "cpts_voisines": " ; ".join(_label(a) for a in zone["adjacent_cpts"]) or None,
        "perimetre_analyse": view["scope"], "date": view["at"],
        "stades_couverts": ",".join(view["statuses"])})
        for zone, geometry in zip(page, geometries, strict=True)])


def _overlaps(ctx: Context, query: ItemsQuery) -> Page:
    report = _report(ctx, query)
    view = report.view
    overlaps = view["overlaps"]
    for name, key in (("code", "commune"), ("departement", "departement"),
                      ("gravite", "severity")):
        if name in query.filters:
            overlaps = [o for o in overlaps if o[key] == query.filters[name]]
    if query.feature_id is not None:
        overlaps = [o for o in overlaps if o["commune"] == query.feature_id]
    kept = _in_bbox(ctx, [(o["commune"],) for o in overlaps], query.bbox)
    overlaps = [o for o, keep in zip(overlaps, kept, strict=True) if keep]
    geometries = _shapes(ctx, [[o["commune"]] for o in _page_of(overlaps, query)], query)
    geometries = geometries[:protocol.fitting(geometries)]
    page = _page_of(overlaps, query)[:len(geometries)]
    return Page(len(overlaps), [protocol.feature(o["commune"], geometry, {
        "code": o["commune"], "nom": o["nom"], "departement": o["departement"],
        "population": o["population"], "millesime_population": view["population_year"],
        "gravite": o["severity"], "nb_cpts": len(o["cpts"]),
        "cpts": " ; ".join(_label(c) for c in o["cpts"]),
        "cpts_non_nommees": sum(1 for c in o["cpts"] if not c["named"]),
        "perimetre_analyse": view["scope"], "date": view["at"],
        "stades_couverts": ",".join(view["statuses"])})
        for o, geometry in zip(page, geometries, strict=True)])
