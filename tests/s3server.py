"""S3 servers for the tests.

`s3_url`: a fresh bucket on the real S3 server that `make services` runs (S3Proxy, checking
request signatures), from `SOHOA_TEST_S3_*`. `moto_endpoint`: a moto server started for the
session, only for tests that inject faults (moto accepts any signature).
"""

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


def real_s3() -> tuple[str, str, str]:
    """(`host:port`, access key, secret) of the real S3 server, after checking it listens."""
    endpoint = os.environ.get("SOHOA_TEST_S3_ENDPOINT", "127.0.0.1:9000")
    host, _, port = endpoint.rpartition(":")
    need(
        port.isdigit() and port_open(host, int(port)),
        f"the S3 server is not listening on {endpoint} (start it: make services)",
    )
    return (
        endpoint,
        os.environ.get("SOHOA_TEST_S3_ACCESS_KEY", "sohoa"),
        os.environ.get("SOHOA_TEST_S3_SECRET_KEY", "sohoa-services-secret"),
    )


def s3_url_for(endpoint: str, access_key: str, secret_key: str, bucket: str) -> str:
    return f"s3://{access_key}:{secret_key}@{endpoint}/{bucket}?secure=false&region=us-east-1"


def remove_bucket(endpoint: str, access_key: str, secret_key: str, bucket: str) -> None:
    """Empty and remove a test bucket (best effort: a leftover is only disk space)."""
    from minio import Minio
    from minio.deleteobjects import DeleteObject

    client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=False)
    try:
        if not client.bucket_exists(bucket):
            return
        names = [DeleteObject(o.object_name) for o in client.list_objects(bucket, recursive=True)]
        for _ in client.remove_objects(bucket, names):
            pass
        client.remove_bucket(bucket)
    except Exception:  # cleanup must not fail a test
        pass


@pytest.fixture
def s3_url() -> Iterator[str]:
    """Storage URL of a fresh, not yet created bucket on the real S3 server; removed after."""
    endpoint, access_key, secret_key = real_s3()
    bucket = f"sohoa-test-{uuid.uuid4().hex[:12]}"
    yield s3_url_for(endpoint, access_key, secret_key, bucket)
    remove_bucket(endpoint, access_key, secret_key, bucket)
