"""Run one fuzz target under atheris: `python -m tests.fuzz.harness TARGET [libFuzzer flags]`.

The target's module is imported inside `atheris.instrument_imports`, so our packages (and only
they) report coverage; `run.py` starts one of these per target.
"""

from __future__ import annotations

import importlib
import sys

import atheris

OURS = ["pipeline", "models", "search", "web", "scanners", "storage", "workers"]


def main(argv: list[str]) -> None:
    name, flags = argv[1], argv[2:]
    with atheris.instrument_imports(include=OURS):
        target = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    atheris.Setup([argv[0], *flags], target.test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
