"""THE rule of who may see what: per role, per aggregate type, per part.

Every route, CLI command and search path asks `may_see(role, kind, part)` before it shows a
part of an aggregate, and `is_restricted(part)` to know whether showing it is an audited read.
It also holds what the public may see of records and captures: the allow-list of each record
kind's attributes (`split_attributes`) and when a capture is public (`capture_is_public`),
which the search documents, the portal and redaction all read; it says *who* may see the
restricted rest, and that credentials leave the server for nobody.

Roles: `public` (anyone, signed in or not, on the portal and public API), `archivist` and
`officer` (staff, web), `operator` (someone with the CLI on the server, who could read the
store anyway: everything but credentials, every restricted read audited).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from models.account import Account
from models.audit import AuditTrail
from models.capture import Capture
from models.record import RESTRICTED_ATTRIBUTES, Record


class Role(StrEnum):
    PUBLIC = "public"
    ARCHIVIST = "archivist"
    OFFICER = "officer"
    OPERATOR = "operator"


class Kind(StrEnum):
    """Aggregate types, as the routes serve them."""

    CAPTURE = "capture"
    RECORD = "record"
    ACCOUNT = "account"
    AUDIT = "audit trail"
    OTHER = "other"


class Part(StrEnum):
    PUBLIC_ATTRIBUTES = "public attributes"
    """A record's attributes on its kind's public allow-list (published records only)."""
    RESTRICTED_ATTRIBUTES = "restricted attributes"
    CERTIFICATE_FIELDS = "certificate fields"
    OWNERS = "owners"
    ID_NUMBERS = "id numbers"
    REDACTED_IMAGES = "redacted page images"
    """Page images with personal data blacked out; text with it masked."""
    PAGE_IMAGES = "page images"
    """Page images as scanned (a certificate's show its owner), and unmasked text."""
    REDACTION_BOXES = "redaction boxes"
    """Where personal data is on a page: itself a hint of what is there."""
    CAPTURE_DETAILS = "capture details"
    """Who captured it, where, file names as received, sidecar metadata, processing."""
    HISTORY = "history"
    ACCOUNT_DETAILS = "account details"
    """Login, role, display name, token labels and expiry (never their hashes)."""
    AUDIT_ENTRIES = "audit entries"
    CREDENTIALS = "credentials"
    """Password hashes, token hashes, session hashes: never shown to anyone."""


RESTRICTED_PARTS = frozenset(
    {
        Part.RESTRICTED_ATTRIBUTES,
        Part.CERTIFICATE_FIELDS,
        Part.OWNERS,
        Part.ID_NUMBERS,
        Part.PAGE_IMAGES,
        Part.REDACTION_BOXES,
    }
)
"""Parts holding personal data: showing them to anyone is an audited read."""

_STAFF_CONTENT = frozenset(Part) - {Part.CREDENTIALS, Part.ACCOUNT_DETAILS, Part.AUDIT_ENTRIES}
_RULES: dict[tuple[Kind, Role], frozenset[Part]] = {
    (Kind.RECORD, Role.PUBLIC): frozenset({Part.PUBLIC_ATTRIBUTES, Part.HISTORY}),
    (Kind.CAPTURE, Role.PUBLIC): frozenset({Part.REDACTED_IMAGES}),
    **{(k, r): _STAFF_CONTENT for k in (Kind.RECORD, Kind.CAPTURE) for r in Role if r != "public"},
    (Kind.ACCOUNT, Role.OPERATOR): frozenset({Part.ACCOUNT_DETAILS, Part.HISTORY}),
    (Kind.AUDIT, Role.ARCHIVIST): frozenset({Part.AUDIT_ENTRIES}),
    (Kind.AUDIT, Role.OPERATOR): frozenset({Part.AUDIT_ENTRIES, Part.HISTORY}),
}
"""(aggregate type, role) → the parts that role may see. Public records and captures are
further limited to published ones (`search.documents.capture_is_public`); an account's own
details (its tokens' labels) are shown to its holder by the token routes alone."""

CREDENTIAL_KEYS = frozenset(
    {"password_hash", "token_hash", "session_hash", "hash", "password", "token", "csrf"}
)
"""Keys whose values are secrets or their hashes, wherever they appear in event data."""
REDACTED = "[credential withheld]"


def kind_of(aggregate: object) -> Kind:
    if isinstance(aggregate, Capture):
        return Kind.CAPTURE
    if isinstance(aggregate, Record):
        return Kind.RECORD
    if isinstance(aggregate, Account):
        return Kind.ACCOUNT
    if isinstance(aggregate, AuditTrail):
        return Kind.AUDIT
    return Kind.OTHER


def may_see(role: str, kind: Kind | str, part: Part) -> bool:
    """Whether `role` may be shown `part` of an aggregate of type `kind`."""
    if part == Part.CREDENTIALS:
        return False
    return part in _RULES.get((Kind(kind), Role(role)), frozenset())


def is_restricted(part: Part) -> bool:
    return part in RESTRICTED_PARTS


def without_credentials(value: Any) -> Any:
    """`value` (event data, a view) with every credential replaced, at any depth."""
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k) in CREDENTIAL_KEYS else without_credentials(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [without_credentials(v) for v in value]
    return value


def record_parts(record: Record, restricted_names: frozenset[str]) -> list[Part]:
    """The restricted parts a full view of `record` shows (`restricted_names`: its attribute
    names the public allow-list leaves out)."""
    names = set(record.attributes) & restricted_names
    parts = [Part.RESTRICTED_ATTRIBUTES] if names else []
    if names & {"owner", "owners"}:
        parts.append(Part.OWNERS)
    if names & {"id_number", "owner_id_number"}:
        parts.append(Part.ID_NUMBERS)
    return parts


def visible_changes(role: str, changes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A parcel's dated changes `role` may see: those marked `restricted` (they name people:
    transfers, mortgages, a name or ID in the entry) only with the restricted attributes."""
    if may_see(role, Kind.RECORD, Part.RESTRICTED_ATTRIBUTES):
        return list(changes)
    return [c for c in changes if not c.get("restricted")]


def capture_parts(capture: Capture, shows_personal_data: bool) -> list[Part]:
    """The restricted parts a full view of `capture` shows: its certificate fields and owners
    once extracted, and its unredacted pages when they may show personal data."""
    parts: list[Part] = []
    result = (capture.fields or {}).get("result") or {}
    if capture.fields:
        parts.append(Part.CERTIFICATE_FIELDS)
    if result.get("owners"):
        parts += [Part.OWNERS, Part.ID_NUMBERS]
    if shows_personal_data:
        parts.append(Part.PAGE_IMAGES)
    return parts


# --- What the public may see of records and captures (the index, the portal and redaction
# all read these; `search.documents` builds documents from them).

UNIT_NAMES = ("ward", "ward_old", "ward_new", "district", "district_old", "province")


SITE_PUBLIC = frozenset(
    {"name", "aliases", "type", "rank", "period", "address", "description", "code"}
    | {"has_model", "has_documents", "valid_from", *UNIT_NAMES}
)


PARCEL_PUBLIC = frozenset(
    {"area_m2", "legal_area_m2", "purpose", "purpose_label", "address", "locality"}
    | {"old_unit_code", "old_sheet", "old_parcel_number", "valid_from", *UNIT_NAMES}
)


DOCUMENT_PUBLIC = SITE_PUBLIC


PUBLIC_ATTRIBUTES = {"site": SITE_PUBLIC, "parcel": PARCEL_PUBLIC, "document": DOCUMENT_PUBLIC}


def split_attributes(
    kind: str, attributes: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public, restricted) by the kind's allow-list; personal data is never public."""
    allowed = PUBLIC_ATTRIBUTES.get(kind, frozenset()) - RESTRICTED_ATTRIBUTES
    public = {k: v for k, v in attributes.items() if k in allowed}
    restricted = {k: v for k, v in attributes.items() if k not in allowed}
    return public, restricted


PUBLIC_CAPTURE_KINDS = frozenset({"site", "document"})
"""Record kinds whose captures may be public."""


PRIVATE_CAPTURE_KINDS = frozenset({"land-certificate"})
"""Capture kinds that are never public (a certificate shows its owner)."""


def capture_is_public(records: Sequence[Record], kind: str = "") -> bool:
    """Linked to a published site or archive document, and to no parcel; never a land
    certificate (`kind`), whatever it is linked to."""
    if kind in PRIVATE_CAPTURE_KINDS or any(r.kind not in PUBLIC_CAPTURE_KINDS for r in records):
        return False
    return any(r.published for r in records)
