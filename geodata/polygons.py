"""Give every current unit (commune, or arrondissement in Paris, Lyon and Marseille) a polygon.

The polygons are of an older COG than the codes. A commune nouvelle formed since the source's
vintage takes the polygons of the communes it was made from: its own polygon if the source has
one, plus the polygons of its former communes (the codes the COG's history sends to it) that
the source still draws as communes. A current commune with no polygon of its own is rebuilt by
dissolving the polygons of the communes déléguées and associées attached to it or carrying its
former codes. Communes restored from a commune nouvelle have no outline in any source here: they
keep no polygon and the report says so.
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


def _dissolve(pieces: list[shapely.Geometry]) -> shapely.Geometry:
    return shapely.union_all(shapely.make_valid(np.asarray(pieces, dtype=object)))


def assign_polygons(
    units: pd.DataFrame, polygons: pd.DataFrame, history: pd.DataFrame | None = None
) -> tuple[pd.Series, PolygonReport]:
    """A WGS84 polygon (or None) for each row of `units` (columns code, type).

    `polygons` has columns code, type (COM, COMD, COMA, ARM), parent (code of the commune a
    COMD or COMA belongs to) and geometry (a shapely geometry or None); `history` (old_code,
    new_code) is the current COG's record of former codes.
    """
    report = PolygonReport()
    has_geom = polygons["geometry"].notna()
    own = polygons[has_geom & polygons["type"].isin(["COM", "ARM"])]
    own_by_key = dict(zip(zip(own["type"], own["code"], strict=True), own["geometry"],
                          strict=True))
    parts = polygons[has_geom & polygons["type"].isin(["COMD", "COMA"])]
    parts_by_parent = parts.groupby("parent")
    parts_by_code = parts.groupby("code")
    current = set(units["code"])
    formers: dict[str, list[str]] = {}
    if history is not None:
        for old, new in zip(history["old_code"], history["new_code"], strict=True):
            if old != new and old not in current:
                formers.setdefault(new, []).append(old)

    result: list[shapely.Geometry | None] = []
    for code, kind in zip(units["code"], units["type"], strict=True):
        geom = own_by_key.get((kind, code))
        olds = sorted(formers.get(code, [])) if kind == "COM" else []
        absorbed = [old for old in olds if ("COM", old) in own_by_key]
        if geom is not None:
            if absorbed:
                result.append(_dissolve([geom, *(own_by_key["COM", old] for old in absorbed)]))
                report.rebuilt_from_predecessors[code] = [code, *absorbed]
                continue
            report.with_own_polygon += 1
            result.append(geom)
            continue
        keys: dict[tuple[str, str], shapely.Geometry] = {
            ("COM", old): own_by_key["COM", old] for old in absorbed}
        if kind == "COM":
            if code in parts_by_parent.groups:
                group = parts_by_parent.get_group(code)
                keys |= dict(zip(zip(group["type"], group["code"], strict=True),
                                 group["geometry"], strict=True))
            for old in [code, *olds]:
                if old in parts_by_code.groups:
                    group = parts_by_code.get_group(old)
                    keys |= dict(zip(zip(group["type"], group["code"], strict=True),
                                     group["geometry"], strict=True))
        if keys:
            result.append(_dissolve(list(keys.values())))
            report.rebuilt_from_predecessors[code] = sorted({c for _, c in keys})
            continue
        origin = RESTORED_WITHOUT_OUTLINE.get(code)
        report.without_polygon[code] = (
            f"Commune rétablie en 2025 à partir de {origin} : aucun contour n'est disponible, "
            f"son territoire reste dessiné dans celui de {origin}."
            if origin else "Aucun contour n'est disponible pour cette commune."
        )
        result.append(None)
    return pd.Series(result, index=units.index, dtype=object), report
