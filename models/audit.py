"""The audit trail: every read of restricted data (owners, ID numbers) by a person, every
refused sign-in under the login that was tried, and every change one person made to an account
(a password change, an unlock, a revoke).

One `AuditTrail` aggregate per login per UTC day keeps aggregates short and concurrent writers
rare (one person reads one page at a time). The event's own timestamp is the "when".
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from models.ids import NAMESPACE


def audit_trail_id(login: str, day: str) -> UUID:
    """`day` is an ISO date (UTC)."""
    return uuid5(NAMESPACE, f"audit:{login}:{day}")


class AuditTrail(Aggregate):
    """What restricted data one person read on one day."""

    @staticmethod
    def create_id(login: str, day: str) -> UUID:
        return audit_trail_id(login, day)

    @event("Opened")
    def __init__(self, *, login: str, day: str) -> None:
        self.login = login
        self.day = day
        self.reads = 0

    @event("RestrictedDataRead")
    def record_read(
        self, *, role: str, subject_id: str, attributes: list[str], action: str, client: str
    ) -> None:
        """Who (this trail's login and `role`) read which `attributes` of `subject_id`, how
        (`action`: the route or query) and from where (`client`: the address)."""
        self.reads += 1

    @event("SignInRefused")
    def refuse_sign_in(self, *, client: str, reason: str) -> None:
        """A sign-in as this trail's login was refused (`reason`: wrong password, unknown
        login, locked) from `client` (the address)."""

    @event("AccountChanged")
    def record_account_change(self, *, role: str, account: str, action: str, client: str) -> None:
        """This trail's login (in `role`) changed the account of login `account`: `action` says
        how (password changed, lockout lifted, sessions and tokens ended), `client` from where."""
