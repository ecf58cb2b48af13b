"""Photogrammetry: the 11 Sceaux photos (real), and a generated set of N photos with GPS.

    .venv/bin/python bench/bench_photogrammetry.py [--quick] [--json] [--data DIR]
        [--generated N] [--size WxH] [--skip-sceaux]

Sceaux (real, no GPS; `../shared/data/photogrammetry/sceaux_castle`, 2832×2128 JPEGs, KODAK
Z612): `reconstruct_photos` end to end (pycolmap SIFT on the CPU, exhaustive matching,
incremental mapping; OpenCV StereoSGBM depth fused in an Open3D TSDF; texture atlas; GLB,
preview). `--quick` works on smaller images (SIFT at 1000 px, stereo at 640 px).

Generated (`--generated N`, a development set: `tests/factories/photo_views.py`, the rendered
gate on a 90° arc, each JPEG's EXIF carrying its true camera position as GPS): the same path with
sequential matching above 40 photos (no vocabulary tree). Scale error is measured against the
truth twice: the GPS fit the run made, and a known distance between the first and the last
photo's true camera positions given as the `scale` parameter would be (`fit_scale` on the same
sparse model). Peak RSS is the largest of this process and its children (the SfM child).

Pictures and models go to var/bench/photogrammetry_*.{png,glb}. Baselines: the photo count for
"registered"; the upstream calibration K.txt (fx = 2905.88 px) for Sceaux's focal length.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, emit, load_average, log, parser, row, scratch

DATA = REPO.parent / "shared" / "data" / "photogrammetry" / "sceaux_castle"
UPSTREAM_FOCAL_PX = 2905.88  # K.txt


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(data: Path, quick: bool) -> list[dict]:
    import pycolmap

    from pipeline.stages.reconstruction.photogrammetry import PhotoParams, reconstruct_photos

    photos = sorted(data.glob("*.JPG"))
    params = PhotoParams(max_image_size=1000, dense_max_size=640) if quick else PhotoParams()
    suffix = "_quick" if quick else ""
    log(f"sceaux: {len(photos)} photos, {load_average()}")
    with scratch("photogrammetry") as work:
        cpu0, start = cpu_seconds(), time.perf_counter()
        result = reconstruct_photos(photos, work, params)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
        model = pycolmap.Reconstruction(work / "sparse" / "model")
        focal = next(iter(model.cameras.values())).mean_focal_length()
    out = REPO / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"photogrammetry_sceaux{suffix}.png").write_bytes(result.preview_png)
    (out / f"photogrammetry_sceaux{suffix}.glb").write_bytes(result.glb)
    log(f"sceaux done in {wall:.0f} s: {load_average()}; preview in {out}")
    m = result.metrics
    size = f"SIFT ≤ {params.max_image_size} px, stereo ≤ {params.dense_max_size} px"
    rows = [
        row(
            "sceaux: photos registered",
            "photos",
            m["registered_images"],
            len(photos),
            aim="sohoa ≥ 10",
            note=f"real set, no GPS; baseline = photos in the set; {size}",
        ),
        row("sceaux: mean reprojection error", "px", m["reprojection_error_px"], None),
        row(
            "sceaux: end to end",
            "min",
            wall / 60,
            None,
            aim="sohoa ≤ 10",
            note=f"wall clock on 2 shared cores; {load_average()}",
        ),
        row("sceaux: end to end, CPU", "min", cpu / 60, None, note="this process + children"),
        row("sceaux: faces of the model", "faces", m["faces"], None),
        row(
            "sceaux: texture atlas",
            "px",
            max(m.get("atlas_px") or [0]),
            params.texture_px,
            note=f"{m.get('atlas_px')}, {m.get('texture_views')} photos; baseline = the bound",
        ),
        row("sceaux: scale", "source", 0, None, note=f"{m['scale_source']}: {m['scale_detail']}"),
        row("sceaux: sparse points", "points", m["points_sparse"], None),
        row("sceaux: dense points (fused surface)", "points", m["points_dense"], None),
        row(
            "sceaux: focal length found",
            "px",
            focal,
            UPSTREAM_FOCAL_PX,
            note="baseline = upstream calibration K.txt; SfM starts from EXIF",
        ),
    ]
    rows += [
        row(f"sceaux: stage {s['stage']}", "s", s["seconds"], None, note=_extra(s))
        for s in result.stages
    ]
    peak = max(s["peak_rss_mb"] for s in result.stages)
    rows.append(row("sceaux: peak RSS", "MB", peak, None, note="mapping runs in a child"))
    return rows


def generated(n: int, size: tuple[int, int]) -> list[dict]:
    """A generated set of n photos with GPS: registered, error, seconds, RSS, scale errors."""
    import numpy as np

    from pipeline.stages.reconstruction.photogrammetry import PhotoParams, reconstruct_photos
    from pipeline.stages.reconstruction.progress import ProgressFile
    from pipeline.stages.reconstruction.scale import ScaleRequest, fit_scale
    from tests.factories.photo_views import render_views

    name = f"generated {n} ({size[0]}×{size[1]}, GPS)"
    with scratch("photogrammetry-gen") as work:
        start = time.perf_counter()
        views = render_views(
            work / "photos", n=n, size=size, focal_px=0.875 * size[0], gps=True, span_deg=90.0
        )
        log(f"{name}: rendered in {time.perf_counter() - start:.0f} s, {load_average()}")
        params = PhotoParams(max_image_size=max(size), dense_max_size=max(size))
        cpu0, start = cpu_seconds(), time.perf_counter()
        result = reconstruct_photos(
            [v.path for v in views], work / "work", params, ProgressFile(work / "progress.json")
        )
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
        m = result.metrics
        truth = {v.path.name: v.centre for v in views}
        found = {c["name"]: np.array(c["centre"]) for c in m["cameras"]}
        gps_error = _scale_error(found, truth)
        a, b = views[0].path.name, views[-1].path.name
        request = ScaleRequest(photos=(a, b), metres=float(np.linalg.norm(truth[a] - truth[b])))
        unit = {k: c / m["metres_per_unit"] for k, c in found.items()}  # back to model units
        known = fit_scale(request, unit, {})
        known_error = _scale_error({k: c * known.metres_per_unit for k, c in unit.items()}, truth)
        out = REPO / "var" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"photogrammetry_generated_{n}.png").write_bytes(result.preview_png)
        (out / f"photogrammetry_generated_{n}.glb").write_bytes(result.glb)
    peak = (  # Linux reports KiB; MB as the stages' peak_rss_mb
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        * 1024
        / 1e6
    )
    sparse = next(s for s in result.stages if s["stage"] == "matching")
    return [
        row(f"{name}: photos registered", "photos", m["registered_images"], n, aim=f"sohoa ≥ {n}"),
        row(f"{name}: mean reprojection error", "px", m["reprojection_error_px"], None),
        row(f"{name}: end to end", "s", wall, None, note=f"2 shared cores; {load_average()}"),
        row(f"{name}: end to end, CPU", "s", cpu, None, note="this process + children"),
        row(
            f"{name}: peak RSS",
            "MB",
            peak,
            None,
            aim="sohoa ≤ 6000",
            note=f"max of this process and the SfM child; matcher {sparse['matcher']}, "
            f"{sparse['pairs']} pairs",
        ),
        row(
            f"{name}: scale error, EXIF GPS",
            "%",
            100 * gps_error,
            None,
            aim="sohoa ≤ 1",
            note=f"source {m['scale_source']}; {m['scale_detail']}",
        ),
        row(
            f"{name}: scale error, known distance",
            "%",
            100 * known_error,
            None,
            aim="sohoa ≤ 1",
            note=f"{a}↔{b} {request.metres:.3f} m",
        ),
        row(
            f"{name}: texture atlas",
            "px",
            max(m.get("atlas_px") or [0]),
            params.texture_px,
            note=f"{m.get('atlas_px')}, {m.get('texture_views')} photos, "
            f"{m.get('untextured_faces')} faces unseen; baseline = the bound",
        ),
        row(f"{name}: faces", "faces", m["faces"], None),
    ] + [
        row(f"{name}: stage {s['stage']}", "s", s["seconds"], None, note=_extra(s))
        for s in result.stages
    ]


def _scale_error(found: dict, truth: dict) -> float:
    """|s − 1| of the similarity taking the found camera centres onto the true ones."""
    import numpy as np

    from pipeline.stages.reconstruction.scale import similarity_scale

    names = sorted(found)
    scale, _ = similarity_scale(
        np.array([found[k] for k in names]), np.array([truth[k] for k in names])
    )
    return abs(scale - 1.0)


def _extra(stage: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in stage.items() if k not in ("stage", "seconds"))


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="folder of the Sceaux photos")
    p.add_argument("--generated", type=int, default=0, help="also a generated set of N photos")
    p.add_argument("--size", default="320x240", help="generated photos' size, WxH")
    p.add_argument("--skip-sceaux", action="store_true", help="only the generated set")
    args = p.parse_args()
    rows = []
    if not args.skip_sceaux:
        if not args.data.is_dir():
            p.error(f"{args.data} is absent (see ../shared/data/photogrammetry/MANIFEST.md)")
        rows += run(args.data, args.quick)
    if args.generated:
        width, height = (int(v) for v in args.size.lower().split("x"))
        rows += generated(args.generated, (width, height))
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
