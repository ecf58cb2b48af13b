"""CORS for the public IIIF resources: any origin may read them, so a viewer on another site
(Mirador, Universal Viewer) can fetch a manifest and draw its pages on a canvas it may read back.

Only paths under `/iiif/` get the headers, errors included (a viewer must be able to read a 404
to say "not found" rather than "network error"); the rest of the app stays same-origin. No
credentials are ever allowed: every IIIF resource is public, so `*` is the honest answer.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/iiif/"
METHODS = "GET, HEAD, OPTIONS"
MAX_AGE = "86400"


class IiifCors:
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
