"""Search fixtures: every SearchIndex contract test runs on tantivy, and on Elasticsearch when
SOHOA_TEST_ELASTICSEARCH_URL is set (each test then gets its own index, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.store import RecordStore
from pipeline.settings import eventstore_env
from search.index import SearchIndex
from search.tantivy_index import TantivyIndex

ELASTIC_URL = os.environ.get("SOHOA_TEST_ELASTICSEARCH_URL", "")
BACKENDS = ["tantivy"] + (
    [pytest.param("elastic", marks=pytest.mark.services)] if ELASTIC_URL else []
)


@pytest.fixture(params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    if request.param == "tantivy":
        tantivy_index = TantivyIndex(tmp_path / "index")
        yield tantivy_index
        tantivy_index.close()
    else:
        yield from _elastic_index()


def _elastic_index() -> Iterator[SearchIndex]:
    from search.elastic import ElasticIndex  # only when an Elasticsearch URL is given

    alias = f"sohoa-test-{uuid.uuid4().hex[:12]}"
    elastic = ElasticIndex.from_url(f"{ELASTIC_URL.rstrip('/')}/{alias}")
    try:
        yield elastic
    finally:
        elastic.drop()
        elastic.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    yield s
    s.close()
