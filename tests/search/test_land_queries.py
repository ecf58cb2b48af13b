"""Land queries on every backend: the parcel at a point, parcels in a box (VN-2000 or WGS 84),
certificate serials and registry numbers, area ranges."""

from __future__ import annotations

import pytest

from search.documents import wgs84_geometry
from search.geo.crs import box_region, to_wgs84
from search.index import Document, SearchIndex
from search.query import GeoPoint, Query, QueryError, Region

E, N = 588_405.0, 2_326_366.0  # Hoàn Kiếm Lake in VN-2000 / TM-3 105° (EPSG:5897)


def rect(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    """A closed counter-clockwise ring, in metres from the lake."""
    return [
        [E + x0, N + y0],
        [E + x1, N + y0],
        [E + x1, N + y1],
        [E + x0, N + y1],
        [E + x0, N + y0],
    ]


def land_parcel(doc_id: str, rings: list, published: bool = True, **restricted) -> Document:
    """A parcel surveyed in VN-2000, indexed in WGS 84 as the indexer does."""
    shape = wgs84_geometry(
        {"geometry": {"type": "Polygon", "coordinates": rings}, "crs": "EPSG:5897"}
    )
    assert shape is not None
    lons = [p[0] for p in shape["coordinates"][0]]
    lats = [p[1] for p in shape["coordinates"][0]]
    return Document(
        id=doc_id,
        version=1,
        kind="parcel",
        title=f"Thửa {doc_id}",
        published=published,
        public={"unit_code": "00070", "era": "2025", "area_m2": 400.0, "geometry": shape},
        restricted=restricted,
        point=((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2),
        shape=shape,
    )


L_SHAPE = [
    [E + 100, N],
    [E + 160, N],
    [E + 160, N + 30],
    [E + 130, N + 30],
    [E + 130, N + 60],
    [E + 100, N + 60],
    [E + 100, N],
]
SITE_AT = to_wgs84(E + 30, N + 300, "vn2000")
LAND = [
    land_parcel("a", [rect(0, 0, 20, 20)], serial="BV 999451", registry_number="CH 00123"),
    land_parcel("b", [rect(20, 0, 40, 20)], serial="BV 999452"),
    land_parcel("c", [L_SHAPE]),
    land_parcel("d", [rect(200, 0, 260, 60), rect(220, 20, 240, 40)[::-1]]),  # a courtyard
    land_parcel("hidden", [rect(0, 100, 20, 120)], published=False),
    Document(
        id="site",
        version=1,
        kind="site",
        title="Đình Hàng Trống",
        published=True,
        public={"name": "Đình Hàng Trống"},
        point=(SITE_AT.lat, SITE_AT.lon),
    ),
]


@pytest.fixture
def land(index: SearchIndex) -> SearchIndex:
    assert index.upsert(LAND) == len(LAND)
    index.refresh()
    return index


def found(index: SearchIndex, role: str = "officer", **kw) -> set[str]:
    return {h.id for h in index.search(Query(role=role, limit=100, **kw)).hits}


def at(x: float, y: float) -> GeoPoint:
    return to_wgs84(E + x, N + y, "vn2000")


def box(x0: float, y0: float, x1: float, y1: float) -> Region:
    return box_region(E + x0, N + y0, E + x1, N + y1, "vn2000")


# -- the parcel at a point --------------------------------------------------


def test_the_parcel_containing_a_vn2000_point(land):
    assert found(land, containing=at(10, 10)) == {"a"}
    assert found(land, containing=at(30, 5)) == {"b"}
    assert found(land, containing=at(60, 10)) == set()


def test_a_point_in_the_notch_of_an_l_shaped_parcel_is_not_in_it(land):
    assert found(land, containing=at(110, 50)) == {"c"}
    assert found(land, containing=at(150, 50)) == set()  # inside the envelope, outside the L


def test_a_point_in_a_courtyard_is_not_in_the_parcel_around_it(land):
    assert found(land, containing=at(205, 5)) == {"d"}
    assert found(land, containing=at(230, 30)) == set()


def test_a_point_on_a_shared_boundary_finds_a_neighbour_and_nothing_else(land):
    neighbours = found(land, containing=at(20, 10))
    assert neighbours and neighbours <= {"a", "b"}


def test_a_wgs84_point_finds_the_same_parcel(land):
    p = at(10, 10)
    assert found(land, containing=to_wgs84(p.lon, p.lat, "wgs84")) == {"a"}


def test_the_public_finds_only_published_parcels_at_a_point(land):
    assert found(land, containing=at(10, 110)) == {"hidden"}
    assert found(land, role="public", containing=at(10, 110)) == set()
    assert found(land, role="public", containing=at(10, 10)) == {"a"}


# -- parcels in a box -------------------------------------------------------


def test_parcels_meeting_a_vn2000_box(land):
    assert found(land, intersecting=box(15, 5, 25, 15)) == {"a", "b"}
    assert found(land, intersecting=box(-50, -50, 300, 150)) == {"a", "b", "c", "d", "hidden"}
    assert found(land, intersecting=box(145, 45, 155, 55)) == set()  # the L's notch
    assert found(land, intersecting=box(225, 25, 235, 35)) == set()  # the courtyard


def test_a_box_inside_a_parcel_finds_it(land):
    assert found(land, intersecting=box(5, 5, 6, 6)) == {"a"}


def test_a_box_finds_a_site_by_its_point(land):
    assert found(land, intersecting=box(0, 250, 50, 350)) == {"site"}


def test_a_box_combines_with_text_filters_and_ranges(land):
    region = box(-50, -50, 300, 150)
    assert found(land, intersecting=region, text="Thửa c") == {"c"}
    assert found(land, intersecting=region, filters={"kind": ["site"]}) == set()
    assert found(land, intersecting=region, ranges={"area_m2": (500.0, None)}) == set()
    result = land.search(Query(role="officer", intersecting=region, facets=("kind",), limit=2))
    assert result.total == 5 and len(result.hits) == 2 and result.facets["kind"] == {"parcel": 5}


def test_a_wgs84_box_is_the_same_as_its_vn2000_twin(land):
    sw, ne = at(15, 5), at(25, 15)
    region = box_region(sw.lon, sw.lat, ne.lon, ne.lat, "wgs84")
    assert found(land, intersecting=region) == {"a", "b"}


# -- certificate numbers ----------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["BV 999451", "bv 999451", "BV999451", "bv-999451", " Bv 999 451 "]
)
def test_a_serial_is_found_however_it_is_typed(land, typed):
    assert found(land, serial=typed) == {"a"}


def test_a_registry_number_is_found_exactly(land):
    assert found(land, registry_number="ch 00123") == {"a"}
    assert found(land, registry_number="CH 0012") == set()
    assert found(land, serial="BV 99945") == set()  # no prefix matching of serials


def test_certificate_numbers_are_for_officers_only(land):
    with pytest.raises(QueryError, match="officers"):
        land.search(Query(serial="BV 999451"))
    assert found(land, role="public", text="999451") == set()
    assert found(land, role="public", text="BV 999451") == set()


# -- bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Query(role="officer", containing=GeoPoint(lat=95.0, lon=105.8)),
        lambda: Query(role="officer", intersecting=Region(((105.8, 21.0), (105.9, 21.0)))),
        lambda: Query(
            role="officer",
            intersecting=Region(((105.8, 21.0), (105.9, 21.0), (106.0, 21.0))),
        ),
        lambda: Query(
            role="officer",
            intersecting=Region(((105.8, 21.0), (105.9, 21.1), (105.9, 21.0), (105.8, 21.1))),
        ),
    ],
)
def test_impossible_places_are_a_query_error(land, build):
    with pytest.raises(QueryError):
        land.search(build())
