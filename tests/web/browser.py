"""Real Chromium against a real `sohoa serve`: the harness the browser tests share.

`serving` starts the server on a free loopback port with the data folder and settings given,
waits until `ready(base)` is true (by default: `/healthz` answers) and stops it by its PID at
the end; `chromium` launches Debian's Chromium; `sign_in` goes through the login form.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import REPO

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason="needs Debian's chromium (apt-get install chromium)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(base: str) -> bool:
    return httpx.get(f"{base}/healthz", timeout=1).status_code == 200


@contextmanager
def serving(
    data_dir: Path,
    settings: dict[str, str] | None = None,
    *,
    port: int | None = None,
    ready: Callable[[str], bool] = answers,
    timeout_s: float = 60,
) -> Iterator[str]:
    """`sohoa serve` on 127.0.0.1 with `SOHOA_DATA_DIR=data_dir`, a first archivist "lan"
    (PASSWORD) and `settings`; yields its base URL once `ready(base)`."""
    port = port or free_port()
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(data_dir),
        "SOHOA_WEB_ADMIN_LOGIN": "lan",
        "SOHOA_WEB_ADMIN_PASSWORD": PASSWORD,
        **(settings or {}),
    }
    command = [sys.executable, "-m", "scanners.cli", "serve", "--host", "127.0.0.1"]
    log = data_dir.parent / f"serve-{port}.log"  # a file, not a pipe nobody reads (it fills)
    with open(log, "wb") as output:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], cwd=REPO, env=env, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc, log, ready, timeout_s)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(
    base: str, proc: subprocess.Popen, log: Path, ready: Callable[[str], bool], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if ready(base):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the server was not ready in {timeout_s:.0f} s")


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, login: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
