"""Dissolving a set of units into one outline, the one way the service does it.

The units of a band form an exact coverage in the projection they were built in, so an
edge-based `coverage_union_all` is exact and several times faster than an overlay. After a
change of projection (the light band stored in Web Mercator, read in WGS84), rounding can leave
a few nearly collinear edges crossing by a nanodegree (seen in the Vosges); GEOS then refuses
the coverage union (or finds a piece self-intersecting), and the slower overlay union of the
repaired pieces takes over for that outline only.
"""

from typing import Any

import shapely
from shapely.errors import GEOSException


def dissolve(pieces: Any) -> Any:
    """The union of polygons that tile without overlapping (a sequence or an array of
    geometries, as Shapely's own functions take them)."""
    try:
        return shapely.coverage_union_all(pieces)
    except GEOSException:
        return shapely.union_all(shapely.make_valid(pieces))
