"""Sign in and out (server-side sessions), password change, unlock, and API tokens for staff.

Sign-in is throttled per client address and per login (`web.throttle`): refused attempts
answer 429 with Retry-After and cost no password hashing; a login that keeps failing is
locked until an archivist unlocks it (`/staff/unlock`, `sohoa user unlock`) or the lockout
ends. Every refused sign-in is audited under the login that was tried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from models.account import AccountError
from pipeline.usecases.accounts import (
    WrongPasswordError,
    authenticate,
    change_own_password,
    end_session,
    find_account,
    issue_token,
    lock_account,
    locked_until,
    record_refused_sign_in,
    revoke_token,
    start_session,
)
from web.auth import (
    SESSION_COOKIE,
    Archivist,
    Staff,
    client_address,
    csrf_guard,
    prune_sessions_later,
    renew_session,
    with_session,
)
from web.staff.accounts import lift_lockout
from web.templating import render

router = APIRouter(tags=["auth"], dependencies=[Depends(csrf_guard)])


class SignInRefusedError(HTTPException):
    """429: too many failed sign-ins (from this address, or of this login)."""

    def __init__(self, wait: float, why: str) -> None:
        seconds = max(1, int(wait + 0.999))
        super().__init__(429, f"{why}; try again in {seconds} s", {"Retry-After": str(seconds)})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next_url=_local(next), failed=False)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
):
    state = request.app.state
    client, name = client_address(request), login.strip().lower()
    _check_throttle(request, client, name)
    account = await run_in_threadpool(authenticate, state.services.store, login, password)
    if account is None:
        await run_in_threadpool(_failed, request, client, name)
        return render(request, "login.html", 401, next_url=_local(next), failed=True)
    state.login_throttle.forget(client)
    state.login_throttle.forget("login:" + name)
    home = {"archivist": "/staff", "officer": "/land"}[account.role]
    target = _local(next) if next not in ("", "/") else home
    token = start_session(state.services.store, account, client)
    response = with_session(request, RedirectResponse(target, status_code=303), token)
    prune_sessions_later(request, response)
    return response


def _check_throttle(request: Request, client: str, name: str) -> None:
    state = request.app.state
    wait = state.login_throttle.wait(client)
    if wait:
        raise SignInRefusedError(wait, "too many failed sign-ins from this address")
    wait = state.login_throttle.wait("login:" + name)
    if wait:
        raise SignInRefusedError(wait, "too many failed sign-ins of this login")
    account = find_account(state.services.store, name) if name else None
    until = locked_until(account) if account is not None else None
    if until is not None:
        wait = (until - datetime.now(UTC)).total_seconds()
        raise SignInRefusedError(
            wait, "this login is locked after too many failed sign-ins; an archivist can unlock it"
        )


def _failed(request: Request, client: str, name: str) -> None:
    """Count and audit a failed sign-in; lock the login once it failed too often in a row."""
    state = request.app.state
    config, store = state.config, state.services.store
    state.login_throttle.failed(client)
    failures = state.login_throttle.failed("login:" + name)
    record_refused_sign_in(store, name or "(empty)", client, "wrong login or password")
    if failures >= config.lockout_after:
        until = datetime.now(UTC) + timedelta(minutes=config.lockout_min)
        lock_account(store, name, until, failures, client)
        state.login_throttle.forget("login:" + name)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> RedirectResponse:
    """End the session on the server (every copy of the cookie stops working)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(request.app.state.services.store, token, "signed out")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


class PasswordChange(BaseModel):
    current: str = Field(..., max_length=1024)
    new: str = Field(..., min_length=8, max_length=1024)


@router.post("/api/password")
def new_password(request: Request, who: Staff, body: PasswordChange) -> Response:
    """Change the caller's password: every other session ends; this one goes on (a new
    session cookie is set)."""
    store = request.app.state.services.store
    try:
        change_own_password(store, who, body.current, body.new, client_address(request))
    except WrongPasswordError as e:
        raise HTTPException(403, str(e)) from None
    except AccountError as e:
        raise HTTPException(422, str(e)) from None
    response = JSONResponse({"changed": True})
    renew_session(request, response, "password changed")
    return response


@router.post("/staff/unlock", include_in_schema=False)
def unlock(
    request: Request, who: Archivist, login: Annotated[str, Form(max_length=64)]
) -> Response:
    """Lift a sign-in lockout (the audit page's form)."""
    done = lift_lockout(request, who, login)
    message = f"{login}: unlocked" if done else f"{login} was not locked"
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/staff/audit?" + urlencode({"unlocked": message}), 303)
    return JSONResponse({"login": login, "unlocked": done, "message": message})


def _local(url: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


class TokenRequest(BaseModel):
    label: str = Field("", max_length=100)
    days: int | None = Field(None, ge=1, le=3650)


@router.post("/api/tokens")
def create_token(request: Request, who: Staff, body: TokenRequest) -> dict:
    """A new API token for the caller, shown once; send it as `Authorization: Bearer …`."""
    state = request.app.state
    days = body.days or state.config.token_days
    token_id, token = issue_token(state.services.store, who.login, body.label, timedelta(days=days))
    return {"id": token_id, "token": token, "days": days}


@router.get("/api/tokens")
def list_tokens(request: Request, who: Staff) -> list[dict]:
    account = find_account(request.app.state.services.store, who.login)
    return [
        {
            "id": tid,
            "label": t["label"],
            "expires_at": t["expires_at"],
            "revoked": bool(t.get("revoked")),
        }
        for tid, t in (account.tokens.items() if account else [])
    ]


@router.delete("/api/tokens/{token_id}")
def delete_token(request: Request, who: Staff, token_id: str) -> dict:
    try:
        revoke_token(request.app.state.services.store, who.login, token_id)
    except AccountError as e:
        raise HTTPException(404, str(e)) from None
    return {"id": token_id, "revoked": True}
