"""Page images from every page format: embedded scans, rendering, dpi, broken frames, limits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.stages.pages.images import load_page, page_count
from tests.factories.degrade import (
    DEV_PDF,
    render_page,
    render_pdf_page,
    write_image_pdf,
    write_text_pdf,
    write_tiff_with_corrupt_frame,
)
from tests.factories.samples import (
    LIMITS,
    make_encrypted_pdf,
    make_jpeg,
    make_tiff,
    truncated_copy,
)


def _dev_scan(shared_data: Path) -> Image.Image:
    """A real A4 government page (development set) as a 200-dpi grey scan."""
    return render_pdf_page(shared_data / "ocr-vie/born_digital" / DEV_PDF, 0, dpi=200)


def test_a_png_without_a_dpi_is_taken_for_a4_and_read_at_its_own_resolution(
    shared_data: Path, tmp_path: Path
):
    png = tmp_path / "scan.png"
    scan = _dev_scan(shared_data)
    scan.save(png)  # no dpi recorded
    page = load_page(png, "image/png", 0, dpi=300, limits=LIMITS)
    assert page.how == "raster"
    assert 195 <= page.source_dpi <= 205  # about 1654×2339 px on A4
    assert page.image.size == scan.size  # 200 dpi is close enough: not resampled
    assert page.image.mode in ("L", "RGB")


def test_an_image_only_pdf_gives_its_embedded_scan_not_a_rendering(
    shared_data: Path, tmp_path: Path
):
    scan = _dev_scan(shared_data)
    pdf = write_image_pdf(tmp_path / "imageonly.pdf", scan, dpi=200)
    page = load_page(pdf, "application/pdf", 0, limits=LIMITS)
    assert page.how == "embedded"
    assert round(page.source_dpi) == 200
    assert page.image.size == scan.size


def test_a_born_digital_pdf_page_is_rendered_at_the_target_dpi(tmp_path: Path):
    pdf = write_text_pdf(tmp_path / "text.pdf", "Giấy chứng nhận quyền sử dụng đất")
    page = load_page(pdf, "application/pdf", 0, dpi=150, limits=LIMITS)
    assert (page.how, page.dpi) == ("rendered", 150)
    width, height = page.image.size
    assert abs(width - 595.28 * 150 / 72) <= 1 and abs(height - 841.89 * 150 / 72) <= 1
    assert min(page.image.convert("L").getextrema()) < 100  # the text is drawn


def test_a_low_resolution_scan_is_upscaled_to_the_target(tmp_path: Path):
    small = render_page(dpi=100, size="A5")
    small.save(tmp_path / "p.png", dpi=(100, 100))
    page = load_page(tmp_path / "p.png", "image/png", 0, dpi=300, limits=LIMITS)
    assert page.dpi == 300 and page.source_dpi == 100
    assert page.image.width == small.width * 3


def test_a_jpeg_is_turned_upright_by_its_exif_orientation(tmp_path: Path):
    jpeg = make_jpeg(tmp_path / "turned.jpg", 400, 300, exif=True, orientation=6)
    page = load_page(jpeg, "image/jpeg", 0, limits=LIMITS)
    assert page.image.size == (300, 400)


def test_one_corrupt_tiff_frame_rejects_that_page_only(tmp_path: Path):
    frames = [render_page(dpi=100, size="A5", seed=i) for i in range(3)]
    tiff = write_tiff_with_corrupt_frame(tmp_path / "three.tif", frames, bad=1)
    assert page_count(tiff, "image/tiff", LIMITS) == 3
    assert load_page(tiff, "image/tiff", 0, dpi=100, limits=LIMITS).image.size == frames[0].size
    with pytest.raises(InputRejectedError, match="page 2"):
        load_page(tiff, "image/tiff", 1, dpi=100, limits=LIMITS)
    assert load_page(tiff, "image/tiff", 2, dpi=100, limits=LIMITS).image.size == frames[2].size


@pytest.mark.parametrize("compression", ["tiff_lzw", "raw"])
def test_a_tiff_cut_short_gives_its_good_pages_and_a_reason_for_the_last(
    tmp_path: Path, compression: str
):
    whole = make_tiff(tmp_path / "three.tif", 3, compression=compression)
    cut = truncated_copy(whole, tmp_path / "cut.tif", 0.8)
    assert page_count(cut, "image/tiff", LIMITS) == 3
    for index in (0, 1):
        assert load_page(cut, "image/tiff", index, dpi=100, limits=LIMITS).how == "raster"
    with pytest.raises(InputRejectedError, match=r"TIFF page 3 cannot be (read|decoded)"):
        load_page(cut, "image/tiff", 2, dpi=100, limits=LIMITS)


def test_a_one_pixel_image_is_rejected_as_too_small(tmp_path: Path):
    Image.new("L", (1, 1), 255).save(tmp_path / "dot.png")
    with pytest.raises(InputRejectedError, match="1×1 pixels: too small"):
        load_page(tmp_path / "dot.png", "image/png", 0, limits=LIMITS)


def test_pixel_and_page_limits_are_honoured(tmp_path: Path):
    pdf = write_text_pdf(tmp_path / "a4.pdf", "Thửa đất số 12")
    few_pixels = dataclasses.replace(LIMITS, max_pixels=1_000_000)
    with pytest.raises(InputRejectedError, match="SOHOA_MAX_PIXELS"):
        load_page(pdf, "application/pdf", 0, dpi=300, limits=few_pixels)
    frames = [render_page(dpi=50, size="A5", seed=i) for i in range(3)]
    frames[0].save(tmp_path / "t.tif", save_all=True, append_images=frames[1:])
    with pytest.raises(InputRejectedError, match="SOHOA_MAX_PAGES"):
        page_count(tmp_path / "t.tif", "image/tiff", dataclasses.replace(LIMITS, max_pages=2))


def test_an_encrypted_pdf_and_a_missing_page_are_rejected_with_reasons(tmp_path: Path):
    locked = make_encrypted_pdf(tmp_path / "locked.pdf")
    with pytest.raises(InputRejectedError, match="encrypted"):
        page_count(locked, "application/pdf", LIMITS)
    with pytest.raises(InputRejectedError, match="encrypted"):
        load_page(locked, "application/pdf", 0, limits=LIMITS)
    pdf = write_text_pdf(tmp_path / "one.pdf", "Trang một")
    with pytest.raises(InputRejectedError, match="no page 2"):
        load_page(pdf, "application/pdf", 1, limits=LIMITS)


def test_a_pdf_page_pdfium_cannot_draw_is_rejected_with_the_reason(tmp_path: Path, monkeypatch):
    import pypdfium2 as pdfium

    from pipeline.stages.pages import images as pages

    def fails(*_args, **_kwargs):
        raise pdfium.PdfiumError("Failed to render page")

    monkeypatch.setattr(pages, "_rendered", fails)
    pdf = write_text_pdf(tmp_path / "text.pdf", "Trang một")
    with pytest.raises(InputRejectedError, match=r"PDF page 1 cannot be drawn: .*render page"):
        load_page(pdf, "application/pdf", 0, limits=LIMITS)


def test_an_embedded_scan_that_cannot_be_decoded_is_drawn_instead(
    shared_data: Path, tmp_path: Path, monkeypatch
):
    from pipeline.stages.pages import images as pages

    def fails(*_args, **_kwargs):
        raise ValueError("unsupported colour space")

    pdf = write_image_pdf(tmp_path / "imageonly.pdf", _dev_scan(shared_data), dpi=200)
    monkeypatch.setattr(pages, "_embedded", fails)
    page = load_page(pdf, "application/pdf", 0, dpi=100, limits=LIMITS)
    assert (page.how, page.dpi) == ("rendered", 100)


def test_a_truncated_image_is_rejected_with_the_reason(tmp_path: Path):
    good = tmp_path / "page.png"
    render_page(dpi=100, size="A5").save(good)
    cut = tmp_path / "cut.png"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2] + data[-12:])  # IEND kept: the probe passes
    with pytest.raises(InputRejectedError, match=r"PNG page 1 cannot be decoded"):
        load_page(cut, "image/png", 0, limits=LIMITS)
