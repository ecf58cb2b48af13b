"""The small parts of photogrammetry that need no reconstruction (issue 17): the `scale`
parameter and the GPS fit, EXIF GPS and broken EXIF, which pairs are matched, and how progress
reports are thinned into events."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.progress import Progress, ProgressFile, read_progress, to_record
from pipeline.stages.reconstruction.scale import (
    ScaleRequest,
    fit_scale,
    local_metres,
    parse_scale,
    read_gps,
)
from pipeline.stages.reconstruction.sparse import image_pairs
from tests.factories.photo_views import gps_of, write_jpeg


def test_the_scale_parameter_takes_a_distance_between_two_photos_or_a_factor():
    assert parse_scale("") == ScaleRequest()
    assert parse_scale("0.01") == ScaleRequest(factor=0.01)
    assert parse_scale(" IMG 1.jpg , IMG_9.jpg, 3.20 ") == ScaleRequest(
        photos=("IMG 1.jpg", "IMG_9.jpg"), metres=3.2
    )
    for bad in ("-1", "a.jpg,b.jpg", "a.jpg,b.jpg,0", "a.jpg,a.jpg,2", "a.jpg,b.jpg,inf", "x"):
        with pytest.raises(InputRejectedError, match="neither metres per model unit"):
            parse_scale(bad)


def test_a_known_distance_scales_the_camera_centres():
    centres = {"a.jpg": np.zeros(3), "b.jpg": np.array([0.0, 0.5, 0.0]), "c.jpg": np.ones(3)}
    scale = fit_scale(parse_scale("a.jpg,b.jpg,2.0"), centres, {})
    assert (scale.source, scale.metres_per_unit) == ("distance", pytest.approx(4.0))
    lost = fit_scale(parse_scale("a.jpg,z.jpg,2.0"), centres, {})
    assert not lost.known and lost.detail["problem"] == "z.jpg did not register"


def _walk(n: int, seed: int = 0) -> tuple[dict, np.ndarray]:
    """Camera centres (metres, x east, y up, z south) of a walk round a building."""
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    true = np.column_stack([30 * np.cos(angles), np.full(n, 1.6), 30 * np.sin(angles)])
    return {f"p{i}.jpg": c for i, c in enumerate(true)}, np.random.default_rng(seed)


def test_gps_gives_the_scale_when_the_positions_spread_beyond_its_error():
    true, rng = _walk(40)
    gps = {k: gps_of(c + rng.normal(0, 2.0, 3)) for k, c in true.items()}  # 2 m GPS noise
    model = {k: 0.05 * c for k, c in true.items()}  # the model is 1/20 of the building
    scale = fit_scale(ScaleRequest(), model, gps)
    assert scale.source == "gps"
    assert scale.metres_per_unit == pytest.approx(20.0, rel=0.02)


def test_gps_within_its_own_error_of_each_other_gives_no_scale_and_says_why():
    true, rng = _walk(10)
    small = {k: 0.05 * c for k, c in true.items()}  # cameras 3 m round a small object
    gps = {k: gps_of(c + rng.normal(0, 3.0, 3)) for k, c in small.items()}
    scale = fit_scale(ScaleRequest(), small, gps)
    assert not scale.known and "too close together for GPS" in scale.detail["problem"]
    nothing = fit_scale(ScaleRequest(), small, {})
    assert nothing.detail["problem"] == "no scale given and no GPS in the photos"


def test_local_metres_measure_a_known_distance():
    east = gps_of(np.array([100.0, 0.0, 0.0]))
    north = gps_of(np.array([0.0, 0.0, -50.0]))
    here = gps_of(np.zeros(3))
    enu = local_metres([here, east, north])
    assert np.linalg.norm(enu[1] - enu[0]) == pytest.approx(100, abs=0.05)
    assert enu[2, 1] - enu[0, 1] == pytest.approx(50, abs=0.05)


def test_exif_gps_is_read_and_broken_exif_is_named(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    path = write_jpeg(tmp_path / "a.jpg", rgb, 140.0, (21.0285, -105.8355, 12.5))
    position, problem = read_gps(path)
    assert problem == "" and np.allclose(position, (21.0285, -105.8355, 12.5), atol=1e-6)
    assert read_gps(write_jpeg(tmp_path / "b.jpg", rgb, 140.0)) == (None, "")
    data = bytearray(path.read_bytes())
    tiff = data.index(b"Exif\x00\x00") + 6
    data[tiff + 8 : tiff + 60] = b"\xee" * 52
    path.write_bytes(bytes(data))
    position, problem = read_gps(path)
    assert position is None and problem.startswith("EXIF corrupt")


def test_sequential_pairs_wrap_round_and_stay_linear_in_the_photos():
    pairs = image_pairs(200, "sequential", 10)
    assert (0, 199) in pairs and (0, 10) in pairs and (0, 128) in pairs
    assert len(pairs) == len(set(pairs)) == 14 * 200  # 10 neighbours + 4 jumps per photo
    assert len(image_pairs(12, "exhaustive", 10)) == 66


def test_progress_reports_are_thinned_to_a_few_events_per_stage(tmp_path):
    path = tmp_path / "progress.json"
    progress = ProgressFile(path)
    recorded: dict[str, Progress] = {}
    events = []

    def poll(seconds_since: float = 1.0) -> None:
        for report in to_record(read_progress(path), recorded, seconds_since):
            events.append(report)
            recorded[report.stage] = report

    progress.report("features", 0, 200)
    poll()
    step = progress.counter("mapping", 200)
    for _ in range(200):
        step()
        poll()
    progress.report("dense", 0, 300)
    progress.report("texture", 3, 200)  # dense ended between two polls
    poll()
    stages = [(e.stage, e.done) for e in events]
    assert stages[0] == ("features", 0) and ("mapping", 200) in stages
    assert 10 <= sum(s == "mapping" for s, _ in stages) <= 12  # a tenth at a time, not 200
    assert ("dense", 0) in stages and stages[-1] == ("texture", 3)
    progress.report("texture", 4, 200)
    poll(seconds_since=25.0)  # a quiet stretch: even one more photo is worth an event
    assert (events[-1].stage, events[-1].done) == ("texture", 4)
