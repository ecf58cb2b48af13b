"""`sohoa demo`: ingest bundled and generated samples on embedded defaults; show the result."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from uuid import UUID

import click
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SAMPLES = Path(__file__).parent / "samples"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
SCANNED_PAGE = "nd_51_2025_cp_p1.png"
IMAGE_ONLY_PDF = "imageonly_qd_1373_bkhdt_p1.pdf"
"""Pages of the development set (born-digital legal texts drawn as images), never of an
evaluation set: what the demo shows must not be what accuracy is reported on."""


def make_inputs(folder: Path) -> Path:
    """Bundled public-domain pages plus generated files of every family, and two broken ones."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (SCANNED_PAGE, IMAGE_ONLY_PDF):
        shutil.copy(SAMPLES / name, folder / name)
    _register_tiff(folder / "so-dia-chinh-to-12.tif")
    (folder / "so-dia-chinh-to-12.tif.json").write_text(
        json.dumps(
            {
                "title": "Sổ địa chính, tờ 12",
                "unit_code": "00070",
                "unit_era": "2025",
                "sheet": "12",
                "parcel_number": "45",
                "dpi": 300,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    _stele_scan(folder / "bia-tien-si.ply")
    _photo_set(folder.parent / "cong-den-photos.zip")
    (folder / "empty.tif").write_bytes(b"")
    (folder / "not-really.pdf").write_bytes(np.random.default_rng(7).bytes(4096))
    return folder


def _register_tiff(path: Path) -> None:
    font = ImageFont.truetype(FONT, 40) if Path(FONT).exists() else ImageFont.load_default()
    pages = []
    for n in (1, 2, 3):
        page = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(page)
        draw.text((120, 150), "SỔ ĐỊA CHÍNH", font=font, fill=0)
        draw.text((120, 260), f"Phường Hoàn Kiếm — trang {n}", font=font, fill=0)
        draw.text((120, 370), "Thửa đất số 45, tờ bản đồ số 12", font=font, fill=0)
        pages.append(page)
    pages[0].save(
        path, save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(150, 150)
    )


def _stele_scan(path: Path) -> None:
    """A stele-like slab: points on a 0.6 × 1.2 × 0.15 m box, as binary PLY."""
    import trimesh

    slab = trimesh.creation.box(extents=(0.6, 0.15, 1.2))
    points, _ = trimesh.sample.sample_surface(slab, 20_000, seed=1)
    trimesh.PointCloud(points).export(path)


def _photo_set(path: Path) -> None:
    """Four photos of noise: nothing to match, so photogrammetry records a clear failure."""
    rng = np.random.default_rng(3)
    with zipfile.ZipFile(path, "w") as z:
        for i in range(4):
            pixels = rng.random((480, 640, 3)) * 60 + np.linspace(80, 200, 640)[None, :, None]
            im = Image.fromarray(pixels.astype("uint8"), "RGB")
            exif = Image.Exif()
            exif[0x010F] = "sohoa-demo"  # Make
            exif[0x0110] = "virtual camera"  # Model
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=85, exif=exif)
            z.writestr(f"IMG_{i:04d}.JPG", buf.getvalue())


MARKER = ".sohoa-demo"


def run_demo(settings, fresh: bool) -> int:
    from pipeline.bootstrap import bootstrap
    from pipeline.usecases.status import status, verify
    from scanners.cli.ingest import ingest_paths, wait_for

    data = settings.data_dir
    if fresh and data.exists():
        if not (data / MARKER).exists():
            raise click.ClickException(f"{data} was not made by the demo; not removing it")
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    (data / MARKER).touch()
    click.echo(f"sohoa demo — data in {data} (SOHOA_DATA_DIR)\n")
    inputs = make_inputs(data / "inputs")
    svc = bootstrap(settings)
    click.echo(f"$ sohoa ingest {inputs} --wait")
    results = ingest_paths(svc, [inputs], None, None, as_json=False)
    photos = inputs.parent / "cong-den-photos.zip"
    click.echo(f"$ sohoa ingest {photos} --kind photo-set --wait")
    results += ingest_paths(svc, [photos], "photo-set", None, as_json=False)
    for r in results:
        if r.status == "rejected":
            click.echo(f"  rejected {Path(r.path).name}: {r.error}")
    wait_for(svc, [UUID(r.capture_id) for r in results if r.capture_id], False)
    show_summary(svc, results)
    click.echo("\nAgain (identical bytes are linked, never stored twice):")
    again = ingest_paths(svc, [inputs / SCANNED_PAGE], None, None, as_json=False)
    click.echo(f"  {again[0].status} {again[0].capture_id}")
    show_search(svc)
    report = verify(svc)
    click.echo(
        f"\n$ sohoa verify\n  {report.checked} blobs checked, {report.ok} intact, "
        f"{len(report.problems)} problems"
    )
    counts = status(svc, [], None)["captures"]
    click.echo(f"\n$ sohoa status\n  captures: {counts}")
    click.echo(
        "\nTry: sohoa show ID, sohoa history ID, sohoa show ID --as-of 2020-01-01 "
        f"(with SOHOA_DATA_DIR={data})"
    )
    svc.close()
    return 0


def show_search(svc) -> None:
    from pipeline.dispatch.indexer import indexer
    from pipeline.usecases.importing.records import import_records
    from scanners.cli.search import plain
    from search.query import Query

    sites = SAMPLES / "hanoi_sites.jsonl"
    report = import_records(svc.store, sites)
    click.echo(f"\n$ sohoa import {sites.name}\n  {report.summary()}")
    indexer(svc).catch_up()
    for text, role in (
        ("dong da", "public"),
        ("van mieu", "public"),
        ("chua mot cot", "public"),
        ("mang dau thau quoc gia", "officer"),  # words OCR read on the image-only decision
    ):
        result = svc.index.search(Query(text=text, role=role, limit=3))
        flag = " --role officer" if role == "officer" else ""
        click.echo(f"\n$ sohoa search '{text}'{flag}\n  {result.total} found")
        for h in result.hits:
            click.echo(f"  {h.score:6.2f}  {h.title}  — {plain(h.highlight)[:120]}")


def show_summary(svc, results) -> None:
    from pipeline.jobs.text import full_text
    from pipeline.presenters import capture_view, history_view

    click.echo("\nCaptures:")
    for r in results:
        if not r.capture_id:
            continue
        view = capture_view(svc.store.capture(UUID(r.capture_id)))
        facts = view["inspection"]
        brief = ", ".join(
            f"{k}={facts[k]}"
            for k in ("pages", "width", "height", "members", "points")
            if k in facts
        )
        click.echo(f"  {view['state']:<7} {view['kind']:<12} {view['media_type']:<40} {brief}")
        click.echo(f"          {view['id']}  {r.path}")
        capture = svc.store.capture(UUID(r.capture_id))
        if capture.text:
            text = full_text(svc, capture) or ""
            first = " / ".join(line for line in text.splitlines() if line.strip())[:110]
            click.echo(
                f"          text: {capture.text['chars']} characters on {capture.text['pages']} "
                f"page(s), mean confidence {capture.text['mean_conf']:.0f} — {first}…"
            )
        if capture.model:
            m = capture.model["metrics"]
            bbox = " × ".join(f"{v:.2f}" for v in m.get("bbox_m", []))
            click.echo(f"          model: {m.get('faces')} faces, {bbox} m, GLB + preview")
        for failure in capture.failures[-1:]:
            if view["state"] in ("failed", "partial"):
                click.echo(f"          {failure['stage']}: {failure['message'][:110]}")
    register = next(r for r in results if r.path.endswith(".tif") and r.capture_id)
    capture = svc.store.capture(UUID(register.capture_id))
    click.echo(f"\n$ sohoa history {capture.id}")
    for e in history_view(svc.store.history(capture.id)):
        click.echo(f"  v{e['version']} {e['timestamp']} {e['event']}")
    parcel = capture.links[0]
    click.echo(f"\nIts sidecar linked it to parcel {parcel} (unit 00070, sheet 12, parcel 45):")
    for e in history_view(svc.store.history(parcel)):
        click.echo(f"  v{e['version']} {e['timestamp']} {e['event']} {e['data']}")
