"""Sign in and out (session cookie), and API tokens for staff."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from models.account import AccountError
from pipeline.accounts import authenticate, find_account, issue_token, revoke_token
from web.auth import SESSION_COOKIE, Staff, sign_session
from web.templating import render

router = APIRouter(tags=["auth"])


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next_url=_local(next), failed=False)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
):
    state = request.app.state
    account = authenticate(state.services.store, login, password)
    if account is None:
        return render(request, "login.html", 401, next_url=_local(next), failed=True)
    home = {"archivist": "/staff", "officer": "/land"}[account.role]
    target = _local(next) if next not in ("", "/") else home
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(state.secret, account.login, state.config.session_hours),
        max_age=int(state.config.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=state.config.secure_cookies,
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


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
