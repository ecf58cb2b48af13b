"""The staff's account pages: a person changes their password (the other sessions end, this
browser goes on); an archivist sees every account's role, lockout and last sign-in, lifts a
lockout and ends someone's access; each change is audited. Sign-in prunes ended sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from models.session import session_id
from pipeline.settings import WebSettings
from pipeline.usecases.accounts import (
    audit_entries,
    issue_token,
    lock_account,
    start_session,
)
from tests.web.conftest import PASSWORD, login, sign_in
from web.app import create_app

RECORD = "/api/records/00000000-0000-0000-0000-000000000000"
"""A staff route: 404 when signed in (no such record), 401 when not."""
NEW = "a brand new passphrase"


def form(client: TestClient, **fields: str) -> dict[str, str]:
    """A form post as the page sends it: with the session's CSRF token."""
    return {"csrf_token": client.headers["X-CSRF-Token"], **fields}


def test_the_password_page_has_a_labelled_field_for_each_password(officer):
    page = officer.get("/staff/password").text
    for name in ("current", "new", "again"):
        assert re.search(rf'<label for="{name}">[^<]+</label>', page), name
        assert f'id="{name}" name="{name}" type="password"' in page
    assert 'autocomplete="new-password"' in page and 'minlength="8"' in page


def test_a_password_change_ends_the_other_sessions_and_this_browser_goes_on(svc, app, officer):
    phone = login(TestClient(app), "minh")
    data = form(officer, current=PASSWORD, new=NEW, again=NEW)
    r = officer.post("/staff/password", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/password?changed=true"
    assert phone.get(RECORD).status_code == 401  # the other session ended
    page = officer.get(r.headers["location"] + "&lang=en")
    assert "Password changed. Your other sessions have ended." in page.text
    assert officer.get(RECORD).status_code == 404  # this one goes on
    assert sign_in(TestClient(app), "minh", PASSWORD).status_code == 401
    assert sign_in(TestClient(app), "minh", NEW).status_code == 303
    [entry] = [e for e in audit_entries(svc.store) if e["subject_id"].startswith("account:")]
    assert (entry["who"], entry["subject_id"], entry["action"]) == (
        "minh",
        "account:minh",
        "password changed",
    )


def test_a_refused_password_change_says_why_and_changes_nothing(svc, app, officer):
    cases = [
        ("not my password", NEW, NEW, 403, "The current password is wrong."),
        (PASSWORD, NEW, NEW + "!", 400, "The two new passwords differ."),
        (PASSWORD, "short", "short", 400, "The new password is too short."),
    ]
    officer.cookies.set("sohoa_lang", "en")
    for current, new, again, status, message in cases:
        r = officer.post(
            "/staff/password", data=form(officer, current=current, new=new, again=again)
        )
        assert r.status_code == status and message in r.text and 'role="alert"' in r.text
    officer.headers.pop("X-CSRF-Token")  # a form without the session's token
    r = officer.post("/staff/password", data={"current": PASSWORD, "new": NEW, "again": NEW})
    assert r.status_code == 403 and "CSRF" in r.text
    assert audit_entries(svc.store) == []
    assert sign_in(TestClient(app), "minh", PASSWORD).status_code == 303


def test_archivists_see_every_account_with_its_lockout_and_last_sign_in(
    svc, app, archivist, officer
):
    until = datetime.now(UTC) + timedelta(minutes=30)
    lock_account(svc.store, "minh", until, 10, "192.0.2.1")
    assert officer.get("/staff/accounts").status_code == 403
    page = archivist.get("/staff/accounts?lang=en").text
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.S))
    assert set(rows) == {"lan", "minh"}
    assert "Archivist" in rows["lan"] and "Land officer" in rows["minh"]
    local = until.astimezone(_zone(app))
    assert (
        f'until <time datetime="{until.isoformat()}">{local:%Y-%m-%d %H:%M}</time>' in rows["minh"]
    )
    assert "Unlock" in rows["minh"] and "Unlock" not in rows["lan"]
    signed_in = _last_sign_in(page, "lan")  # the archivist's own sign-in, a moment ago
    now_there = datetime.now(_zone(app)).replace(tzinfo=None)
    assert signed_in is not None and abs(signed_in - now_there) < timedelta(minutes=2)
    assert _last_sign_in(page, "minh") is not None
    assert "scrypt$" not in page


def _zone(app):
    from zoneinfo import ZoneInfo

    return ZoneInfo(app.state.config.time_zone)


def _last_sign_in(page: str, who: str) -> datetime | None:
    row = re.search(rf'<th scope="row">{who}</th>.*?</tr>', page, re.S).group(0)
    times = re.findall(r"<time[^>]*>([^<]+)</time>", row)
    return datetime.strptime(times[-1], "%Y-%m-%d %H:%M") if times else None


def test_an_archivist_lifts_a_lockout_from_the_accounts_page(svc, app, archivist):
    lock_account(svc.store, "minh", datetime.now(UTC) + timedelta(hours=1), 10, "192.0.2.1")
    fresh = TestClient(app, client=("192.0.2.50", 1))
    assert sign_in(fresh, "minh").status_code == 429
    r = archivist.post(
        "/staff/accounts/unlock", data=form(archivist, login="minh"), follow_redirects=False
    )
    assert r.status_code == 303
    page = archivist.get(r.headers["location"] + "&lang=en").text
    assert (
        "minh: unlocked." in page and "Unlock" not in page.split("minh</th>")[1].split("</tr>")[0]
    )
    assert sign_in(fresh, "minh").status_code == 303
    entry = audit_entries(svc.store)[0]
    assert (entry["who"], entry["action"], entry["client"]) == (
        "lan",
        "sign-in lockout lifted",
        "testclient",
    )


def test_an_archivist_ends_someones_sessions_and_tokens_from_the_accounts_page(
    svc, app, archivist, officer
):
    _, token = issue_token(svc.store, "minh", "scanner", timedelta(days=1))
    r = archivist.post("/staff/accounts/revoke", data=form(archivist, login="minh"))
    assert (
        r.status_code == 200
        and "every session and API token ended"
        in archivist.get("/staff/accounts?done=revoked&login=minh&lang=en").text
    )
    assert officer.get(RECORD).status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert TestClient(app).get(RECORD, headers=bearer).status_code == 401
    assert archivist.get(RECORD).status_code == 404  # the archivist's own session is untouched
    assert audit_entries(svc.store)[0]["action"] == "sessions and tokens ended"
    r = archivist.post("/staff/accounts/revoke", data=form(archivist, login="nobody"))
    assert r.status_code == 404


def test_the_outcome_line_names_only_known_outcomes(archivist):
    page = archivist.get("/staff/accounts?done=<script>alert(1)</script>&login=x").text
    assert "<script>alert" not in page and 'role="status"' not in page


def test_signing_in_removes_ended_sessions(svc):
    app = create_app(svc, WebSettings())
    from pipeline.usecases.accounts import add_user

    account = add_user(svc.store, "thu", "officer", PASSWORD)
    old = start_session(svc.store, account, "a", now=datetime.now(UTC) - timedelta(days=2))
    start_session(svc.store, account, "b", now=datetime.now(UTC) - timedelta(days=1))
    assert list(svc.store.events.get(session_id(old)))
    assert sign_in(TestClient(app), "thu").status_code == 303
    assert not list(svc.store.events.get(session_id(old)))  # gone
