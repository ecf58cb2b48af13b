"""The web app: one wiring point for the portal (`/`), the officer console (`/land`) and the
staff pages (`/staff`), their JSON APIs and the OpenAPI docs (`/docs`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from models.errors import NotFoundError
from pipeline.bootstrap import Services
from pipeline.settings import WebSettings
from pipeline.usecases.accounts import ensure_user
from pipeline.usecases.uploads import Uploads
from storage import BlobNotFoundError
from web import ops, routes_auth, routes_files
from web.auth import LoginRequiredError, login_redirect
from web.land import routes as routes_land
from web.portal import cite as routes_cite
from web.portal import iiif_routes as routes_iiif
from web.portal import routes as routes_public
from web.portal.iiif_edge import IiifEdge
from web.portal.ratelimit import RateLimiter
from web.staff import accounts as routes_accounts
from web.staff import captures as routes_captures
from web.staff import dashboard as routes_dashboard
from web.staff import records as routes_records
from web.staff import review_routes as routes_review
from web.staff import routes as routes_staff
from web.staff import uploads as routes_uploads
from web.throttle import SignInStormGuard, login_throttle

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' blob: data:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def create_app(services: Services, config: WebSettings | None = None) -> FastAPI:
    """The app; `config` defaults to the web section of the services' settings."""
    config = config or services.settings.web
    app = FastAPI(
        title="sohoa",
        version="0.1.0",
        description="Hanoi land records and heritage archive: portal, officer console, staff.",
    )
    state = app.state
    state.services = services
    state.config = config
    state.secret = config.secret(services.settings.data_dir)
    state.search_limiter = RateLimiter(config.search_rate_per_min, config.search_burst)
    state.login_throttle = login_throttle(
        services.settings.broker_url,
        config.login_free_attempts,
        config.login_delay_s,
        config.login_max_delay_s,
    )
    state.uploads = Uploads(
        services.settings.data_dir / "uploads", services.settings.max_file_bytes
    )
    if config.admin_login and config.admin_password:
        ensure_user(services.store, config.admin_login, "archivist", config.admin_password)

    _handlers(app)
    _middleware(app, config)
    app.add_middleware(SignInStormGuard, throttle=state.login_throttle)
    app.add_middleware(IiifEdge)
    # scripts, styles and the map outlines compressed on the wire (leaflet.js: 148 -> 43 KB)
    static = GZipMiddleware(StaticFiles(directory=STATIC), minimum_size=1024)
    app.mount("/static", static, name="static")
    for module in (
        routes_public,
        routes_iiif,
        routes_cite,
        routes_auth,
        routes_land,
        routes_review,
        routes_staff,
        routes_uploads,
        routes_captures,
        routes_records,
        routes_dashboard,
        routes_accounts,
    ):
        app.include_router(module.router)
    app.include_router(routes_files.router)

    ops.install(app, services)  # /healthz, /readyz, /metrics, /api/stats; request timing
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFoundError)
    @app.exception_handler(BlobNotFoundError)
    def not_found(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(LoginRequiredError)
    def to_login(_request: Request, error: LoginRequiredError) -> RedirectResponse:
        return RedirectResponse(login_redirect(error.next_url), status_code=303)


def content_policy(tiles_url: str) -> str:
    """The CSP, letting images come from the map's tile server too (`SOHOA_MAP_TILES_URL`)."""
    parts = urlsplit(tiles_url.replace("{s}", "*"))  # subdomains a, b, c: a CSP wildcard
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return CSP
    return CSP.replace("img-src 'self'", f"img-src 'self' {parts.scheme}://{parts.netloc}", 1)


def _middleware(app: FastAPI, config: WebSettings) -> None:
    csp = content_policy(app.state.services.settings.map_tiles_url)
    app.add_middleware(SecurityHeaders, csp=csp, max_query_bytes=config.max_query_bytes)


class SecurityHeaders:
    """ASGI middleware: 414 for an over-long query string; the CSP, `nosniff` and the referrer
    policy on every response that does not set its own. Plain ASGI rather than
    `@app.middleware("http")`, which passed every chunk of an upload's body through a task
    and a stream of its own."""

    def __init__(self, app, csp: str, max_query_bytes: int) -> None:
        self.app = app
        self.max_query_bytes = max_query_bytes
        self.defaults = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            detail = f"query string longer than {self.max_query_bytes} bytes"
            await JSONResponse({"detail": detail}, status_code=414)(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.defaults if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
