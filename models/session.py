"""The Session aggregate: one signed-in browser, server-side, so it can be ended.

The cookie holds a random token; the session's id is derived from the token's sha256, so the
store never holds the token nor anything it could be recovered from. Times are ISO UTC strings
computed by the caller (event methods stay deterministic).
"""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from models.ids import NAMESPACE


def session_id(token: str) -> UUID:
    return uuid5(NAMESPACE, "session:" + hashlib.sha256(token.encode()).hexdigest())


class Session(Aggregate):
    """Who signed in, when, from where; when last seen; whether and why it ended."""

    @event("Started")
    def __init__(self, *, id: UUID, login: str, started_at: str, client: str) -> None:
        self.login = login
        self.started_at = started_at
        self.last_seen = started_at
        self.client = client
        self.ended = ""

    @event("Touched")
    def touch(self, *, at: str) -> None:
        self.last_seen = at

    @event("Ended")
    def end(self, *, reason: str) -> None:
        self.ended = reason
