"""Plane geometry for land queries, and coordinates typed in VN-2000 or WGS 84."""

from __future__ import annotations

import pytest

from search.geo.crs import box_region, crs_code, to_wgs84
from search.geo.geometry import contains_point, envelope, in_ring, intersects_polygon, is_convex
from search.query import QueryError

SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]
HOLE = [(4.0, 4.0), (4.0, 6.0), (6.0, 6.0), (6.0, 4.0), (4.0, 4.0)]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}


def test_a_ring_holds_its_inside_and_its_boundary():
    assert in_ring((5, 1), SQUARE) and in_ring((0, 5), SQUARE) and in_ring((10, 10), SQUARE)
    assert not in_ring((11, 5), SQUARE) and not in_ring((5, -0.1), SQUARE)


def test_a_hole_is_not_inside_but_its_edge_is():
    assert contains_point(POLYGON, (1, 1))
    assert not contains_point(POLYGON, (5, 5))
    assert contains_point(POLYGON, (4, 5))


def test_multi_parts_and_collections():
    far = [(20.0, 20.0), (30.0, 20.0), (30.0, 30.0), (20.0, 20.0)]
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], [far]]}
    assert contains_point(multi, (25, 22)) and not contains_point(multi, (15, 15))
    collection = {
        "type": "GeometryCollection",
        "geometries": [POLYGON, {"type": "Point", "coordinates": [50, 50]}],
    }
    assert contains_point(collection, (50, 50)) and envelope(collection) == (0, 0, 50, 50)


def test_intersection_of_a_shape_and_a_region():
    region = [(8.0, 8.0), (12.0, 8.0), (12.0, 12.0), (8.0, 12.0)]
    assert intersects_polygon(POLYGON, region)  # overlapping corners
    assert intersects_polygon(POLYGON, [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0)])  # region inside
    assert not intersects_polygon(POLYGON, [(4.5, 4.5), (5.5, 4.5), (5.5, 5.5)])  # in the hole
    assert not intersects_polygon(POLYGON, [(11.0, 0.0), (12.0, 0.0), (12.0, 1.0)])
    crossing = [(-1.0, 4.0), (11.0, 4.0), (11.0, 5.0), (-1.0, 5.0)]  # no vertex inside either
    assert intersects_polygon({"type": "Polygon", "coordinates": [SQUARE]}, crossing)
    line = {"type": "LineString", "coordinates": [[-5, 5], [15, 5]]}
    assert intersects_polygon(line, SQUARE[:-1])
    assert intersects_polygon({"type": "Point", "coordinates": [3, 3]}, SQUARE)


def test_convexity():
    assert is_convex(SQUARE)
    assert not is_convex([(0, 0), (10, 0), (5, 2), (10, 10), (0, 10)])


# -- coordinates ------------------------------------------------------------


def test_vn2000_hoan_kiem_lake_is_where_it_should_be():
    p = to_wgs84(588_405, 2_326_366, "vn2000")
    assert p.lat == pytest.approx(21.0287, abs=1e-3) and p.lon == pytest.approx(105.8524, abs=1e-3)
    assert to_wgs84(105.85, 21.03, "wgs84") == to_wgs84(105.85, 21.03, "EPSG:4326")
    assert crs_code("VN2000") == "EPSG:5897"


def test_vn2000_coordinates_given_northing_first_are_refused_with_a_hint():
    with pytest.raises(QueryError, match="look swapped"):
        to_wgs84(2_326_366, 588_405, "vn2000")


@pytest.mark.parametrize(
    ("x", "y", "crs"),
    [
        (105.8, 91.0, "wgs84"),
        (181.0, 21.0, "wgs84"),
        (float("nan"), 21.0, "wgs84"),
        (5_000_000.0, 2_326_366.0, "vn2000"),
        (588_405.0, -1.0, "vn2000"),
    ],
)
def test_coordinates_off_the_map_are_refused(x, y, crs):
    with pytest.raises(QueryError):
        to_wgs84(x, y, crs)


def test_an_unknown_crs_is_refused():
    with pytest.raises(QueryError, match="unknown CRS"):
        to_wgs84(1, 2, "lambert")


def test_a_vn2000_box_turns_slightly_in_wgs84():
    region = box_region(588_000, 2_326_000, 589_000, 2_327_000, "vn2000")
    (_, sw_lat), (_, se_lat) = region.corners[:2]
    assert se_lat != sw_lat  # the grid is not aligned with parallels away from 105°
    assert is_convex(region.corners)


@pytest.mark.parametrize(
    ("corners", "message"),
    [
        ((589_000, 2_326_000, 588_000, 2_327_000), "swapped"),
        ((588_000, 2_327_000, 589_000, 2_326_000), "swapped"),
        ((588_000, 2_326_000, 588_000, 2_327_000), "no area"),
    ],
)
def test_a_box_with_swapped_or_equal_corners_is_refused(corners, message):
    with pytest.raises(QueryError, match=message):
        box_region(*corners, "vn2000")
