"""The statistics projection over a real event store (SQLite file, and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import date
from uuid import UUID

import pytest

from models.application import Receipt, RecordRef
from models.record import Record
from pipeline.projections.follower import rebuild, stats_follower
from pipeline.usecases.stats import DateRange, dashboard, public_stats
from tests.helpers import make_services

GIANG_VO = {"unit_code": "00031", "era": "pre2025", "sheet": "12", "number": "45"}


def receive(svc, name: str, kind: str = "document", **meta) -> UUID:
    sha = hashlib.sha256(name.encode()).hexdigest()
    receipt = Receipt(
        sha256=sha, blob_key=f"blobs/{sha}", size=1000, media_type="image/png", kind=kind,
        original_name=name, source="test", operator="lan", meta=meta,
    )  # fmt: skip
    links = [RecordRef("parcel", GIANG_VO)] if kind == "land-certificate" else []
    cid, _new = svc.store.receive(receipt, links)
    return cid


def page(svc, cid: UUID, conf: float) -> None:
    svc.store.record_page(
        cid, job_key=f"k-{cid}-{conf}", run=1, page=0, text_key="t", hocr_key=None,
        image_key=None, chars=10, mean_conf=conf, source="ocr", engine="tesseract",
        lang="vie", params={},
    )  # fmt: skip


def history(svc) -> dict[str, UUID]:
    """Two scans of a collection, a certificate linked to a parcel, a failure, a published site."""
    a = receive(svc, "a.png", collection="sac-phong", unit_code="00004", unit_era="2025")
    b = receive(svc, "b.png", collection="sac-phong")
    cert = receive(svc, "gcn.png", kind="land-certificate")
    page(svc, a, 91.0)
    page(svc, cert, 40.0)
    svc.store.record_failure(
        b, job_key="inspect-b", stage="inspect", error_class="CorruptImageError",
        message="truncated PNG", attempt=1, permanent=True,
    )  # fmt: skip
    site = Record(kind="site", key={"code": "01-901"}, source="seed")
    site.record_attributes(attributes={"name": "Đình Hào Nam", "rank": "quốc gia"}, source="seed")
    site.publish()
    svc.store.save(site)
    return {"a": a, "b": b, "cert": cert, "site": site.id}


def counts(svc) -> dict:
    return dashboard(svc, DateRange(date(2000, 1, 1), date(2100, 1, 1)), today=date.today())


def check(svc) -> None:
    view = counts(svc)
    series = view["series"]
    assert sum(p["captures"] for p in series) == 3
    assert sum(p["pages"] for p in series) == 2
    assert view["by_collection"][0] == {"collection": "sac-phong", "captures": 2}
    units = {u["unit"]: u["captures"] for u in view["by_unit"]}
    # the certificate took its parcel's unit (pre-2025 Giảng Võ) when it was linked
    assert units == {"2025:00004": 1, "": 1, "pre2025:00031": 1}
    assert [f for f in view["failures"]] == [{"label": "inspect: CorruptImageError", "count": 1}]
    conf = {c["label"]: c["count"] for c in view["ocr_confidence"]}
    assert conf["85-95"] == 1 and conf["<50"] == 1
    certs = {c["unit"]: c for c in view["certificates"]}
    assert certs["pre2025:00031"]["linked"] == 1
    backlog = {b["age"]: b["captures"] for b in view["backlog"]}
    assert backlog["< 1 day"] == 2, "the failed capture is no longer pending"
    relics = public_stats(svc)["published_sites_by_rank"]
    assert relics == [
        {"unit": "", "unit_name": "(unknown)", "other_era_names": [], "rank": "quốc gia",
         "published": 1}
    ]  # fmt: skip


@pytest.fixture
def sqlite_svc(tmp_path):
    svc = make_services(tmp_path)
    yield svc
    svc.close()


def test_counts_follow_the_log_once_and_survive_a_rebuild(sqlite_svc):
    svc = sqlite_svc
    ids = history(svc)
    follower = stats_follower(svc, batch=3)  # several batches
    assert follower.catch_up() > 0
    check(svc)
    assert follower.lag() == 0
    # a batch handed over again (a crash before the position was kept) counts nothing twice
    again = list(svc.store.recorder.select_notifications(1, 1000))
    follower.handle(again)
    check(svc)
    # withdrawing the site takes it off the public numbers
    svc.store.withdraw(ids["site"], reason="test")
    follower.catch_up()
    assert public_stats(svc)["published_sites_by_rank"] == []
    svc.store.publish(ids["site"])
    rebuild(svc)
    check(svc)


def test_a_second_follower_cannot_count_a_batch_twice(sqlite_svc):
    svc = sqlite_svc
    history(svc)
    first, second = stats_follower(svc), stats_follower(svc)
    page = list(svc.store.recorder.select_notifications(1, 1000))
    first.handle(page)
    second.handle(page)  # it sees the position moved and skips what was counted
    check(svc)


def test_counts_on_postgresql(tmp_path, pg_url):
    svc = make_services(tmp_path, SOHOA_EVENTSTORE_URL=pg_url)
    try:
        history(svc)
        stats_follower(svc).catch_up()
        check(svc)
        rebuild(svc)
        check(svc)
    finally:
        svc.close()
