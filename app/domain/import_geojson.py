"""GeoJSON polygons as CPTS perimeters: read and check the features (valid rings, WGS84
coordinates, or a `crs` member naming another EPSG system, which is then reprojected), and turn
the share of each commune's area inside a polygon into rows. Pure functions: the shares
themselves are measured in PostGIS (`app.repo.imports.area_shares`).

A hostile document is refused before it costs anything: its nesting depth is measured by a
linear scan before `json.loads` (100,000 nested arrays would exhaust the parser's stack), a
`crs` name must be a short EPSG or CRS84 name, and names quoted in messages are cut short.
"""

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.domain.imports import (
    CPTS_HEADERS,
    Issue,
    ParsedFile,
    SourcePolygon,
    SourceRow,
    decode_text,
    header_key,
    too_many_rows,
)
from app.domain.upload_limits import (
    MAX_CRS_NAME_CHARS,
    MAX_JSON_DEPTH,
    UploadLimits,
    shorten,
)
from app.errors import ProblemError

WGS84 = 4326
# Communes whose share lies this close to the threshold are listed in the report.
NEAR_SHARE_MARGIN = 0.15
# Lambert-93 (EPSG:2154) coordinates of metropolitan France, in metres.
LAMBERT93_X = (0.0, 1_400_000.0)
LAMBERT93_Y = (6_000_000.0, 7_200_000.0)

_REASONS = (
    ("Ring Self-intersection", "un anneau se recoupe lui-même"),
    ("Self-intersection", "le contour se recoupe (auto-intersection)"),
    ("Too few points", "un anneau a moins de 4 points"),
    ("Hole lies outside shell", "un trou sort de son polygone"),
    ("Nested shells", "des polygones s'emboîtent"),
    ("Interior is disconnected", "l'intérieur est coupé en morceaux"),
    ("Duplicate Rings", "un anneau est répété"),
    ("Invalid Coordinate", "une coordonnée n'est pas un nombre"),
    ("Nested holes", "des trous s'emboîtent"),
)


def _where(reason: str) -> str:
    found = re.search(r"\[\s*(-?[\d.e+-]+)\s+(-?[\d.e+-]+)", reason)
    if not found:
        return ""
    x, y = (float(value) for value in found.groups())
    return f" près de ({x:.5f}, {y:.5f})"


_SCAN_CHUNK = 1024 * 1024
_QUOTE, _BRACKETS = ord('"'), (ord("["), ord("{"), ord("]"), ord("}"))
_NOT_SYNTAX = bytes(code for code in range(256) if code not in (_QUOTE, *_BRACKETS))
_JSON_ERRORS = (
    ("Expecting value", "valeur attendue"),
    ("Expecting property name enclosed in double quotes",
     "nom de propriété attendu entre guillemets doubles"),
    ("Expecting ':' delimiter", "« : » attendu"),
    ("Expecting ',' delimiter", "« , » attendue"),
    ("Unterminated string starting at", "texte sans guillemet fermant"),
    ("Invalid control character at", "caractère de contrôle dans un texte"),
    ("Invalid \\escape", "séquence d'échappement invalide"),
    ("Invalid \\uXXXX escape", "séquence \\uXXXX invalide"),
    ("Extra data", "données en trop après la fin du document"),
)


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in `text`, brackets inside strings left out: a linear
    scan by numpy over 1 MiB pieces (quote parity, then a running sum), without parsing.
    Escaped backslashes and quotes are dropped first, so a quote left is a string's edge, then
    every byte but quotes and brackets."""
    raw = text.replace("\\\\", "").replace('\\"', "").encode("utf-8").translate(
        None, _NOT_SYNTAX)
    opening, opening_curly, closing, closing_curly = _BRACKETS
    depth = deepest = 0
    inside = 0  # 1 when a piece starts inside a string
    for start in range(0, len(raw), _SCAN_CHUNK):
        codes = np.frombuffer(raw, dtype=np.uint8, count=min(_SCAN_CHUNK, len(raw) - start),
                              offset=start)
        quotes = np.cumsum(codes == _QUOTE, dtype=np.int32) + inside
        outside = (quotes & 1) == 0
        steps = (((codes == opening) | (codes == opening_curly)) & outside).astype(np.int32)
        steps -= ((codes == closing) | (codes == closing_curly)) & outside
        levels = np.cumsum(steps) + depth
        deepest = max(deepest, int(levels.max()))
        depth = int(levels[-1])
        inside = int(quotes[-1]) & 1
    return deepest


def _json_reason(message: str) -> str:
    for english, french in _JSON_ERRORS:
        if message.startswith(english):
            return french
    return "syntaxe invalide"


def parse_json(data: bytes) -> Any:
    text, _ = decode_text(data)
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ProblemError(422, "json_too_deep",
                           f"JSON refusé : tableaux et objets imbriqués sur {depth} niveaux (au "
                           f"plus {MAX_JSON_DEPTH} ; un GeoJSON de polygones en compte 8).")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(422, "invalid_json", f"JSON illisible ligne {exc.lineno}, colonne "
                                                f"{exc.colno} : {_json_reason(exc.msg)}."
                           ) from None
    except RecursionError:  # not reached below MAX_JSON_DEPTH; kept as a last guard
        raise ProblemError(422, "json_too_deep", "JSON refusé : imbrication trop profonde."
                           ) from None


def feature_name(properties: object) -> str | None:
    """The CPTS name among a feature's properties (same spellings as table headers)."""
    if not isinstance(properties, dict):
        return None
    by_key = {header_key(key): value for key, value in properties.items()}
    for name in CPTS_HEADERS:
        value = by_key.get(name)
        if value is not None and str(value).strip():
            return str(value)
    return None


def feature_geometry(raw: object) -> BaseGeometry:
    """A GeoJSON geometry as Shapely (2D); ValueError when it is malformed."""
    if not isinstance(raw, dict):
        raise ValueError("geometry is not an object")
    try:
        return shapely.force_2d(shape(raw))
    except (KeyError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise ValueError(str(exc)) from None


def validity_problem(geometry: BaseGeometry) -> str | None:
    """Why a geometry is invalid, in French (None when it is valid)."""
    reason = shapely.is_valid_reason(geometry)
    if reason == "Valid Geometry":
        return None
    for english, french in _REASONS:
        if reason.startswith(english):
            return french + _where(reason)
    return reason


# `EPSG:2154`, `urn:ogc:def:crs:EPSG::2154`, `urn:ogc:def:crs:EPSG:6.6:2154`, and CRS84.
_EPSG_NAME = re.compile(r"(?:urn:ogc:def:crs:)?EPSG:{1,2}(?:\d{1,3}(?:\.\d{1,3}){0,2}:)?"
                        r"(\d{1,6})", re.IGNORECASE)
_CRS84_NAME = re.compile(r"(?:urn:ogc:def:crs:OGC:(?:1\.3:)?)?CRS:?84", re.IGNORECASE)


def crs_code(document: Mapping[str, Any]) -> int | None:
    """The EPSG code named by a (pre-RFC 7946) `crs` member; None when there is none. Only
    the usual spellings of an EPSG code (six digits at most) and of CRS84 are accepted."""
    crs = document.get("crs")
    if crs is None:
        return None
    properties = crs.get("properties") if isinstance(crs, dict) else None
    raw = properties.get("name") if isinstance(properties, dict) else None
    name = raw.strip() if isinstance(raw, str) else ""
    if len(name) <= MAX_CRS_NAME_CHARS:
        if _CRS84_NAME.fullmatch(name):
            return WGS84
        found = _EPSG_NAME.fullmatch(name)
        if found:
            return int(found.group(1))
    shown = shorten(name, 60) if name else "(aucun nom dans crs.properties.name)"
    raise ProblemError(422, "unknown_crs", f"Système de coordonnées non reconnu : « {shown} ». "
                                           "Exportez le fichier en WGS84 (EPSG:4326).")


def reproject(geometries: Sequence[BaseGeometry], epsg: int) -> list[BaseGeometry]:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError, ProjError

    try:
        transformer = Transformer.from_crs(CRS.from_epsg(epsg), CRS.from_epsg(WGS84),
                                           always_xy=True)
    except (CRSError, ProjError):
        raise ProblemError(422, "unknown_crs", f"Code EPSG inconnu : {epsg}.") from None
    return [shapely.transform(geometry, lambda xy: _transform(transformer, xy))
            for geometry in geometries]


def _transform(transformer: Any, xy: Any) -> Any:
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def outside_wgs84(geometry: BaseGeometry) -> bool:
    x0, y0, x1, y1 = shapely.bounds(geometry)
    return bool(x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90)


def _projected_hint(geometries: Iterable[BaseGeometry]) -> str:
    x0, y0, x1, y1 = shapely.total_bounds(list(geometries))
    lambert = (LAMBERT93_X[0] <= x0 and x1 <= LAMBERT93_X[1]
               and LAMBERT93_Y[0] <= y0 and y1 <= LAMBERT93_Y[1])
    guess = "en Lambert-93 (EPSG:2154)" if lambert else "projeté (en mètres)"
    return (f"Les coordonnées (x de {x0:,.0f} à {x1:,.0f}, y de {y0:,.0f} à {y1:,.0f}) ne sont "
            f"pas des longitudes et latitudes : le fichier semble {guess}. Exportez-le en WGS84 "
            "(EPSG:4326), ou indiquez son système dans un membre « crs ».").replace(",", "\u202f")


def read_geojson(data: bytes, *, limits: UploadLimits | None = None) -> ParsedFile:
    """The polygon features of a FeatureCollection (or of a single Feature), checked."""
    limits = limits or UploadLimits()
    document = parse_json(data)
    if isinstance(document, dict) and document.get("type") == "Feature":
        features: Any = [document]
    elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
    else:
        raise ProblemError(422, "not_a_feature_collection",
                           "Le GeoJSON doit être une FeatureCollection de polygones.")
    if not isinstance(features, list) or not features:
        raise ProblemError(422, "empty_file", "La FeatureCollection ne contient aucune entité.")
    if len(features) > limits.max_rows:
        raise too_many_rows(limits.max_rows)
    epsg = crs_code(document)
    errors: list[Issue] = []
    warnings: list[Issue] = []
    kept: list[tuple[int, str, BaseGeometry]] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            errors.append(Issue(number, "invalid_feature", f"Entité n° {number} : ce n'est pas "
                                                           "un objet GeoJSON."))
            continue
        name = feature_name(feature.get("properties"))
        label = f"Entité n° {number}" + (f" (« {shorten(name.strip())} »)" if name else "")
        if name is None:
            errors.append(Issue(number, "missing_name", f"{label} : aucune propriété ne donne "
                                                        "le nom de la CPTS (cpts, nom_cpts, nom)."))
        raw = feature.get("geometry")
        if raw is None:
            errors.append(Issue(number, "missing_geometry", f"{label} : pas de géométrie."))
            continue
        try:
            geometry = feature_geometry(raw)
        except ValueError:
            errors.append(Issue(number, "invalid_geometry",
                                f"{label} : géométrie malformée (coordonnées ou anneaux)."))
            continue
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            errors.append(Issue(number, "not_a_polygon", f"{label} : géométrie "
                                                         f"{geometry.geom_type}, un polygone est "
                                                         "attendu."))
            continue
        if geometry.is_empty:
            errors.append(Issue(number, "invalid_geometry", f"{label} : géométrie vide."))
            continue
        if name is not None:
            kept.append((number, name, geometry))
    geometries = [geometry for _, _, geometry in kept]
    if epsg is not None and epsg != WGS84 and geometries:
        geometries = reproject(geometries, epsg)
        warnings.append(Issue(None, "reprojected", f"Coordonnées en EPSG:{epsg} (membre « crs »)"
                                                   " converties en WGS84."))
    outside = [number for (number, _, _), g in zip(kept, geometries, strict=True)
               if outside_wgs84(g)]
    if outside:
        detail = _projected_hint(geometries)
        raise ProblemError(422, "not_wgs84", detail, errors=[
            {"line": number, "code": "not_wgs84",
             "detail": f"Entité n° {number} : coordonnées hors des bornes WGS84."}
            for number in outside])
    polygons: list[SourcePolygon] = []
    for (number, name, _), geometry in zip(kept, geometries, strict=True):
        problem = validity_problem(geometry)
        if problem is not None:
            errors.append(Issue(number, "invalid_geometry",
                                f"Entité n° {number} (« {shorten(name.strip())} ») : géométrie "
                                f"invalide, "
                                f"{problem}. Corrigez-la (QGIS : Vecteur > Outils de géométrie > "
                                "Réparer les géométries) avant de l'importer."))
            continue
        polygons.append(SourcePolygon(number, name, geometry))
    return ParsedFile("geojson", polygons=tuple(polygons), warnings=tuple(warnings),
                      errors=tuple(errors))


def _percent(share: float) -> str:
    """`49,9 %`: one decimal, truncated, so that a share just under the threshold never reads
    as the threshold itself."""
    return f"{math.floor(share * 1000) / 10:.1f}".replace(".", ",").removesuffix(",0") + " %"


def rows_from_shares(
    polygons: Sequence[SourcePolygon],
    shares: Mapping[int, Sequence[tuple[str, float]]],
    names: Mapping[str, str],
    *,
    threshold: float,
    margin: float = NEAR_SHARE_MARGIN,
) -> tuple[list[SourceRow], list[Issue], list[Issue]]:
    """Rows for the communes whose area lies at least `threshold` inside each polygon.

    `shares` maps a feature number to (unit code, share of its area inside) for every unit
    the polygon touches. Returns the rows, the warnings (units within `margin` of the
    threshold, kept or left out) and the errors (a polygon that holds no commune).
    """
    rows: list[SourceRow] = []
    warnings: list[Issue] = []
    errors: list[Issue] = []
    for polygon in polygons:
        touched = sorted(shares.get(polygon.line, ()), key=lambda item: (-item[1], item[0]))
        kept = [code for code, share in touched if share >= threshold]
        label = f"Entité n° {polygon.line} (« {shorten(polygon.cpts.strip())} »)"
        if not kept:
            errors.append(Issue(polygon.line, "no_commune",
                                f"{label} : aucune commune n'a au moins {_percent(threshold)} "
                                "de sa surface dans le polygone."))
            continue
        rows.extend(SourceRow(line=polygon.line, cpts=polygon.cpts, code=code) for code in kept)
        near = [(code, share) for code, share in touched if abs(share - threshold) < margin]
        if near:
            listed = ", ".join(
                f"{names.get(code, code)} ({code}) {_percent(share)} "
                f"{'retenue' if share >= threshold else 'écartée'}" for code, share in near)
            warnings.append(Issue(polygon.line, "near_share",
                                  f"{label} : communes proches du seuil de "
                                  f"{_percent(threshold)} : {listed}.",
                                  communes=tuple(code for code, _ in near)))
    return rows, warnings, errors
