"""Account administration: pruning ended sessions (on SQLite and PostgreSQL), the accounts list
an administrator sees, and the audit of every change to an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.account import AccountError
from pipeline.usecases.accounts import (
    Principal,
    WrongPasswordError,
    add_user,
    audit_entries,
    change_own_password,
    end_session,
    lock_account,
    revoke_access,
    session_principal,
    start_session,
    unlock_account,
)
from pipeline.usecases.staff_accounts import list_accounts, prune_sessions
from tests.helpers import make_services

IDLE, LONGEST = timedelta(minutes=30), timedelta(hours=12)
PASSWORD = "correct horse battery"
LAN = Principal("lan", "archivist")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    env = (
        {}
        if request.param == "sqlite"
        else {"SOHOA_EVENTSTORE_URL": request.getfixturevalue("pg_url")}
    )
    svc = make_services(tmp_path, **env)
    add_user(svc.store, "lan", "archivist", PASSWORD)
    add_user(svc.store, "minh", "officer", PASSWORD)
    yield svc.store
    svc.close()


def stored(store, token: str) -> bool:
    """Whether the session of `token` has any event left in the store."""
    from models.session import session_id

    return bool(list(store.events.get(session_id(token))))


def test_ended_and_timed_out_sessions_are_removed_live_ones_stay(store):
    now = datetime.now(UTC)
    account = store.get_any(add_user(store, "thu", "officer", PASSWORD).id)
    too_old = start_session(store, account, "a", now=now - timedelta(hours=13))
    idle = start_session(store, account, "b", now=now - timedelta(hours=2))
    signed_out = start_session(store, account, "c", now=now - timedelta(minutes=5))
    end_session(store, signed_out, "signed out")
    live = start_session(store, account, "d", now=now - timedelta(minutes=1))
    latest = start_session(store, account, "e", now=now)

    assert prune_sessions(store, IDLE, LONGEST) == 3
    assert not any(stored(store, t) for t in (too_old, idle, signed_out))
    assert stored(store, live) and stored(store, latest)
    assert session_principal(store, live, IDLE, LONGEST) == Principal("thu", "officer")
    assert session_principal(store, too_old, IDLE, LONGEST) is None  # gone reads as unknown
    assert prune_sessions(store, IDLE, LONGEST) == 0  # nothing more to do


def test_each_logins_latest_session_stays_as_its_last_sign_in(store):
    long_ago = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    account = store.get_any(add_user(store, "thu", "officer", PASSWORD).id)
    start_session(store, account, "a", now=long_ago - timedelta(days=3))
    last = start_session(store, account, "b", now=long_ago)
    assert prune_sessions(store, IDLE, LONGEST) == 1
    assert stored(store, last)
    rows = {r.login: r for r in list_accounts(store)}
    assert rows["thu"].last_sign_in == long_ago
    assert rows["minh"].last_sign_in is None


def test_the_accounts_list_shows_roles_and_running_lockouts_without_credentials(store):
    until = datetime.now(UTC) + timedelta(minutes=40)
    lock_account(store, "minh", until, 10, "192.0.2.1")
    lock_account(store, "lan", datetime.now(UTC) - timedelta(minutes=1), 10, "192.0.2.1")
    rows = list_accounts(store)
    assert [(r.login, r.role) for r in rows] == [("lan", "archivist"), ("minh", "officer")]
    assert rows[1].locked_until == until
    assert rows[0].locked_until is None  # a lockout that ran out is no lockout
    assert "scrypt" not in repr(rows) and "hash" not in repr(rows)


def test_password_change_unlock_and_revoke_are_audited(store):
    minh = Principal("minh", "officer")
    with pytest.raises(WrongPasswordError):
        change_own_password(store, minh, "not the password", "a new long password", "192.0.2.7")
    with pytest.raises(AccountError, match="at least 8"):
        change_own_password(store, minh, PASSWORD, "short", "192.0.2.7")
    assert audit_entries(store) == []  # nothing changed, nothing to audit

    change_own_password(store, minh, PASSWORD, "a new long password", "192.0.2.7")
    lock_account(store, "minh", datetime.now(UTC) + timedelta(hours=1), 10, "192.0.2.9")
    assert unlock_account(store, "minh", LAN, "192.0.2.8") is True
    assert unlock_account(store, "minh", LAN, "192.0.2.8") is False  # not locked: no entry
    revoke_access(store, "MINH", Principal("root", "operator"), "cli")

    entries = [
        (e["who"], e["role"], e["subject_id"], e["action"], e["client"])
        for e in audit_entries(store)
    ]
    assert entries == [
        ("root", "operator", "account:minh", "sessions and tokens ended", "cli"),
        ("lan", "archivist", "account:minh", "sign-in lockout lifted", "192.0.2.8"),
        ("minh", "officer", "account:minh", "password changed", "192.0.2.7"),
    ]
    history = [e.by for e in store.events.get(store.get_any(_id("minh")).id) if hasattr(e, "by")]
    assert history == ["person:lan", "cli:root"]


def _id(login: str):
    from models.account import account_id

    return account_id(login)


def test_a_session_just_used_or_holding_the_newest_sqlite_row_waits_for_a_later_prune(tmp_path):
    svc = make_services(tmp_path)  # SQLite: a deleted newest row's id would be given again
    try:
        store, now = svc.store, datetime.now(UTC)
        account = add_user(store, "thu", "officer", PASSWORD)
        idle = start_session(store, account, "a", now=now - timedelta(hours=1))
        start_session(store, account, "b", now=now)  # the latest: kept as the last sign-in
        just_ended = start_session(store, account, "c", now=now - timedelta(seconds=5))
        end_session(store, just_ended, "signed out")
        end_session(store, idle, "signed out")  # the store's newest row
        assert prune_sessions(store, IDLE, LONGEST) == 0
        assert stored(store, idle) and stored(store, just_ended)  # neither removed yet
        add_user(store, "vy", "officer", PASSWORD)  # a newer row elsewhere
        assert prune_sessions(store, IDLE, LONGEST) == 1
        assert not stored(store, idle) and stored(store, just_ended)
        later = now + timedelta(minutes=2)
        assert prune_sessions(store, IDLE, LONGEST, now=later) == 1
        assert not stored(store, just_ended)
    finally:
        svc.close()
