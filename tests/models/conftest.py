"""A RecordStore on every backend: SQLite file, and PostgreSQL in a fresh schema."""

from __future__ import annotations

import uuid

import pytest

from models.application import RecordStore
from pipeline.settings import eventstore_env


@pytest.fixture(params=["sqlite", "postgres"])
def eventstore_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/events.sqlite3"
    base = request.getfixturevalue("postgres_url")
    schema = "t_" + uuid.uuid4().hex[:12]
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    request.addfinalizer(lambda: _drop(base, schema))
    return f"{base}?schema={schema}"


def _drop(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(eventstore_url):
    s = RecordStore(env=eventstore_env(eventstore_url))
    yield s
    s.close()
