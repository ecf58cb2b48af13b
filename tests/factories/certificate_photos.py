"""Phone photos of generated land certificates, with known values (development data).

`photograph(page, seed)` turns a page drawn by tests/factories/certificates.py into what a
phone gives: a red seal stamped over the signing block (ink multiplies: text under it stays
black), a stronger pink security pattern, the sheet laid on a desk and shot at an angle
(perspective), light falling off across it with a glare spot, optionally moiré, and JPEG.
`photograph_certificate` does that to every page of a certificate, pages 2–3 of the booklet
photographed open side by side (`spread`), one page upside down; its expected sections are
the certificate's. The seal is stamped where the signing block is.

The bad-input makers give what an archivist might ingest by mistake or badly: a page at 45°,
upside down, half out of frame, blurred, a photocopy, a photo of a screen, an ID-card-like
card and a bank-statement-like page (both fictitious, drawn here).
"""

from __future__ import annotations

import io
import math
import random
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.factories.certificates import DPI, FONTS, make_certificate

DESK = (96, 78, 62)


def _jpeg(im: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    out = Image.open(io.BytesIO(buf.getvalue()))
    out.load()
    return out


def stamp_seal(
    page: Image.Image, rng: random.Random, at: tuple[float, float] | None = None
) -> Image.Image:
    """A round red seal (ring, inner ring, star) multiplied over the page's text, centred at
    `at` (shares of the width and height; default somewhere in the lower half)."""
    w, h = page.size
    r = int(w * rng.uniform(0.08, 0.1))
    fx, fy = at or (rng.uniform(0.55, 0.7), rng.uniform(0.6, 0.8))
    cx, cy = int(w * fx), int(h * fy)
    layer = Image.new("RGB", page.size, "white")
    d = ImageDraw.Draw(layer)
    ink = (205, 50, 60)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=max(6, r // 14))
    d.ellipse((cx - r * 0.72, cy - r * 0.72, cx + r * 0.72, cy + r * 0.72), outline=ink, width=5)
    font = ImageFont.truetype(FONTS + "DejaVuSans-Bold.ttf", max(12, r // 6))
    for k, ch in enumerate("ỦY BAN NHÂN DÂN * HÀ NỘI *"):
        a = -math.pi / 2 + 2 * math.pi * k / 26
        d.text((cx + 0.86 * r * math.cos(a) - 8, cy + 0.86 * r * math.sin(a) - 10), ch, ink, font)
    star = [
        (cx + math.cos(-math.pi / 2 + k * math.pi / 5) * (r * (0.3 if k % 2 == 0 else 0.12)),
         cy + math.sin(-math.pi / 2 + k * math.pi / 5) * (r * (0.3 if k % 2 == 0 else 0.12)))
        for k in range(10)
    ]  # fmt: skip
    d.polygon(star, fill=ink)
    a = np.asarray(page.convert("RGB"), np.float32) * np.asarray(layer, np.float32) / 255
    return Image.fromarray(a.astype(np.uint8))


def security_pattern(page: Image.Image, rng: random.Random, hue=(235, 185, 200)) -> Image.Image:
    """Guilloche waves in a pale colour, multiplied into the paper."""
    w, h = page.size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    f = rng.uniform(0.02, 0.03)
    waves = np.sin(xx * f + 6 * np.sin(yy * f * 0.31)) * np.sin(yy * f * 0.8 + 4 * np.sin(xx * f))
    strength = 0.7 * (waves > 0.75).astype(np.float32)[..., None]
    tint = np.asarray(hue, np.float32) / 255
    a = np.asarray(page.convert("RGB"), np.float32) * (1 - strength * (1 - tint))
    return Image.fromarray(a.astype(np.uint8))


def spread(left: Image.Image, right: Image.Image) -> Image.Image:
    """Two pages of the open booklet side by side, a soft fold shadow between them."""
    w, h = left.size
    out = Image.new("RGB", (w + right.width, h), "white")
    out.paste(left.convert("RGB"), (0, 0))
    out.paste(right.convert("RGB"), (w, 0))
    a = np.asarray(out, np.float32)
    xx = np.arange(out.width, dtype=np.float32)
    a *= (1 - 0.35 * np.exp(-(((xx - w) / 18) ** 2)))[None, :, None]
    return Image.fromarray(a.astype(np.uint8))


def _desk(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    w, h = size
    grain = cv2.resize(rng.random((h // 40 + 1, 4), dtype=np.float32), (w, h))
    base = np.asarray(DESK, np.float32)[None, None, :] * (0.8 + 0.4 * grain[..., None])
    return np.clip(base, 0, 255).astype(np.uint8)


def photograph(
    page: Image.Image,
    seed: int = 0,
    *,
    tilt: float = 0.06,
    angle_deg: float = 0.0,
    seal: bool = True,
    pattern: bool = True,
    glare: bool = True,
    moire: bool = False,
    upside_down: bool = False,
    quality: int = 70,
) -> Image.Image:
    """`page` as a phone photographs it on a desk (see the module docstring). `tilt`: how
    far (share of the page size) each corner moves, the perspective; `angle_deg`: the page
    turned in the picture."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    im = page.convert("RGB")
    if seal:
        im = stamp_seal(im, rng)
    if pattern:
        im = security_pattern(im, rng)
    if upside_down:
        im = im.rotate(180)
    w, h = im.size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    dst = []
    for x, y in src - np.float32([w / 2, h / 2]):
        jx, jy = (rng.uniform(-tilt, tilt) * w, rng.uniform(-tilt, tilt) * h)
        dst.append([c * x - s * y + jx, s * x + c * y + jy])
    dst = np.float32(dst) * 0.92
    margin = int(0.1 * max(w, h))
    cw = int(2 * np.abs(dst[:, 0]).max()) + 2 * margin
    ch = int(2 * np.abs(dst[:, 1]).max()) + 2 * margin
    dst += np.float32([cw / 2, ch / 2])
    matrix = cv2.getPerspectiveTransform(src, dst)
    desk = _desk((cw, ch), nrng)
    warped = cv2.warpPerspective(np.asarray(im), matrix, (cw, ch), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (cw, ch)) > 127
    out = np.where(mask[..., None], warped, desk).astype(np.float32)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    light = 0.85 + 0.15 * (gx * (xx / cw - 0.5) + gy * (yy / ch - 0.5)) * 2
    out *= light[..., None]
    if glare:
        gcx, gcy = rng.uniform(0.3, 0.7) * cw, rng.uniform(0.2, 0.5) * ch
        spot = np.exp(-(((xx - gcx) ** 2 + (yy - gcy) ** 2) / (2 * (0.08 * cw) ** 2)))
        out = out + (255 - out) * 0.55 * spot[..., None]
    if moire:
        out *= (1 - 0.08 * (np.sin(xx * 1.9 + yy * 0.35) > 0.3))[..., None]
    out += nrng.normal(0, 4, out.shape[:2])[..., None]
    photo = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    photo = photo.filter(ImageFilter.GaussianBlur(0.6))
    return _jpeg(photo, quality)


def low_resolution(photo: Image.Image, long_side: int = 1024, quality: int = 70) -> Image.Image:
    """`photo` as a messaging app passes it on: its long side cut down to `long_side` pixels
    and JPEG-compressed again (pages 2–3 of a booklet in 1024 px: ~500 px a page)."""
    factor = long_side / max(photo.size)
    if factor >= 1:
        return photo
    size = (round(photo.width * factor), round(photo.height * factor))
    return _jpeg(photo.resize(size, Image.LANCZOS), quality)


def photograph_certificate(
    form: str, seed: int = 0, *, spread_pages: bool = True, long_side: int | None = None
) -> tuple[list[Image.Image], dict[str, Any]]:
    """A generated certificate's pages as phone photos, and its expected reading.

    2009–2024 booklet: page 1, pages 2–3 open side by side (with `spread_pages`), page 4
    upside down. 2025 sheet: both pages, the second upside down. With `long_side`, each
    photo is passed on at that resolution (`low_resolution`)."""
    pages, expected = make_certificate(form, seed=1000 + seed)
    rng = random.Random(seed)
    signing = 1 if form == "2009-2024" else 0  # the page with the signing block
    pages[signing] = stamp_seal(pages[signing], rng, at=(rng.uniform(0.4, 0.55), 0.6))
    shots: list[Image.Image] = []
    if form == "2009-2024" and spread_pages:
        groups = [pages[0], spread(pages[1], pages[2]), pages[3]]
    else:
        groups = list(pages)
    for i, page in enumerate(groups):
        shots.append(
            photograph(
                page, seed * 10 + i, seal=False, upside_down=i == len(groups) - 1, moire=i == 0
            )
        )
    if long_side:
        shots = [low_resolution(shot, long_side) for shot in shots]
    return shots, expected


# --- bad input -------------------------------------------------------------------------------


def at_45_degrees(page: Image.Image, seed: int = 0) -> Image.Image:
    return photograph(page, seed, angle_deg=45, tilt=0.02)


def half_out_of_frame(page: Image.Image, seed: int = 0) -> Image.Image:
    photo = photograph(page, seed)
    return photo.crop((photo.width // 2, 0, photo.width, photo.height))


def blurred(page: Image.Image, seed: int = 0) -> Image.Image:
    return photograph(page, seed).filter(ImageFilter.GaussianBlur(9))


def photocopy(page: Image.Image, seed: int = 0) -> Image.Image:
    """Grey, hard contrast, toner specks, slightly skewed."""
    grey = np.asarray(stamp_seal(page, random.Random(seed)).convert("L"), np.float32)
    grey = np.clip((grey - 90) * 1.8, 0, 255)
    specks = np.random.default_rng(seed).random(grey.shape) < 0.002
    grey[specks] = 30
    out = Image.fromarray(grey.astype(np.uint8), "L").rotate(0.8, fillcolor=255)
    return _jpeg(out, 80)


def photo_of_screen(page: Image.Image, seed: int = 0) -> Image.Image:
    """The page shown on a monitor and photographed: dark bezel, pixel grid, moiré, blue cast."""
    im = page.convert("RGB").resize((page.width // 2, page.height // 2), Image.BILINEAR)
    a = np.asarray(im, np.float32) * np.float32([0.85, 0.92, 1.0])
    a[::3, :, :] *= 0.8
    a[:, ::3, :] *= 0.85
    bezel = np.full((a.shape[0] + 160, a.shape[1] + 160, 3), 25, np.float32)
    bezel[80:-80, 80:-80] = a
    out = Image.fromarray(np.clip(bezel, 0, 255).astype(np.uint8))
    return photograph(out, seed, seal=False, pattern=False, moire=True, tilt=0.03)


def _card_font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS + "DejaVuSans.ttf", px)


def id_card_like(seed: int = 0) -> Image.Image:
    """A landscape identity-card-like card (fictitious, no real layout): photo box, name,
    number, dates, photographed on the desk."""
    rng = random.Random(seed)
    card = Image.new("RGB", (1720, 1080), (210, 228, 240))
    d = ImageDraw.Draw(card)
    d.rectangle((60, 260, 480, 800), fill=(150, 160, 170))
    lines = [
        "THẺ MẪU - KHÔNG CÓ GIÁ TRỊ",
        f"Số: 0{rng.randint(10**10, 10**11 - 1)}",
        "Họ và tên: NGUYỄN VĂN MẪU",
        f"Ngày sinh: {rng.randint(1, 28):02d}/0{rng.randint(1, 9)}/19{rng.randint(50, 99)}",
        "Giới tính: Nam    Quốc tịch: Việt Nam",
        "Quê quán: Hà Nội",
        f"Có giá trị đến: 01/01/20{rng.randint(30, 40)}",
    ]
    for i, text in enumerate(lines):
        d.text((540, 90 + 120 * i), text, fill=(20, 20, 40), font=_card_font(52))
    return photograph(card, seed, seal=False, pattern=False, tilt=0.04)


def bank_statement_like(seed: int = 0) -> Image.Image:
    """A bank-statement-like page (fictitious bank, columns of dates and amounts)."""
    rng = random.Random(seed)
    page = Image.new("RGB", (2480, 3508), "white")
    d = ImageDraw.Draw(page)
    d.text((200, 200), "NGÂN HÀNG MẪU - SAO KÊ TÀI KHOẢN", fill=(10, 30, 90), font=_card_font(70))
    d.text((200, 330), f"Số tài khoản: {rng.randint(10**9, 10**10 - 1)}", fill="black",
           font=_card_font(50))  # fmt: skip
    y = 500
    for _ in range(30):
        day = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2024"
        amount = f"{rng.randint(1, 99_999) * 1000:,}".replace(",", ".")
        d.text((200, y), day, fill="black", font=_card_font(44))
        d.text((650, y), "Chuyển khoản thanh toán", fill="black", font=_card_font(44))
        d.text((1800, y), amount, fill="black", font=_card_font(44))
        y += 90
    page.info["dpi"] = (DPI, DPI)
    return photograph(page, seed, seal=False, pattern=False)
