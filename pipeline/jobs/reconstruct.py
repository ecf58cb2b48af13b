"""Handler of a reconstruction run: scanner clouds and meshes, or a photo set, become a model.

The work runs in a child process (`pipeline.jobs.isolation`) with the reconstruction time and
memory limits; outputs come back as files in a work folder and are stored as blobs.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import RECONSTRUCT
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs.execute import Apply, Attempt, execute
from pipeline.jobs.isolation import run_isolated
from pipeline.media.limits import Limits
from pipeline.stages.reconstruction.progress import (
    Progress,
    ProgressFile,
    read_progress,
    to_record,
)

log = logging.getLogger(__name__)
PROGRESS_FILE = "progress.json"
POLL_S = 1.0

PHOTO_SET = "application/vnd.sohoa.photo-set+json"
SCAN_SET = "application/vnd.sohoa.scan-set+json"
EXTENSIONS = {
    "model/ply": "ply",
    "model/obj": "obj",
    "model/stl": "stl",
    "model/gltf-binary": "glb",
    "application/x-pcd": "pcd",
    "text/x-xyz": "xyz",
    "application/vnd.las": "las",
    "application/vnd.laszip": "laz",
    "model/e57": "e57",
}


def check_params(kind: str, overrides: dict[str, str]) -> dict[str, Any]:
    """Parse `--param k=v` values for a capture kind; a clear error for unknown keys."""
    return _params_class(kind).from_overrides(overrides).__dict__


def run_reconstruct(services: Services, capture_id: UUID, run: int, attempt: Attempt) -> str:
    settings = services.settings

    def work(capture: Capture) -> Apply:
        if not 1 <= run <= len(capture.model_runs):
            raise InputRejectedError(f"capture {capture.id} has no reconstruction run {run}")
        overrides = capture.model_runs[run - 1]
        with ExitStack() as stack:
            inputs = _inputs(services, capture, stack)
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sohoa-3d-")))
            with follow_progress(services.store, capture_id, run, workdir / PROGRESS_FILE):
                out, peak_mb = run_isolated(
                    reconstruct_files,
                    (capture.kind, inputs, overrides, settings.limits, str(workdir)),
                    time_limit_s=settings.reconstruct_time_limit_s,
                    memory_mb=settings.reconstruct_memory_mb,
                )
            glb = services.blobs.put_file(workdir / out["glb"]).key
            lods = {
                name: services.blobs.put_file(workdir / f).key for name, f in out["lods"].items()
            }
            preview = (
                services.blobs.put_file(workdir / out["preview"]).key if out["preview"] else None
            )
        stages = [*out["stages"], {"stage": "total", "peak_rss_mb": peak_mb}]

        def apply(store: RecordStore, key: str) -> None:
            store.record_model(
                capture_id,
                job_key=key,
                run=run,
                method=out["method"],
                glb_key=glb,
                lods=lods,
                preview_key=preview,
                metrics=out["metrics"],
                params=out["params"],
                stages=stages,
            )

        return apply

    return execute(
        services,
        capture_id,
        RECONSTRUCT,
        str(Outcome(RECONSTRUCT.name, run)),
        {"run": run},
        attempt,
        work,
    )


def reconstruct_files(
    kind: str,
    inputs: list[tuple[str, str]],
    overrides: dict[str, str],
    limits: Limits,
    workdir: str,
) -> dict[str, Any]:
    """In the child: run the path for the capture's kind and write its outputs to `workdir`."""
    params = _params_class(kind).from_overrides(overrides)
    paths = [(Path(p), t) for p, t in inputs]
    progress = ProgressFile(Path(workdir) / PROGRESS_FILE)
    if kind == "photo-set":
        from pipeline.stages.reconstruction.photogrammetry import reconstruct_photos

        result = reconstruct_photos([p for p, _ in paths], Path(workdir) / "work", params, progress)
    else:
        progress.report("scans", None, len(paths))
        from pipeline.stages.reconstruction.scans.reconstruct import reconstruct_scans

        result = reconstruct_scans(paths, params, limits, set_of_one=kind == "scan-set")
    out = Path(workdir)
    (out / "model.glb").write_bytes(result.glb)
    lods = {}
    for name, data in result.lods.items():
        (out / f"lod-{name}.glb").write_bytes(data)
        lods[name] = f"lod-{name}.glb"
    if result.preview_png:
        (out / "preview.png").write_bytes(result.preview_png)
    return {
        "method": result.method,
        "glb": "model.glb",
        "lods": lods,
        "preview": "preview.png" if result.preview_png else None,
        "metrics": json.loads(json.dumps(result.metrics, default=float)),
        "params": json.loads(json.dumps(result.params, default=str)),
        "stages": json.loads(json.dumps(result.stages, default=float)),
    }


@contextmanager
def follow_progress(store: RecordStore, capture_id: UUID, run: int, path: Path) -> Iterator[None]:
    """While the block runs, a thread reads the stage's progress file each `POLL_S` and records
    the reports `to_record` picks as `ReconstructionProgressed` events (throttled: about ten per
    long stage, not one per photo). A failure to record is logged, never the run's end."""
    stop = threading.Event()

    recorded: dict[str, Progress] = {}
    last_at = [0.0]

    def drain() -> None:
        for report in to_record(read_progress(path), recorded, time.monotonic() - last_at[0]):
            try:
                store.record_model_progress(capture_id, run=run, **asdict(report))
            except Exception:  # progress is a courtesy; the run's outcome is what counts
                log.warning("capture %s: progress not recorded", capture_id, exc_info=True)
            recorded[report.stage], last_at[0] = report, time.monotonic()

    def watch() -> None:
        while not stop.wait(POLL_S):
            drain()
        drain()  # the stages that ended since the last look

    thread = threading.Thread(target=watch, name=f"progress-{capture_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def _params_class(kind: str):
    if kind == "photo-set":
        from pipeline.stages.reconstruction.photogrammetry import PhotoParams

        return PhotoParams
    from pipeline.stages.reconstruction.scans.reconstruct import ScanParams

    return ScanParams


def _inputs(services: Services, capture: Capture, stack: ExitStack) -> list[tuple[str, str]]:
    """Local paths of the capture's files (a set's members, or the one file)."""
    if capture.media_type in (PHOTO_SET, SCAN_SET):
        manifest = json.loads(services.blobs.read_bytes(capture.blob_key))
        members = manifest["members"]
        # photogrammetry reads EXIF and names; give each member its own name in one folder
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sohoa-set-")))
        out = []
        for m in members:
            with services.blobs.local_path(m["key"]) as src:
                name = Path(m["name"]).name
                if m["media_type"] in EXTENSIONS and "." not in name:
                    name += "." + EXTENSIONS[m["media_type"]]
                dest = folder / name
                shutil.copyfile(src, dest)
            out.append((str(dest), m["media_type"]))
        return out
    # readers (Open3D's among them) pick the format by extension; blobs have none
    path = stack.enter_context(services.blobs.local_path(capture.blob_key))
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sohoa-model-")))
    named = folder / f"model.{EXTENSIONS.get(capture.media_type, 'bin')}"
    named.symlink_to(path)
    return [(str(named), capture.media_type)]
