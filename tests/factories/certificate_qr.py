"""A real QR code on a generated certificate page, as Circular 10/2024 places it: 2 × 2 cm at
the top right of page 1. The code is drawn by zxing-cpp's own writer (the library the pipeline
decodes with), so no second QR package is needed.

The content format of real certificates' codes is not published; `qr_text` writes the
"LABEL: value; …" form, one of those `pipeline.stages.certificate.qr.parse_qr` recognises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

QR_SIDE_PX = 236
"""2 cm at 300 dpi."""


def qr_text(fields: dict[str, Any]) -> str:
    """The content of a certificate's code naming its serial, parcel, sheet and area."""
    parts = [
        f"SỐ PHÁT HÀNH: {fields['serial']}",
        f"THỬA ĐẤT SỐ: {fields['parcel_number']}",
        f"TỜ BẢN ĐỒ SỐ: {fields['map_sheet']}",
        f"DIỆN TÍCH: {fields['area_m2']:.1f} m²".replace(".", ","),
    ]
    return "; ".join(parts)


def qr_image(text: str, side: int = QR_SIDE_PX) -> Image.Image:
    import zxingcpp

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = np.array(code.to_image(scale=1, add_quiet_zones=True))
    return Image.fromarray(modules).resize((side, side), Image.NEAREST).convert("RGB")


def with_qr(page: Image.Image, text: str, margin: int = 230) -> tuple[Image.Image, tuple]:
    """`page` with a real QR code of `text` pasted at its top right; and the code's box."""
    from PIL import ImageDraw

    out = page.copy()
    code = qr_image(text)
    x, y = out.width - margin - code.width, 170
    # over the drawn stand-in code of the 2025 page (tests/factories/certificates.py `_qr`)
    ImageDraw.Draw(out).rectangle((x - 100, 140, out.width - margin + 60, 560), fill="white")
    out.paste(code, (x, y))
    out.info["dpi"] = page.info.get("dpi", (300, 300))
    return out, (x, y, x + code.width, y + code.height)
