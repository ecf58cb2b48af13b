"""`sohoa reconstruct` and `sohoa model`: a 3D capture's reconstruction runs and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import click

from models.capture import Capture
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs import MODEL_KINDS
from pipeline.views import MODEL_SUMMARY as SUMMARY
from pipeline.views import model_view
from scanners.ingest_command import wait_for


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
    from pipeline.model_handlers import check_params

    capture = svc.store.capture(capture_id)
    if capture.kind not in MODEL_KINDS:
        raise click.ClickException(
            f"{capture_id} is a {capture.kind}; reconstruction takes a model, scan-set or photo-set"
        )
    try:
        check_params(capture.kind, overrides)
    except (InputRejectedError, ValueError) as e:
        raise click.BadParameter(str(e), param_hint="--param") from None
    operator = svc.settings.operator

    def change(c: Capture) -> None:
        c.request_reconstruction(run=len(c.model_runs) + 1, params=overrides, requested_by=operator)

    svc.store.update(capture_id, change)
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
