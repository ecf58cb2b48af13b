"""What operators and the city's systems read: health, readiness, metrics, open numbers."""

from __future__ import annotations

import time
from dataclasses import replace
from uuid import uuid4

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pipeline.projections.follower import stats_follower
from pipeline.settings import WebSettings
from tests.web.conftest import sign_in
from tests.web.seed import RESTRICTED_VALUES, seed
from web import ops
from web.app import create_app


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return sum(
        v
        for (n, ls), v in samples(text).items()
        if n == name and all((k, x) in ls for k, x in labels.items())
    )


def test_health_and_readiness_on_embedded_defaults(public):
    assert public.get("/healthz").json() == {"ok": True}
    ready = public.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) >= {"event_store", "blob_store", "search_index", "stats"}


class HangingIndex:
    """A search node busy reindexing: every call waits far longer than a probe may."""

    def position(self, follower: str) -> int:
        time.sleep(5)
        return 0


def test_a_hanging_search_node_makes_readyz_say_so_quickly_and_metrics_stay_fast(svc, app):
    svc.__dict__["index"] = HangingIndex()
    client = TestClient(app)
    start = time.monotonic()
    ready = client.get("/readyz")
    assert time.monotonic() - start < 3.5
    assert ready.status_code == 503
    assert "no answer" in ready.json()["checks"]["search_index"]["detail"]
    assert ready.json()["checks"]["event_store"]["ok"]
    start = time.monotonic()
    scrape = client.get("/metrics")
    assert scrape.status_code == 200 and time.monotonic() - start < 0.5


def test_a_follower_far_behind_and_not_moving_is_not_ready(svc, app, monkeypatch):
    """Events recorded while no `follow` process runs: the stats follower is behind."""
    monkeypatch.setattr(ops, "STALL_S", -1.0)
    svc.settings = replace(svc.settings, ready_max_lag=0)
    ready = TestClient(app).get("/readyz")
    assert ready.status_code == 503
    assert "not moving" in ready.json()["checks"]["stats"]["detail"]


def test_metrics_name_routes_by_template_and_count_failed_sign_ins(public):
    public.get(f"/api/captures/{uuid4()}")
    sign_in(public, "lan", "wrong password entirely")
    text = public.get("/metrics").text
    assert value(text, "sohoa_http_request_duration_seconds_count", route="/api/captures/{ident}")
    assert not any("api/captures/" in str(k) and "{ident}" not in str(k) for k in samples(text))
    assert value(text, "sohoa_login_failures_total") >= 1
    assert "# TYPE sohoa_jobs_total counter" in text


def test_open_numbers_as_json_and_csv_without_personal_data(svc, app, tmp_path):
    seed(svc, tmp_path / "seed")
    stats_follower(svc).catch_up()
    client = TestClient(app)
    data = client.get("/api/stats")
    assert data.status_code == 200 and data.headers["cache-control"].startswith("public")
    stats = data.json()
    assert sum(e["captures"] for e in stats["by_month"]) == 3
    assert stats["published_sites_by_rank"][0]["rank"] == "quốc gia"
    csv_text = client.get("/api/stats?format=csv").text
    assert csv_text.splitlines()[0].startswith("table,month,unit")
    same = client.get("/api/stats", headers={"Accept": "text/csv"})
    assert same.headers["content-type"].startswith("text/csv")
    for body in (data.text, csv_text):
        for secret in RESTRICTED_VALUES:
            assert secret not in body


def test_open_numbers_are_cached_briefly(svc, tmp_path):
    app = create_app(svc)
    client = TestClient(app)
    first = client.get("/api/stats").json()
    seed(svc, tmp_path / "seed")
    stats_follower(svc).catch_up()
    assert client.get("/api/stats").json() == first, "answered from the cache"
    app.state.stats_cache.ttl_s = 0
    assert client.get("/api/stats").json() == first, "a stale answer is served at once"
    deadline = time.monotonic() + 30
    while client.get("/api/stats").json() == first:  # while one thread recomputes it
        assert time.monotonic() < deadline, "the cached numbers were never refreshed"
        time.sleep(0.05)


def test_a_failed_refresh_keeps_the_last_numbers():
    calls = []

    def compute():
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the projection's database went away")
        return "numbers"

    cached = ops.Cached(compute, ttl_s=0)
    assert cached.get() == "numbers"
    assert cached.get() == "numbers"
    deadline = time.monotonic() + 10
    while len(calls) < 2 or cached._refreshing:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert cached.get() == "numbers"


def test_with_an_operators_token_metrics_and_readiness_details_are_theirs_alone(svc):
    """A load balancer still learns ready or not; the reasons and the metrics need the token."""
    client = TestClient(create_app(svc, WebSettings(ops_token="s3cret-ops")))
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    operator = {"Authorization": "Bearer s3cret-ops"}
    assert "# TYPE sohoa_jobs_total counter" in client.get("/metrics", headers=operator).text
    assert "event_store" in client.get("/readyz", headers=operator).json()["checks"]
    assert WebSettings(ops_token="s3cret-ops").redacted()["ops_token"] == "***"
