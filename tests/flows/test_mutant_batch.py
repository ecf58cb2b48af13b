"""About 1,300 mutants of small real files of every accepted format (cut at every length up to
64 bytes and at random points, bytes flipped, runs zeroed) and two good control pages, ingested
as one batch through the real command line (issue 20).

Whatever the batch holds: one verdict per file, the controls stored, exit code 1, no traceback.
`bench/bench_mutants.py` runs the same batch through the job loop too."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.factories import hostile
from tests.helpers import sohoa


def _owner(path: str, files: set[str]) -> str:
    """The input file a verdict belongs to (a ZIP member's verdict belongs to its ZIP)."""
    return path if path in files else path.split("!", 1)[0]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_batch_of_mutants_gives_one_verdict_per_file_and_keeps_the_controls(tmp_path: Path):
    mutants, controls = hostile.build_mutants(tmp_path / "batch")
    files = {str(p) for p in (*mutants, *controls)}
    assert len(mutants) > 1000

    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_AUTO_RUNS": ""}
    out = sohoa("ingest", "--json", str(tmp_path / "batch"), env=env, timeout=170)

    verdicts = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    by_file = Counter(_owner(v["path"], files) for v in verdicts)
    assert set(by_file) == files, sorted(files - set(by_file))[:10]
    zips = {f for f in files if f.endswith(".zip")}
    assert all(n == 1 for f, n in by_file.items() if f not in zips), by_file.most_common(3)
    status = {v["path"]: v["status"] for v in verdicts}
    assert all(status[str(c)] == "ingested" for c in controls), [status[str(c)] for c in controls]
    kinds = Counter(v["status"] for v in verdicts)
    assert set(kinds) <= {"ingested", "duplicate", "rejected"}, kinds  # no internal errors
    assert all(v["error"] for v in verdicts if v["status"] == "rejected")
    assert out.returncode == 1, out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
