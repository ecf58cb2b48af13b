"""Jinja2 pages: autoescaped everywhere, with the language and the caller in every page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from web.auth import CSRF_COOKIE, page_csrf, principal
from web.i18n import LANG_COOKIE, lang_of, translator
from web.labels import Labels

TEMPLATES = Path(__file__).parent / "templates"
_MARK = re.compile(r"(</?mark>)")


def safe_highlight(snippet: str) -> Markup:
    """A search highlight as markup whose only tags are <mark>: every other character is
    decoded then escaped again, so a title holding a script renders as text."""
    parts = []
    for piece in _MARK.split(snippet or ""):
        parts.append(
            Markup(piece) if piece in ("<mark>", "</mark>") else escape(html.unescape(piece))
        )
    return Markup("").join(parts)


def metric(value: Any, name: str = "") -> str:
    """A model metric for people: sizes in metres to the millimetre, errors in millimetres."""
    if isinstance(value, (list, tuple)):
        return " × ".join(metric(v) for v in value) + (" m" if name == "bbox_m" else "")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    if name == "rmse_m":
        return f"{value * 1000:.2f} mm"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    unit = {"surface_area_m2": " m²", "volume_m3": " m³", "reprojection_error_px": " px"}
    return f"{value:.3f}".rstrip("0").rstrip(".") + unit.get(name, "")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = safe_highlight
    env.filters["metric"] = metric
    return env


ENV = _environment()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)
    csrf, new = page_csrf(request)
    page = ENV.get_template(name).render(
        request=request,
        lang=lang,
        t=translator(lang),
        label=Labels(lang),
        base_map=_base_map(request),
        who=principal(request),
        csrf_token=csrf,
        **context,
    )
    response = HTMLResponse(page, status_code=status_code)
    if new:
        secure = request.app.state.config.secure_cookies
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _base_map(request: Request) -> dict[str, str]:
    """The maps' tile URL and credit line (`SOHOA_MAP_TILES_URL`, `SOHOA_MAP_ATTRIBUTION`)."""
    settings = request.app.state.services.settings
    return {"tiles": settings.map_tiles_url, "attribution": settings.map_attribution}
