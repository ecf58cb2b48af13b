"""Text runs end to end: ingest a document → inspect → one OCR job per page on the workers →
full text and searchable PDF → `sohoa text`, `sohoa ocr --rerun`; bad pages end in recorded
outcomes and the rest of the document is still read."""

from __future__ import annotations

import io
import json
from pathlib import Path
from uuid import UUID

import pdfplumber
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.language.text import fold
from pipeline.jobs.execute import Attempt
from pipeline.jobs.ocr import run_page
from pipeline.jobs.text import PAGE_SEPARATOR
from scanners.cli.ingest import ingest_paths
from tests.helpers import make_services, sohoa
from workers.runtime import Runtime, wait_until_settled

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

PAGES = [
    ["QUYẾT ĐỊNH", "Về việc công nhận di tích", "Đình làng Đông Ngạc", "thuộc phường Đông Ngạc"],
    ["Điều 2. Giao Sở Văn hóa", "quản lý và bảo vệ di tích", "theo quy định của pháp luật"],
]


def page_image(lines: list[str]) -> Image.Image:
    """A small 300-dpi page (A6) of printed Vietnamese text."""
    image = Image.new("L", (1240, 1000), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    for i, line in enumerate(lines):
        draw.text((90, 90 + i * 110), line, fill=0, font=font)
    return image


def write_tiff(path: Path, pages: list[list[str]]) -> Path:
    images = [page_image(lines) for lines in pages]
    images[0].save(
        path, save_all=True, append_images=images[1:], dpi=(300, 300), compression="tiff_lzw"
    )
    return path


def words(text: str) -> set[str]:
    return set(fold(text).split())


def ingest_and_wait(svc, paths, kind="document"):
    results = ingest_paths(svc, paths, kind, None, as_json=True)
    ids = [UUID(r.capture_id) for r in results if r.capture_id]
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids, timeout_s=240)
    return ids, states


@pytest.fixture(scope="module")
def read_document(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("text")
    svc = make_services(tmp, SOHOA_WORKER_THREADS="2")
    path = write_tiff(tmp / "quyet-dinh.tif", PAGES)
    ids, states = ingest_and_wait(svc, [path])
    return svc, ids[0], states[ids[0]], tmp


def test_every_page_is_read_and_assembled(read_document):
    svc, cid, state, _ = read_document
    assert state == "done"
    capture = svc.store.capture(cid)
    assert capture.text["pages"] == 2 and capture.text["pages_failed"] == []
    full = svc.blobs.read_bytes(capture.text["text_key"]).decode()
    first, second = full.split(PAGE_SEPARATOR)
    assert {"quyet", "dinh", "dong", "ngac"} <= words(first)
    assert {"dieu", "bao", "ve", "phap", "luat"} <= words(second)
    assert "Đông Ngạc" in first  # diacritics kept (or restored)
    events = [e.event for e in svc.store.history(cid)]
    assert events.count("Capture.PageRecognised") == 2
    assert events.count("Capture.TextAssembled") == 1
    page = capture.outcomes["ocr/1/0"]
    assert page["engine"].startswith("tesseract") and page["lang"] == "vie"
    assert page["source"] == "ocr" and 0 < page["mean_conf"] <= 100
    assert svc.blobs.exists(page["hocr_key"])
    assert b"ocrx_word" in svc.blobs.read_bytes(page["hocr_key"])


def test_the_searchable_pdf_has_page_images_and_their_text(read_document):
    svc, cid, _, _ = read_document
    pdf = svc.blobs.read_bytes(svc.store.capture(cid).text["pdf_key"])
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 2
        assert all(p.images for p in doc.pages)
        assert {"dong", "ngac"} <= words(doc.pages[0].extract_text())
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from pipeline.media.pdf import PDFIUM_LOCK

    stored = svc.blobs.read_bytes(svc.store.capture(cid).outcomes["ocr/1/0"]["image_key"])
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            objects = document[0].get_objects()
            image = next(o for o in objects if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE)
            assert bytes(image.get_data(decode_simple=False)) == stored  # not encoded again
        finally:
            document.close()


def test_a_message_delivered_twice_has_no_second_effect(read_document):
    svc, cid, _, _ = read_document
    before = len(svc.store.history(cid))
    assert run_page(svc, cid, 1, 0, Attempt(1, final=False)) == "skipped"
    assert len(svc.store.history(cid)) == before


def test_cli_text_and_a_rerun_with_another_language(read_document):
    svc, cid, _, _ = read_document
    env = {"SOHOA_DATA_DIR": str(svc.settings.data_dir)}
    shown = sohoa("text", str(cid), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Đông Ngạc" in shown.stdout
    raw = sohoa("text", str(cid), "--raw", env=env)
    assert raw.returncode == 0 and "ngac" in fold(raw.stdout)
    bad = sohoa("ocr", str(cid), "--lang", "klingon", env=env)
    assert bad.returncode != 0 and "vie+eng" in bad.stderr
    rerun = sohoa("ocr", str(cid), "--lang", "vie+eng", "--wait", "--json", env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert [r["run"] for r in report["runs"]] == [1, 2]
    assert report["runs"][1]["params"]["lang"] == "vie+eng"
    assert report["runs"][0]["pages_done"] == report["runs"][1]["pages_done"] == 2
    assert report["text"]["run"] == 2  # the new version beside the old one
    capture = svc.store.capture(cid)
    assert capture.outcomes["ocr/1/0"]["lang"] == "vie"
    assert capture.outcomes["ocr/2/0"]["lang"] == "vie+eng"


def test_bad_pages_end_in_recorded_outcomes_and_the_rest_is_read(tmp_path):
    svc = make_services(tmp_path, SOHOA_WORKER_THREADS="2")
    tiff = write_tiff(tmp_path / "register.tif", [PAGES[0], PAGES[1], PAGES[0][:2]])
    corrupt = tmp_path / "corrupt-frame.tif"
    corrupt.write_bytes(_corrupt_second_frame(tiff.read_bytes()))
    blank = tmp_path / "blank.png"
    Image.new("L", (1240, 1000), 255).save(blank, dpi=(300, 300))
    tiny = tmp_path / "tiny.png"
    Image.new("L", (1, 1), 255).save(tiny)
    ids, states = ingest_and_wait(svc, [corrupt, blank, tiny])
    by_name = {svc.store.capture(i).original_names[0].rsplit("/", 1)[-1]: i for i in ids}
    damaged = svc.store.capture(by_name["corrupt-frame.tif"])
    if states[damaged.id] == "partial":  # the frame is unreadable: the others are still read
        assert damaged.text["pages_failed"] == [1]
        failure = damaged.outcomes["ocr/1/1"]
        assert failure["status"] == "failed" and failure["permanent"]
    else:  # the decoder could read around the damage
        assert states[damaged.id] == "done"
    full = svc.blobs.read_bytes(damaged.text["text_key"]).decode()
    assert {"quyet", "dinh"} <= words(full)
    empty = svc.store.capture(by_name["blank.png"])
    assert states[empty.id] == "done" and empty.text["chars"] <= 2
    assert "tiny.png" not in by_name or states[by_name["tiny.png"]] == "failed"


def _corrupt_second_frame(data: bytes) -> bytes:
    """Overwrite the middle of the second frame's strip data with garbage."""
    with Image.open(io.BytesIO(data)) as im:
        im.seek(1)
        offset = im.tag_v2[273][0]
        length = im.tag_v2[279][0]
    buf = bytearray(data)
    start = offset + length // 4
    buf[start : start + length // 2] = bytes((i * 37) % 251 for i in range(length // 2))
    return bytes(buf)


def test_the_text_is_searchable_through_the_indexer(read_document):
    from pipeline.dispatch.indexer import indexer
    from search.query import Query

    svc, cid, _, _ = read_document
    indexer(svc).catch_up()
    officer = svc.index.search(Query(text="dong ngac", role="officer"))
    assert str(cid) in [h.id for h in officer.hits]
    public = svc.index.search(Query(text="dong ngac"))
    assert str(cid) not in [h.id for h in public.hits]  # linked to no published record


@pytest.mark.services
def test_pages_fan_out_to_workers_on_postgres_and_redis(tmp_path, pg_url, clean_redis):
    svc = make_services(
        tmp_path, SOHOA_EVENTSTORE_URL=pg_url, SOHOA_BROKER_URL=clean_redis, SOHOA_AUTO_RUNS="text"
    )
    path = write_tiff(tmp_path / "so-muc-ke.tif", PAGES)
    ids, states = ingest_and_wait(svc, [path])
    capture = svc.store.capture(ids[0])
    assert states[ids[0]] == "done" and capture.text["pages"] == 2
    assert {"dong", "ngac"} <= words(svc.blobs.read_bytes(capture.text["text_key"]).decode())
