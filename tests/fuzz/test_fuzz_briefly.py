"""Every fuzz target runs briefly (the same 3,000 inputs from a fixed seed, two targets at a
time) and finds no crash.

The exploring runs are `make fuzz` (by time, so each run goes somewhere new); this gate is
repeatable, so a red CI always means a change broke something, and a crash `make fuzz` finds
joins tests/fuzz/regressions/, which tests/fuzz/test_regressions.py replays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_every_target_runs_briefly_without_a_crash(tmp_path):
    args = ["--runs", "3000", "--seed", "1", "--jobs", "2", "--no-save"]
    args += ["--workdir", str(tmp_path)]
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
