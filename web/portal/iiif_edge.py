"""What every `/iiif/` request gets before the app: CORS, and a Content Search answer to an
over-long query.

CORS: any origin may read the public IIIF resources, so a viewer on another site (Mirador,
Universal Viewer) can fetch a manifest and draw its pages on a canvas it may read back.

Only paths under `/iiif/` get the headers, errors included (a viewer must be able to read a 404
to say "not found" rather than "network error"); the rest of the app stays same-origin. No
credentials are ever allowed: every IIIF resource is public, so `*` is the honest answer.

An over-long Content Search query gets the search's own refusal (400 and an empty
AnnotationPage, as an empty query does) rather than the app's generic 414 for long query
strings, so a viewer shows "no results" and why.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.portal.content_search import MAX_QUERY_CHARS, empty_page

PREFIX = "/iiif/"
METHODS = "GET, HEAD, OPTIONS"
MAX_AGE = "86400"
SEARCH = re.compile(r"^/iiif/[^/]+/search1?$")
MAX_SEARCH_QUERY_BYTES = 12 * MAX_QUERY_CHARS
"""Enough for MAX_QUERY_CHARS characters of Vietnamese, percent-encoded (up to 9 bytes each)."""


class IiifEdge:
    """ASGI middleware: `Access-Control-Allow-Origin: *` on `/iiif/` responses, and the answer
    to their preflight requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(headers, send)
            return
        query = scope.get("query_string", b"")
        if len(query) > MAX_SEARCH_QUERY_BYTES and SEARCH.match(scope["path"]):
            await _too_long(scope, len(query), send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = "*"
                out["Cross-Origin-Resource-Policy"] = "cross-origin"
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _preflight(headers: Headers, send: Send) -> None:
    allowed = headers.get("access-control-request-headers", "")
    out = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", METHODS.encode()),
        (b"access-control-max-age", MAX_AGE.encode()),
        (b"content-length", b"0"),
    ]
    if allowed:
        out.append((b"access-control-allow-headers", allowed.encode("latin-1")))
    await send({"type": "http.response.start", "status": 204, "headers": out})
    await send({"type": "http.response.body", "body": b""})


async def _too_long(scope: Scope, size: int, send: Send) -> None:
    reason = f"query of {size} bytes; at most {MAX_QUERY_CHARS} characters"
    body = json.dumps(empty_page(scope["path"], reason)).encode()
    out = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"access-control-allow-origin", b"*"),
    ]
    await send({"type": "http.response.start", "status": 400, "headers": out})
    await send({"type": "http.response.body", "body": body})
