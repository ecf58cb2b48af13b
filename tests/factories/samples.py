"""Generators of small sample files for tests: good ones of every accepted type, and bad ones.

Every function writes one file at `path` and returns `path`, so tests can write
`probe(make_png(tmp_path / "a.png", 40, 30), ...)`. Output is deterministic (fixed seeds).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pipeline.media.limits import Limits

# Generous enough for every good sample here; tests that want a rejection lower one field.
LIMITS = Limits(
    max_file_bytes=100_000_000,
    max_pixels=100_000_000,
    max_pages=500,
    max_points=10_000_000,
    max_zip_members=1_000,
    max_zip_ratio=100,
)


# --- pages and photos -------------------------------------------------------------------------


def _picture(w: int, h: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A picture with some structure (gradient, a box, text-like strokes), not a flat colour."""
    x = np.linspace(0, 255, w, dtype=np.float32)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    rgb = np.stack([np.broadcast_to(x, (h, w)), np.broadcast_to(y, (h, w)), (x + y) / 2], axis=-1)
    im = Image.fromarray(rgb.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(im)
    draw.rectangle((w // 4, h // 4, w // 2, h // 2), outline=(0, 0, 0), width=max(1, w // 50))
    draw.text((w // 10, h // 10), f"page {seed}", fill=(0, 0, 0))
    return im.convert(mode)


def make_png(path: Path, w: int, h: int, mode: str = "RGB") -> Path:
    _picture(w, h, mode).save(path, "PNG", dpi=(300, 300))
    return path


def make_jpeg(path: Path, w: int, h: int, exif: bool = False, orientation: int = 1) -> Path:
    """A JPEG; with exif=True it carries Make/Model/DateTimeOriginal/Orientation/GPS tags."""
    im = _picture(w, h)
    kwargs: dict = {"quality": 85, "dpi": (200, 200)}
    if exif:
        tags = Image.Exif()
        tags[271] = "Canon"  # Make
        tags[272] = "Canon EOS 5D"  # Model
        tags[306] = "2024:05:06 07:08:09"  # DateTime
        tags[274] = orientation  # 6: the camera was turned; show rotated 90° clockwise
        tags.get_ifd(0x8769)[36867] = "2024:05:06 07:08:09"  # DateTimeOriginal
        gps = tags.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (21.0, 1.0, 42.0)  # Hà Nội, 21°01'42"N
        gps[3] = "E"
        gps[4] = (105.0, 51.0, 0.0)
        kwargs["exif"] = tags
    im.save(path, "JPEG", **kwargs)
    return path


def make_tiff(
    path: Path,
    pages: int,
    w: int = 160,
    h: int = 120,
    compression: str = "tiff_lzw",
    mode: str = "RGB",
) -> Path:
    """A multi-page TIFF; pages differ so their strips differ.

    compression="raw" puts each page's directory before its data (Pillow's own writer), so a
    truncated copy loses data rather than a directory; use mode="1" with "group4".
    """
    frames = [_picture(w, h, mode, seed=i + 1) for i in range(pages)]
    frames[0].save(
        path,
        "TIFF",
        save_all=True,
        append_images=frames[1:],
        compression=compression,
        dpi=(300, 300),
    )
    return path


def make_jp2(path: Path, w: int, h: int) -> Path:
    """JPEG 2000 (JP2 boxes); Pillow writes it through openjpeg."""
    _picture(w, h).save(path, "JPEG2000")
    return path


def make_pdf(path: Path, pages: int, w: int = 300, h: int = 400) -> Path:
    """A PDF of `pages` image pages (Pillow's PDF writer)."""
    frames = [_picture(w, h, "RGB", seed=i + 1) for i in range(pages)]
    frames[0].save(path, "PDF", save_all=True, append_images=frames[1:], resolution=72.0)
    return path


def make_pdf_without_pages(path: Path) -> Path:
    """A well-formed PDF whose page tree is empty (pypdfium2)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    try:
        pdf.save(path)
    finally:
        pdf.close()
    return path


def make_encrypted_pdf(path: Path) -> Path:
    """A PDF encrypted with the standard handler and a user password nobody knows.

    Written by hand: the /Encrypt dictionary's /U entry does not match the empty password,
    so a reader must ask for one. The body is never decrypted, so its content does not matter.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /P -44 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\n"
        % (len(objects) + 1, b"ab" * 16, b"ab" * 16)
        + b"startxref\n%d\n%%%%EOF\n" % xref
    )
    path.write_bytes(bytes(out))
    return path


# --- 3D ------------------------------------------------------------------------------------------


def _points(n: int, seed: int = 0) -> np.ndarray:
    """n points on a bumpy surface (like a terrain scan)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 10.0, size=(n, 2))
    z = np.sin(xy[:, 0]) + np.cos(xy[:, 1]) + rng.normal(0.0, 0.05, n)
    return np.column_stack([xy, z]).astype(np.float64)


def make_ply(path: Path, n_points: int, extra_element: bool = False, binary: bool = True) -> Path:
    """A PLY with n_points vertices (x, y, z float + red/green/blue uchar) and a few faces.

    extra_element=True adds an element after the faces, as real Stanford range scans do.
    """
    pts = _points(n_points).astype(np.float32)
    faces = [(i, i + 1, i + 2) for i in range(0, max(0, n_points - 2), 3)]
    header = [
        "ply",
        f"format {'binary_little_endian' if binary else 'ascii'} 1.0",
        "comment made by tests/factories/samples.py",
        f"element vertex {n_points}",
        "property float x",
        "property float y",
        "property float z",
        "property uchar red",
        "property uchar green",
        "property uchar blue",
        f"element face {len(faces)}",
        "property list uchar int vertex_indices",
    ]
    if extra_element:
        header += ["element camera 1", "property float view_px", "property float view_py"]
    out = bytearray(("\n".join([*header, "end_header"]) + "\n").encode("ascii"))
    for x, y, z in pts:
        if binary:
            out += struct.pack("<fffBBB", x, y, z, 200, 100, 50)
        else:
            out += f"{x} {y} {z} 200 100 50\n".encode()
    for face in faces:
        out += (
            struct.pack("<Biii", 3, *face)
            if binary
            else f"3 {face[0]} {face[1]} {face[2]}\n".encode()
        )
    if extra_element:
        out += struct.pack("<ff", 1.0, 2.0) if binary else b"1.0 2.0\n"
    path.write_bytes(bytes(out))
    return path


def make_ply_claiming(path: Path, declared_points: int) -> Path:
    """A binary PLY header declaring `declared_points` vertices, followed by almost nothing."""
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {declared_points}\n"
        "property float x\nproperty float y\nproperty float z\nend_header\n"
    )
    path.write_bytes(header.encode("ascii") + b"\0" * 120)
    return path


def _cube():
    import trimesh

    return trimesh.creation.box(extents=(2.0, 1.0, 0.5))


def make_obj(path: Path) -> Path:
    """A cube as Wavefront OBJ (8 vertices, 12 triangles)."""
    cube = _cube()
    lines = ["# cube made by tests/factories/samples.py", "o cube"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in cube.vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in cube.faces]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def make_stl(path: Path, binary: bool = True) -> Path:
    """A cube as STL (12 triangles), binary or ASCII."""
    data = _cube().export(file_type="stl" if binary else "stl_ascii")
    path.write_bytes(data if isinstance(data, bytes) else data.encode("ascii"))
    return path


def make_glb(path: Path) -> Path:
    """A cube as binary glTF (trimesh)."""
    path.write_bytes(_cube().export(file_type="glb"))
    return path


def make_xyz(path: Path, n: int, sep: str = " ") -> Path:
    """A plain point list: x y z per line."""
    pts = _points(n)
    path.write_text("".join(sep.join(f"{v:.4f}" for v in p) + "\n" for p in pts), encoding="ascii")
    return path


def make_pcd(path: Path, n: int, binary: bool = False) -> Path:
    """A Point Cloud Library PCD v0.7 with x y z float fields."""
    pts = _points(n).astype(np.float32)
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z\n"
        f"SIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\n"
        f"VIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {'binary' if binary else 'ascii'}\n"
    )
    if binary:
        body = pts.astype("<f4").tobytes()
    else:
        body = "".join(f"{x:.4f} {y:.4f} {z:.4f}\n" for x, y, z in pts).encode("ascii")
    path.write_bytes(header.encode("ascii") + body)
    return path


def make_las(path: Path, n: int, version: str = "1.2", point_format: int = 3) -> Path:
    """A LAS file of n points (laspy)."""
    import laspy

    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([500_000.0, 2_300_000.0, 0.0])
    las = laspy.LasData(header)
    pts = _points(n)
    las.x = 500_000.0 + pts[:, 0] * 10
    las.y = 2_300_000.0 + pts[:, 1] * 10
    las.z = pts[:, 2]
    las.write(path)
    return path


def make_e57_stub(path: Path) -> Path:
    """An E57 file header and XML section only (no CRC-paged binary sections).

    Enough for sniffing and header checks; not readable by libE57.
    """
    xml = b'<?xml version="1.0"?><e57Root type="Structure"></e57Root>'
    header = b"ASTM-E57" + struct.pack("<IIQQQQ", 1, 0, 0, 48, len(xml), 1024)
    body = header + xml
    body += b"\0" * (1024 - len(body))
    path.write_bytes(body[:16] + struct.pack("<Q", len(body)) + body[24:])
    return path


# --- containers ----------------------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_zip_slip(path: Path, name: str = "../evil.txt") -> Path:
    """A ZIP whose entry would be written outside the extraction folder."""
    return make_zip(path, {"ok.txt": b"fine", name: b"gotcha"})


def make_zip_symlink(path: Path) -> Path:
    """A ZIP holding a symbolic link entry pointing at /etc/passwd."""
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16) | 0x20
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    return path


def make_zip_bomb(path: Path, expanded_bytes: int = 20_000_000) -> Path:
    """A ZIP with a member of zeros that deflates about a thousandfold."""
    chunk = b"\0" * 1_000_000
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("zeros.bin", "w") as member,
    ):
        for _ in range(expanded_bytes // len(chunk)):
            member.write(chunk)
    return path


# --- bad inputs ----------------------------------------------------------------------------------


def make_random(path: Path, n: int = 4096, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).bytes(n))
    return path


def make_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated_copy(src: Path, dst: Path, keep: float | int = 0.6) -> Path:
    """Copy the first `keep` bytes of src (a fraction of its size when keep is a float < 1)."""
    data = src.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    dst.write_bytes(data[:n])
    return dst


def make_png_declaring(path: Path, w: int = 60000, h: int = 60000) -> Path:
    """A small valid PNG whose IHDR is patched to declare w×h pixels (CRC fixed up)."""
    buf = io.BytesIO()
    _picture(16, 16).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    # Signature (8), then IHDR: length (4), type (4) at 12, data (13) at 16, CRC (4) at 29.
    data[16:24] = struct.pack(">II", w, h)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def make_tiff_with_corrupt_page(path: Path, pages: int = 3, bad_page: int = 2) -> Path:
    """A deflate-compressed TIFF whose page `bad_page` (1-based) holds garbage instead of data.

    Offsets and byte counts stay inside the file, so only decoding finds the damage.
    """
    make_tiff(path, pages, compression="tiff_adobe_deflate")
    with Image.open(path) as im:
        im.seek(bad_page - 1)
        offset, count = im.tag_v2[273][0], im.tag_v2[279][0]
    data = bytearray(path.read_bytes())
    data[offset : offset + count] = np.random.default_rng(1).bytes(count)
    path.write_bytes(bytes(data))
    return path
