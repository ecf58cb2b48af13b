"""`make services` on a machine where a default port is already taken: it picks another port,
says so, writes its URL, answers, and stops by its PID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need, port_open

SCRIPT = Path(__file__).with_name("services.py")


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOHOA_SERVICES_DIR": str(folder / "services")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.services
def test_taken_port_is_replaced_and_the_server_stops_by_its_pid(tmp_path: Path) -> None:
    need(os.path.exists("/usr/bin/redis-server"), "redis-server is not installed (make services)")
    with socket.socket() as blocker:  # whatever holds 6379 (the shared Redis, or this socket)
        if not port_open("127.0.0.1", 6379):
            blocker.bind(("127.0.0.1", 6379))
            blocker.listen()
        started = _run(tmp_path, "start", "redis")
        assert started.returncode == 0, started.stderr
        assert "port 6379 is taken by another process; using" in started.stdout
    port = int((tmp_path / "services" / "redis" / "port").read_text())
    pid = int((tmp_path / "services" / "redis" / "pid").read_text())
    assert port != 6379
    env_file = (tmp_path / "services.env").read_text()
    assert f"export SOHOA_TEST_REDIS_URL='redis://127.0.0.1:{port}/15'" in env_file
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        assert conn.recv(16).startswith(b"+PONG")

    again = _run(tmp_path, "start", "redis")
    assert f"redis: reusing pid {pid} on 127.0.0.1:{port}" in again.stdout

    stopped = _run(tmp_path, "stop", "redis")
    assert f"redis: stopped pid {pid}" in stopped.stdout
    assert not port_open("127.0.0.1", port)
    assert _run(tmp_path, "status", "redis").returncode == 1
