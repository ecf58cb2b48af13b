"""Documents go into the tantivy index and come back out as they went in."""

from __future__ import annotations

import pytest

from models.language.text import normalise
from search.index import Document
from search.tantivy.index import TantivyIndex
from search.tantivy.schema import _stored_public, normalise_words

POLYGON = {
    "type": "Polygon",
    "coordinates": [[[105.8, 21.0], [105.9, 21.0], [105.9, 21.1], [105.8, 21.0]]],
}


def parcel(public_geometry: dict | None) -> Document:
    public = {"unit_code": "00031", "area_m2": 120.5, "lat": 21.05, "lon": 105.85}
    if public_geometry is not None:
        public["geometry"] = public_geometry
    return Document(
        id="p-1",
        version=3,
        kind="parcel",
        title="Thửa 1, tờ 1",
        published=True,
        public=public,
        restricted={"owner": "Lê Thị Mận"},
        text="",
        point=(21.05, 105.85),
        shape=POLYGON,
    )


@pytest.mark.parametrize(
    "public_geometry",
    [POLYGON, {"type": "Point", "coordinates": [105.85, 21.05]}, None],
    ids=["the-shape", "another", "none"],
)
def test_a_stored_document_comes_back_as_it_went_in(tmp_path, public_geometry):
    index = TantivyIndex(tmp_path / "index")
    doc = parcel(public_geometry)
    index.upsert([doc])
    assert index.get("p-1") == doc
    index.close()


def test_a_shape_that_is_the_public_geometry_is_stored_once():
    stored = _stored_public(parcel(POLYGON))
    assert "geometry" not in stored["public"] and stored["shape"] == POLYGON


@pytest.mark.parametrize(
    "text",
    [
        "Thửa 12, tờ 7, Phường Giảng Võ",
        "Văn Miếu – Quốc Tử Giám  (HÒA  bình)",
        "Ho\u0300a bi\u0300nh, tho\u0309a thuận",  # decomposed tones, old-style placement
        " leading and trailing spaces ",
        "ΟΔΥΣΣΕΥΣ ΟΔΥΣΣΕΥΣ",  # final sigma depends on the letters beside it
        "tab\tand\nnewline ĐÌNH " + "dài " * 30,  # longer than the cached strings
    ],
)
def test_normalising_word_by_word_gives_the_text_normalise_gives(text):
    assert normalise_words(text) == normalise(text)
