"""Helpers shared by integration tests: services on a temporary data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.bootstrap import Services, bootstrap
from pipeline.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def make_services(tmp_path: Path, **env: str) -> Services:
    values = {"SOHOA_DATA_DIR": str(tmp_path / "data"), **env}
    return bootstrap(Settings.from_env(values))


def sohoa(
    *args: str, env: dict[str, str], timeout: float = 300, **kw
) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "scanners.cli", *args],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )
