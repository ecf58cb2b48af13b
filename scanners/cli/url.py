"""`sohoa url ID`: a download link for a capture's original, to share a file without copying it.

On S3 the link is presigned (for `SOHOA_STORAGE_PUBLIC_URL` when set); on local storage it is
a signed path of the web app (`/files/{id}?expires=…&sig=…`), checked by `web.routes_files`
with the same secret as the web app's sessions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import click

from pipeline.bootstrap import Services
from storage import links
from storage.base import download_name

DEFAULT_WEB_URL = "http://127.0.0.1:8000"
"""Where `sohoa serve` listens by default."""


class LinkError(Exception):
    """A capture that has no single original to link to."""


@dataclass(frozen=True)
class DownloadLink:
    capture_id: str
    name: str
    url: str
    expires_at: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.capture_id,
            "name": self.name,
            "url": self.url,
            "expires_at": self.expires_at.isoformat(timespec="seconds"),
        }


def download_link(
    svc: Services,
    capture_id: UUID,
    lifetime: timedelta,
    *,
    secret: bytes,
    web_url: str,
    now: datetime | None = None,
) -> DownloadLink:
    """A link to a capture's original that works for `lifetime` (at most 7 days)."""
    from pipeline.jobs.inspection import SET_TYPES

    if lifetime > links.MAX_LIFETIME:
        raise ValueError("a link lasts at most 7 days (S3's limit)")
    capture = svc.store.capture(capture_id)
    if capture.media_type in SET_TYPES:
        raise LinkError(
            f"capture {capture_id} is a set of files, not one original; "
            "link to its members' captures instead"
        )
    name = download_name(capture.original_names[0])
    expires_at = (now or datetime.now(UTC)) + lifetime
    if svc.blobs.url_scheme == "s3":
        url = svc.blobs.url(capture.blob_key, lifetime, filename=name)
    else:
        url = web_url.rstrip("/") + links.signed_path(secret, str(capture_id), expires_at)
    return DownloadLink(str(capture_id), name, url, expires_at.replace(microsecond=0))


@click.command("url")
@click.argument("ident")
@click.option(
    "--expires",
    default="1h",
    show_default=True,
    help="How long the link works: 30m, 1h, 7d (at most 7d).",
)
@click.option(
    "--web-url",
    help="The web app's address, for links to files on local storage "
    f"[default: SOHOA_STORAGE_PUBLIC_URL, else {DEFAULT_WEB_URL}].",
)
@click.option("--json", "as_json", is_flag=True, help="id, name, url and expiry as JSON.")
def url(ident: str, expires: str, web_url: str | None, as_json: bool) -> None:
    """A download link for a capture's original (presigned on S3, signed by the web app on
    local storage)."""
    from models.errors import NotFoundError
    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings
    from storage import StorageError

    try:
        lifetime = links.parse_lifetime(expires)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--expires") from None
    try:
        capture_id = UUID(ident)
    except ValueError:
        raise click.BadParameter(f"{ident!r} is not a capture id") from None
    settings = Settings.from_env()
    try:
        svc = bootstrap(settings)
        link = download_link(
            svc,
            capture_id,
            lifetime,
            secret=settings.web.secret(settings.data_dir),
            web_url=web_url or settings.storage_public_url or DEFAULT_WEB_URL,
        )
    except (NotFoundError, LinkError, StorageError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(json.dumps(link.as_dict(), ensure_ascii=False) if as_json else link.url)
