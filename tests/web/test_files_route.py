"""`/files/{id}`: the web app serves a capture's original to whoever holds a valid signed link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from pipeline.settings import WebSettings
from scanners.cli.ingest import ingest_paths
from scanners.cli.url import download_link
from storage import links
from tests.factories import samples
from web.app import create_app

WEB = "http://archive.example.org"


@pytest.fixture
def capture_id(svc, tmp_path: Path) -> str:
    png = samples.make_png(tmp_path / "Bản đồ địa chính 12.png", 40, 30)
    [result] = ingest_paths(svc, [png], None, None, as_json=True)
    assert result.status == "ingested", result
    return result.capture_id


@pytest.fixture
def client(svc) -> TestClient:
    return TestClient(create_app(svc, WebSettings()))


def link(svc, capture_id: str, lifetime=timedelta(hours=1), now=None) -> str:
    secret = WebSettings().secret(svc.settings.data_dir)
    made = download_link(svc, UUID(capture_id), lifetime, secret=secret, web_url=WEB, now=now)
    assert made.url.startswith(f"{WEB}/files/{capture_id}?expires=")
    parts = urlsplit(made.url)
    return f"{parts.path}?{parts.query}"


def changed(path: str, **values: str) -> str:
    route, _, query = path.partition("?")
    return f"{route}?{urlencode({**dict(parse_qsl(query)), **values})}"


def test_a_signed_link_downloads_the_original_under_its_name(svc, client, capture_id, tmp_path):
    r = client.get(link(svc, capture_id))
    assert r.status_code == 200
    assert r.content == (tmp_path / "Bản đồ địa chính 12.png").read_bytes()
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-length"] == str(len(r.content))
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''B%E1%BA%A3n%20%C4%91%E1%BB%93" in disposition
    assert "no-store" in r.headers["cache-control"]


def test_a_tampered_link_is_refused(svc, client, capture_id):
    path = link(svc, capture_id)
    sig = dict(parse_qsl(path.partition("?")[2]))["sig"]
    forged = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for bad in (
        changed(path, sig=forged),
        changed(path, expires=str(int(datetime.now(UTC).timestamp()) + 7 * 86400)),
        path.replace(capture_id, "00000000-0000-0000-0000-000000000000"),
    ):
        r = client.get(bad)
        assert r.status_code == 403, bad
        assert "not valid" in r.json()["detail"]
    assert client.get(path.partition("?")[0]).status_code == 422  # no signature at all


def test_an_expired_link_is_refused(svc, client, capture_id):
    past = datetime.now(UTC) - timedelta(hours=2)
    r = client.get(link(svc, capture_id, timedelta(hours=1), now=past))
    assert r.status_code == 403
    assert "expired" in r.json()["detail"]


def test_a_link_signed_with_another_secret_is_refused(svc, capture_id):
    other = TestClient(create_app(svc, WebSettings(session_secret="another deployment")))
    assert other.get(link(svc, capture_id)).status_code == 403


def test_a_signed_link_to_an_unknown_capture_is_404(svc, client):
    secret = WebSettings().secret(svc.settings.data_dir)
    unknown = "11111111-1111-1111-1111-111111111111"
    path = links.signed_path(secret, unknown, datetime.now(UTC) + timedelta(minutes=5))
    assert client.get(path).status_code == 404
