"""The accounts as an administrator sees them, and the pruning of ended sign-in sessions.

Sessions are operational state, not history: one aggregate per sign-in, touched while used.
`prune_sessions` removes those that ended (signed out, idle or absolute timeout) so the store
holds only live sessions plus each login's latest one, which is kept as the record of its last
sign-in. Who changed an account (password, unlock, revoke) is on the audit trail and on the
account's own history; neither is pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.utils import get_topic

from models.account import Account
from models.application import RecordStore, delete_events_of
from models.session import Session
from pipeline.usecases.accounts import locked_until


@dataclass(frozen=True)
class AccountRow:
    """One account on the administrator's page (no credential of any kind)."""

    login: str
    display_name: str
    role: str
    disabled: bool
    locked_until: datetime | None
    last_sign_in: datetime | None


def list_accounts(store: RecordStore, now: datetime | None = None) -> list[AccountRow]:
    """Every staff account by login: role, lockout (if still running), last sign-in."""
    ids = [n.originator_id for n in store.notifications(topics=[get_topic(Account.Created)])]
    last = last_sign_ins(store)
    rows = []
    for account in store.get_many(ids).values():
        if not isinstance(account, Account):
            continue
        rows.append(
            AccountRow(
                login=account.login,
                display_name=account.display_name,
                role=account.role,
                disabled=account.disabled,
                locked_until=locked_until(account, now),
                last_sign_in=last.get(account.login),
            )
        )
    return sorted(rows, key=lambda r: r.login)


def last_sign_ins(store: RecordStore) -> dict[str, datetime]:
    """When each login last signed in (its newest session, which pruning keeps)."""
    return {login: max(s[0] for s in found) for login, found in _sessions(store).items()}


def prune_sessions(
    store: RecordStore, idle: timedelta, longest: timedelta, now: datetime | None = None
) -> int:
    """Remove sessions that ended or timed out, except each login's latest; returns how many
    were removed. Safe to run from several processes at once."""
    moment = now or datetime.now(UTC)
    candidates: list[UUID] = []
    for found in _sessions(store).values():
        older = sorted(found)[:-1]  # the newest stays: the last sign-in
        candidates += [ident for started, ident in older]
    sessions = store.get_many(candidates)
    gone = [
        ident
        for ident, s in sessions.items()
        if isinstance(s, Session) and _over(s, idle, longest, moment)
    ]
    return len(delete_events_of(store.recorder, gone))


GRACE = timedelta(minutes=1)
"""A session is removed only once nothing touched it for this long too, so a request that read
it a moment before it timed out never touches a session that is gone."""


def _over(session: Session, idle: timedelta, longest: timedelta, now: datetime) -> bool:
    started, seen = map(datetime.fromisoformat, (session.started_at, session.last_seen))
    if now - seen <= GRACE:
        return False
    return bool(session.ended) or now - started > longest or now - seen > idle


def _sessions(store: RecordStore) -> dict[str, list[tuple[datetime, UUID]]]:
    """(started, id) of every stored session, by login."""
    out: dict[str, list[tuple[datetime, UUID]]] = {}
    for n in store.notifications(topics=[get_topic(Session.Started)]):
        e = store.mapper.to_domain_event(n)
        out.setdefault(e.login, []).append((datetime.fromisoformat(e.started_at), e.originator_id))
    return out
