"""A small public collection as a visitor meets it, for the portal's browser tests and bench:
heritage sites around Hoàn Kiếm (close enough to cluster), a published parcel, and a two-page
document whose pages carry real drawn text with the word boxes OCR would record.

Every name and text here is made up for the tests (no evaluation page is used).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from PIL import Image, ImageDraw, ImageFont

from models.record import Record
from pipeline.bootstrap import Services
from pipeline.jobs.text import PAGE_SEPARATOR
from pipeline.stages.pages.pagetext import PageText, Word
from tests.web.records import SQUARE
from tests.web.seed import linked_capture

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SITES = [  # code, name, lon, lat, extra attributes
    ("01-101", "Văn Miếu – Quốc Tử Giám", 105.8355, 21.0293, {
        "aliases": ["Văn Miếu", "Quốc Tử Giám"], "rank": "quốc gia đặc biệt",
        "type": ["di tích lịch sử", "kiến trúc nghệ thuật"], "period": "thời Lý",
        "description": "Trường đại học đầu tiên, xây dựng năm 1070.",
    }),
    ("01-102", "Gò Đống Đa", 105.8240, 21.0166, {"rank": "quốc gia", "type": ["di tích lịch sử"]}),
    ("01-103", "Đền Ngọc Sơn", 105.8524, 21.0307, {"rank": "quốc gia"}),
    ("01-104", "Tháp Rùa", 105.8522, 21.0280, {"rank": "cấp thành phố"}),
    ("01-105", "Đình Kim Ngân", 105.8521, 21.0352, {"rank": "quốc gia"}),
    ("01-106", "Nhà bia đá", 105.8530, 21.0300, {
        "rank": "cấp thành phố", "description": "Nhà bia được xây dựng bằng đá ong.",
    }),
    ("01-107", "Đền thờ thời đại Lý", 105.8515, 21.0290, {"rank": "cấp thành phố"}),
]  # fmt: skip
PAGES = [
    ["QUYẾT ĐỊNH", "Về việc công nhận di tích", "Văn Miếu Quốc Tử Giám"],
    ["Điều 1. Xếp hạng di tích", "quốc gia đặc biệt"],
]


@dataclass
class Showcase:
    sites: dict[str, UUID]
    parcel: UUID
    document: UUID
    """The capture of the two drawn pages, linked to Văn Miếu."""


def seed_showcase(svc: Services, folder: Path) -> Showcase:
    folder.mkdir(parents=True, exist_ok=True)
    sites = {name: _site(svc, code, name, lon, lat, extra) for code, name, lon, lat, extra in SITES}
    parcel = Record(
        kind="parcel",
        key={"unit_code": "00031", "era": "pre2025", "sheet": "12", "number": "45"},
        source="showcase",
    )
    parcel.record_attributes(
        attributes={"ward": "Phường Giảng Võ", "area_m2": 120.5}, source="showcase"
    )
    parcel.set_geometry(geometry=SQUARE, crs="EPSG:4326", source="showcase")
    parcel.publish()
    svc.store.save(parcel)
    van_mieu = svc.store.record(sites["Văn Miếu – Quốc Tử Giám"])
    drawn = [draw_page(lines) for lines in PAGES]
    scan = folder / "quyet-dinh.tif"
    drawn[0][0].save(scan, save_all=True, append_images=[im for im, _ in drawn[1:]], dpi=(300, 300))
    cid = linked_capture(svc, scan, "document", van_mieu)
    record_pages(svc, cid, drawn)
    return Showcase(sites, parcel.id, cid)


def _site(svc: Services, code: str, name: str, lon: float, lat: float, extra: dict) -> UUID:
    r = Record(kind="site", key={"code": code}, source="showcase")
    r.record_attributes(attributes={"name": name, **extra}, source="showcase")
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    r.set_geometry(geometry=geometry, crs="EPSG:4326", source="showcase")
    r.publish()
    svc.store.save(r)
    return r.id


def draw_page(lines: list[str], size: tuple[int, int] = (1000, 700)) -> tuple[Image.Image, list]:
    """A page image of `lines` drawn in DejaVu Sans, and its words with the boxes they fill."""
    font = ImageFont.truetype(FONT, 40)
    im = Image.new("RGB", size, (252, 250, 244))
    draw = ImageDraw.Draw(im)
    words = []
    for n, line in enumerate(lines):
        x, y = 60, 60 + 80 * n
        for w in line.split():
            left, top, right, bottom = draw.textbbox((x, y), w, font=font)
            draw.text((x, y), w, fill=(20, 20, 20), font=font)
            words.append(Word(w, (left, top, right, bottom), 93.0, 0, n))
            x = right + 14
    return im, words


def record_pages(svc: Services, cid: UUID, drawn: list[tuple[Image.Image, list]]) -> None:
    """Record text run 1 as OCR would: each drawn page's image and a PageText of its words;
    then the assembled text."""
    texts = []
    for index, (im, words) in enumerate(drawn):
        lines: dict[int, list[str]] = {}
        for w in words:
            lines.setdefault(w.line, []).append(w.text)
        text = "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))
        page = PageText(
            index, text, words, im.width, im.height, 300, 93.0, "ocr", "tesseract 5", "vie"
        )
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=88)
        outcome = {
            "job_key": f"showcase-ocr-{index}", "run": 1, "page": index,
            "text_key": svc.blobs.put_bytes(json.dumps(page.to_json()).encode()).key,
            "hocr_key": None, "image_key": svc.blobs.put_bytes(buf.getvalue()).key,
            "chars": len(text), "mean_conf": 93.0, "source": "ocr",
            "engine": "tesseract 5", "lang": "vie", "params": {},
        }  # fmt: skip
        svc.store.update(cid, lambda c, kw=outcome: c.record_page(**kw))
        texts.append(text)
    full = svc.blobs.put_bytes(PAGE_SEPARATOR.join(texts).encode()).key
    assembled = {
        "job_key": "showcase-text", "run": 1, "text_key": full, "pdf_key": None,
        "pages": len(drawn), "pages_failed": [], "chars": sum(map(len, texts)),
        "mean_conf": 93.0,
    }  # fmt: skip
    svc.store.update(cid, lambda c: c.record_text(**assembled))
