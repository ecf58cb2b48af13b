"""Photogrammetry on the 11 photos of the Château de Sceaux: registered, error, minutes, faces.

    .venv/bin/python bench/bench_photogrammetry.py [--quick] [--json] [--data DIR]

Runs `reconstruct_photos` end to end (pycolmap SIFT on the CPU, exhaustive matching,
incremental mapping; OpenCV StereoSGBM depth fused in an Open3D TSDF; mesh, GLB, preview) on
`../shared/data/photogrammetry/sceaux_castle` (2832×2128 JPEGs, KODAK Z612). `--quick` works
on smaller images (SIFT at 1000 px, stereo at 640 px). The preview picture and the model are
written to var/bench/photogrammetry_sceaux{,_quick}.{png,glb}.

Baselines: the photo count for "registered"; the upstream calibration K.txt (fx = 2905.88 px)
for the focal length SfM recovers from EXIF + bundle adjustment. Wall minutes depend on how
busy the 2 shared cores are, so CPU minutes (this process and its children) are shown too.
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
            note=f"baseline = photos in the set; {size}",
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


def _extra(stage: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in stage.items() if k not in ("stage", "seconds"))


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="folder of the Sceaux photos")
    args = p.parse_args()
    if not args.data.is_dir():
        p.error(f"{args.data} is absent (see ../shared/data/photogrammetry/MANIFEST.md)")
    rows = run(args.data, args.quick)
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
