"""The Account aggregate: a member of staff (archivist or land officer) who may sign in.

Accounts live in the record store beside captures and records, so who was given access and
when is as much part of the history as the records themselves. Only hashes are recorded:
a password's scrypt hash and each API token's sha256; the secrets never become events.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from models.ids import NAMESPACE

STAFF_ROLES = ("archivist", "officer")
"""Archivists upload, review and publish; land officers read parcels and personal data."""


class AccountError(ValueError):
    """An account operation that cannot be done as asked."""


def account_id(login: str) -> UUID:
    """One account per login name (case-insensitive)."""
    return uuid5(NAMESPACE, f"account:{normal_login(login)}")


def normal_login(login: str) -> str:
    name = login.strip().lower()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise AccountError("a login is 1–64 letters, digits or . _ - @")
    return name


class Account(Aggregate):
    """A login, its role, its password hash and its API tokens (by hash)."""

    @staticmethod
    def create_id(login: str) -> UUID:
        return account_id(login)

    @event("Created")
    def __init__(self, *, login: str, role: str, display_name: str, password_hash: str) -> None:
        if role not in STAFF_ROLES:
            raise AccountError(f"role must be one of {', '.join(STAFF_ROLES)}, got {role!r}")
        self.login = login
        self.role = role
        self.display_name = display_name
        self.password_hash = password_hash
        self.tokens: dict[str, dict[str, Any]] = {}
        self.disabled = False
        self.sessions_valid_from = ""
        """ISO UTC: sessions started before this were ended (revoke, password change)."""
        self.locked_until = ""
        """ISO UTC: sign-in refused until then (too many failures), unless unlocked."""

    @event("PasswordChanged")
    def change_password(self, *, password_hash: str, sessions_valid_from: str = "") -> None:
        """`sessions_valid_from`: the other sessions, started before it, end."""
        self.password_hash = password_hash
        if sessions_valid_from:
            self.sessions_valid_from = sessions_valid_from

    @event("AccessRevoked")
    def revoke_access(self, *, at: str, by: str) -> None:
        """Every session started before `at` and every token end (`sohoa user revoke`)."""
        self.sessions_valid_from = at
        for token in self.tokens.values():
            token["revoked"] = True

    @event("LockedOut")
    def lock(self, *, until: str, failures: int, client: str) -> None:
        self.locked_until = until

    @event("Unlocked")
    def unlock(self, *, by: str) -> None:
        self.locked_until = ""

    @event("TokenIssued")
    def issue_token(self, *, token_id: str, token_hash: str, label: str, expires_at: str) -> None:
        """`token_hash` is the sha256 of the whole bearer token; `expires_at` ISO UTC."""
        self.tokens[token_id] = {"hash": token_hash, "label": label, "expires_at": expires_at}

    @event("TokenRevoked")
    def revoke_token(self, *, token_id: str) -> None:
        if token_id not in self.tokens:
            raise AccountError(f"no token {token_id!r}")
        self.tokens[token_id]["revoked"] = True

    @event("Disabled")
    def disable(self, *, reason: str) -> None:
        self.disabled = True
