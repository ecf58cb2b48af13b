"""`sohoa reconstruct` and `sohoa model`: a 3D capture's reconstruction runs and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import click

from models.capture import Capture
from models.errors import NotFoundError
from models.plan import MODEL_KINDS
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.presenters import MODEL_SUMMARY as SUMMARY
from pipeline.presenters import model_view
from scanners.cli.ingest import wait_for
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
        wait_for(svc, [capture_id], as_json=True)
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
    for k in SUMMARY:
        if view.get(k) is not None:
            lines.append(f"  {k}: {view[k]}")
    return "\n".join(lines)


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
@click.option("--json", "as_json", is_flag=True)
def model(ident: str, out: Path | None, lod: str | None, as_json: bool) -> None:
    """A 3D capture's latest model: metrics, and the GLB with --out."""
    from pipeline.presenters import model_view
    from scanners.cli.models import model_text, write_model

    svc = services()
    try:
        capture = svc.store.capture(parse_id(ident))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    view = model_view(capture)
    if out is not None:
        view["written"] = {"path": str(out), "bytes": write_model(svc, capture, out, lod)}
    emit(view, as_json, model_text(view))
