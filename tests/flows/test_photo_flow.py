"""Photo sets end to end (issue 17): ingested as one capture each, reconstructed by the worker in
a child process. A run records its progress as it goes (throttled events a person can follow in
`sohoa status`, `sohoa model` and the staff page), sets its scale from EXIF GPS, carries a
texture atlas, and names a photo whose EXIF is corrupt; a set of identical frames and a set of
one photo end in recorded failures that say so."""

from __future__ import annotations

import io
import json
import shutil
from uuid import UUID

import numpy as np
import pytest
import trimesh

from scanners.cli.ingest import ingest_paths
from tests.factories.photo_views import render_views
from tests.helpers import make_services, sohoa
from workers.runtime import Runtime, wait_until_settled


def corrupt_exif(path) -> None:
    """Overwrite the first IFD of the photo's EXIF with junk; the pixels stay intact."""
    data = bytearray(path.read_bytes())
    tiff = data.index(b"Exif\x00\x00") + 6
    data[tiff + 8 : tiff + 60] = b"\xee" * 52
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def photo_sets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("photos")
    svc = make_services(tmp, SOHOA_WORKER_THREADS="1")
    views = render_views(tmp / "gate", n=6, size=(320, 240), focal_px=280.0, gps=True)
    corrupt_exif(views[2].path)
    (tmp / "same").mkdir()
    for k in range(4):
        shutil.copyfile(views[0].path, tmp / "same" / f"frame_{k}.jpg")
    (tmp / "one").mkdir()
    shutil.copyfile(views[1].path, tmp / "one" / "only.jpg")
    paths = [tmp / "gate", tmp / "same", tmp / "one"]
    results = ingest_paths(svc, paths, "photo-set", None, as_json=True)
    ids = {r.path.rsplit("/", 1)[-1]: UUID(r.capture_id) for r in results if r.capture_id}
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids.values(), timeout_s=600)
    return svc, views, ids, states


def test_a_run_records_its_progress_stage_by_stage(photo_sets):
    svc, _, ids, states = photo_sets
    assert states[ids["gate"]] == "done"
    history = svc.store.history(ids["gate"])
    progress = [e.data for e in history if e.event == "Capture.ReconstructionProgressed"]
    stages = [p["stage"] for p in progress]
    for stage in ("features", "matching", "mapping", "dense", "texture", "export"):
        assert stage in stages, stages
    mapping = [p for p in progress if p["stage"] == "mapping" and p["done"]]
    registered = svc.store.capture(ids["gate"]).model["metrics"]["registered_images"]
    assert mapping and (mapping[-1]["done"], mapping[-1]["total"]) == (registered, 6)
    assert len(progress) < 60  # throttled: a few per stage, not one per photo and pair
    # once the model is recorded, nobody is shown a run in progress
    from pipeline.presenters import model_view

    assert "progress" not in model_view(svc.store.capture(ids["gate"]))


def test_gps_sets_the_scale_and_the_model_carries_a_texture_atlas(photo_sets):
    svc, views, ids, _ = photo_sets
    model = svc.store.capture(ids["gate"]).model
    m = model["metrics"]
    assert m["scale_source"] == "gps" and m["size_m"] == m["bbox_m"]
    truth = {v.path.name: v.centre for v in views}
    found = {c["name"]: np.array(c["centre"]) for c in m["cameras"]}
    pairs = [(a, b) for a in found for b in found if a < b]
    ratios = [
        np.linalg.norm(found[a] - found[b]) / np.linalg.norm(truth[a] - truth[b]) for a, b in pairs
    ]
    assert abs(np.median(ratios) - 1) < 0.01  # metres, to 1 %
    scene = trimesh.load(io.BytesIO(svc.blobs.read_bytes(model["glb_key"])), file_type="glb")
    mesh = next(iter(scene.geometry.values()))
    image = mesh.visual.material.baseColorTexture
    assert m["texture"] == "atlas" and list(image.size) == m["atlas_px"]
    assert max(image.size) <= 4096 and len(mesh.visual.uv) == len(mesh.vertices)


def test_a_photo_with_corrupt_exif_is_used_and_named(photo_sets):
    svc, views, ids, _ = photo_sets
    m = svc.store.capture(ids["gate"]).model["metrics"]
    assert m["registered_images"] >= 5
    (problem,) = m["exif_problems"]
    assert problem["name"] == views[2].path.name and "EXIF corrupt" in problem["reason"]
    assert m["gps_photos"] == 5


def test_identical_frames_and_a_single_photo_are_recorded_failures(photo_sets):
    svc, _, ids, states = photo_sets
    assert states[ids["same"]] == states[ids["one"]] == "failed"
    same = svc.store.capture(ids["same"]).outcomes["reconstruct/1"]
    assert same["permanent"] and "only 1 distinct frame" in same["message"]
    one = svc.store.capture(ids["one"]).outcomes["reconstruct/1"]
    assert "at least 3 overlapping photos; got 1" in one["message"]


def test_status_and_model_show_a_run_under_way_and_a_pipe_gets_no_bar(photo_sets):
    svc, _, ids, _ = photo_sets
    cid = ids["one"]
    run = svc.store.request_reconstruction(cid, {}, "test")
    svc.store.record_model_progress(cid, run=run, stage="mapping", done=1, total=3, elapsed_s=12.0)
    env = {"SOHOA_DATA_DIR": str(svc.settings.data_dir)}
    status = sohoa("status", env=env)
    name = svc.store.capture(cid).original_names[0]
    assert f"3D:       {str(cid)[:8]} {name}: run {run}, mapping: 1 of 3 (12 s)" in status.stdout
    report = json.loads(sohoa("status", "--json", env=env).stdout)
    assert report["reconstructing"][0]["stage"] == "mapping"
    assert "progress: run 2, mapping: 1 of 3" in sohoa("model", str(cid), env=env).stdout
    # what the staff capture page draws and its poll redraws
    from web.staff.review import progress

    shown = progress(svc.store.capture(cid))["model"]
    assert (shown["done"], shown["total"], shown["text"]) == (1, 3, "run 2, mapping: 1 of 3 (12 s)")
    # --follow runs the job here (memory:// broker) until the run ends; stderr is a pipe here,
    # so no bar is drawn into it
    followed = sohoa("model", str(cid), "--follow", "--json", env=env)
    assert followed.returncode == 0, followed.stderr
    assert json.loads(followed.stdout)["state"] == "failed"
    assert "\r" not in followed.stderr and "steps" not in followed.stderr
