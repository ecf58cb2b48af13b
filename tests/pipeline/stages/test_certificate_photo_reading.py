"""Phone photos of certificates read end to end (photo preparation, the real OCR stage with
Tesseract `-l vie`, Vietnamese correction, spreads split, fields), and bad input.

Generated certificates photographed by tests/factories/certificate_photos.py (development
data with known values). Images are read once per module, two at a time.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from pipeline.errors import InputRejectedError
from pipeline.stages.certificate.photoread import read_certificate_image, split_spreads
from pipeline.stages.certificate.sections import extract_certificate
from pipeline.stages.ocr.recognise import OcrParams
from pipeline.stages.vietnamese.correction import correct_page
from tests.factories import certificate_photos as photos
from tests.factories.certificates import make_certificate, same_text, score

pytestmark = pytest.mark.slow

BAD_CERTIFICATE_PHOTOS = (
    "at_45_degrees", "upside_down", "half_out_of_frame", "blurred", "photocopy",
    "photo_of_screen",
)  # fmt: skip
NOT_CERTIFICATES = ("id_card_like", "bank_statement_like")


def _read(image) -> Any:
    """The page's text, or the reason it was refused (a recorded outcome, not a crash)."""
    try:
        text, _ = read_certificate_image(image, OcrParams(), page=0, dpi=300)
    except InputRejectedError as e:
        return str(e)
    return correct_page(text)


def _bad_image(kind: str, page):
    if kind == "upside_down":
        return photos.photograph(page, seed=7, upside_down=True)
    return getattr(photos, kind)(page, seed=7)


@pytest.fixture(scope="module")
def read() -> dict[str, Any]:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    shots, expected = photos.photograph_certificate("2009-2024", seed=3)
    pages, page_expected = make_certificate("2009-2024", seed=1004)
    section_ii = pages[1].resize((pages[1].width * 2 // 3, pages[1].height * 2 // 3))
    bad = {k: _bad_image(k, section_ii) for k in BAD_CERTIFICATE_PHOTOS}
    bad.update({k: getattr(photos, k)(seed=1) for k in NOT_CERTIFICATES})
    with ProcessPoolExecutor(2) as pool:
        texts = list(pool.map(_read, [*shots, *bad.values()]))
    return {
        "shots": texts[: len(shots)],
        "expected": expected,
        "bad": dict(zip(bad, texts[len(shots) :], strict=True)),
        "page_expected": page_expected,
    }


def test_a_photographed_booklet_with_a_spread_and_a_page_upside_down_is_read(read):
    texts = read["shots"]
    assert not any(isinstance(t, str) for t in texts), texts
    assert texts[1].params["photo"]["parts"]  # pages 2–3 open side by side: two pages
    pages = split_spreads(texts)
    got = extract_certificate(pages).to_json()
    assert got["pages"] == ["I", "II", "III", "IV"]
    marks = score(got, read["expected"])
    wrong = [k for k, ok in marks.items() if not ok]
    assert len(wrong) <= 1, wrong
    assert texts[-1].params["preprocess"]["rotation"] == 180


IDENTIFIERS = ("parcel_number", "map_sheet", "area_m2", "issue_date", "registry_number")
NOT_ON_PAGE_II = ("serial",)


@pytest.mark.parametrize("kind", BAD_CERTIFICATE_PHOTOS)
def test_a_bad_photo_of_a_certificate_page_gets_an_outcome_and_invents_nothing(read, kind):
    """Refused with a reason, or `other` with no fields, or fields: none that the page does
    not print, and no wrong number or date passed as confident."""
    text = read["bad"][kind]
    if isinstance(text, str):  # refused: the reason says why
        assert "page" in text
        return
    assert "photo" in text.params
    got = extract_certificate(split_spreads([text])).to_json()
    if got["kind"] == "other":
        assert not any(got["fields"].values())
        return
    assert all(got["fields"][name] is None for name in NOT_ON_PAGE_II)
    assert got["owners"] == []  # printed on page 1, not on this page
    want = read["page_expected"]["fields"]
    for name in IDENTIFIERS:
        value = got["fields"][name]
        if value is None:
            continue
        right = (
            abs(value - want[name]) <= 0.005 * want[name]
            if name == "area_m2"
            else same_text(value, want[name])
        )
        assert right or got["review"][name]["needs_review"], (name, value)


def test_the_page_at_45_degrees_and_the_one_upside_down_are_still_read(read):
    for kind in ("at_45_degrees", "upside_down"):
        text = read["bad"][kind]
        got = extract_certificate([text]).to_json()
        assert got["pages"] == ["II"], kind
        want = read["page_expected"]["fields"]
        assert same_text(got["fields"]["address"], want["address"]), kind


@pytest.mark.parametrize("kind", NOT_CERTIFICATES)
def test_an_id_card_or_a_bank_statement_ingested_as_a_certificate_invents_nothing(read, kind):
    text = read["bad"][kind]
    if isinstance(text, str):
        assert "page" in text
        return
    got = extract_certificate(split_spreads([text])).to_json()
    assert got["kind"] == "other"
    assert got["pages"] == ["other"] * len(got["pages"])
    assert not any(got["fields"].values())


def test_a_photo_the_ocr_stage_refuses_as_it_lies_is_read_turned_over(monkeypatch):
    """A page upside down that Tesseract's orientation check is not sure of (a blurred or
    low-resolution photo) is read as it lies, and the OCR stage refuses it as holding no
    readable text (that refusal injected here, on a sharp photo of page 4). Read once more
    turned over, it is section IV, not lost."""
    import pipeline.stages.certificate.photoread as photoread

    real, calls = photoread.ocr_image, []

    def refuses_first(image, *args, **kwargs):
        calls.append(image.size)
        if len(calls) == 1:
            raise InputRejectedError("page 1 does not look like a document: no readable text")
        return real(image, *args, **kwargs)

    monkeypatch.setattr(photoread, "ocr_image", refuses_first)
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    pages, _ = make_certificate("2009-2024", seed=1001)
    text = _read(photos.photograph(pages[3], seed=5, upside_down=True))
    assert not isinstance(text, str), text
    assert text.params["photo"]["turned"] == 180
    assert extract_certificate([text]).to_json()["pages"] == ["IV"]


def test_a_photo_refused_both_ways_up_keeps_the_first_refusal(monkeypatch):
    import pipeline.stages.certificate.photoread as photoread

    def refuses(image, *args, **kwargs):
        raise InputRejectedError(f"page 1: no readable text ({image.size[0]} px wide)")

    monkeypatch.setattr(photoread, "ocr_image", refuses)
    pages, _ = make_certificate("2009-2024", seed=1001)
    photo = photos.photograph(pages[3], seed=5)
    with pytest.raises(InputRejectedError, match="no readable text"):
        read_certificate_image(photo, OcrParams(), page=0, dpi=300)
