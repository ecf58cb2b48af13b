"""PDF pages PDFium would draw blank or half grey without a word are rejected with a reason,
page by page: the other pages of the file read as before."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.stages.pages.images import load_page, page_count
from tests.factories.degrade import render_page
from tests.factories.samples import LIMITS

SIZE = (400, 520)


def _scan_jpeg() -> bytes:
    out = io.BytesIO()
    render_page(dpi=50, size="A5").convert("L").resize(SIZE).save(out, "JPEG", quality=70)
    return out.getvalue()


def write_scan_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF of one grey scan per page, broken as each entry of `pages` says: "good", "not a
    JPEG", "cut short", "missing object" (contents refer to an object the file lacks),
    "flate" (a whole Flate-compressed scan) or "flate cut short"."""
    scan = _scan_jpeg()
    raw = Image.open(io.BytesIO(scan)).tobytes()
    offsets: list[int] = []
    with path.open("wb") as f:

        def obj(body: bytes, stream: bytes | None = None) -> None:
            offsets.append(f.tell())
            f.write(f"{len(offsets)} 0 obj\n".encode() + body)
            if stream is not None:
                f.write(b"\nstream\n" + stream + b"\nendstream")
            f.write(b"\nendobj\n")

        f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(len(pages)))
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
        for i, how in enumerate(pages):
            content, image = 4 + 3 * i, 5 + 3 * i
            target = "9999 0 R" if how == "missing object" else f"{content} 0 R"
            obj(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 374] /Contents {target} "
                f"/Resources << /XObject << /Im0 {image} 0 R >> >> >>".encode()
            )
            draw = b"q 288 0 0 374 0 0 cm /Im0 Do Q"
            obj(f"<< /Length {len(draw)} >>".encode(), draw)
            data, filt = {
                "not a JPEG": (b"this is not a JPEG" * 50, "DCTDecode"),
                "cut short": (scan[: len(scan) // 3], "DCTDecode"),
                "flate": (zlib.compress(raw), "FlateDecode"),
                "flate cut short": (zlib.compress(raw[: len(raw) // 2]), "FlateDecode"),
            }.get(how, (scan, "DCTDecode"))
            obj(
                f"<< /Type /XObject /Subtype /Image /Width {SIZE[0]} /Height {SIZE[1]} "
                f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /{filt} "
                f"/Length {len(data)} >>".encode(),
                data,
            )
        xref = f.tell()
        f.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        f.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
        f.write(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\n".encode())
        f.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return path


BROKEN = [
    ("not a JPEG", r"PDF page 2: its scan is not a readable JPEG \(its data is not an image\)"),
    ("cut short", r"PDF page 2: its scan is not a readable JPEG \(image file is truncated"),
    ("missing object", r"PDF page 2 draws nothing: its content is missing"),
    ("flate cut short", r"PDF page 2: its image data is cut short \(104,000 of 208,000 bytes\)"),
]


@pytest.mark.parametrize(("how", "reason"), BROKEN, ids=[h for h, _ in BROKEN])
def test_a_broken_pdf_page_is_rejected_with_its_reason_and_its_neighbours_read(
    tmp_path: Path, how: str, reason: str
):
    pdf = write_scan_pdf(tmp_path / "book.pdf", ["good", how, "good"])
    assert page_count(pdf, "application/pdf", LIMITS) == 3
    with pytest.raises(InputRejectedError, match=reason):
        load_page(pdf, "application/pdf", 1, dpi=100, limits=LIMITS)
    for index in (0, 2):
        page = load_page(pdf, "application/pdf", index, dpi=100, limits=LIMITS)
        assert page.how == "embedded" and page.image.size == SIZE
        assert page.image.getextrema()[0] < 100  # the scan's dark marks, not a blank page


def test_a_whole_flate_compressed_scan_is_read(tmp_path: Path):
    pdf = write_scan_pdf(tmp_path / "flate.pdf", ["flate"])
    page = load_page(pdf, "application/pdf", 0, dpi=100, limits=LIMITS)
    assert page.image.size == SIZE and page.image.getextrema()[0] < 100
