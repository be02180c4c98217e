"""Projections per zone, generalised bands of a coverage, dissolves and adjacency."""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer

Geoms = npt.NDArray[np.object_]

# Metropolitan France (with Corsica) in Lambert-93; each DROM in its legal local projection.
ZONE_CRS = {
    "metro": 2154,
    "971": 5490,   # RGAF09 / UTM 20N (Guadeloupe)
    "972": 5490,   # RGAF09 / UTM 20N (Martinique)
    "973": 2972,   # RGFG95 / UTM 22N (Guyane)
    "974": 2975,   # RGR92 / UTM 40S (La Réunion)
    "976": 4471,   # RGM04 / UTM 38S (Mayotte)
}

# Generalisation bands (vector tile zooms) and their tolerance in metres, applied together to a
# whole zone with shapely.coverage_simplify (Visvalingam-Whyatt: removes triangles of area up to
# about tolerance²) so that neighbours stay seamless. The source shapes are already generalised
# to about 50 m, so the finest band still starts at 250 m.
BANDS: dict[str, tuple[float, str]] = {
    "geom_g1": (2000.0, "z0-6"),
    "geom_g2": (600.0, "z7-8"),
    "geom_g3": (250.0, "z9-10"),
}


def zone_of(departement: str) -> str:
    return departement if departement in ZONE_CRS else "metro"


def transformer(source_epsg: int, target_epsg: int) -> Callable[[Geoms], Geoms]:
    transform = Transformer.from_crs(source_epsg, target_epsg, always_xy=True)

    def apply(geoms: Geoms) -> Geoms:
        def move(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            x, y = transform.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return np.asarray(shapely.transform(geoms, move), dtype=object)

    return apply


def to_multipolygons(geoms: Geoms) -> Geoms:
    """Polygonal parts only, always as MultiPolygon (None stays None)."""
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        if geom is None:
            out[i] = None
            continue
        if isinstance(geom, shapely.MultiPolygon):
            out[i] = geom
        elif isinstance(geom, shapely.Polygon):
            out[i] = shapely.MultiPolygon([geom])
        else:
            polys: list[shapely.Polygon] = []
            for part in shapely.get_parts(geom):
                if isinstance(part, shapely.Polygon):
                    polys.append(part)
                elif isinstance(part, shapely.MultiPolygon):
                    polys.extend(shapely.get_parts(part))
            out[i] = shapely.MultiPolygon(polys) if polys else None
    return out


def simplify_bands(coverage: Geoms) -> dict[str, Geoms]:
    """The generalised versions of an exact coverage, one per band."""
    return {
        band: np.asarray(shapely.coverage_simplify(coverage, tolerance), dtype=object)
        for band, (tolerance, _) in BANDS.items()
    }


def dissolve(geoms: Geoms, keys: pd.Series) -> dict[str, shapely.Geometry]:
    """One polygon per key, unioning pieces of an exact coverage (fast, edge-based)."""
    out: dict[str, shapely.Geometry] = {}
    frame = pd.DataFrame({"key": keys.to_numpy(), "i": np.arange(len(geoms))})
    for key, rows in frame.dropna(subset=["key"]).groupby("key")["i"]:
        pieces = geoms[rows.to_numpy()]
        pieces = pieces[~shapely.is_empty(pieces)]
        if len(pieces):
            out[str(key)] = shapely.coverage_union_all(pieces)
    return out


def adjacency(codes: npt.NDArray[np.str_], coverage: Geoms) -> pd.DataFrame:
    """Pairs of units sharing a border longer than zero, both directions, with its length."""
    tree = shapely.STRtree(coverage)
    left, right = tree.query(coverage, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(coverage)
    shared = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    touching = shared > 0
    left, right, shared = left[touching], right[touching], shared[touching]
    return pd.DataFrame({
        "code": np.concatenate([codes[left], codes[right]]),
        "neighbour": np.concatenate([codes[right], codes[left]]),
        "border_m": np.concatenate([shared, shared]),
    })
