"""Orientation on the map: the names written on it (régions and départements at low zoom,
communes from zoom 10, each visible CPTS on its outline), the user's own territory (where the
map opens, what is drawn muted outside it), territories found by name or code for the
type-ahead, and what lies at a point where there is no commune.

Which CPTS are named is decided by `cpts_service.listing` (`cpts_read_scope`): a private draft
or an agency's scenario is never named to someone who may not read it."""

import re
import threading
import unicodedata
from typing import Any

from app.auth.policy import Role
from app.errors import ProblemError
from app.repo import labels as repo
from app.repo import map_data as map_repo
from app.services import cpts as cpts_service
from app.services.cpts import Context

COMMUNE_LABELS_LIMIT = 400
TERRITORY_KINDS = ("region", "departement", "epci", "bassin_de_vie")
TERRITORY_KIND_LABELS = {"region": "Région", "departement": "Département", "epci": "EPCI",
                         "bassin_de_vie": "Bassin de vie"}
MAX_BBOX_DEGREES = 12.0

_areas_lock = threading.Lock()
_areas: dict[tuple[int, str], Any] = {}
# A point inside each (CPTS, version): a version never changes, so its point neither.
_points: dict[tuple[int, int], tuple[float, float]] = {}
POINTS_KEPT = 50_000


def _area_labels(ctx: Context, table: str) -> Any:
    """Région and département labels (and the overview's region order), kept per reference
    release (they never change)."""
    key = (id(ctx.graph), table)
    with _areas_lock:
        found = _areas.get(key)
    if found is None:
        found = (repo.land_codes(ctx.conn) if table == "land_codes"
                 else repo.area_labels(ctx.conn, table))
        with _areas_lock:
            if len(_areas) > 8:
                _areas.clear()
            _areas[key] = found
    return found


def territory(ctx: Context) -> dict[str, Any]:
    """The user's own territory: regions (None: all of France), their départements, bounds.
    ARS and task force: their regions; carrier: their CPTS; administrator: France."""
    user = ctx.user
    if user is None or user.role == Role.ADMIN:
        return {"regions": None, "departements": None, "bounds": None, "cpts": []}
    if user.role == Role.CARRIER:
        readable = {int(r["id"]) for r in cpts_service.listing(ctx)}
        mine = sorted(i for i in user.cpts_ids if i in readable)
        codes = [c for codes in map_repo.members_of(ctx.conn, mine).values() for c in codes]
        if not codes:
            return {"regions": None, "departements": None, "bounds": None, "cpts": mine}
        regions = repo.regions_of_units(ctx.conn, codes)
        bounds = repo.bounds_of_units(ctx.conn, codes)
    else:
        regions = sorted(user.regions)
        bounds = repo.bounds_of_regions(ctx.conn, regions) if regions else None
        mine = []
    return {"regions": regions, "departements": repo.departements_of_regions(ctx.conn, regions),
            "bounds": bounds, "cpts": mine}


def orientation(ctx: Context) -> dict[str, Any]:
    """Everything the label layer draws at every zoom, the user's territory, and the regions
    outside it (drawn muted on the national map rather than as zones blanches)."""
    visible = [r for r in cpts_service.listing(ctx) if r["archived_at"] is None]
    keys = [(int(r["id"]), int(r["version"])) for r in visible]
    with _areas_lock:
        missing = [key for key in keys if key not in _points]
    if missing:
        found = repo.cpts_label_points(ctx.conn, missing)
        with _areas_lock:
            if len(_points) + len(found) > POINTS_KEPT:
                _points.clear()
            _points.update(found)
    with _areas_lock:
        points = {key: _points[key] for key in keys if key in _points}
    scope = territory(ctx)
    regions = scope["regions"]
    return {
        "regions": _area_labels(ctx, "region"),
        "departements": _area_labels(ctx, "departement"),
        "cpts": [{"id": i, "name": r["name"], "lon": points[(i, v)][0], "lat": points[(i, v)][1]}
                 for r, (i, v) in zip(visible, keys, strict=True) if (i, v) in points],
        "territory": scope,
        # the overview's ground, region by region: true where it is outside the territory
        "muted_land": [code not in regions for code in _area_labels(ctx, "land_codes")]
        if regions else [],
    }


def commune_labels(ctx: Context, bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    w, s, e, n = bbox
    if not (w < e and s < n) or e - w > MAX_BBOX_DEGREES or n - s > MAX_BBOX_DEGREES:
        raise ProblemError(422, "bad_bbox", "Emprise invalide : ouest < est et sud < nord, "
                           f"au plus {MAX_BBOX_DEGREES:g} degrés de côté.")
    return {"communes": repo.commune_labels(ctx.conn, bbox, COMMUNE_LABELS_LIMIT)}


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def normalise_code(kind: str, text: str) -> str | None:
    """A code as typed → the code of the table: `4` and `04` are the département 04,
    `2a` is 2A; a région code has two digits too (`6` → 06, not a région: nothing found)."""
    text = text.strip().upper()
    if kind in ("region", "departement") and re.fullmatch(r"\d{1,3}|2[AB]", text):
        return text.zfill(2) if text.isdigit() and len(text) < 2 else text
    if kind == "epci" and re.fullmatch(r"\d{9}", text):
        return text
    if kind == "bassin_de_vie" and re.fullmatch(r"[0-9AB]{5}", text):
        return text
    return None


def find_territories(ctx: Context, query: str, *, limit: int = 12) -> dict[str, Any]:
    """Régions, départements, EPCI and bassins de vie by name or code, codes first."""
    text = _words(query)
    if not text:
        return {"results": []}
    if len(text) > 100:
        raise ProblemError(422, "query_too_long", "Recherche trop longue (100 caractères au plus).")
    results: list[dict[str, Any]] = []
    for kind in TERRITORY_KINDS:
        code = normalise_code(kind, text)
        words = text if len(text) >= 2 and not text.isdigit() else None
        if code is None and words is None:
            continue
        for found in repo.find_territories(ctx.conn, kind, code=code, words=words, limit=limit):
            results.append({"kind": kind, "kind_label": TERRITORY_KIND_LABELS[kind],
                            "scope": f"{kind}:{found['code']}" if kind != "bassin_de_vie" else None,
                            "label": f"{found['nom']} ({TERRITORY_KIND_LABELS[kind].lower()} "
                                     f"{found['code']})",
                            "exact_code": found["code"] == code, **found})
    results.sort(key=lambda r: (not r["exact_code"], TERRITORY_KINDS.index(r["kind"])))
    return {"results": results[:limit]}


def place(ctx: Context, lon: float, lat: float) -> dict[str, Any]:
    """What lies at a point, in a French sentence when there is no commune there."""
    found = repo.place_at(ctx.conn, lon, lat)
    if found["commune"]:
        return {**found, "message": f"{found['commune']['nom']} ({found['commune']['code']})"}
    nearest = found["nearest"]
    near = (f" La commune la plus proche est {nearest['nom']} ({nearest['code']}), à "
            f"{_distance(nearest['distance_m'])}." if nearest else "")
    if found["departement"]:
        dep = found["departement"]
        message = (f"Aucune commune de la géographie de référence à cet endroit, pourtant "
                   f"dans le département {dep['nom']} ({dep['code']}) : un plan d'eau, un "
                   "estran ou un espace que le découpage communal ne couvre pas.")
    else:
        message = "Hors de France (mer ou pays voisin) : aucune commune à cet endroit."
    return {**found, "message": message + near}


def _distance(metres: float) -> str:
    if metres < 1000:
        return f"{round(metres)} m"
    return f"{metres / 1000:.1f} km".replace(".", ",")
