"""Structure from motion with pycolmap on the CPU: features, matches, the incremental map.

It runs in a child process (`python -m pipeline.stages.reconstruction.sparse SPARSE_JOB.json`)
because COLMAP aborts the process on some internal checks, and so a time limit can stop it.

Memory and progress shape it:
- features are extracted in chunks of photos (one camera shared across chunks when every photo
  has the same camera), so the progress file says "features: 40 of 200";
- the pairs to match are listed here and matched in chunks (`match_image_pairs`): every pair for
  small sets, and for large ones each photo with its `sequential_overlap` successors in name
  order, quadratic jumps, and wrapping round the end (a walk round a building closes its loop
  without a vocabulary tree: no vocabulary file, no loop-detection index in memory);
- the mapper reports each photo it registers (`next_image_callback`).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.photos import camera_mode
from pipeline.stages.reconstruction.progress import ProgressFile, timed

if TYPE_CHECKING:
    from pipeline.stages.reconstruction.photogrammetry import PhotoParams

FEATURE_CHUNKS = 10
MATCH_CHUNKS = 20


def run_sparse(
    workdir: Path, names: list[str], params: PhotoParams, progress: ProgressFile
) -> list[dict]:
    """Run the sparse job in a child process; returns its stages. Crashes become rejections."""
    from dataclasses import asdict

    job = workdir / "sparse_job.json"
    result = workdir / "sparse" / "result.json"
    result.unlink(missing_ok=True)
    job.write_text(
        json.dumps(
            {
                "workdir": str(workdir),
                "names": names,
                "params": asdict(params),
                "progress": progress.spec,
            }
        )
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.stages.reconstruction.sparse", str(job)],
            capture_output=True,
            text=True,
            timeout=params.sparse_timeout_s,
            cwd=Path(__file__).resolve().parents[3],
        )
    except subprocess.TimeoutExpired:
        raise InputRejectedError(
            f"structure from motion took longer than {params.sparse_timeout_s:.0f} s"
        ) from None
    if done.returncode != 0 or not result.exists():
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise InputRejectedError(
            f"structure from motion failed (exit {done.returncode}): {tail or 'no message'}"
        )
    return json.loads(result.read_text())["stages"]


def sparse_job(workdir: Path, names: list[str], p: PhotoParams, progress: ProgressFile) -> None:
    """Features, matches and the incremental map; writes sparse/{model/,result.json}."""
    import pycolmap

    pycolmap.set_random_seed(p.seed)
    images, database = workdir / "images", workdir / "sparse" / "database.db"
    shutil.rmtree(database.parent, ignore_errors=True)  # nothing of an earlier run survives
    database.parent.mkdir(parents=True)
    stages: list[dict] = []
    with timed(stages, "features", progress) as info:
        info["camera_mode"] = _extract(database, images, names, p, progress)
    with timed(stages, "matching", progress) as info:
        info["matcher"], info["pairs"] = _match(database, names, p, progress)
    with timed(stages, "mapping", progress) as info:
        best = _map(database, images, workdir / "sparse" / "model", len(names), p, progress)
        info["registered"] = best
    (workdir / "sparse" / "result.json").write_text(json.dumps({"stages": stages}))


def _extract(
    database: Path, images: Path, names: list[str], p: PhotoParams, progress: ProgressFile
) -> str:
    import pycolmap

    mode = camera_mode(images, names)
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.max_image_size = p.max_image_size
    extraction.sift.max_num_features = p.max_features
    reader = pycolmap.ImageReaderOptions(camera_model=p.camera_model)
    size = max(1, math.ceil(len(names) / FEATURE_CHUNKS))
    progress.report("features", 0, len(names))
    for start in range(0, len(names), size):
        pycolmap.extract_features(
            database,
            images,
            image_names=names[start : start + size],
            camera_mode=getattr(pycolmap.CameraMode, mode),
            reader_options=reader,
            extraction_options=extraction,
            device=pycolmap.Device.cpu,
        )
        if mode == "SINGLE" and start == 0:
            reader.existing_camera_id = 1  # later chunks share the first chunk's camera
        progress.report("features", min(start + size, len(names)), len(names))
    return mode


def image_pairs(n: int, kind: str, overlap: int) -> list[tuple[int, int]]:
    """Index pairs to match: all of them, or sequential neighbours, quadratic jumps
    (i + 2^k) and the same wrapping past the last photo; each unordered pair once."""
    if kind == "exhaustive":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    steps = set(range(1, overlap + 1)) | {2**k for k in range(overlap)}
    pairs = {(min(i, (i + s) % n), max(i, (i + s) % n)) for i in range(n) for s in steps if s < n}
    return sorted(p for p in pairs if p[0] != p[1])


def _match(
    database: Path, names: list[str], p: PhotoParams, progress: ProgressFile
) -> tuple[str, int]:
    import pycolmap

    kind = p.matcher
    if kind == "auto":
        kind = "exhaustive" if len(names) <= p.exhaustive_max_images else "sequential"
    pairs = image_pairs(len(names), kind, p.sequential_overlap)
    verification = pycolmap.TwoViewGeometryOptions()
    verification.ransac.random_seed = p.seed
    size = max(30, math.ceil(len(pairs) / MATCH_CHUNKS))
    listing = database.parent / "pairs.txt"
    progress.report("matching", 0, len(pairs))
    for start in range(0, len(pairs), size):
        chunk = pairs[start : start + size]
        listing.write_text("".join(f"{names[i]} {names[j]}\n" for i, j in chunk))
        pycolmap.match_image_pairs(
            database,
            pairing_options=pycolmap.ImportedPairingOptions(match_list_path=str(listing)),
            verification_options=verification,
            device=pycolmap.Device.cpu,
        )
        progress.report("matching", start + len(chunk), len(pairs))
    return kind, len(pairs)


def _map(
    database: Path, images: Path, out: Path, n: int, p: PhotoParams, progress: ProgressFile
) -> int:
    """Incremental mapping; keeps the model with the most registered images. Returns its count."""
    import pycolmap

    options = pycolmap.IncrementalPipelineOptions()
    options.min_model_size = 3
    options.random_seed = p.seed
    options.mapper.random_seed = p.seed
    options.triangulation.random_seed = p.seed
    staging = out.parent / "models"
    staging.mkdir(parents=True, exist_ok=True)
    counts = {"model": 0, "best": 0}

    def registered(k: int) -> None:
        counts["model"] = k
        counts["best"] = max(counts["best"], k)
        progress.report("mapping", counts["best"], n)

    progress.report("mapping", 0, n)
    models = pycolmap.incremental_mapping(
        database,
        images,
        staging,
        options=options,
        initial_image_pair_callback=lambda: registered(2),
        next_image_callback=lambda: registered(counts["model"] + 1),
    )
    if not models:
        return 0
    best = max(models.values(), key=lambda r: r.num_reg_images())
    out.mkdir(parents=True, exist_ok=True)
    best.write(out)
    progress.report("mapping", best.num_reg_images(), n)
    return best.num_reg_images()


def load_model(sparse: Path, readable: int, min_registered_fraction: float) -> Any:
    """The sparse model, or InputRejectedError "n of m photos registered" if too few are in it."""
    import pycolmap

    registered = 0
    model = None
    if (sparse / "model" / "images.bin").exists():
        model = pycolmap.Reconstruction(sparse / "model")
        registered = model.num_reg_images()
    needed = max(3, math.ceil(min_registered_fraction * readable))
    if model is None or registered < needed:
        raise InputRejectedError(
            f"{registered} of {readable} photos registered (need {needed}): the photos do not "
            "overlap enough, or show too little texture to match"
        )
    return model


if __name__ == "__main__":
    from pipeline.stages.reconstruction.photogrammetry import PhotoParams

    _job = json.loads(Path(sys.argv[1]).read_text())
    sparse_job(
        Path(_job["workdir"]),
        _job["names"],
        PhotoParams(**_job["params"]),
        ProgressFile.from_spec(_job["progress"]),
    )
