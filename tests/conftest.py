"""Shared fixtures. Services missing on a laptop skip; under CI=true they fail."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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


@pytest.fixture
def postgres_url() -> str:
    need(port_open("127.0.0.1", 5432), "PostgreSQL is not listening on 127.0.0.1:5432")
    return os.environ.get("SOHOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def redis_url() -> str:
    need(port_open("127.0.0.1", 6379), "Redis is not listening on 127.0.0.1:6379")
    return os.environ.get("SOHOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def amqp_url() -> str:
    need(port_open("127.0.0.1", 5672), "RabbitMQ is not listening on 127.0.0.1:5672")
    return os.environ.get("SOHOA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


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
