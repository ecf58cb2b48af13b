"""Tiles narrow land queries: they must never lose a geometry the exact test would keep."""

from __future__ import annotations

import random

import pytest

from search.tantivy.tiles import MAX_LEVEL, document_tiles, own_level, point_tiles, region_tiles


def boxes(rng: random.Random, n: int):
    for _ in range(n):
        lon, lat = 105.84 + rng.uniform(-0.2, 0.2), 21.02 + rng.uniform(-0.2, 0.2)
        size = 10 ** rng.uniform(-7, -0.5)  # a point-like parcel to half a province
        yield (lon, lat, lon + size * rng.random(), lat + size * rng.random())


def test_an_envelope_holding_a_point_shares_a_tile_with_it():
    rng = random.Random(1)
    for west, south, east, north in boxes(rng, 500):
        terms = set(document_tiles((west, south, east, north)))
        for lon, lat in [(west, south), (east, north), (west, north), (east, south)]:
            assert terms & set(point_tiles(lon, lat)), (west, south, east, north)
        inside = (rng.uniform(west, east), rng.uniform(south, north))
        assert terms & set(point_tiles(*inside))


def test_envelopes_meeting_a_region_share_a_tile_with_it():
    rng = random.Random(2)
    regions = list(boxes(rng, 60))
    for box in boxes(rng, 300):
        terms = set(document_tiles(box))
        for region in regions:
            meets = (
                box[0] <= region[2]
                and region[0] <= box[2]
                and box[1] <= region[3]
                and region[1] <= box[3]
            )
            if meets:
                assert terms & set(region_tiles(region)), (box, region)


def test_a_point_on_a_tile_edge_is_found_from_both_sides():
    edge = -180.0 + 360.0 / (1 << 20) * 1_000_000  # a tile boundary at level 20
    left = (edge - 1e-5, 21.0, edge, 21.0 + 1e-5)
    right = (edge, 21.0, edge + 1e-5, 21.0 + 1e-5)
    for box in (left, right):
        assert set(document_tiles(box)) & set(point_tiles(edge, 21.0))


@pytest.mark.parametrize(
    ("box", "level"),
    [((105.8, 21.0, 105.8, 21.0), MAX_LEVEL), ((-180.0, -90.0, 180.0, 90.0), 1)],
)
def test_own_level_goes_from_a_point_to_the_whole_globe(box, level):
    assert own_level(box) == level


def test_few_terms_per_document_and_query():
    parcel = (105.84, 21.02, 105.84 + 15 / 111_195, 21.02 + 15 / 111_195)
    assert len(document_tiles(parcel)) <= 4 + 2 * 12 * 4
    assert len(point_tiles(105.84, 21.02)) == MAX_LEVEL + 1
    assert len(region_tiles((105.84, 21.02, 105.843, 21.023))) < 200


def test_document_tiles_are_the_envelopes_tiles_level_by_level():
    """The shift-built terms are exactly the tiles the envelope covers at each level."""
    from search.tantivy.tiles import _cells, _terms

    rng = random.Random(4)
    for box in [*boxes(rng, 300), (105.8, 21.0, 105.8, 21.0), (-180.0, -90.0, 180.0, 90.0)]:
        level = own_level(box)
        expected = set(_terms("o", level, *_cells(box, level)))
        for coarser in range(0, level, 2):
            expected |= set(_terms("c", coarser, *_cells(box, coarser)))
        assert set(document_tiles(box)) == expected, box
