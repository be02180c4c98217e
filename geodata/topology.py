"""Turn commune polygons that nearly tile the land into an exact coverage.

The source polygons overlap by slivers and their shared edges do not always carry the same
vertices. We node all boundaries together, rebuild the faces they enclose, and give every face
to exactly one commune: the one that contains it, the lower code when two claim it (an overlap),
the neighbour with the longest shared border when none does and the face is a sliver (a gap).
Faces come from one noded linework, so neighbours then share identical edges.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

Geoms = npt.NDArray[np.object_]

# A face claimed by nobody is a gap between neighbours (given away) when it is small or thin;
# otherwise it is land or water outside every commune and is left alone.
SLIVER_MAX_AREA_M2 = 10_000.0
THIN_MAX_MEAN_WIDTH_M = 15.0
THIN_MAX_AREA_M2 = 2_000_000.0


@dataclass(frozen=True)
class CoverageReport:
    faces: int
    overlap_faces: int
    overlap_area_m2: float
    gap_faces_filled: int
    gap_area_filled_m2: float
    gap_faces_left: int
    communes_changed: int
    invalid_before: int
    invalid_after: int


def _polygonal(geoms: Geoms) -> Geoms:
    """Valid geometries keeping only their polygonal parts."""
    valid = shapely.make_valid(geoms)
    out = np.empty(len(valid), dtype=object)
    for i, geom in enumerate(valid):
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = geom
        else:
            parts = [p for p in shapely.get_parts(geom)
                     if p.geom_type in ("Polygon", "MultiPolygon")]
            out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def as_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    return shapely.MultiPolygon(parts)


def clean_coverage(geoms: Geoms, codes: npt.NDArray[np.str_]
                   ) -> tuple[Geoms, CoverageReport, Geoms]:
    """An exact coverage built from `geoms` (projected, in metres), in the order of the input,
    and the faces enclosed by commune boundaries that no commune claims (holes: land missing
    from the source outlines, or water; `geodata.holes` decides them)."""
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    # Bring coordinates to the centimetre first: it removes noise that would make hair-thin faces.
    geoms = shapely.set_precision(geoms, 0.01)
    invalid_before = int((~shapely.is_empty(shapely.coverage_invalid_edges(geoms))).sum())

    noded = shapely.union_all(shapely.boundary(geoms))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    points = shapely.point_on_surface(faces)

    tree = shapely.STRtree(geoms)
    face_idx, owner_idx = tree.query(points, predicate="within")
    owner = np.full(len(faces), -1, dtype=np.int64)
    claims = np.bincount(face_idx, minlength=len(faces))
    # Lower code wins an overlap: sort claims so that the first claim per face is the lowest code.
    order = np.lexsort((codes[owner_idx], face_idx))
    face_sorted, owner_sorted = face_idx[order], owner_idx[order]
    first = np.unique(face_sorted, return_index=True)[1]
    owner[face_sorted[first]] = owner_sorted[first]

    face_area = shapely.area(faces)
    overlap = claims > 1
    gaps = np.flatnonzero(owner < 0)
    perimeter = shapely.length(faces[gaps])
    mean_width = np.where(perimeter > 0, 2 * face_area[gaps] / np.maximum(perimeter, 1e-9), 0)
    is_sliver = (face_area[gaps] < SLIVER_MAX_AREA_M2) | (
        (mean_width < THIN_MAX_MEAN_WIDTH_M) & (face_area[gaps] < THIN_MAX_AREA_M2)
    )
    filled = 0
    filled_area = 0.0
    left: list[int] = []
    for gap, sliver in zip(gaps, is_sliver, strict=True):
        if not sliver:
            left.append(int(gap))
            continue
        candidates = tree.query(faces[gap], predicate="intersects")
        if len(candidates) == 0:
            left.append(int(gap))
            continue
        shared = shapely.length(
            shapely.intersection(shapely.boundary(faces[gap]), shapely.boundary(geoms[candidates]))
        )
        if shared.max() <= 0:
            left.append(int(gap))
            continue
        owner[gap] = candidates[int(np.argmax(shared))]
        filled += 1
        filled_area += float(face_area[gap])

    result = np.empty(len(geoms), dtype=object)
    assigned = owner >= 0
    by_owner: dict[int, list[int]] = {}
    for face, commune in zip(np.flatnonzero(assigned), owner[assigned], strict=True):
        by_owner.setdefault(int(commune), []).append(int(face))
    changed = 0
    for i in range(len(geoms)):
        parts = by_owner.get(i, [])
        if not parts:
            result[i] = shapely.MultiPolygon()
            changed += 1
            continue
        merged = faces[parts[0]] if len(parts) == 1 else shapely.coverage_union_all(faces[parts])
        result[i] = as_multipolygon(merged)
        if abs(shapely.area(merged) - shapely.area(geoms[i])) > 1.0:
            changed += 1

    invalid_after = int((~shapely.is_empty(shapely.coverage_invalid_edges(result))).sum())
    report = CoverageReport(
        faces=len(faces),
        overlap_faces=int(overlap.sum()),
        overlap_area_m2=float(face_area[overlap].sum()),
        gap_faces_filled=filled,
        gap_area_filled_m2=filled_area,
        gap_faces_left=int(len(gaps) - filled),
        communes_changed=changed,
        invalid_before=invalid_before,
        invalid_after=invalid_after,
    )
    return result, report, np.asarray(faces[left], dtype=object)
