"""Dissolving units: exact and fast on a true coverage, still right when reprojection left two
edges crossing by a hair (the light band of the Vosges read in WGS84 once made every import
touching it fail)."""

import shapely
from shapely.geometry import Polygon

from app.domain.dissolve import dissolve


def test_a_true_coverage_dissolves_into_one_square() -> None:
    left = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1)])
    merged = dissolve([left, right])
    assert merged.equals(Polygon([(0, 0), (2, 0), (2, 1), (0, 1)]))


def test_edges_crossing_by_a_hair_still_dissolve() -> None:
    left = Polygon([(0, 0), (1, 0), (1.0000001, 0.5), (1, 1), (0, 1)])
    right = Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (0.9999999, 0.5)])
    merged = dissolve([left, right])
    assert merged.is_valid
    assert abs(merged.area - 2.0) < 1e-6
    assert shapely.get_num_interior_rings(merged) == 0


def test_a_piece_self_intersecting_after_reprojection_is_repaired() -> None:
    bow = Polygon([(1, 0), (2, 1), (2, 0), (1, 1)])  # a bow tie: invalid on its own
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    merged = dissolve([square, bow])
    assert merged.is_valid and abs(merged.area - 1.5) < 1e-9
