"""3D runs end to end: a scan set (ZIP of partial scans) and a single cloud are ingested,
reconstructed on the `reconstruction` queue in a child process, and shown by `sohoa model`;
a new run with other parameters is kept beside the first; bad clouds end in recorded failures
and the worker lives on."""

from __future__ import annotations

import json
import zipfile
from uuid import UUID

import numpy as np
import pytest
import trimesh

from pipeline.jobs.isolation import StageLimitError, run_isolated
from scanners.cli.ingest import ingest_paths
from tests.factories import scans
from tests.helpers import make_services, sohoa
from workers.runtime import Runtime, wait_until_settled


def ingest_and_wait(svc, paths, kind=None, timeout_s=300):
    results = ingest_paths(svc, paths, kind, None, as_json=True)
    ids = {r.path.rsplit("/", 1)[-1]: UUID(r.capture_id) for r in results if r.capture_id}
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids.values(), timeout_s=timeout_s)
    return ids, states


@pytest.fixture(scope="module")
def reconstructed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("model")
    svc = make_services(tmp, SOHOA_WORKER_THREADS="2")
    mesh = scans.stele_mesh(step_m=0.004)
    points, colours = scans.surface_cloud(mesh, 30_000)
    cloud = scans.write_ply(tmp / "stele.ply", points, colours)
    _, front = scans.partial_scans(3, arc_deg=90, pixels=(120, 120))
    scan_zip = tmp / "stele-scans.zip"
    with zipfile.ZipFile(scan_zip, "w") as z:
        for k, scan in enumerate(front):
            path = scans.write_ply(tmp / f"scan-{k}.ply", scan.points)
            z.write(path, path.name)
    bad = scans.write_xyz(tmp / "nan.xyz", np.full((50, 3), np.nan))
    ids, states = ingest_and_wait(svc, [cloud])
    set_ids, set_states = ingest_and_wait(svc, [scan_zip], kind="scan-set")
    bad_ids, bad_states = ingest_and_wait(svc, [bad])
    return svc, mesh, {**ids, **set_ids, **bad_ids}, {**states, **set_states, **bad_states}


def test_a_cloud_becomes_a_measured_web_model(reconstructed):
    svc, mesh, ids, states = reconstructed
    cid = ids["stele.ply"]
    assert states[cid] == "done"
    model = svc.store.capture(cid).model
    assert model["method"] == "scan-registration"
    m = model["metrics"]
    assert m["faces"] > 1000 and m["points"] > 1000
    truth = mesh.bounds[1] - mesh.bounds[0]
    assert np.allclose(sorted(m["bbox_m"]), sorted(truth), rtol=0.05, atol=0.005)
    glb = trimesh.load(trimesh.util.wrap_as_stream(svc.blobs.read_bytes(model["glb_key"])), "glb")
    assert len(glb.triangles if hasattr(glb, "triangles") else glb.dump(concatenate=True).faces)
    assert svc.blobs.read_bytes(model["preview_key"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert [s["stage"] for s in model["stages"]][-1] == "total"


def test_partial_scans_are_registered_and_report_rmse(reconstructed):
    svc, _, ids, states = reconstructed
    cid = ids["stele-scans.zip"]
    assert states[cid] == "done"
    m = svc.store.capture(cid).model["metrics"]
    assert m["rmse_m"] is not None and m["rmse_m"] < 0.005
    assert m["faces"] > 1000


def test_a_cloud_of_nan_ends_in_a_clear_recorded_failure(reconstructed):
    svc, _, ids, states = reconstructed
    if "nan.xyz" not in ids:  # refused at ingest: also a clear outcome
        return
    capture = svc.store.capture(ids["nan.xyz"])
    assert states[capture.id] == "failed"
    failure = capture.failures[-1]
    assert failure["permanent"] and failure["message"]


def test_cli_model_and_a_second_run_with_other_parameters(reconstructed, tmp_path):
    svc, _, ids, _ = reconstructed
    cid = str(ids["stele.ply"])
    env = {"SOHOA_DATA_DIR": str(svc.settings.data_dir)}
    shown = json.loads(sohoa("model", cid, "--json", env=env).stdout)
    for key in ("faces", "points", "bbox_m"):
        assert shown[key]
    out = tmp_path / "stele.glb"
    written = sohoa("model", cid, "--out", str(out), env=env)
    assert written.returncode == 0 and out.read_bytes()[:4] == b"glTF"
    bad = sohoa("reconstruct", cid, "--param", "no_such_thing=1", env=env)
    assert bad.returncode != 0 and "no_such_thing" in bad.stderr
    again = sohoa("reconstruct", cid, "--param", "remesh=true", "--wait", "--json", env=env)
    assert again.returncode == 0, again.stderr
    view = json.loads(_last_json(again.stdout))
    assert view["runs"] == 2 and view["run"] == 2 and view["params"]["remesh"] in (True, "true")
    events = [e.event for e in svc.store.history(ids["stele.ply"])]
    assert events.count("Capture.ModelReconstructed") == 2


def _last_json(stdout: str) -> str:
    start = stdout.rfind("\n{")
    return stdout[start + 1 :] if start >= 0 else stdout


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _grow(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    _sleep(5)
    return len(block)


def test_a_stage_over_its_limits_is_stopped_and_the_caller_lives_on():
    with pytest.raises(StageLimitError, match="time limit"):
        run_isolated(_sleep, (30,), time_limit_s=1, memory_mb=4000)
    with pytest.raises(StageLimitError, match="memory limit"):
        run_isolated(_grow, (600,), time_limit_s=60, memory_mb=300)
    assert run_isolated(sum, ([1, 2, 3],), time_limit_s=60, memory_mb=4000)[0] == 6
