"""The protocol side of OGC API – Features, without HTTP or SQL: the coordinate reference
systems offered (Part 2), the parsing of `bbox`, `bbox-crs`, `crs`, `datetime`, `zoom` and
`scale`, the generalisation band chosen for a request, and the encoding of geometries at a
precision suited to the CRS (no 15-digit coordinates).

Every error is a `ProblemError` with a stable code and a French message, raised before anything
is read from the database.
"""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from app.errors import ProblemError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# A page ends, before `limit`, once its geometries pass this many bytes (it holds at least one
# feature; its `next` link goes on from there), as the standard allows a server to return fewer
# features than asked. GDAL (and so QGIS through it) reads the first page of a layer twice, once
# to learn its schema: with the whole national `cpts` layer in one 5 MB page, it parsed 10 MB.
# A page of 1,000 full-detail communes is under 0.95 MB.
PAGE_BYTES = 1 << 20


@dataclass(frozen=True)
class Crs:
    """A CRS that the service encodes features in. `lat_first`: EPSG:4326 gives latitude
    first (its official axis order); CRS84 longitude first."""

    uri: str
    srid: int
    label: str
    degrees: bool
    lat_first: bool = False


def _epsg(code: int, label: str, *, degrees: bool = False, lat_first: bool = False) -> Crs:
    return Crs(f"{EPSG_PREFIX}{code}", code, label, degrees, lat_first)


CRSES: tuple[Crs, ...] = (
    Crs(CRS84, 4326, "WGS 84 (longitude, latitude)", degrees=True),
    _epsg(4326, "WGS 84 (latitude, longitude)", degrees=True, lat_first=True),
    _epsg(2154, "RGF93 v1 / Lambert-93 (métropole)"),
    _epsg(3857, "WGS 84 / Pseudo-Mercator"),
    _epsg(5490, "RGAF09 / UTM 20N (Guadeloupe, Martinique)"),
    _epsg(2972, "RGFG95 / UTM 22N (Guyane)"),
    _epsg(2975, "RGR92 / UTM 40S (La Réunion)"),
    _epsg(4471, "RGM04 / UTM 38S (Mayotte)"),
)
BY_URI = {crs.uri: crs for crs in CRSES}
DEFAULT_CRS = CRSES[0]


def crs_uris() -> list[str]:
    return [crs.uri for crs in CRSES]


def parse_crs(value: str | None, *, parameter: str = "crs") -> Crs:
    """A CRS by its OGC URI (`http://www.opengis.net/def/crs/EPSG/0/2154`), or for convenience
    `EPSG:2154`, `CRS84`; absent: CRS84."""
    if value is None or not value.strip():
        return DEFAULT_CRS
    text = value.strip().strip("<>")
    if text.upper() in ("CRS84", "OGC:CRS84"):
        return DEFAULT_CRS
    short = re.fullmatch(r"(?i)EPSG:(\d{4,5})", text)
    if short:
        text = EPSG_PREFIX + short.group(1)
    found = BY_URI.get(text)
    if found is None:
        raise ProblemError(
            400, "ogc_crs_unsupported",
            f"Système de coordonnées non proposé pour « {parameter} » : {value[:80]}. "
            f"Proposés : " + ", ".join(crs_uris()) + ".")
    return found


# --- Generalisation bands ----------------------------------------------------------------------

@dataclass(frozen=True)
class Band:
    """A generalisation band of the reference geometries: `full` (the clean coverage as
    loaded), or `geom_g3` / `geom_g2` / `geom_g1` (simplified together at load time for zooms
    9-10, 7-8 and 0-6, so that neighbours stay seamless)."""

    name: str
    max_zoom: float
    degree_decimals: int  # coordinates kept in degrees
    metre_decimals: int  # coordinates kept in metres

    @property
    def generalised(self) -> bool:
        return self.name != "full"

    def decimals(self, crs: Crs) -> int:
        return self.degree_decimals if crs.degrees else self.metre_decimals


# 6 decimals of a degree are about 0.1 m; the bands are simplified at 250 m to 2 km, so fewer
# digits lose nothing that they still hold.
FULL = Band("full", math.inf, 6, 1)
BANDS: tuple[Band, ...] = (Band("geom_g1", 6, 4, 0), Band("geom_g2", 8, 4, 0),
                           Band("geom_g3", 10, 5, 0), FULL)
# The scale denominator of zoom 0 of the web map tiling at 0.28 mm per pixel (OGC WMTS).
ZOOM_0_SCALE = 559_082_264.0287178


def band_for(zoom: float | None, scale: float | None) -> Band:
    """The band for a map zoom (0-22) or a scale denominator (1:`scale`); neither: full."""
    if zoom is not None and scale is not None:
        raise ProblemError(400, "ogc_zoom_and_scale",
                           "Donnez soit `zoom`, soit `scale`, pas les deux.")
    if scale is not None:
        if not math.isfinite(scale) or scale < 1:
            raise ProblemError(400, "ogc_bad_scale",
                               "`scale` est le dénominateur d'une échelle (ex. 1000000 pour "
                               "1:1 000 000) : un nombre supérieur ou égal à 1.")
        zoom = math.log2(ZOOM_0_SCALE / scale)
    if zoom is None:
        return FULL
    if not math.isfinite(zoom) or zoom > 30:
        raise ProblemError(400, "ogc_bad_zoom", "`zoom` est un niveau de zoom entre 0 et 30.")
    return next(band for band in BANDS if zoom <= band.max_zoom)


# --- bbox and datetime -------------------------------------------------------------------------

@dataclass(frozen=True)
class Bbox:
    """A box in `srid`, x (easting or longitude) first."""

    west: float
    south: float
    east: float
    north: float
    srid: int


def parse_bbox(value: str | None, bbox_crs: str | None) -> Bbox | None:
    if value is None:
        if bbox_crs is not None:
            raise ProblemError(400, "ogc_bbox_crs_without_bbox",
                               "`bbox-crs` n'a de sens qu'avec `bbox`.")
        return None
    crs = parse_crs(bbox_crs, parameter="bbox-crs")
    parts = value.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise ProblemError(400, "ogc_bad_bbox",
                           "`bbox` attend quatre nombres séparés par des virgules : ouest, sud, "
                           "est, nord (ex. 7.2,43.6,7.6,43.9).")
    if len(numbers) == 6:  # with heights: min x, min y, min z, max x, max y, max z
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    west, south, east, north = numbers
    if south > north or west > east:
        raise ProblemError(400, "ogc_bad_bbox",
                           "`bbox` : le sud doit être au-dessous du nord et l'ouest à gauche "
                           "de l'est.")
    if crs.degrees:
        if abs(south) > 90 or abs(north) > 90:
            raise ProblemError(400, "ogc_bad_bbox", "`bbox` : latitude hors de [-90, 90].")
        return Bbox(west, south, east, north, 4326)
    # A projected box is turned into longitudes and latitudes here, its edges densified: the
    # database then only compares boxes in WGS84.
    try:
        bounds = transformer_for(crs.srid, 4326).transform_bounds(west, south, east, north,
                                                                  densify_pts=21)
    except pyproj.exceptions.ProjError:
        bounds = (math.inf,) * 4
    if (not all(math.isfinite(b) for b in bounds) or abs(bounds[1]) > 90
            or abs(bounds[3]) > 90 or bounds[0] > bounds[2] or bounds[1] >= bounds[3]):
        raise ProblemError(400, "ogc_bad_bbox",
                           f"`bbox` : ces coordonnées sont hors du domaine de {crs.label}.")
    return Bbox(float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]), 4326)


@dataclass(frozen=True)
class Interval:
    """Days from `start` to `end`, both included; None: open."""

    start: date | None
    end: date | None

    def holds(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


def _day(text: str) -> date | None:
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ProblemError(400, "ogc_bad_datetime",
                           f"`datetime` : date illisible « {text[:40]} » (attendu : "
                           f"AAAA-MM-JJ, un instant RFC 3339, ou un intervalle début/fin "
                           f"avec .. pour un bout ouvert).") from None


def parse_datetime(value: str | None) -> Interval | None:
    if value is None:
        return None
    parts = value.strip().split("/")
    if len(parts) == 1:
        day = _day(parts[0])
        if day is None:
            raise ProblemError(400, "ogc_bad_datetime", "`datetime` : une date est attendue.")
        return Interval(day, day)
    if len(parts) != 2:
        raise ProblemError(400, "ogc_bad_datetime",
                           "`datetime` : une date, ou deux séparées par une barre oblique.")
    interval = Interval(_day(parts[0]), _day(parts[1]))
    if interval.start and interval.end and interval.start > interval.end:
        raise ProblemError(400, "ogc_bad_datetime",
                           "`datetime` : le début de l'intervalle est après sa fin.")
    return interval


# --- Geometries --------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def transformer_for(source: int, target: int) -> pyproj.Transformer:
    """A cached transformer between two EPSG codes, x (easting, longitude) first."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def encode_stored(values: Sequence[str | bytes | None], source_srid: int, crs: Crs,
                  decimals: int) -> list[str | None]:
    """GeoJSON geometry texts of geometries read from the database (`app.repo.ogc.
    geometry_out`): the texts PostGIS wrote as they are, the WKB ones (stored in `source_srid`)
    projected to `crs` here, all together."""
    found = [value if isinstance(value, str) else None for value in values]
    binary = {i: bytes(value) for i, value in enumerate(values)
              if isinstance(value, bytes | memoryview)}
    if binary:
        shapes = shapely.from_wkb(np.array(list(binary.values()), dtype=object))
        for i, text in zip(binary, encode_shapes(shapes, source_srid, crs, decimals),
                           strict=True):
            found[i] = text
    return found


def encode_shapes(geometries: npt.NDArray[Any], source_srid: int, crs: Crs,
                  decimals: int) -> list[str | None]:
    """GeoJSON geometry texts of shapes made in Python (dissolved groups of units) in
    `source_srid`, projected to `crs`, with `decimals` digits (None where there is none).
    Geometries read from the database go through `encode_stored`."""
    if len(geometries) == 0:
        return []
    transformer = transformer_for(source_srid, crs.srid) if source_srid != crs.srid else None

    def project(coordinates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Every coordinate of the page at once: projected, axes in the CRS's order, rounded."""
        x, y = coordinates[:, 0], coordinates[:, 1]
        if transformer is not None:
            x, y = transformer.transform(x, y)
        if crs.lat_first:
            x, y = y, x
        return np.round(np.column_stack([x, y]), decimals).astype(np.float64, copy=False)

    geometries = shapely.transform(geometries, project)
    return [None if text is None else str(text) for text in shapely.to_geojson(geometries)]


def fitting(geometries: Sequence[str | None]) -> int:
    """How many of a page's features, in order, `PAGE_BYTES` lets it hold (at least one)."""
    size = 0
    for count, geometry in enumerate(geometries, 1):
        size += len(geometry or "")
        if size >= PAGE_BYTES:
            return count
    return len(geometries)


# One encoder for every feature: `json.dumps` with options builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def feature(feature_id: str | int, geometry: str | None, properties: dict[str, Any]) -> str:
    """One GeoJSON Feature as text, the geometry text inserted as it is."""
    return ('{"type":"Feature","id":'
            + (str(feature_id) if isinstance(feature_id, int) else _encode(feature_id))
            + ',"geometry":' + (geometry or "null") + ',"properties":' + _encode(properties)
            + "}")
