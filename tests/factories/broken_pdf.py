"""PDFs of one grey JPEG scan per page, some pages broken the ways real files break: the
scan not a JPEG, cut short, a Flate scan cut short, the page's content object missing. Written
byte by byte, as bench/bench_bounded.py writes its 2,000-page book."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from PIL import Image


def write_scan_pdf(path: Path, pages: list[str], scan: Image.Image) -> Path:
    """A PDF of `scan` (grey) on every page, broken as each entry of `pages` says: "good",
    "not a JPEG", "cut short", "missing object" (its contents refer to an object the file
    lacks), "flate" (the scan Flate-compressed) or "flate cut short"."""
    grey = scan.convert("L")
    out = io.BytesIO()
    grey.save(out, "JPEG", quality=70)
    jpeg, raw = out.getvalue(), grey.tobytes()
    width, height = grey.size
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
        box = f"{width * 72 / 300:.2f} {height * 72 / 300:.2f}"  # a 300-dpi scan
        for i, how in enumerate(pages):
            content, image = 4 + 3 * i, 5 + 3 * i
            target = "9999 0 R" if how == "missing object" else f"{content} 0 R"
            obj(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {box}] /Contents {target} "
                f"/Resources << /XObject << /Im0 {image} 0 R >> >> >>".encode()
            )
            draw = f"q {box.replace(' ', ' 0 0 ')} 0 0 cm /Im0 Do Q".encode()
            obj(f"<< /Length {len(draw)} >>".encode(), draw)
            data, filt = {
                "not a JPEG": (b"this is not a JPEG" * 50, "DCTDecode"),
                "cut short": (jpeg[: len(jpeg) // 3], "DCTDecode"),
                "flate": (zlib.compress(raw), "FlateDecode"),
                "flate cut short": (zlib.compress(raw[: len(raw) // 2]), "FlateDecode"),
            }.get(how, (jpeg, "DCTDecode"))
            obj(
                f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
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
