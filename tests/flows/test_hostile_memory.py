"""A bad file costs a recorded failure, never the worker's memory (issue 20, the mutant bench).

A LAS file with one flipped bit in its count of variable length records (2**28 records declared
in a 900-byte file) made laspy, called by the inspection stage in the worker's own process,
allocate record objects until the bench's python was killed at 17.9 GB. The stage now runs in a
child process with an address-space limit, so a regression fails here instead of eating the
machine.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.errors import InputRejectedError
from pipeline.media.probe import probe
from tests.factories import samples
from tests.fuzz.common import LIMITS
from tests.helpers import REPO

LIMIT_BYTES = 1_500_000_000
"""The child's address space: several times what inspecting a small file needs."""

REGRESSIONS = Path(__file__).parents[1] / "fuzz" / "regressions" / "las"


def las_with_vlr_count(path: Path, count: int) -> Path:
    """A good 20-point LAS 1.2 whose header declares `count` variable length records."""
    data = bytearray(samples.make_las(path, 20).read_bytes())
    struct.pack_into("<I", data, 100, count)
    path.write_bytes(bytes(data))
    return path


def las14_with_evlr_count(path: Path, count: int) -> Path:
    """A good LAS 1.4 whose header declares `count` extended records at its end."""
    data = bytearray(samples.make_las(path, 20, version="1.4", point_format=6).read_bytes())
    struct.pack_into("<QI", data, 235, len(data), count)
    path.write_bytes(bytes(data))
    return path


def reason(path: Path) -> str:
    with pytest.raises(InputRejectedError) as e:
        probe(path, "application/vnd.las", LIMITS)
    return str(e.value)


def test_more_vlrs_than_fit_before_the_points_are_rejected_at_ingest(tmp_path):
    message = reason(las_with_vlr_count(tmp_path / "a.las", 1 << 28))
    assert message == (
        "corrupt LAS: the header declares 268,435,456 variable length records, but only 0 "
        "bytes lie between the header and the points (room for 0)"
    )


def test_more_evlrs_than_fit_after_their_offset_are_rejected_at_ingest(tmp_path):
    message = reason(las14_with_evlr_count(tmp_path / "a.las", 1 << 28))
    assert "declares 268,435,456 extended variable length records" in message


def test_good_las_files_still_pass(tmp_path):
    for path in (
        samples.make_las(tmp_path / "a.las", 20),
        samples.make_las(tmp_path / "b.las", 20, version="1.4", point_format=6),
    ):
        assert probe(path, "application/vnd.las", LIMITS)["points"] == 20


def test_the_bench_culprit_is_kept_as_a_regression_input():
    assert (REGRESSIONS / "issue20-vlr-count-flipped").is_file()


_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from uuid import UUID

    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from pipeline.jobs.execute import Attempt
    from pipeline.jobs.inspection import run_inspect
    from pipeline.media import models3d
    from scanners.cli.ingest import ingest_paths
    from tests.helpers import make_services

    tmp, culprit = Path(sys.argv[1]), Path(sys.argv[2])
    svc = make_services(tmp, SOHOA_AUTO_RUNS="")
    # As a capture ingested before the probe knew the check: the stage must still hold.
    check, models3d._check_las_records = models3d._check_las_records, lambda h, size: None
    [result] = ingest_paths(svc, [culprit], None, None, True)
    models3d._check_las_records = check
    cid = UUID(result.capture_id)
    outcome = run_inspect(svc, cid, Attempt(1, final=False))
    # VmHWM is this program's own peak: ru_maxrss would carry over the peak of the process
    # that started it (Linux keeps it across exec), here the whole test session's
    status = Path("/proc/self/status").read_text().splitlines()
    peak_mib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    failures = svc.store.capture(cid).failures
    print(json.dumps({{"outcome": outcome, "failures": failures, "peak_mib": peak_mib}}))
    """
)


def test_the_inspect_job_records_the_culprit_as_a_permanent_failure_in_bounded_memory(tmp_path):
    culprit = tmp_path / "culprit.las"
    culprit.write_bytes((REGRESSIONS / "issue20-vlr-count-flipped").read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(limit=LIMIT_BYTES), str(tmp_path), str(culprit)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["outcome"] == "failed"
    [failure] = figures["failures"]
    assert failure["permanent"], failure
    assert "268,435,456 variable length records" in failure["message"], failure
    # the imports alone (Open3D, OpenCV, Tesseract bindings) take most of a GB; the bug took 17
    assert figures["peak_mib"] < 0.9 * LIMIT_BYTES / 2**20
