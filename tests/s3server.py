"""An S3 protocol server (moto) on 127.0.0.1 for the S3 blob backend, started once per session."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need, port_open

MOTO_START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _moto_available() -> bool:
    try:
        return all(importlib.util.find_spec(m) for m in ("moto", "flask", "werkzeug"))
    except ImportError:
        return False


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`host:port` of a moto S3 server running as a separate process for the session."""
    need(_moto_available(), "moto[server] is not installed (pip install 'moto[server]')")
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + MOTO_START_TIMEOUT
        while not port_open("127.0.0.1", port):
            if proc.poll() is not None:
                output = Path(log_path).read_text(errors="replace")
                need(False, f"moto_server exited with {proc.returncode}: {output[-2000:]}")
            if time.monotonic() > deadline:
                need(False, f"moto_server did not listen on 127.0.0.1:{port} within 30 s")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def s3_url(moto_endpoint: str) -> str:
    """Storage URL of a fresh, not yet created bucket on the moto server."""
    bucket = f"sohoa-test-{uuid.uuid4().hex[:12]}"
    return f"s3://testing:testing@{moto_endpoint}/{bucket}?secure=false&region=us-east-1"
