"""`sohoa reconstruct` and `sohoa model`: a 3D capture's reconstruction runs and outputs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import click
from tqdm import tqdm

from models.capture import Capture
from models.errors import NotFoundError
from models.plan import MODEL_KINDS
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.presenters import MODEL_SUMMARY as SUMMARY
from pipeline.presenters import model_view, progress_text
from scanners.cli.main import emit, main, parse_id, services


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        out[name.strip()] = value.strip()
    return out


def run_reconstruct(
    svc: Services, capture_id: UUID, overrides: dict[str, str], wait: bool
) -> dict[str, Any]:
    """A new reconstruction run with these parameters (each run is kept)."""
    from pipeline.jobs.reconstruct import check_params

    capture = svc.store.capture(capture_id)
    if capture.kind not in MODEL_KINDS:
        raise click.ClickException(
            f"{capture_id} is a {capture.kind}; reconstruction takes a model, scan-set or photo-set"
        )
    try:
        check_params(capture.kind, overrides)
    except (InputRejectedError, ValueError) as e:
        raise click.BadParameter(str(e), param_hint="--param") from None
    svc.store.request_reconstruction(capture_id, overrides, svc.settings.operator)
    if wait:
        follow_model(svc, capture_id)
    return model_view(svc.store.capture(capture_id))


def write_model(svc: Services, capture: Capture, out: Path, lod: str | None) -> int:
    if capture.model is None:
        raise click.ClickException(f"{capture.id} has no model yet")
    key = capture.model["lods"][lod] if lod else capture.model["glb_key"]
    data = svc.blobs.read_bytes(key)
    out.write_bytes(data)
    return len(data)


def model_text(view: dict[str, Any]) -> str:
    lines = [f"{view['id']}: {view['state']} ({view['runs']} runs)"]
    if "error" in view:
        lines.append(f"  error: {view['error']}")
    if "progress" in view:
        lines.append(f"  progress: {progress_text(view['progress'])}")
    for k in SUMMARY:
        if view.get(k) is not None:
            lines.append(f"  {k}: {view[k]}")
    return "\n".join(lines)


def follow_model(svc: Services, capture_id: UUID, poll_s: float = 1.0) -> None:
    """Until the latest run has an outcome: a bar of its stage and count on a terminal's
    stderr; nothing at all when stderr is a pipe or a log (the final view says how it ended).
    With the in-process broker the worker runs here, as `--wait` does."""
    from workers.runtime import Runtime

    embedded = svc.settings.broker_url.startswith("memory")
    runtime = Runtime(svc, workers=True, follow=True).start() if embedded else None
    stage = None
    bar = tqdm(disable=not sys.stderr.isatty(), file=sys.stderr, unit=" steps", leave=False)
    try:
        while (view := model_view(svc.store.capture(capture_id)))["state"] == "pending":
            progress = view.get("progress")
            if progress and progress["stage"] != stage:
                stage = progress["stage"]
                bar.reset(total=progress.get("total"))
                bar.set_description(f"run {progress['run']} {stage}")
            if progress and progress.get("done") is not None:
                bar.n = progress["done"]
                bar.refresh()
            time.sleep(poll_s)
    finally:
        bar.close()
        if runtime:
            runtime.stop()


@main.command()
@click.argument("ident")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A stage parameter.")
@click.option("--wait", is_flag=True, help="Wait until the run has an outcome.")
@click.option("--json", "as_json", is_flag=True)
def reconstruct(ident: str, params: tuple[str, ...], wait: bool, as_json: bool) -> None:
    """A new 3D reconstruction run for a model, scan set or photo set."""
    from scanners.cli.models import model_text, parse_params, run_reconstruct

    svc = services()
    try:
        view = run_reconstruct(svc, parse_id(ident), parse_params(params), wait)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    emit(view, as_json, model_text(view))


@main.command()
@click.argument("ident")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the GLB here.")
@click.option("--lod", help="A level of detail instead of the full model (e.g. 100k).")
@click.option(
    "--follow", is_flag=True, help="Show the running reconstruction's progress until it ends."
)
@click.option("--json", "as_json", is_flag=True)
def model(ident: str, out: Path | None, lod: str | None, follow: bool, as_json: bool) -> None:
    """A 3D capture's latest model: metrics, progress while it runs, the GLB with --out."""
    from pipeline.presenters import model_view
    from scanners.cli.models import follow_model, model_text, write_model

    svc = services()
    try:
        if follow:
            follow_model(svc, parse_id(ident))
        capture = svc.store.capture(parse_id(ident))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    view = model_view(capture)
    if out is not None:
        view["written"] = {"path": str(out), "bytes": write_model(svc, capture, out, lod)}
    emit(view, as_json, model_text(view))
