"""Who is asking: a session cookie (browsers) or a bearer token (API clients), else the public.

A session cookie is `base64url(json {login, exp}).hmac-sha256`, signed with the app's secret;
the account is re-read on each request, so a disabled account loses access at once. A bearer
token that is forged, revoked or expired is a 401 even on public routes: a client that meant
to be someone must not silently become the public.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request

from pipeline.accounts import PUBLIC, Principal, find_account, principal_for_token

SESSION_COOKIE = "sohoa_session"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class LoginRequiredError(Exception):
    """A page for staff was asked for without a session (browsers are sent to /login)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def sign_session(secret: bytes, login: str, hours: float, now: float | None = None) -> str:
    payload = json.dumps({"l": login, "e": int((now or time.time()) + hours * 3600)})
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_mac(secret, body)}"


def read_session(secret: bytes, cookie: str, now: float | None = None) -> str | None:
    """The login a cookie names, if its signature is ours and it has not expired."""
    body, _, mac = cookie.partition(".")
    if not mac or not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("e", 0) < (now or time.time()):
        return None
    return data.get("l")


def _mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


def principal(request: Request) -> Principal:
    """The caller, cached on the request."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    app = request.app.state
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        found = (
            principal_for_token(app.services.store, token.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if found is None:
            raise HTTPException(
                401, "invalid, revoked or expired token", {"WWW-Authenticate": "Bearer"}
            )
        request.state.principal = found
        return found
    who = PUBLIC
    cookie = request.cookies.get(SESSION_COOKIE)
    login = read_session(app.secret, cookie) if cookie else None
    account = find_account(app.services.store, login) if login else None
    if account is not None and not account.disabled:
        _check_origin(request)
        who = Principal(account.login, account.role)
    request.state.principal = who
    return who


def _check_origin(request: Request) -> None:
    """Cookie-authenticated writes must come from our own pages (SameSite=Lax does most)."""
    origin = request.headers.get("origin")
    if (
        request.method in UNSAFE
        and origin
        and urlsplit(origin).netloc != request.headers.get("host")
    ):
        raise HTTPException(403, "cross-site request refused")


Caller = Annotated[Principal, Depends(principal)]


def require(*roles: str):
    """A dependency that lets through only the given staff roles."""

    def check(request: Request, who: Caller) -> Principal:
        if who.login is None:
            if "text/html" in request.headers.get("accept", ""):
                raise LoginRequiredError(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
            raise HTTPException(
                401, "sign in or send a bearer token", {"WWW-Authenticate": "Bearer"}
            )
        if who.role not in roles:
            raise HTTPException(403, f"this needs the {' or '.join(roles)} role")
        return who

    return check


Archivist = Annotated[Principal, Depends(require("archivist"))]
Officer = Annotated[Principal, Depends(require("officer"))]
Staff = Annotated[Principal, Depends(require("archivist", "officer"))]


def login_redirect(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
