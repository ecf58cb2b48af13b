"""Security of the HTTP edge: the public API fuzzed against its own OpenAPI document (nothing
restricted, no 5xx), path traversal on every route that serves a file, tokens on every staff
and officer route (enumerated from the app, so a new unguarded route fails), rate limits, and
audit events for restricted reads.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from uuid import UUID

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount

from pipeline.settings import WebSettings
from pipeline.usecases.accounts import add_user, audit_entries, issue_token, revoke_token
from tests.web.conftest import PASSWORD, reindex
from tests.web.seed import PUBLISHED_OWNER, RESTRICTED_VALUES, Seeded, seed
from web.app import create_app

PUBLIC_ROUTES = {
    ("GET", "/"),
    ("GET", "/api/search"),
    ("GET", "/records/{ident}"),
    ("GET", "/api/public/records/{ident}"),
    ("GET", "/api/public/records/{ident}/history"),
    ("GET", "/api/public/captures/{ident}/pages/{n}/words"),
    ("GET", "/iiif/{ident}/manifest.json"),
    ("GET", "/iiif/{ident}/thumbnail.jpg"),
    ("GET", "/iiif/{ident}/{page}/info.json"),
    ("GET", "/iiif/{ident}/{page}/full/{size}/0/default.jpg"),
    ("GET", "/iiif/{ident}/search"),
    ("GET", "/iiif/{ident}/search1"),
    ("GET", "/iiif/{ident}/{page}/alto.xml"),
    ("GET", "/iiif/{ident}/{page}/hocr.html"),
    ("GET", "/iiif/{ident}/{page}/text.txt"),
    ("GET", "/iiif/{ident}/text.txt"),
    ("GET", "/iiif/{ident}/document.pdf"),
    ("GET", "/records/{ident}/pages/{capture_id}/{n}"),
    ("GET", "/public/captures/{ident}/model.glb"),
    ("GET", "/public/captures/{ident}/preview.png"),
    ("GET", "/files/{capture_id}"),  # a signed, expiring link is the permission
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),  # backends' state, no records (README: keep it behind the proxy)
    ("GET", "/metrics"),  # counts and timings, no personal data (README: scrape it inside)
    ("GET", "/api/stats"),  # the city's open numbers
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
"""Every route anyone may call without signing in. Any other route must refuse the public."""
EXAMPLES_PER_OPERATION = 40
SECRET_MARKERS = ("root:x:0:0", "def create_app", "[project]", "PRIVATE KEY")
"""Text of files a traversal would reach: /etc/passwd, web/app.py, pyproject.toml, keys."""


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def world(svc, tmp_path) -> Seeded:
    seeded = seed(svc, tmp_path / "seed")
    reindex(svc)
    return seeded


@pytest.fixture
def open_app(svc, world):
    """The app with staff accounts and a search limit high enough for fuzzing."""
    add_user(svc.store, "lan", "archivist", PASSWORD)
    add_user(svc.store, "minh", "officer", PASSWORD)
    return create_app(svc, WebSettings(search_rate_per_min=60_000, search_burst=10_000))


def bearer(svc, login: str, ttl: timedelta = timedelta(days=1)) -> dict[str, str]:
    _, token = issue_token(svc.store, login, "test", ttl)
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def assert_nothing_restricted(body: str, where: str) -> None:
    folded = body.casefold()
    leaked = [v for v in RESTRICTED_VALUES if v.casefold() in folded]
    assert not leaked, f"{where} leaked {leaked}"


# --- fuzzing the public API ----------------------------------------------------------------------


def public_strategy(app, seeded: Seeded) -> tuple[st.SearchStrategy, int]:
    """Cases for every public operation of the app's OpenAPI document: generated freely,
    valid and invalid, and with each seeded id in `{ident}` (random UUIDs find nothing);
    and how many operations there are."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(tag="public")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, "public operations vanished from the OpenAPI document"
    strategies = []
    for op in operations:
        strategies += [op.as_strategy(), op.as_strategy(schemathesis.GenerationMode.NEGATIVE)]
        if "{ident}" in op.path:
            strategies += [op.as_strategy(path_parameters={"ident": str(i)}) for i in seeded.ids]
    return st.one_of(strategies), len(operations)


def test_fuzzed_public_api_never_shows_restricted_values_nor_fails(open_app, world):
    # Given a store with published and unpublished parcels full of personal data
    strategy, operations = public_strategy(open_app, world)
    seen: dict[int, int] = {}

    # When the public operations are called with generated requests
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION * operations,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call()
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        # Then no response is a server error and none contains a restricted value
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
        assert_nothing_restricted(response.text, f"{case.method} {case.formatted_path}")

    check()
    assert seen.get(200), f"no request succeeded: {seen}"  # the seeded ids were reached


def test_public_routes_with_every_seeded_id_and_restricted_query(open_app, world):
    client = TestClient(open_app)
    paths = [
        "/records/{id}", "/api/public/records/{id}", "/api/public/records/{id}/history",
        "/iiif/{id}/manifest.json", "/iiif/{id}/1/info.json",
    ]  # fmt: skip
    ok = 0
    for ident in world.ids:
        for path in paths:
            r = client.get(path.format(id=ident))
            assert r.status_code in (200, 404), (path, ident, r.status_code)
            assert_nothing_restricted(r.text, f"GET {path} {ident}")
            ok += r.status_code == 200
    assert ok >= 8  # the published parcel, the published site and its scan are served
    for value in RESTRICTED_VALUES:
        for path in ("/api/search", "/"):
            r = client.get(path, params={"q": value})
            assert r.status_code == 200
            assert_nothing_restricted(r.text.replace(value, ""), f"search {value!r}")
        assert client.get("/api/search", params={"q": value}).json()["total"] == 0
    for facet in ("owner", "serial", "registry_number", "id_number"):
        r = client.get("/api/search", params={"facet": f"{facet}={PUBLISHED_OWNER[facet]}"})
        assert r.status_code in (200, 400) and (r.status_code == 400 or r.json()["total"] == 0)


# --- path traversal ------------------------------------------------------------------------------


def raw_get(app, raw_path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET with the path exactly as a client sent it, decoded as uvicorn does (`path` is the
    percent-decoded `raw_path`); HTTP clients would normalise `..` away before sending."""
    path, _, query = raw_path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": unquote(path), "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        + [(b"host", b"testserver")],
    }  # fmt: skip
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


TRAVERSALS = (
    "../../../../etc/passwd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
    "..%5c..%5c..%5cpyproject.toml",
    "%252e%252e%252fetc%252fpasswd",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "....//....//etc/passwd",
    "..",
    "%00",
)


def traversal_targets(app, seeded: Seeded, sha256: str, blob_key: str) -> list[str]:
    """Every GET route with a path parameter (they serve captures, pages, models, blobs and
    uploads) with `{x}` in place of each parameter in turn, the static files, query parameters
    that pick a blob, and another capture's sha256 and content key where an id goes."""
    out = ["/static/{x}", "/static/css/{x}", "/static/../../" + blob_key]
    for route in all_routes(app.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        for name in route.param_convertors:
            path = route.path.replace("{" + name + "}", "{x}")
            out.append(concrete(path, seeded.public_capture))
    c = seeded.public_capture
    out += [f"/api/captures/{c}/model.glb?lod={{x}}", f"/api/captures/{c}/pages/1/hocr?run={{x}}"]
    out += [f"/iiif/{sha256}/thumbnail.jpg", f"/iiif/{blob_key}", f"/api/captures/{sha256}/pdf"]
    return out


def test_no_route_serves_a_file_through_traversal(svc, open_app, world):
    certificate = svc.store.capture(world.certificate)
    staff = bearer(svc, "lan")
    routes = traversal_targets(open_app, world, certificate.sha256, certificate.blob_key)
    assert len(routes) >= 25
    for template in routes:
        for attack in TRAVERSALS:
            path = template.replace("{x}", attack)
            for headers in (None, staff):
                status, body = raw_get(open_app, path, headers)
                where = f"GET {path} ({'staff' if headers else 'public'}): {status}"
                assert status in (400, 401, 403, 404, 405, 422), where
                text = body.decode("utf-8", "replace")
                assert not any(m in text for m in SECRET_MARKERS), where
    status, body = raw_get(open_app, "/static/app.js")  # the real file is still served
    assert status in (200, 404) and not any(
        m in body.decode(errors="replace") for m in SECRET_MARKERS
    )


def test_capture_blobs_are_served_only_to_those_who_may_see_them(svc, open_app, world):
    public = TestClient(open_app)
    # the published site's scan is public; its bytes are served
    thumb = public.get(f"/iiif/{world.public_capture}/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    # a certificate of a published parcel, and a scan of an unpublished site, are not
    for hidden in (world.certificate, world.hidden_capture):
        for path in (
            f"/iiif/{hidden}/thumbnail.jpg",
            f"/iiif/{hidden}/manifest.json",
            f"/iiif/{hidden}/1/info.json",
            f"/iiif/{hidden}/1/full/max/0/default.jpg",
            f"/public/captures/{hidden}/model.glb",
            f"/api/captures/{hidden}/thumbnail",
        ):
            r = public.get(path, headers={"Accept": "application/json"})
            assert r.status_code in (401, 404), (path, r.status_code)
            assert r.content[:2] != b"\xff\xd8", path
    # the certificate's content key and sha256 name no public capture
    cert = svc.store.capture(world.certificate)
    for ident in (cert.sha256, cert.blob_key, cert.thumbnail_key):
        r = public.get(f"/iiif/{ident}/thumbnail.jpg")
        assert r.status_code in (404, 422), (ident, r.status_code)
    # staff may read it
    staff = public.get(f"/api/captures/{world.certificate}/thumbnail", headers=bearer(svc, "lan"))
    assert staff.status_code == 200 and staff.content[:2] == b"\xff\xd8"


# --- tokens on staff and officer routes ----------------------------------------------------------


def guarded_routes(app) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, roles allowed) of every route not in PUBLIC_ROUTES; roles from the
    `web.auth.require` guard in its dependencies, () when it has none (which fails below)."""
    out = []
    for route in all_routes(app.routes):
        if isinstance(route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD" or (method, route.path) in PUBLIC_ROUTES:
                continue
            roles = _guard_roles(route.dependant) if isinstance(route, APIRoute) else ()
            out.append((method, route.path, roles))
    return out


def all_routes(routes: list) -> list:
    """Routes with included routers flattened (FastAPI keeps an included router as one entry;
    they are included without a prefix)."""
    out = []
    for route in routes:
        included = getattr(route, "original_router", None)
        out += all_routes(included.routes) if included is not None else [route]
    return out


def _guard_roles(dependant) -> tuple[str, ...]:
    for dep in dependant.dependencies:
        call = dep.call
        if getattr(call, "__qualname__", "") == "require.<locals>.check":
            [cell] = call.__closure__
            return tuple(cell.cell_contents)
        if found := _guard_roles(dep):
            return found
    return ()


def concrete(path: str, ident: UUID) -> str:
    values = {
        "ident": str(ident),
        "capture_id": str(ident),
        "other": str(ident),
        "page": "1",
        "n": "1",
        "size": "max",
        "token_id": "x",
        "name": "area_m2",  # a certificate field
    }
    values["upload_id"] = "0" * 32
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path.replace("{x}", ""), f"no test value for a parameter of {path}"
    return path


def test_every_staff_and_officer_route_needs_a_valid_token_of_its_role(svc, open_app, world):
    routes = guarded_routes(open_app)
    assert len(routes) >= 30
    unguarded = [(m, p) for m, p, roles in routes if not roles]
    assert not unguarded, f"routes that are neither public nor guarded: {unguarded}"

    client = TestClient(open_app)
    _, expired = issue_token(svc.store, "lan", "old", timedelta(seconds=-1))
    revoked_id, revoked = issue_token(svc.store, "minh", "gone", timedelta(days=1))
    revoke_token(svc.store, "minh", revoked_id)
    valid = bearer(svc, "lan")["Authorization"].split()[1]
    refused = {
        "no token": {},
        "forged": {"Authorization": f"Bearer {valid[:-6]}abcdef"},
        "not ours": {"Authorization": "Bearer sohoa_" + "0" * 64},
        "expired": {"Authorization": f"Bearer {expired}"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "wrong scheme": {"Authorization": f"Basic {valid}"},
        "forged cookie": {"Cookie": "sohoa_session=eyJsIjogImxhbiIsICJlIjogOTk5OTk5OTk5OX0.00"},
    }
    tokens = {"archivist": bearer(svc, "lan"), "officer": bearer(svc, "minh")}
    for method, path, roles in routes:
        url = concrete(path, world.published_parcel)
        for label, headers in refused.items():
            r = client.request(method, url, headers={"Accept": "application/json", **headers})
            assert r.status_code == 401, f"{method} {path} with {label}: {r.status_code}"
            assert_nothing_restricted(r.text, f"{method} {path}")
        for role, headers in tokens.items():
            if role not in roles:
                r = client.request(method, url, headers=headers)
                assert r.status_code == 403, f"{method} {path} as {role}: {r.status_code}"


def test_html_staff_pages_send_the_public_to_sign_in(open_app, world):
    client = TestClient(open_app, follow_redirects=False)
    for method, path, _roles in guarded_routes(open_app):
        if method != "GET" or path.startswith("/api/"):
            continue
        r = client.get(concrete(path, world.published_parcel), headers={"Accept": "text/html"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path


# --- rate limits ---------------------------------------------------------------------------------


def test_a_burst_of_public_searches_is_limited_per_client_not_for_staff(svc, world):
    add_user(svc.store, "lan", "archivist", PASSWORD)
    app = create_app(svc, WebSettings(search_rate_per_min=60, search_burst=5))
    one = TestClient(app, client=("203.0.113.7", 1000))
    other = TestClient(app, client=("203.0.113.8", 1000))

    codes = [one.get("/api/search", params={"q": f"dinh {i}"}).status_code for i in range(8)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    limited = one.get("/", params={"q": "dinh"})  # the HTML portal shares the bucket
    assert limited.status_code == 429
    wait = int(limited.headers["retry-after"])
    assert 1 <= wait <= 60
    assert other.get("/api/search", params={"q": "dinh"}).status_code == 200  # own bucket
    staff = bearer(svc, "lan")
    assert all(
        one.get("/api/search", params={"q": "dinh"}, headers=staff).status_code == 200
        for _ in range(10)
    )
    time.sleep(wait)
    assert one.get("/api/search", params={"q": "dinh"}).status_code == 200  # Retry-After holds


# --- audit of restricted reads -------------------------------------------------------------------


def test_restricted_reads_are_audited_with_who_what_when(svc, open_app, world):
    client = TestClient(open_app)
    officer, archivist = bearer(svc, "minh"), bearer(svc, "lan")
    before = datetime.now(UTC)

    # refused and public reads leave no trace
    client.get(f"/api/land/parcels/{world.published_parcel}")
    client.get(f"/api/land/parcels/{world.published_parcel}", headers=archivist)
    client.get(f"/api/public/records/{world.published_parcel}")
    assert audit_entries(svc.store) == []

    parcel = client.get(f"/api/land/parcels/{world.published_parcel}", headers=officer)
    assert parcel.json()["record"]["attributes"]["owner"] == PUBLISHED_OWNER["owner"]
    record = client.get(f"/api/records/{world.hidden_parcel}", headers=archivist)
    assert record.status_code == 200
    client.get(f"/api/records/{world.public_site}", headers=archivist)  # nothing restricted
    after = datetime.now(UTC)

    entries = audit_entries(svc.store)
    assert len(entries) == 2, entries
    newest, oldest = entries
    assert (oldest["who"], oldest["role"], oldest["subject_id"]) == (
        "minh", "officer", str(world.published_parcel),
    )  # fmt: skip
    assert {"owner", "id_number", "serial", "registry_number", "owner_address"} <= set(
        oldest["attributes"]
    )
    assert oldest["action"] == "parcel page" and oldest["client"] == "testclient"
    assert (newest["who"], newest["role"], newest["subject_id"]) == (
        "lan", "archivist", str(world.hidden_parcel),
    )  # fmt: skip
    for e in entries:
        assert before <= datetime.fromisoformat(e["when"]) <= after
    audit_page = client.get("/staff/audit", headers=archivist).text
    assert "minh" in audit_page and str(world.published_parcel) in audit_page
    assert_nothing_restricted(audit_page, "the audit page")  # it says what was read, not values
