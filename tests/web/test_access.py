"""Roles, sessions and API tokens: who may reach which routes."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from models.account import Account, account_id
from pipeline.usecases.accounts import issue_token
from tests.web.conftest import sign_in


def test_pages_by_role(public, archivist, officer):
    assert (
        public.get("/staff", headers={"accept": "text/html"}, follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=%2Fstaff")
    )
    assert public.get("/api/land/owners?name=ab").status_code == 401
    assert officer.get("/staff").status_code == 403
    assert archivist.get("/land").status_code == 403
    assert archivist.get("/staff").status_code == 200
    assert officer.get("/land").status_code == 200
    assert public.get("/docs").status_code == 200


def test_wrong_password_and_forged_cookie(app):
    client = TestClient(app)
    r = sign_in(client, "lan", "wrong-password")
    assert r.status_code == 401 and "sohoa_session" not in client.cookies
    client.cookies.set("sohoa_session", "eyJsIjogImxhbiIsICJlIjogOTk5OTk5OTk5OX0.deadbeef")
    assert client.get("/api/records/00000000-0000-0000-0000-000000000000").status_code == 401


def test_tokens_are_stored_hashed_and_checked(app, svc, archivist):
    made = archivist.post("/api/tokens", json={"label": "scanner 2"}).json()
    token = made["token"]
    account = svc.store.get_any(account_id("lan"))
    assert isinstance(account, Account)
    assert token not in repr(account.__dict__)  # only its sha256 is recorded

    api = TestClient(app)
    ok = api.get("/api/tokens", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()[0]["label"] == "scanner 2"

    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    for bad in (forged, "sohoa_nothex_x", "garbage"):
        r = api.get("/api/search?q=x", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad

    _, expired = issue_token(svc.store, "lan", "old", timedelta(seconds=-1))
    assert api.get("/api/tokens", headers={"Authorization": f"Bearer {expired}"}).status_code == 401

    assert archivist.delete(f"/api/tokens/{made['id']}").json()["revoked"] is True
    assert api.get("/api/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 401
