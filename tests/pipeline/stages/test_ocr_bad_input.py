"""Bad input to the OCR stage: each page gets a recorded outcome, never a crash and never a
page of junk presented as text (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bench.textmetrics import cer, word_recall
from pipeline.errors import InputRejectedError
from pipeline.stages.ocr.recognise import OcrParams, ocr_image, read_page
from pipeline.stages.pages.pagetext import PageText
from tests.factories.degrade import handwriting_page, page_text, render_page, wall_photo
from tests.factories.samples import LIMITS

PARAMS = OcrParams(dpi=200)


def _outcome(image: Image.Image) -> tuple[str, PageText | str]:
    """("rejected", reason), ("empty", page) or ("text", page)."""
    try:
        page, _ = ocr_image(image, PARAMS)
    except InputRejectedError as e:
        return "rejected", str(e)
    return ("empty" if not page.words else "text"), page


def _no_junk_presented(outcome: tuple[str, PageText | str]) -> None:
    kind, result = outcome
    if kind == "text":
        assert isinstance(result, PageText)
        dim = {tuple(x) for x in result.params["dim_lines"]}
        shown = [w for w in result.words if (w.block, w.line) not in dim]
        assert len(shown) <= 3, f"junk shown as text: {result.text[:200]!r}"


def test_a_page_of_pure_handwriting_is_not_presented_as_text():
    _no_junk_presented(_outcome(handwriting_page(seed=1)))


def test_a_photo_of_a_wall_is_not_presented_as_text():
    _no_junk_presented(_outcome(wall_photo(seed=2)))


def test_a_han_nom_page_read_as_vietnamese_is_not_presented_as_text(shared_data: Path):
    page = shared_data / "ocr-vie/han_nom_samples/nomna_text_detection_test_page.jpg"
    _no_junk_presented(_outcome(Image.open(page)))


def test_a_blank_page_is_empty_with_the_reason_recorded():
    kind, page = _outcome(Image.new("L", (1166, 1654), 250))
    assert kind == "empty" and isinstance(page, PageText)
    assert page.params["blank"] is True and "ink" in page.params["preprocess"]


@pytest.mark.parametrize("angle", [37, -23, 128])
def test_a_page_turned_by_any_angle_is_read(angle: int):
    image = render_page(dpi=200, size="A5", seed=4).rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    kind, page = _outcome(image)
    assert kind == "text" and isinstance(page, PageText)
    assert word_recall(page.text, page_text(4)) >= 0.9


def test_a_600_dpi_a3_page_is_read_at_the_working_resolution(tmp_path: Path):
    png = tmp_path / "a3.png"
    render_page(dpi=600, size="A3", seed=5).save(png, dpi=(600, 600))
    page = read_page(png, "image/png", 0, OcrParams(), LIMITS)
    assert page.dpi == 300 and page.width == round(11.69 * 300)
    assert cer(page.text, page_text(5)) < 0.05


def test_lines_read_with_low_confidence_are_marked():
    image = render_page(dpi=200, size="A5", seed=3)
    page, _ = ocr_image(image, PARAMS)
    assert page.params["dim_lines"] == []  # a clean page: nothing dimmed
    worse = handwriting_page(seed=2)
    worse.paste(image.crop((0, 0, image.width, image.height // 3)), (0, 0))
    kind, mixed = _outcome(worse)
    if kind == "text":
        assert isinstance(mixed, PageText)
        assert all(isinstance(x, list) and len(x) == 2 for x in mixed.params["dim_lines"])
