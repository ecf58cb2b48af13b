"""Shared fixtures. Services missing on a laptop skip; under CI=true they fail."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SERVICES_ENV = REPO / "var" / "services.env"


def _load_service_urls() -> None:
    """Take the test URLs that `make services` wrote, unless the environment sets them.

    Only `SOHOA_TEST_*` keys are read: the deployment URLs in the same file must not switch
    the tests' embedded defaults to the distributed backends.
    """
    from tests.services.services import read_env

    for key, value in read_env(SERVICES_ENV).items():
        if key.startswith("SOHOA_TEST_"):
            os.environ.setdefault(key, value)


_load_service_urls()


def need(condition: bool, reason: str) -> None:
    """Skip a test whose prerequisite is missing, but fail it under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture
def shared_data() -> Path:
    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def service_url(key: str, default: str, name: str) -> str:
    """The URL of a service the tests need, after checking that something listens there."""
    url = os.environ.get(key, default)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    need(
        port is not None and port_open(host, port),
        f"{name} is not listening on {host}:{port} (start it: make services)",
    )
    return url


@pytest.fixture
def postgres_url() -> str:
    return service_url(
        "SOHOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test", "PostgreSQL"
    )


@pytest.fixture
def redis_url() -> str:
    return service_url("SOHOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15", "Redis")


@pytest.fixture
def amqp_url() -> str:
    return service_url("SOHOA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F", "RabbitMQ")


from tests.s3server import moto_endpoint, s3_url  # noqa: E402, F401  (fixtures for every test)


@pytest.fixture
def pg_url(postgres_url):
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{postgres_url}?schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def clean_redis(redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


@pytest.fixture
def restore_root_logging():
    """Put the root logger back as it was (tests that run the one logging set-up)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
