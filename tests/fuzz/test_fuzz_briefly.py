"""Every fuzz target runs briefly (2 s each, two at a time) and finds no crash.

The long runs are `make fuzz`; this keeps every target importable, seeded and clean in CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_every_target_runs_briefly_without_a_crash(tmp_path):
    args = ["--seconds", "2", "--jobs", "2", "--workdir", str(tmp_path)]
    out = subprocess.run(
        [sys.executable, "tests/fuzz/run.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=230,
    )
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    lines = [ln for ln in out.stdout.splitlines()[1:-1] if ln.strip()]
    targets = {p.stem.removeprefix("fuzz_") for p in (REPO / "tests/fuzz").glob("fuzz_*.py")}
    assert {ln.split()[0] for ln in lines} == targets
    assert all(int(ln.split()[1].replace(",", "")) > 0 for ln in lines), out.stdout
