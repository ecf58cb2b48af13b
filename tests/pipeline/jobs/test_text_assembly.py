"""The text job assembles a capture's full text and searchable PDF page by page, from the page
blobs in the store: the same text and figures as before, with memory that does not grow with
the page count."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

from pipeline.jobs.text import PAGE_SEPARATOR, assemble
from pipeline.media.pdf import open_pdf
from pipeline.stages.pages.pagetext import PageText, Word
from tests.helpers import make_services


@pytest.fixture
def svc(tmp_path):
    services = make_services(tmp_path)
    yield services
    services.close()


def _stored_pages(svc, count: int) -> list[dict]:
    """Outcomes of `count` pages read, their PageText JSON and JPEG in the blob store."""
    outcomes = []
    for n in range(count):
        words = [Word(f"trang{n}", (20, 30, 120, 50), 90.0, 0, 0)]
        text = PageText(n, f"trang{n}", words, 400, 300, 150, 80.0 + n % 10, "ocr", "t", "vie")
        jpeg = io.BytesIO()
        Image.effect_noise((400, 300), 40 + n % 20).convert("L").save(jpeg, "JPEG", quality=90)
        outcomes.append(
            {
                "status": "done",
                "text_key": svc.blobs.put_bytes(json.dumps(text.to_json()).encode()).key,
                "image_key": svc.blobs.put_bytes(jpeg.getvalue()).key,
            }
        )
    return outcomes


def _peak(svc, outcomes: list[dict], folder: Path) -> int:
    folder.mkdir()
    tracemalloc.start()
    try:
        assemble(svc, outcomes, folder)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_full_text_and_figures_are_those_of_the_pages_in_order(svc, tmp_path: Path):
    made = assemble(svc, _stored_pages(svc, 12), tmp_path)
    full = made.text.read_text(encoding="utf-8")
    assert full == PAGE_SEPARATOR.join(f"trang{n}" for n in range(12))
    assert made.chars == len(full)
    assert made.mean_conf == round(sum(80.0 + n % 10 for n in range(12)) / 12, 2)
    with open_pdf(made.pdf) as pdf:
        assert len(pdf) == 12


def test_assembling_200_pages_peaks_no_higher_than_20(svc, tmp_path: Path):
    pages = _stored_pages(svc, 200)
    _peak(svc, pages[:2], tmp_path / "warm")  # imports and caches
    few = _peak(svc, pages[:20], tmp_path / "few")
    many = _peak(svc, pages, tmp_path / "many")
    assert many < few * 1.5 + 256 * 1024, f"20 pages: {few:,} B peak, 200 pages: {many:,} B"
