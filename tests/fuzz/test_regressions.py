"""Every input a fuzzer ever crashed on (tests/fuzz/regressions/<target>/), replayed through its
target: each must now be rejected or accepted, never crash. Fast: it runs in the normal suite."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REGRESSIONS = Path(__file__).parent / "regressions"

CASES = sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file() and not p.name.startswith("."))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_a_crashing_input_no_longer_crashes(path: Path):
    target = importlib.import_module(f"tests.fuzz.fuzz_{path.parent.name}")
    target.test_one(path.read_bytes())


def test_every_regression_folder_names_a_target():
    known = {p.stem.removeprefix("fuzz_") for p in Path(__file__).parent.glob("fuzz_*.py")}
    folders = {p.name for p in REGRESSIONS.iterdir() if p.is_dir()}
    assert folders <= known, folders - known
