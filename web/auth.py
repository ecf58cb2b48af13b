"""Who is asking: a session cookie (browsers) or a bearer token (API clients), else the public.

A session cookie holds a random token naming a server-side `Session` (`pipeline.usecases.accounts`):
signing out, `sohoa user revoke`, a password change, the idle and the absolute timeouts end it
for every copy of the cookie. The account is re-read on each request, so a disabled account
loses access at once. A bearer token that is forged, revoked or expired is a 401 even on public
routes: a client that meant to be someone must not silently become the public.

CSRF: every state-changing request made with a session cookie carries the session's CSRF token
(`X-CSRF-Token` header, or a `csrf_token` form field; a multipart form in its action's query);
sign-in carries the token of a pre-session cookie (double submit). Bearer calls are exempt:
a browser never adds that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from pipeline.settings import WebSettings
from pipeline.usecases.accounts import (
    PUBLIC,
    Principal,
    end_session,
    find_account,
    principal_for_token,
    session_principal,
    start_session,
)
from pipeline.usecases.staff_accounts import prune_sessions

SESSION_COOKIE = "sohoa_session"
CSRF_COOKIE = "sohoa_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CSRF_REFUSED = "missing or wrong CSRF token: reload the page and try again"


class LoginRequiredError(Exception):
    """A page for staff was asked for without a session (browsers are sent to /login)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def csrf_for(secret: bytes, session_token: str) -> str:
    """The CSRF token of a session (derived, so nothing more is stored)."""
    return hmac.new(secret, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


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
    if cookie:
        found = session_principal(app.services.store, cookie, *session_limits(app.config))
        if found is not None:
            _check_origin(request)
            who = found
            request.state.csrf = csrf_for(app.secret, cookie)
    request.state.principal = who
    return who


async def csrf_guard(request: Request) -> None:
    """Refuse a state-changing request made with a cookie that lacks its CSRF token."""
    if request.method not in UNSAFE or "authorization" in request.headers:
        return
    signed_in = principal(request).login is not None
    if request.url.path == "/login":
        expected = request.cookies.get(CSRF_COOKIE) or (request.state.csrf if signed_in else "")
    elif signed_in:
        expected = request.state.csrf
    else:
        return  # no session: the route itself refuses the public (401)
    sent = request.headers.get(CSRF_HEADER) or await _form_token(request)
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, CSRF_REFUSED)


async def _form_token(request: Request) -> str:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return request.query_params.get(CSRF_FIELD, "")  # multipart bodies are streamed to disk


def page_csrf(request: Request) -> tuple[str, bool]:
    """The CSRF token a page's forms carry, and whether it is a new pre-session token that
    the response must set as the CSRF cookie."""
    if principal(request).login is not None:
        return getattr(request.state, "csrf", ""), False  # "": a bearer client, no forms
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) <= 100:
        return existing, False
    return secrets.token_urlsafe(32), True


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


def with_session(request: Request, response: Response, token: str) -> Response:
    """Set the session cookie of a new session on `response`."""
    config = request.app.state.config
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(config.session_max_h * 3600),
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
    )
    response.delete_cookie(CSRF_COOKIE)  # the pre-session token is spent
    return response


def renew_session(request: Request, response: Response, reason: str) -> None:
    """This browser goes on in a new session (after a password change ended every session
    started before it); a bearer client has no session to renew."""
    old = request.cookies.get(SESSION_COOKIE)
    login = principal(request).login
    if not old or login is None:
        return
    store = request.app.state.services.store
    token = start_session(store, find_account(store, login), client_address(request))
    end_session(store, old, reason)
    with_session(request, response, token)


def prune_sessions_later(request: Request, response: Response) -> None:
    """After the response, remove ended and timed-out sessions (`prune_sessions`), at most
    once an idle timeout (and at least a minute) per process: called on every sign-in, so the
    store keeps only the sessions that may still be used."""
    state, config = request.app.state, request.app.state.config
    every = max(60.0, config.session_idle_min * 60)
    last = getattr(state, "sessions_pruned_at", None)
    if last is not None and time.monotonic() - last < every:
        return
    state.sessions_pruned_at = time.monotonic()
    response.background = BackgroundTask(
        prune_sessions, state.services.store, *session_limits(config)
    )


def session_limits(config: WebSettings) -> tuple[timedelta, timedelta]:
    """The idle and the absolute timeout of sessions."""
    return timedelta(minutes=config.session_idle_min), timedelta(hours=config.session_max_h)
