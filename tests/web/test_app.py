"""The web slice of the job loop: health, capture JSON, history and thumbnail (staff only)."""

from __future__ import annotations

from uuid import UUID

from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from scanners.cli.ingest import ingest_paths
from tests.factories import samples


def test_capture_pages_and_thumbnail(svc, archivist, public, tmp_path):
    [r] = ingest_paths(svc, [samples.make_png(tmp_path / "p.png", 400, 300)], None, None, True)
    client = archivist

    assert public.get("/healthz").json()["ok"] is True
    assert public.get(f"/api/captures/{r.capture_id}").status_code == 401
    assert client.get(f"/api/captures/{r.capture_id}/thumbnail").status_code == 404
    run_inspect(svc, UUID(r.capture_id), Attempt(1, False))

    capture = client.get(f"/api/captures/{r.capture_id}").json()
    assert capture["outcomes"]["inspect"]["status"] == "done"
    assert capture["inspection"]["width"] == 400
    history = client.get(f"/api/captures/{r.capture_id}/history").json()
    assert "Capture.ThumbnailRendered" in [h["event"] for h in history]
    thumb = client.get(f"/api/captures/{r.capture_id}/thumbnail")
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
    assert client.get("/api/captures/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/api/captures/../../etc/passwd").status_code == 404
