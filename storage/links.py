"""Signed, expiring download links of the web app, for blobs on local storage.

S3 presigns its own URLs; local files are served by the web app at
`/files/{capture_id}?expires=UNIX_TIME&sig=HMAC`, signed with a key derived from the web app's
secret, so a link can be shared without an account and stops working when it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

MAX_LIFETIME = timedelta(days=7)
"""The longest a link may last: S3's limit on a presigned URL, kept for both backends."""
DEFAULT_LIFETIME = timedelta(hours=1)
FILES_PATH = "/files"
_LIFETIME = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class LinkRefusedError(Exception):
    """A download link that is forged, altered or expired."""


def parse_lifetime(text: str) -> timedelta:
    """`30m`, `1h`, `7d` (also `90s`) → a timedelta between 1 second and 7 days."""
    match = _LIFETIME.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a lifetime such as 30m, 1h or 7d")
    lifetime = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if lifetime <= timedelta(0):
        raise ValueError("a link must last at least 1 second")
    if lifetime > MAX_LIFETIME:
        raise ValueError(f"a link lasts at most 7 days (S3's limit), not {text}")
    return lifetime


def _key(secret: bytes) -> bytes:
    """A key of its own for links, so a link's signature is never valid as anything else."""
    return hmac.new(secret, b"sohoa download link", hashlib.sha256).digest()


def signature(secret: bytes, capture_id: str, expires_at: int) -> str:
    message = f"{FILES_PATH}/{capture_id}:{expires_at}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def signed_path(secret: bytes, capture_id: str, expires_at: datetime) -> str:
    """`/files/{capture_id}?expires=…&sig=…`, valid until `expires_at`."""
    when = int(expires_at.timestamp())
    query = urlencode({"expires": when, "sig": signature(secret, capture_id, when)})
    return f"{FILES_PATH}/{capture_id}?{query}"


def check(secret: bytes, capture_id: str, expires_at: int, sig: str, now: datetime) -> None:
    """Raise LinkRefusedError unless `sig` signs this capture and expiry, not yet passed."""
    if not hmac.compare_digest(sig.encode(), signature(secret, capture_id, expires_at).encode()):
        raise LinkRefusedError("this download link is not valid (its signature does not match)")
    if now.timestamp() > expires_at:
        raise LinkRefusedError("this download link has expired; ask for a new one")
