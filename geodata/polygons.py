"""Give every current unit (commune, or arrondissement in Paris, Lyon and Marseille) a polygon.

The polygons are of an older COG than the codes. A current commune with no polygon of its own
is rebuilt by dissolving the polygons of the communes déléguées and associées attached to it
(the shapes of the communes it was made from). Communes restored from a commune nouvelle have
no outline in any source here: they keep no polygon and the report says so.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from geodata.cog import RESTORED_WITHOUT_OUTLINE


@dataclass
class PolygonReport:
    with_own_polygon: int = 0
    rebuilt_from_predecessors: dict[str, list[str]] = field(default_factory=dict)
    without_polygon: dict[str, str] = field(default_factory=dict)


def assign_polygons(
    units: pd.DataFrame, polygons: pd.DataFrame
) -> tuple[pd.Series, PolygonReport]:
    """A WGS84 polygon (or None) for each row of `units` (columns code, type).

    `polygons` has columns code, type (COM, COMD, COMA, ARM), parent (code of the commune a
    COMD or COMA belongs to) and geometry (a shapely geometry or None).
    """
    report = PolygonReport()
    has_geom = polygons["geometry"].notna()
    own = polygons[has_geom & polygons["type"].isin(["COM", "ARM"])]
    own_by_key = dict(zip(zip(own["type"], own["code"], strict=True), own["geometry"],
                          strict=True))
    parts = polygons[has_geom & polygons["type"].isin(["COMD", "COMA"])]
    parts_by_parent = parts.groupby("parent")

    result: list[shapely.Geometry | None] = []
    for code, kind in zip(units["code"], units["type"], strict=True):
        geom = own_by_key.get((kind, code))
        if geom is not None:
            report.with_own_polygon += 1
            result.append(geom)
            continue
        if kind == "COM" and code in parts_by_parent.groups:
            members = parts_by_parent.get_group(code)
            result.append(shapely.union_all(shapely.make_valid(np.asarray(members["geometry"]))))
            report.rebuilt_from_predecessors[code] = sorted(members["code"])
            continue
        origin = RESTORED_WITHOUT_OUTLINE.get(code)
        report.without_polygon[code] = (
            f"Commune rétablie en 2025 à partir de {origin} : aucun contour n'est disponible, "
            f"son territoire reste dessiné dans celui de {origin}."
            if origin else "Aucun contour n'est disponible pour cette commune."
        )
        result.append(None)
    return pd.Series(result, index=units.index, dtype=object), report
