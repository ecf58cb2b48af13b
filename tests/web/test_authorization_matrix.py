"""Who may call which route about which aggregate: every route of the app's own route table ×
{anonymous browser, public API client, officer, archivist} × an id of every aggregate type.

Each route has one entry in MATRIX (a new route without one fails the first test). A role the
route is not for gets 303 (a browser without a session, sent to sign in), 401 or 403; a role
it is for gets 404 for an id of a type the route was not made for, and one of the entry's
statuses for an id it was. No body, for any role, holds a password, token or session hash; no
body for a role that may not see personal data holds a restricted value of the seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from models.account import account_id
from models.audit import audit_trail_id
from pipeline.settings import WebSettings
from pipeline.usecases.accounts import (
    Principal,
    add_user,
    find_account,
    issue_token,
    record_restricted_read,
)
from tests.web.conftest import PASSWORD, csrf_of, login, reindex
from tests.web.seed import RESTRICTED_VALUES, seed
from tests.web.test_security import all_routes
from web.app import create_app

ROLES = ("anonymous", "public client", "officer", "archivist")
STAFF = frozenset({"officer", "archivist"})
EVERYONE = frozenset(ROLES)
ARCHIVIST = frozenset({"archivist"})
OFFICER = frozenset({"officer"})
CAPTURES = frozenset({"capture", "certificate capture"})
RECORDS = frozenset({"parcel", "unpublished parcel", "site"})
PARCELS = frozenset({"parcel", "unpublished parcel"})
PUBLISHED = frozenset({"parcel", "site"})
IDS = ("capture", "certificate capture", "parcel", "unpublished parcel", "site", "account")
AGGREGATES = (*IDS, "audit trail")


@dataclass(frozen=True)
class Entry:
    roles: frozenset[str]
    """Who may call it (EVERYONE: a public route)."""
    ok: frozenset[int]
    """Statuses a caller it is for may get (for an id of a type it serves)."""
    serves: frozenset[str] = frozenset()
    """Aggregate types its `{ident}` may name; empty: the route takes no aggregate id."""
    json: dict | None = None
    data: dict | None = None
    params: dict = field(default_factory=dict)
    fresh_session: bool = False
    """It ends the caller's session (sign out): called with a session of its own."""
    form_token: bool = False
    """The form carries the pre-session CSRF token of the page it is on (sign-in)."""


def e(roles, *ok, serves=frozenset(), **kw) -> Entry:
    return Entry(frozenset(roles), frozenset(ok), frozenset(serves), **kw)


CHANGE = {"kind": "renumber", "effective": "2020-01-01", "basis": "matrix"}
"""A change of lineage the console refuses (its new number is not a parcel): state stays."""

MATRIX: dict[tuple[str, str], Entry] = {
    # public: portal, public API, IIIF (published heritage only), sign in and out, docs
    ("GET", "/"): e(EVERYONE, 200),
    ("GET", "/api/search"): e(EVERYONE, 200, params={"q": "Dương"}),
    ("GET", "/records/{ident}"): e(EVERYONE, 200, serves=PUBLISHED),
    ("GET", "/api/public/records/{ident}"): e(EVERYONE, 200, serves=PUBLISHED),
    ("GET", "/api/public/records/{ident}/history"): e(EVERYONE, 200, serves=PUBLISHED),
    ("GET", "/iiif/{ident}/manifest.json"): e(EVERYONE, 200, serves={"capture"}),
    ("GET", "/iiif/{ident}/thumbnail.jpg"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/iiif/{ident}/{page}/info.json"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/iiif/{ident}/{page}/full/{size}/0/default.jpg"): e(
        EVERYONE, 200, 404, serves={"capture"}
    ),
    ("GET", "/iiif/{ident}/search"): e(EVERYONE, 200, serves={"capture"}, params={"q": "văn"}),
    ("GET", "/iiif/{ident}/search1"): e(EVERYONE, 200, serves={"capture"}, params={"q": "van"}),
    ("GET", "/iiif/{ident}/{page}/alto.xml"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/iiif/{ident}/{page}/hocr.html"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/iiif/{ident}/{page}/text.txt"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/iiif/{ident}/text.txt"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/iiif/{ident}/document.pdf"): e(EVERYONE, 200, 404, serves={"capture"}),
    ("GET", "/records/{ident}/pages/{capture_id}/{n}"): e(EVERYONE, 404, serves=PUBLISHED),
    ("GET", "/api/public/captures/{ident}/pages/{n}/words"): e(
        EVERYONE, 200, 404, serves={"capture"}
    ),
    ("GET", "/public/captures/{ident}/model.glb"): e(EVERYONE, 404, serves={"capture"}),
    ("GET", "/public/captures/{ident}/preview.png"): e(EVERYONE, 404, serves={"capture"}),
    ("GET", "/files/{capture_id}"): e(EVERYONE, 403, params={"expires": 1, "sig": "0" * 64}),
    ("GET", "/login"): e(EVERYONE, 200),
    ("POST", "/login"): e(
        EVERYONE, 401, data={"login": "lan", "password": "not it at all"}, form_token=True
    ),
    ("POST", "/logout"): e(EVERYONE, 303, fresh_session=True),
    ("GET", "/healthz"): e(EVERYONE, 200),
    ("GET", "/readyz"): e(EVERYONE, 200),
    ("GET", "/metrics"): e(EVERYONE, 200),
    ("GET", "/api/stats"): e(EVERYONE, 200),
    ("GET", "/staff/dashboard"): e(STAFF, 200),
    ("GET", "/api/staff/dashboard"): e(STAFF, 200),
    ("POST", "/api/staff/dashboard/targets"): e(STAFF, 200),
    ("GET", "/openapi.json"): e(EVERYONE, 200),
    ("GET", "/docs"): e(EVERYONE, 200),
    ("GET", "/docs/oauth2-redirect"): e(EVERYONE, 200),
    ("GET", "/redoc"): e(EVERYONE, 200),
    # own API tokens
    ("POST", "/api/tokens"): e(STAFF, 200, json={"label": "matrix"}),
    ("GET", "/api/tokens"): e(STAFF, 200),
    ("POST", "/api/password"): e(STAFF, 403, json={"current": "wrong one", "new": "x" * 12}),
    ("DELETE", "/api/tokens/{token_id}"): e(STAFF, 404),
    # land officers: parcels with their owners
    ("GET", "/land"): e(OFFICER, 200),
    ("GET", "/api/land/parcels"): e(
        OFFICER, 200, params={"unit": "00031", "sheet": "12", "number": "45"}
    ),
    ("GET", "/land/parcels/{ident}"): e(OFFICER, 200, serves=PARCELS),
    ("GET", "/api/land/parcels/{ident}"): e(OFFICER, 200, serves=PARCELS),
    ("GET", "/api/land/owners"): e(OFFICER, 200, params={"name": "Phùng"}),
    ("POST", "/land/parcels/{ident}/changes"): e(
        OFFICER, 303, serves=PARCELS, data={**CHANGE, "into": "not a parcel"}
    ),
    ("POST", "/api/land/parcels/{ident}/changes"): e(
        OFFICER, 400, serves=PARCELS, json={**CHANGE, "into": ["not a parcel"]}
    ),
    ("GET", "/api/land/export/parcels"): e(OFFICER, 200, params={"format": "geojson"}),
    # staff: captures
    ("GET", "/api/captures/{ident}"): e(STAFF, 200, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/history"): e(STAFF, 200, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/thumbnail"): e(STAFF, 200, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/text"): e(STAFF, 200, 404, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/pdf"): e(STAFF, 404, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/pages/{page}/hocr"): e(STAFF, 404, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/fields"): e(STAFF, 200, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/model.glb"): e(STAFF, 404, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/model"): e(STAFF, 200, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/pages/{n}/image.jpg"): e(STAFF, 200, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/pages/{n}/crop.jpg"): e(
        STAFF, 200, 404, serves=CAPTURES, params={"box": "0,0,10,10"}
    ),
    ("GET", "/api/captures/{ident}/preview.png"): e(STAFF, 404, serves=CAPTURES),
    ("GET", "/api/captures/{ident}/progress"): e(STAFF, 200, serves=CAPTURES),
    ("POST", "/api/captures/{ident}/fields"): e(
        ARCHIVIST, 200, serves=CAPTURES, json={"values": {"area_m2": 99.0}, "reason": "matrix"}
    ),
    ("POST", "/api/captures/{ident}/retry"): e(ARCHIVIST, 409, serves=CAPTURES),
    ("POST", "/staff/captures/{ident}/fields"): e(
        ARCHIVIST, 303, serves=CAPTURES, data={"reason": "matrix"}
    ),
    ("POST", "/staff/captures/{ident}/retry"): e(ARCHIVIST, 303, serves=CAPTURES),
    ("POST", "/api/captures/{ident}/fields/accept"): e(
        ARCHIVIST, 200, serves=CAPTURES, json={"names": ["area_m2"]}
    ),
    # staff: the certificate review queue (a capture with no fields has no field to review)
    ("GET", "/staff/review"): e(ARCHIVIST, 200),
    ("GET", "/staff/review/{ident}"): e(ARCHIVIST, 200, serves=CAPTURES),
    ("POST", "/staff/review/{ident}/fields/{name}"): e(
        ARCHIVIST, 303, 404, serves=CAPTURES, data={"value": "99"}
    ),
    ("POST", "/staff/review/{ident}/blank"): e(ARCHIVIST, 303, serves=CAPTURES),
    ("POST", "/staff/review/{ident}/join/{other}"): e(ARCHIVIST, 303, 409, serves=CAPTURES),
    # staff: records
    ("GET", "/api/records/{ident}"): e(STAFF, 200, serves=RECORDS),
    ("POST", "/api/records/{ident}/attributes"): e(
        ARCHIVIST, 200, serves=RECORDS, json={"attributes": {"note": "matrix"}}
    ),
    ("POST", "/api/records/{ident}/publish"): e(ARCHIVIST, 200, serves=RECORDS),
    ("POST", "/api/records/{ident}/withdraw"): e(
        ARCHIVIST, 200, serves=RECORDS, json={"reason": "matrix"}
    ),
    ("POST", "/staff/records/{ident}/attributes"): e(
        ARCHIVIST, 303, serves=RECORDS, data={"name": "note", "value": "matrix"}
    ),
    ("POST", "/staff/records/{ident}/publish"): e(ARCHIVIST, 303, serves=RECORDS),
    ("POST", "/staff/records/{ident}/withdraw"): e(
        ARCHIVIST, 303, serves=RECORDS, data={"reason": "matrix"}
    ),
    # staff pages, uploads, audit
    ("GET", "/staff"): e(ARCHIVIST, 200),
    ("GET", "/staff/captures/{ident}"): e(ARCHIVIST, 200, serves=CAPTURES),
    ("GET", "/staff/records/{ident}"): e(ARCHIVIST, 200, serves=RECORDS),
    ("GET", "/staff/audit"): e(ARCHIVIST, 200),
    ("POST", "/staff/unlock"): e(ARCHIVIST, 200, data={"login": "minh"}),
    # staff: own password; accounts (an archivist), as `sohoa user unlock/revoke`
    ("GET", "/staff/password"): e(STAFF, 200),
    ("POST", "/staff/password"): e(
        STAFF, 403, data={"current": "wrong one", "new": "x" * 12, "again": "x" * 12}
    ),
    ("GET", "/staff/accounts"): e(ARCHIVIST, 200),
    ("POST", "/staff/accounts/unlock"): e(ARCHIVIST, 303, data={"login": "minh"}),
    ("POST", "/staff/accounts/revoke"): e(ARCHIVIST, 303, data={"login": "thu"}),
    ("POST", "/api/captures"): e(ARCHIVIST, 415, data={"title": "x"}),  # not multipart
    ("POST", "/staff/upload"): e(ARCHIVIST, 415, data={"title": "x"}),
    ("POST", "/api/uploads"): e(ARCHIVIST, 201, json={"name": "a.png"}),
    ("GET", "/api/uploads/{upload_id}"): e(ARCHIVIST, 404),
    ("PUT", "/api/uploads/{upload_id}"): e(ARCHIVIST, 404, params={"offset": 0}),
    ("POST", "/api/uploads/{upload_id}/complete"): e(ARCHIVIST, 404),
    ("DELETE", "/api/uploads/{upload_id}"): e(ARCHIVIST, 404),
}


def routes_of(app) -> set[tuple[str, str]]:
    out = set()
    for route in all_routes(app.routes):
        if isinstance(route, Mount):
            continue
        out |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return out


@pytest.fixture
def world(svc, tmp_path):
    seeded = seed(svc, tmp_path / "seed")
    add_user(svc.store, "lan", "archivist", PASSWORD)
    add_user(svc.store, "minh", "officer", PASSWORD)
    add_user(svc.store, "thu", "officer", PASSWORD)  # whose access the matrix revokes
    issue_token(svc.store, "minh", "old", timedelta(days=1))
    record_restricted_read(
        svc.store, Principal("minh", "officer"), seeded.hidden_parcel, ["x"], "t"
    )
    reindex(svc)
    ids = {
        "capture": seeded.public_capture,
        "certificate capture": seeded.certificate,
        "parcel": seeded.published_parcel,
        "unpublished parcel": seeded.hidden_parcel,
        "site": seeded.public_site,
        "account": account_id("lan"),
        "audit trail": _trail(svc),
    }
    return ids


def _trail(svc) -> UUID:
    from datetime import UTC, datetime

    return audit_trail_id("minh", datetime.now(UTC).date().isoformat())


@pytest.fixture
def matrix_app(svc, world):
    return create_app(svc, WebSettings(search_rate_per_min=60_000, search_burst=10_000))


def clients(app) -> dict[str, TestClient]:
    anonymous = TestClient(app, follow_redirects=False, headers={"Accept": "text/html"})
    api = TestClient(app, follow_redirects=False, headers={"Accept": "application/json"})
    officer = login(TestClient(app, follow_redirects=False), "minh")
    archivist = login(TestClient(app, follow_redirects=False), "lan")
    return {
        "anonymous": anonymous,
        "public client": api,
        "officer": officer,
        "archivist": archivist,
    }


def secrets_of(svc) -> list[str]:
    """Every password, token and session hash the store holds, and their markers."""
    out = ["scrypt$"]
    for name in ("lan", "minh"):
        account = find_account(svc.store, name)
        out.append(account.password_hash.split("$")[-1])
        out += [t["hash"] for t in account.tokens.values()]
    return out


def test_every_route_has_an_entry_in_the_matrix(matrix_app):
    routes = routes_of(matrix_app)
    missing = routes - set(MATRIX)
    assert not missing, f"routes without an entry in the authorization matrix: {missing}"
    assert not set(MATRIX) - routes, f"entries for routes that are gone: {set(MATRIX) - routes}"


def expected(entry: Entry, role: str, kind: str | None, method: str) -> frozenset[int]:
    if role not in entry.roles:
        if role in STAFF:
            return frozenset({403})
        return frozenset({303 if role == "anonymous" else 401})
    if entry.serves and kind not in entry.serves:
        return frozenset({404})
    return entry.ok


def url_for(path: str, ident: UUID | None) -> str:
    values = {"page": "1", "n": "1", "size": "max", "token_id": "x", "upload_id": "0" * 32}
    values["name"] = "area_m2"  # a certificate field
    values |= {"ident": str(ident), "capture_id": str(ident), "other": str(ident)}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def call(app, client: TestClient, role: str, method: str, path: str, entry: Entry, ident):
    if entry.fresh_session and role in STAFF:
        name = "lan" if role == "archivist" else "minh"
        client = login(TestClient(app, follow_redirects=False), name)
    data = entry.data
    if entry.form_token:
        data = {**data, "csrf_token": csrf_of(client.get("/login").text)}
    return client.request(
        method, url_for(path, ident), params=entry.params, json=entry.json, data=data
    )


def check(svc, response, role: str, where: str, secrets: list[str]) -> None:
    body = response.text
    assert not [s for s in secrets if s in body], f"{where}: a credential hash in the body"
    if role not in STAFF or response.status_code >= 300:
        folded = body.casefold()
        leaked = [v for v in RESTRICTED_VALUES if v.casefold() in folded]
        assert not leaked, f"{where}: restricted values {leaked}"


def test_every_route_answers_every_role_about_every_aggregate(svc, world, matrix_app):
    routes = sorted(routes_of(matrix_app), key=lambda r: (r[0] != "GET", r[1]))  # reads first
    by_role = clients(matrix_app)
    secrets = secrets_of(svc)
    wrong = []
    for method, path in routes:
        entry = MATRIX[(method, path)]
        takes_id = "{ident}" in path or "{capture_id}" in path
        for role in ROLES:
            for kind in AGGREGATES if takes_id else (None,):
                ident = world[kind] if kind else None
                r = call(matrix_app, by_role[role], role, method, path, entry, ident)
                where = f"{method} {path} as {role} with {kind}: {r.status_code}"
                if r.status_code not in expected(entry, role, kind, method):
                    wrong.append(where)
                check(svc, r, role, where, secrets)
    assert not wrong, "\n".join(wrong)


def test_no_route_serves_an_account_history_nor_any_credential(svc, world, matrix_app):
    client = clients(matrix_app)["officer"]
    for kind in ("account", "audit trail"):
        r = client.get(f"/api/captures/{world[kind]}/history")
        assert r.status_code == 404, (kind, r.text)
    token = issue_token(svc.store, "minh", "t", timedelta(days=1))[1]
    digest = hashlib.sha256(token.encode()).hexdigest()
    for path in ("/api/tokens", f"/api/captures/{world['capture']}/history"):
        body = client.get(path).text
        assert digest not in body and "scrypt$" not in body
