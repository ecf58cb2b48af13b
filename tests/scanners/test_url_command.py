"""`sohoa url ID`: a download link for a capture's original, on local storage and on S3."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from pipeline.settings import WebSettings
from scanners.cli.ingest import ingest_paths
from scanners.cli.main import main
from storage.links import parse_lifetime
from tests.factories import samples
from tests.helpers import make_services
from web.app import create_app


def ingest_one(tmp_path: Path, **env: str) -> tuple[str, bytes]:
    svc = make_services(tmp_path, SOHOA_AUTO_RUNS="", **env)
    try:
        png = samples.make_png(tmp_path / "Sổ mục kê 3.png", 30, 20)
        [result] = ingest_paths(svc, [png], None, None, as_json=True)
    finally:
        svc.close()
    assert result.status == "ingested", result
    return result.capture_id, png.read_bytes()


def run(tmp_path: Path, *args: str, **env: str):
    base = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_AUTO_RUNS": ""}
    return CliRunner().invoke(main, ["url", *args], env={**base, **env})


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SOHOA_STORAGE_URL", "SOHOA_STORAGE_PUBLIC_URL", "SOHOA_WEB_SESSION_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_local_link_is_served_by_the_web_app(tmp_path: Path) -> None:
    capture_id, data = ingest_one(tmp_path)
    result = run(tmp_path, capture_id, "--expires", "30m", "--json")
    assert result.exit_code == 0, result.output
    link = json.loads(result.output)
    assert link["name"] == "Sổ mục kê 3.png"
    url = urlsplit(link["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1:8000", f"/files/{capture_id}")
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(minutes=30))) < timedelta(seconds=30)

    svc = make_services(tmp_path)  # the web app, on the same data folder and so the same secret
    client = TestClient(create_app(svc, WebSettings()))
    r = client.get(f"{url.path}?{url.query}")
    assert r.status_code == 200 and r.content == data
    assert "filename*=UTF-8''S%E1%BB%95" in r.headers["content-disposition"]
    assert client.get(f"{url.path}?{url.query}".replace("sig=", "sig=0")).status_code == 403


def test_the_web_secret_from_the_environment_is_shared(tmp_path: Path) -> None:
    capture_id, data = ingest_one(tmp_path)
    secret = "a deployment's session secret"
    result = run(
        tmp_path,
        capture_id,
        "--web-url",
        "https://archive.example.org/",
        SOHOA_WEB_SESSION_SECRET=secret,
    )
    assert result.exit_code == 0, result.output
    url = urlsplit(result.output.strip())
    assert url.netloc == "archive.example.org"
    svc = make_services(tmp_path)
    good = TestClient(create_app(svc, WebSettings(session_secret=secret)))
    assert good.get(f"{url.path}?{url.query}").content == data
    other = TestClient(create_app(svc, WebSettings()))  # the data folder's own secret
    assert other.get(f"{url.path}?{url.query}").status_code == 403


def test_public_url_setting_is_the_web_address_on_local_storage(tmp_path: Path) -> None:
    capture_id, _ = ingest_one(tmp_path)
    result = run(tmp_path, capture_id, SOHOA_STORAGE_PUBLIC_URL="http://files.example.org:8080")
    assert result.output.startswith(f"http://files.example.org:8080/files/{capture_id}?")


@pytest.mark.parametrize(
    ("expires", "message"),
    [("8d", "at most 7 days"), ("169h", "at most 7 days"), ("soon", "30m, 1h or 7d"), ("0m", "")],
)
def test_bad_lifetimes_are_refused(tmp_path: Path, expires: str, message: str) -> None:
    result = run(tmp_path, "11111111-1111-1111-1111-111111111111", "--expires", expires)
    assert result.exit_code == 2
    assert "--expires" in result.output and message in result.output


def test_lifetimes() -> None:
    assert parse_lifetime("30m") == timedelta(minutes=30)
    assert parse_lifetime("1h") == timedelta(hours=1)
    assert parse_lifetime("7d") == timedelta(days=7)
    assert parse_lifetime("90s") == timedelta(seconds=90)


def test_unknown_capture_and_bad_id(tmp_path: Path) -> None:
    result = run(tmp_path, "11111111-1111-1111-1111-111111111111")
    assert result.exit_code == 1 and "11111111-1111-1111-1111-111111111111" in result.output
    assert run(tmp_path, "not-an-id").exit_code == 2


@pytest.mark.services
def test_s3_link_is_presigned_for_the_public_url(tmp_path: Path, s3_url: str) -> None:
    endpoint = urlsplit(s3_url).netloc.rpartition("@")[2]
    public = f"http://localhost:{endpoint.rpartition(':')[2]}"
    env = {"SOHOA_STORAGE_URL": s3_url, "SOHOA_STORAGE_PUBLIC_URL": public}
    capture_id, data = ingest_one(tmp_path, **env)
    result = run(tmp_path, capture_id, "--expires", "7d", **env)
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert urlsplit(url).netloc == urlsplit(public).netloc
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=604800" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data
        assert "S%E1%BB%95" in response.headers["Content-Disposition"]


@pytest.mark.services
def test_s3_with_a_wrong_secret_says_access_denied(tmp_path: Path, s3_url: str) -> None:
    wrong = s3_url.replace(":sohoa-services-secret@", ":wrong@")
    assert wrong != s3_url
    result = run(tmp_path, "11111111-1111-1111-1111-111111111111", SOHOA_STORAGE_URL=wrong)
    assert result.exit_code == 1
    assert "denied access" in result.output and "Traceback" not in result.output
