"""Accounts, sign-in, API tokens and the audit trail of restricted reads.

`add_user` is what a `sohoa user add` command (or a first-run bootstrap) calls. Passwords are
hashed with scrypt (stdlib); API tokens are 256-bit random strings shown once, stored as their
sha256. A token reads `sohoa_<account id hex>_<secret>`: the account part lets a request be
checked with one aggregate read and a constant-time comparison, with no token table to scan.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from models.account import Account, AccountError, account_id, normal_login
from models.application import RecordStore
from models.audit import AuditTrail
from models.errors import NotFoundError
from models.session import Session, session_id

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
TOKEN_PREFIX = "sohoa_"
PASSWORD_MIN = 8


@dataclass(frozen=True)
class Principal:
    """Who is making a request: a staff login and role, or the public (login None)."""

    login: str | None
    role: str  # public | archivist | officer

    @property
    def is_staff(self) -> bool:
        return self.login is not None


PUBLIC = Principal(None, "public")


class WrongPasswordError(AccountError):
    """A password change whose current password is not the account's."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hash_password(password, base64.b64decode(salt)).split("$")[2]
    return hmac.compare_digest(expected, digest)


def add_user(
    store: RecordStore, login: str, role: str, password: str, display_name: str = ""
) -> Account:
    """Create a staff account; raises `AccountError` if the login is taken or invalid."""
    check_password_policy(password)
    name = normal_login(login)
    account = Account(
        login=name,
        role=role,
        display_name=display_name or name,
        password_hash=hash_password(password),
    )
    try:
        store.save(account)
    except IntegrityError:
        raise AccountError(f"login {name!r} is taken") from None
    return account


def check_password_policy(password: str) -> None:
    """The one password rule (accounts made and passwords changed): `AccountError` if unmet."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"a password needs at least {PASSWORD_MIN} characters")


def ensure_user(store: RecordStore, login: str, role: str, password: str) -> Account:
    """`add_user` unless the login exists (a settings-driven first archivist on every start)."""
    existing = find_account(store, login)
    return existing if existing is not None else add_user(store, login, role, password)


def find_account(store: RecordStore, login: str) -> Account | None:
    try:
        return _account(store, account_id(login))
    except (NotFoundError, AccountError):
        return None


def authenticate(store: RecordStore, login: str, password: str) -> Account | None:
    account = find_account(store, login)
    if account is None or account.disabled:
        hash_password(password)  # same cost either way: no login enumeration by timing
        return None
    return account if check_password(password, account.password_hash) else None


def issue_token(
    store: RecordStore, login: str, label: str, ttl: timedelta, now: datetime | None = None
) -> tuple[str, str]:
    """A new API token for `login`: (token id, the token itself — shown once, never stored)."""
    account = find_account(store, login)
    if account is None:
        raise AccountError(f"no account {login!r}")
    token_id = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{account.id.hex}_{secrets.token_urlsafe(32)}"
    expires = ((now or datetime.now(UTC)) + ttl).isoformat()
    store.issue_token(
        account.id,
        token_id=token_id,
        token_hash=token_hash(token),
        label=label,
        expires_at=expires,
    )
    return token_id, token


def revoke_token(store: RecordStore, login: str, token_id: str) -> None:
    store.revoke_token(account_id(login), token_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def change_password(
    store: RecordStore, login: str, password: str, now: datetime | None = None
) -> None:
    """A new password; every session started before now ends (the caller starts a new one
    for the person who changed it)."""
    check_password_policy(password)
    at = (now or datetime.now(UTC)).isoformat()
    store.change_password(
        _existing(store, login).id, password_hash=hash_password(password), sessions_valid_from=at
    )


def change_own_password(
    store: RecordStore, who: Principal, current: str, new: str, client: str
) -> None:
    """The signed-in person's new password, given their current one: their other sessions
    end, and the change is audited. `WrongPasswordError` if `current` is not theirs."""
    if who.login is None or authenticate(store, who.login, current) is None:
        raise WrongPasswordError("the current password is wrong")
    change_password(store, who.login, new)
    record_account_change(store, who, who.login, "password changed", client)


def revoke_access(store: RecordStore, login: str, who: Principal, client: str) -> None:
    """End every session and token of `login` (`sohoa user revoke`, the accounts page)."""
    at = datetime.now(UTC).isoformat()
    store.revoke_access(_existing(store, login).id, at=at, by=actor(who))
    record_account_change(store, who, normal_login(login), "sessions and tokens ended", client)


def lock_account(
    store: RecordStore, login: str, until: datetime, failures: int, client: str
) -> None:
    account = find_account(store, login)
    if account is not None:
        store.lock_account(account.id, until=until.isoformat(), failures=failures, client=client)


def unlock_account(store: RecordStore, login: str, who: Principal, client: str) -> bool:
    """Lift a sign-in lockout (audited); False if the account was not locked."""
    account = _existing(store, login)
    if not account.locked_until:
        return False
    store.unlock_account(account.id, actor(who))
    record_account_change(store, who, account.login, "sign-in lockout lifted", client)
    return True


def actor(who: Principal) -> str:
    """How an account's own history names who changed it: a person, or the CLI's operator."""
    return f"{'cli' if who.role == 'operator' else 'person'}:{who.login}"


def locked_until(account: Account, now: datetime | None = None) -> datetime | None:
    if not account.locked_until:
        return None
    until = datetime.fromisoformat(account.locked_until)
    return until if until > (now or datetime.now(UTC)) else None


def _existing(store: RecordStore, login: str) -> Account:
    account = find_account(store, login)
    if account is None:
        raise AccountError(f"no account {login!r}")
    return account


# -- sessions ---------------------------------------------------------------


def start_session(
    store: RecordStore, account: Account, client: str, now: datetime | None = None
) -> str:
    """A new server-side session; returns its token (the cookie's value, never stored)."""
    token = secrets.token_urlsafe(32)
    at = (now or datetime.now(UTC)).isoformat()
    store.save(Session(id=session_id(token), login=account.login, started_at=at, client=client))
    return token


def session_principal(
    store: RecordStore,
    token: str,
    idle: timedelta,
    longest: timedelta,
    now: datetime | None = None,
) -> Principal | None:
    """The person a session token signs in, or None if it is unknown, ended, idle too long,
    too old, revoked, or its account is disabled. Activity is recorded at most once a minute
    (or a tenth of the idle timeout, if shorter)."""
    session = _session(store, token)
    moment = now or datetime.now(UTC)
    if session is None or session.ended:
        return None
    started, seen = map(datetime.fromisoformat, (session.started_at, session.last_seen))
    if moment - started > longest or moment - seen > idle:
        return None
    account = find_account(store, session.login)
    if account is None or account.disabled:
        return None
    if account.sessions_valid_from and session.started_at < account.sessions_valid_from:
        return None
    if moment - seen > min(timedelta(minutes=1), idle / 10):
        store.touch_session(session.id, moment.isoformat())
    return Principal(account.login, account.role)


def end_session(store: RecordStore, token: str, reason: str) -> None:
    session = _session(store, token)
    if session is not None and not session.ended:
        store.end_session(session.id, reason)


def _session(store: RecordStore, token: str) -> Session | None:
    if not token or len(token) > 200:
        return None
    try:
        found = store.get_any(session_id(token))
    except NotFoundError:
        return None
    return found if isinstance(found, Session) else None


def principal_for_token(
    store: RecordStore, token: str, now: datetime | None = None
) -> Principal | None:
    """The account a bearer token belongs to, or None if forged, revoked or expired."""
    account = _token_account(store, token)
    if account is None or account.disabled:
        return None
    digest = token_hash(token)
    moment = now or datetime.now(UTC)
    for entry in account.tokens.values():
        if hmac.compare_digest(entry["hash"], digest):
            if entry.get("revoked") or datetime.fromisoformat(entry["expires_at"]) <= moment:
                return None
            return Principal(account.login, account.role)
    return None


def _token_account(store: RecordStore, token: str) -> Account | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    hex_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    try:
        ident = UUID(hex=hex_id)
    except ValueError:
        return None
    if not secret:
        return None
    try:
        return _account(store, ident)
    except NotFoundError:
        return None


def _account(store: RecordStore, ident: UUID) -> Account:
    aggregate = store.get_any(ident)
    if not isinstance(aggregate, Account):
        raise NotFoundError(f"{ident} is not an account")
    return aggregate


# -- audit ------------------------------------------------------------------


def record_restricted_read(
    store: RecordStore,
    who: Principal,
    subject_id: UUID | str,
    attributes: list[str],
    action: str,
    client: str = "",
    now: datetime | None = None,
) -> None:
    """Append who read which restricted attributes of what; nothing if none were shown."""
    if not attributes or who.login is None:
        return
    store.audit_read(
        who.login,
        (now or datetime.now(UTC)).date().isoformat(),
        role=who.role,
        subject_id=str(subject_id),
        attributes=sorted(attributes),
        action=action,
        client=client,
    )


def record_refused_sign_in(
    store: RecordStore, login: str, client: str, reason: str, now: datetime | None = None
) -> None:
    """Audit a refused sign-in under the login that was tried."""
    try:
        name = normal_login(login)
    except AccountError:
        name = "(not a login)"
    day = (now or datetime.now(UTC)).date().isoformat()
    store.audit_refused_sign_in(name, day, client=client, reason=reason)


def record_account_change(
    store: RecordStore, who: Principal, account: str, action: str, client: str
) -> None:
    """Audit what `who` did to `account` (a password change, an unlock, a revoke)."""
    day = datetime.now(UTC).date().isoformat()
    store.audit_account_change(
        who.login or "(public)", day, role=who.role, account=account, action=action, client=client
    )


def audit_entries(
    store: RecordStore, limit: int = 200, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The latest restricted reads, refused sign-ins and changes to accounts, newest first:
    who, role, what, which parts, how, from where, when."""
    kinds = (AuditTrail.RestrictedDataRead, AuditTrail.SignInRefused, AuditTrail.AccountChanged)
    entries: list[dict[str, Any]] = []
    for n in store.notifications(topics=[get_topic(k) for k in kinds]):
        e = store.mapper.to_domain_event(n)
        if since is None or e.timestamp >= since:
            entries.append(_audit_entry(e))
    logins = {}
    for entry in entries[-limit:]:
        trail = UUID(entry["trail"])
        if trail not in logins:
            logins[trail] = store.get_any(trail).login
        entry["who"] = logins[trail]
    return list(reversed(entries[-limit:]))


def _audit_entry(e: Any) -> dict[str, Any]:
    entry = {"when": e.timestamp.isoformat(), "trail": str(e.originator_id), "client": e.client}
    if isinstance(e, AuditTrail.SignInRefused):
        what = {"role": "", "subject_id": "", "action": f"sign-in refused: {e.reason}"}
    elif isinstance(e, AuditTrail.AccountChanged):
        what = {"role": e.role, "subject_id": f"account:{e.account}", "action": e.action}
    else:
        what = {"role": e.role, "subject_id": e.subject_id, "action": e.action}
    return {**entry, **what, "attributes": list(getattr(e, "attributes", ()))}
