"""Fixtures for the web tests: a real app over a real store, index and blob folder."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pipeline.accounts import add_user
from pipeline.indexing import indexer
from tests.helpers import make_services
from web.app import create_app
from web.config import WebConfig

PASSWORD = "correct horse battery"


@pytest.fixture
def svc(tmp_path):
    services = make_services(tmp_path)
    yield services
    services.close()


@pytest.fixture
def app(svc):
    add_user(svc.store, "lan", "archivist", PASSWORD)
    add_user(svc.store, "minh", "officer", PASSWORD)
    return create_app(svc, WebConfig(search_rate_per_min=600, search_burst=200))


def login(client: TestClient, who: str) -> TestClient:
    r = client.post("/login", data={"login": who, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


@pytest.fixture
def public(app):
    return TestClient(app)


@pytest.fixture
def archivist(app):
    return login(TestClient(app), "lan")


@pytest.fixture
def officer(app):
    return login(TestClient(app), "minh")


def reindex(svc) -> None:
    """What the indexer follower does in `sohoa serve`, run once."""
    indexer(svc).catch_up()
    svc.index.refresh()
