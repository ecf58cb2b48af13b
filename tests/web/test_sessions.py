"""Bad input at the door: forged, expired and revoked cookies and tokens, a token used after
`sohoa user revoke`, a CSRF token replayed from another session, a storm of sign-ins from one
address. Each gets its 401, 403 or 429 with a clear message, and nothing is written but the
audit record (and a lockout)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from models.account import Account
from models.audit import AuditTrail
from models.session import Session
from pipeline.settings import WebSettings
from pipeline.usecases.accounts import audit_entries, issue_token, session_principal, start_session
from scanners.cli.main import main
from tests.web.conftest import PASSWORD, csrf_of, login, sign_in
from web.app import create_app

RECORD = "/api/records/00000000-0000-0000-0000-000000000000"
"""A staff route: 404 when signed in (no such record), 401 when not."""


def events_since(svc, position: int) -> list[str]:
    return [n.topic.rsplit(":", 1)[-1] for n in svc.store.notifications(start=position + 1)]


def cli(svc, *args: str):
    env = {"SOHOA_DATA_DIR": str(svc.settings.data_dir)}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_forged_cookie_is_the_public(app):
    client = TestClient(app)
    client.cookies.set("sohoa_session", "x" * 43)
    r = client.get(RECORD)
    assert r.status_code == 401 and r.json()["detail"] == "sign in or send a bearer token"


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(app, archivist):
    copy = TestClient(app)
    copy.cookies.set("sohoa_session", archivist.cookies["sohoa_session"])
    assert copy.get(RECORD).status_code == 404  # the copy works while the session lives
    assert archivist.post("/logout", follow_redirects=False).status_code == 303
    assert copy.get(RECORD).status_code == 401


def test_idle_and_absolute_timeouts_end_sessions(svc):
    svc_app = create_app(svc, WebSettings(session_idle_min=0.05))  # 3 s
    from pipeline.usecases.accounts import add_user

    add_user(svc.store, "lan", "archivist", PASSWORD)
    client = login(TestClient(svc_app), "lan")
    assert client.get(RECORD).status_code == 404
    time.sleep(3.5)
    assert client.get(RECORD).status_code == 401  # idle too long

    account = svc.store.get_any(Account.create_id("lan"))
    token = start_session(svc.store, account, "test")
    hour, day = timedelta(hours=1), timedelta(days=1)
    later = datetime.now(UTC) + timedelta(hours=13)
    assert session_principal(svc.store, token, day, hour * 12) is not None
    assert session_principal(svc.store, token, day, hour * 12, now=later) is None  # too old


def test_user_revoke_ends_every_session_and_token(svc, app, archivist, officer):
    _, token = issue_token(svc.store, "minh", "scanner", timedelta(days=1))
    bearer = {"Authorization": f"Bearer {token}"}
    api = TestClient(app)
    assert api.get(RECORD, headers=bearer).status_code == 404
    assert officer.get(RECORD).status_code == 404

    assert "every session and token ended" in cli(svc, "user", "revoke", "minh")

    r = api.get(RECORD, headers=bearer)
    assert r.status_code == 401 and r.json()["detail"] == "invalid, revoked or expired token"
    assert officer.get(RECORD).status_code == 401
    assert archivist.get(RECORD).status_code == 404  # another person's session is untouched
    assert login(TestClient(app), "minh").get(RECORD).status_code == 404  # may sign in again


def test_a_password_change_ends_the_other_sessions_not_this_one(app, officer):
    other = login(TestClient(app), "minh")
    body = {"current": PASSWORD, "new": "a new long password"}
    assert officer.post("/api/password", json=body).status_code == 200
    assert officer.get(RECORD).status_code == 404
    assert other.get(RECORD).status_code == 401
    assert sign_in(TestClient(app), "minh", "a new long password").status_code == 303


def test_csrf_token_missing_or_from_another_session_is_refused(app, archivist):
    other = login(TestClient(app), "lan")
    own = archivist.headers.pop("X-CSRF-Token")
    body = {"label": "x"}
    for headers in ({}, {"X-CSRF-Token": other.headers["X-CSRF-Token"]}, {"X-CSRF-Token": "0"}):
        r = archivist.post("/api/tokens", json=body, headers=headers)
        assert r.status_code == 403 and "CSRF" in r.json()["detail"], headers
    r = archivist.post("/logout", data={"csrf_token": other.headers["X-CSRF-Token"]})
    assert r.status_code == 403
    assert (
        archivist.post("/api/tokens", json=body, headers={"X-CSRF-Token": own}).status_code == 200
    )
    form = {"csrf_token": own}
    assert archivist.post("/logout", data=form, follow_redirects=False).status_code == 303


def test_sign_in_without_the_forms_token_is_refused(app):
    client = TestClient(app)
    r = client.post("/login", data={"login": "lan", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    token = csrf_of(TestClient(app).get("/login").text)  # another browser's token
    r = client.post("/login", data={"login": "lan", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 403


def test_a_storm_of_sign_ins_from_one_address_is_throttled_and_audited(svc, app):
    client = TestClient(app, client=("198.51.100.9", 4000))
    token = csrf_of(client.get("/login").text)
    start = svc.store.max_notification_id()
    codes = []
    for i in range(300):
        data = {"login": f"user{i % 7}", "password": "guess", "csrf_token": token}
        r = client.post("/login", data=data)
        codes.append(r.status_code)
    assert codes[:5] == [401] * 5
    assert codes.count(401) <= 6 and codes.count(429) >= 294
    assert r.status_code == 429 and "too many failed sign-ins from this address" in r.text
    assert 1 <= int(r.headers["retry-after"]) <= 900
    written = events_since(svc, start)
    assert set(written) <= {"AuditTrail.Opened", "AuditTrail.SignInRefused"}, written
    refused = [e for e in audit_entries(svc.store) if e["action"].startswith("sign-in refused")]
    assert len(refused) == codes.count(401)
    assert refused[0]["client"] == "198.51.100.9"
    # another address is not held back by this one
    assert sign_in(TestClient(app, client=("198.51.100.10", 1)), "lan").status_code == 303


@pytest.mark.parametrize("how", ["staff page", "cli"])
def test_a_login_that_keeps_failing_is_locked_until_an_archivist_unlocks_it(
    svc, app, archivist, how
):
    quick = create_app(svc, WebSettings(login_delay_s=0.001))  # waits of ms, not minutes
    for n in range(10):  # from ten addresses: the address limit never starts
        time.sleep(0.05)  # the login's own growing wait (1, 2, 4 … ms here)
        r = sign_in(TestClient(quick, client=(f"192.0.2.{n}", 1)), "minh", "wrong password")
        assert r.status_code == 401, n
    fresh = TestClient(quick, client=("192.0.2.200", 1))
    r = sign_in(fresh, "minh")  # even the right password
    assert r.status_code == 429 and "an archivist can unlock it" in r.text
    assert int(r.headers["retry-after"]) > 3000
    assert any(isinstance(e, Account.LockedOut) for e in _events(svc, Account.create_id("minh")))

    if how == "cli":
        assert "minh: unlocked" in cli(svc, "user", "unlock", "minh")
    else:
        r = archivist.post("/staff/unlock", data={"login": "minh"})
        assert r.status_code == 200 and r.json()["unlocked"] is True
    assert sign_in(fresh, "minh").status_code == 303


def _events(svc, ident):
    return list(svc.store.events.get(ident))


def test_sohoa_audit_lists_reads_and_refused_sign_ins(svc, app, officer):
    sign_in(TestClient(app), "nobody", "wrong password")
    officer.get("/api/land/owners", params={"name": "Phùng"})
    out = cli(svc, "audit", "--json", "--since", "2000-01-01")
    assert "sign-in refused" in out and '"who": "nobody"' in out
    assert cli(svc, "audit", "--since", "2999-01-01") == ""


def test_cli_history_of_an_account_withholds_its_hashes(svc, app):
    issue_token(svc.store, "lan", "t", timedelta(days=1))
    out = cli(svc, "history", str(Account.create_id("lan")), "--json")
    assert "scrypt$" not in out and "TokenIssued" in out and "[credential withheld]" in out
    assert str(Session) and str(AuditTrail)  # the store's other types print the same way


def test_cli_parcel_and_officer_search_are_audited_reads(svc):
    from pipeline.dispatch.indexer import indexer
    from tests.web.seed import HIDDEN_OWNER, parcel

    parcel(svc, "46", HIDDEN_OWNER, published=False)
    indexer(svc).catch_up()
    cli(svc, "parcel", "--unit", "00031", "--sheet", "12", "--number", "46", "--json")
    entries = audit_entries(svc.store)
    assert [(e["action"], e["client"]) for e in entries] == [("cli parcel", "cli")]
    cli(svc, "search", "--role", "officer", "--json")
    assert any(e["action"].startswith("cli search") for e in audit_entries(svc.store))
    before = len(audit_entries(svc.store))
    cli(svc, "search", "--json")  # the public role sees nothing restricted: nothing to audit
    assert len(audit_entries(svc.store)) == before
