"""Staff accounts on the web: a signed-in person changes their password (`/staff/password`);
an archivist lists the accounts and lifts a lockout or ends someone's sessions and tokens
(`/staff/accounts`), through the same use cases as `sohoa user unlock` and `sohoa user revoke`.

Every change is audited (`AuditTrail.AccountChanged`, listed on `/staff/audit`). Forms carry
the session's CSRF token like every other staff form; after a change the browser is sent on
with 303 (post, redirect, get), the outcome named by a fixed code, never by echoed text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.account import AccountError, normal_login
from pipeline.usecases.accounts import (
    PASSWORD_MIN,
    Principal,
    WrongPasswordError,
    change_own_password,
    revoke_access,
    unlock_account,
)
from pipeline.usecases.staff_accounts import list_accounts
from web.auth import Archivist, Staff, client_address, csrf_guard, renew_session
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])

Secret = Annotated[str, Form(max_length=1024)]
DONE = {"unlocked", "not_locked", "revoked"}
"""The outcomes `/staff/accounts?done=…` may name."""


@router.get("/staff/password", response_class=HTMLResponse, include_in_schema=False)
def password_page(request: Request, who: Staff, changed: bool = False) -> HTMLResponse:
    """The form: current password, the new one twice."""
    return _password_form(request, 200, changed=changed)


@router.post("/staff/password", response_class=HTMLResponse, include_in_schema=False)
def password_change(
    request: Request, who: Staff, current: Secret, new: Secret, again: Secret
) -> Response:
    """A new password for the person signed in: their other sessions end, this browser goes
    on in a new session."""
    if new != again:
        return _password_form(request, 400, error="password_mismatch")
    try:
        change_own_password(
            request.app.state.services.store, who, current, new, client_address(request)
        )
    except WrongPasswordError:
        return _password_form(request, 403, error="password_wrong")
    except AccountError:
        return _password_form(request, 400, error="password_short")
    response = RedirectResponse("/staff/password?changed=true", status_code=303)
    renew_session(request, response, "password changed")
    return response


def _password_form(request: Request, status: int, **context: object) -> HTMLResponse:
    return render(request, "password.html", status, minimum=PASSWORD_MIN, **context)


@router.get("/staff/accounts", response_class=HTMLResponse, include_in_schema=False)
def accounts_page(
    request: Request, who: Archivist, done: str = "", login: str = ""
) -> HTMLResponse:
    """Every account: role, lockout, last sign-in; a lockout to lift, access to end."""
    zone = ZoneInfo(request.app.state.config.time_zone)
    rows = list_accounts(request.app.state.services.store)
    return render(
        request,
        "accounts.html",
        rows=rows,
        local=lambda when: _local(when, zone),
        zone=zone.key,
        done=done if done in DONE else "",
        done_login=_login_or_blank(login),
    )


@router.post("/staff/accounts/unlock", include_in_schema=False)
def unlock(
    request: Request, who: Archivist, login: Annotated[str, Form(max_length=64)]
) -> RedirectResponse:
    """Lift `login`'s sign-in lockout (as `sohoa user unlock`)."""
    return _back("unlocked" if lift_lockout(request, who, login) else "not_locked", login)


def lift_lockout(request: Request, who: Principal, login: str) -> bool:
    """Unlock `login` (False: it was not locked) and forget its recent failures; 404 if there
    is no such account."""
    try:
        done = unlock_account(request.app.state.services.store, login, who, client_address(request))
    except AccountError as e:
        raise HTTPException(404, str(e)) from None
    request.app.state.login_throttle.forget("login:" + normal_login(login))
    return done


@router.post("/staff/accounts/revoke", include_in_schema=False)
def revoke(
    request: Request, who: Archivist, login: Annotated[str, Form(max_length=64)]
) -> RedirectResponse:
    """End every session and API token of `login` (as `sohoa user revoke`)."""
    try:
        revoke_access(request.app.state.services.store, login, who, client_address(request))
    except AccountError as e:
        raise HTTPException(404, str(e)) from None
    return _back("revoked", login)


def _back(done: str, login: str) -> RedirectResponse:
    query = urlencode({"done": done, "login": normal_login(login)})
    return RedirectResponse(f"/staff/accounts?{query}", status_code=303)


def _login_or_blank(login: str) -> str:
    try:
        return normal_login(login) if login else ""
    except AccountError:
        return ""


def _local(when: datetime | None, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else ""
