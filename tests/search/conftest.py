"""Search fixtures: every SearchIndex contract test runs on tantivy, on the real OpenSearch node
of `make services` (SOHOA_TEST_OPENSEARCH_URL; required under CI=true) and on Elasticsearch
when SOHOA_TEST_ELASTICSEARCH_URL is set. A node test gets its own alias and indices, dropped
afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from models.application import RecordStore
from pipeline.settings import eventstore_env
from search.index import SearchIndex
from search.tantivy.index import TantivyIndex
from tests.conftest import IN_CI, need, port_open

if TYPE_CHECKING:
    from search.elastic.index import ElasticIndex

OPENSEARCH_URL = os.environ.get("SOHOA_TEST_OPENSEARCH_URL", "")
ELASTIC_URL = os.environ.get("SOHOA_TEST_ELASTICSEARCH_URL", "")
NODES = {"opensearch": OPENSEARCH_URL, "elasticsearch": ELASTIC_URL}
BACKENDS = (
    ["tantivy"]
    + ([pytest.param("opensearch", marks=pytest.mark.services)] if OPENSEARCH_URL or IN_CI else [])
    + ([pytest.param("elasticsearch", marks=pytest.mark.services)] if ELASTIC_URL else [])
)


@pytest.fixture(params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    if request.param == "tantivy":
        tantivy_index = TantivyIndex(tmp_path / "index")
        yield tantivy_index
        tantivy_index.close()
    else:
        yield from node_index(request.param)


def node_url(product: str = "opensearch") -> str:
    """`<product>+http://host:port` of the test node, after checking that it listens."""
    url = NODES[product]
    parts = urlsplit(url)
    need(
        bool(parts.hostname and parts.port and port_open(parts.hostname, parts.port)),
        f"no {product} node at {url or 'SOHOA_TEST_' + product.upper() + '_URL'}"
        " (start it: make services)",
    )
    return f"{product}+{url.rstrip('/')}" if "+" not in parts.scheme else url.rstrip("/")


def node_index(product: str = "opensearch", **options) -> Iterator[ElasticIndex]:
    """An index behind a fresh alias on the test node, dropped afterwards."""
    from search.elastic.index import ElasticIndex  # only when a node is used

    alias = f"sohoa-test-{uuid.uuid4().hex[:12]}"
    index = ElasticIndex.from_url(f"{node_url(product)}/{alias}", **options)
    try:
        yield index
    finally:
        index.drop()
        index.close()


@pytest.fixture
def opensearch() -> Iterator[ElasticIndex]:
    yield from node_index("opensearch")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    yield s
    s.close()
