"""Records for web tests, built through the Record aggregate (fictional people only)."""

from __future__ import annotations

from models.application import RecordStore
from models.record import Record

OWNER = "Trần Thị Bích Ngọc"
ID_NUMBER = "001190012345"
XSS = "<script>alert(1)</script>"
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[105.80, 21.02], [105.801, 21.02], [105.801, 21.021], [105.80, 21.021], [105.80, 21.02]]
    ],
}


def site(store: RecordStore, code: str, name: str, published: bool = True, **attrs) -> Record:
    r = Record(kind="site", key={"code": code}, source="test")
    r.record_attributes(attributes={"name": name, **attrs}, source="test")
    r.set_geometry(
        geometry={"type": "Point", "coordinates": [105.8355, 21.0359]},
        crs="EPSG:4326",
        source="test",
    )
    if published:
        r.publish()
    store.save(r)
    return r


def parcel(store: RecordStore, published: bool = True, **attrs) -> Record:
    key = {"unit_code": "00031", "era": "pre2025", "sheet": "12", "number": "45"}
    r = Record(kind="parcel", key=key, source="test")
    values = {"ward": "Phường Giảng Võ", "area_m2": 120.5, "owner": OWNER, "id_number": ID_NUMBER}
    r.record_attributes(attributes={**values, **attrs}, source="test")
    r.set_geometry(geometry=SQUARE, crs="EPSG:4326", source="test")
    if published:
        r.publish()
    store.save(r)
    return r


def read_pages(svc, cid, pages: list[list[str]], size: tuple[int, int] = (600, 400)) -> None:
    """Record run 1's pages as OCR would (no Tesseract): for each page a page image with grey
    blocks where its words are, and a PageText whose words have those boxes (a line per
    string); then the assembled text."""
    import io
    import json

    from PIL import Image, ImageDraw

    from pipeline.jobs.text import PAGE_SEPARATOR
    from pipeline.stages.pages.pagetext import PageText, Word

    texts = []
    for index, lines in enumerate(pages):
        im = Image.new("RGB", size, (255, 255, 255))
        draw = ImageDraw.Draw(im)
        words = []
        for n, line in enumerate(lines):
            x, y = 20, 20 + 50 * n
            for w in line.split():
                box = (x, y, x + 12 * len(w), y + 30)
                draw.rectangle(box, fill=(150, 150, 150))
                words.append(Word(w, box, 91.0, 0, n))
                x = box[2] + 10
        page = PageText(
            index, "\n".join(lines), words, size[0], size[1], 300, 91.0, "ocr", "tesseract 5",
            "vie",
        )  # fmt: skip
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        image_key = svc.blobs.put_bytes(buf.getvalue()).key
        text_key = svc.blobs.put_bytes(json.dumps(page.to_json()).encode()).key
        texts.append(page.text)

        outcome = {
            "job_key": f"test-ocr-{index}", "run": 1, "page": index, "text_key": text_key,
            "hocr_key": None, "image_key": image_key, "chars": len(page.text),
            "mean_conf": 91.0, "source": "ocr", "engine": "tesseract 5", "lang": "vie",
            "params": {},
        }  # fmt: skip
        svc.store.update(cid, lambda c, kw=outcome: c.record_page(**kw))
    full = svc.blobs.put_bytes(PAGE_SEPARATOR.join(texts).encode()).key
    assembled = {
        "job_key": "test-text", "run": 1, "text_key": full, "pdf_key": None,
        "pages": len(pages), "pages_failed": [], "chars": 10, "mean_conf": 91.0,
    }  # fmt: skip
    svc.store.update(cid, lambda c: c.record_text(**assembled))


def word_box(line: int, before: str, word: str) -> tuple[int, int, int, int]:
    """The box `read_pages` gives `word` on `line` after the words of `before`."""
    x = 20 + sum(12 * len(w) + 10 for w in before.split())
    return (x, 20 + 50 * line, x + 12 * len(word), 20 + 50 * line + 30)
