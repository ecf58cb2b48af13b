"""Fixtures for the web tests: a real app over a real store, index and blob folder."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from pipeline.dispatch.indexer import indexer
from pipeline.settings import WebSettings
from pipeline.usecases.accounts import add_user
from tests.helpers import make_services
from web.app import create_app

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
    return create_app(svc, WebSettings(search_rate_per_min=600, search_burst=200))


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its meta tag; forms carry the same)."""
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, who: str, password: str = PASSWORD):
    """Post the sign-in form as a browser does: with the pre-session CSRF token of the form."""
    token = csrf_of(client.get("/login").text)
    data = {"login": who, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False)


def login(client: TestClient, who: str) -> TestClient:
    """A signed-in browser whose scripts send the session's CSRF token on every request."""
    r = sign_in(client, who)
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/login").text)
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
