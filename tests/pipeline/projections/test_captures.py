"""The captures projection over a real event store (SQLite file, and PostgreSQL): `status`,
the staff lists and the sweeper answer from it."""

from __future__ import annotations

import hashlib
from uuid import UUID

import pytest

from models.application import Receipt
from pipeline.dispatch.sweeper import sweep
from pipeline.projections.captures import capture_tables, captures_follower, current, rebuild
from pipeline.usecases.status import capture_states, status
from tests.helpers import make_services


class ListQueue:
    """A job queue that keeps what it was given."""

    def __init__(self) -> None:
        self.jobs: list = []

    def enqueue(self, job) -> None:
        self.jobs.append(job)

    def depth(self) -> dict[str, int]:
        return {"default": len(self.jobs)}


def receive(svc, name: str, **meta) -> UUID:
    sha = hashlib.sha256(name.encode()).hexdigest()
    receipt = Receipt(
        sha256=sha, blob_key=f"blobs/{sha}", size=1000, media_type="image/png",
        kind="document", original_name=f"/home/lan/scans/{name}", source="test",
        operator="lan", meta=meta,
    )  # fmt: skip
    cid, _new = svc.store.receive(receipt)
    return cid


def fail(svc, cid: UUID) -> None:
    svc.store.record_failure(
        cid, job_key=f"inspect-{cid}", stage="inspect", error_class="CorruptImageError",
        message="truncated PNG", attempt=1, permanent=True,
    )  # fmt: skip


def history(svc) -> list[UUID]:
    """Five scans received, the second one failed."""
    ids = [receive(svc, f"{i}.png", collection="sac-phong") for i in range(5)]
    fail(svc, ids[1])
    return ids


def check(svc, ids: list[UUID]) -> None:
    assert capture_states(svc) == {"pending": 4, "done": 0, "partial": 0, "failed": 1}
    tables = capture_tables(svc)
    rows, total = tables.page(None, page=1, size=2)
    assert total == 5
    assert [r["title"] for r in rows] == ["4.png", "3.png"], "newest first, no folders"
    rows, total = tables.page(None, page=3, size=2)
    assert [r["title"] for r in rows] == ["0.png"]
    [failed], total = tables.page("failed")
    assert total == 1 and failed["capture_id"] == str(ids[1])
    assert failed["attempts"] == 1 and "truncated PNG" in failed["failures"]
    assert failed["pending"] == ""
    pending, total = tables.page("pending")
    assert total == 4 and {r["pending"] for r in pending} == {"inspect"}


@pytest.fixture
def sqlite_svc(tmp_path):
    svc = make_services(tmp_path)
    yield svc
    svc.close()


def test_the_lists_and_status_follow_the_log_and_survive_a_rebuild(sqlite_svc):
    ids = history(sqlite_svc)
    check(sqlite_svc, ids)  # brought up to date before answering: no follower running
    report = status(sqlite_svc, [], None)
    assert report["captures"]["total"] == 5 and report["followers"]["captures"]["lag"] == 0
    rebuild(sqlite_svc)
    check(sqlite_svc, ids)


def test_a_repeated_batch_changes_nothing(sqlite_svc):
    ids = history(sqlite_svc)
    follower = captures_follower(sqlite_svc)
    follower.catch_up()
    page = sqlite_svc.store.recorder.select_notifications(1, 100)
    follower.handle(page)  # a crash before the position was stored, or a second follower
    check(sqlite_svc, ids)


def test_counts_move_with_a_capture_received_in_an_earlier_batch(sqlite_svc):
    ids = history(sqlite_svc)
    current(sqlite_svc, catch_up=True)
    fail(sqlite_svc, ids[0])
    assert capture_states(sqlite_svc)["failed"] == 2
    assert capture_tables(sqlite_svc).page("pending")[1] == 3


def test_the_sweeper_enqueues_only_captures_pending_and_quiet(sqlite_svc):
    ids = history(sqlite_svc)
    queue = ListQueue()
    assert sweep(sqlite_svc, queue, quiet_s=3600) == 0, "nothing has been quiet for an hour"
    assert sweep(sqlite_svc, queue, quiet_s=0) == 4
    assert {j.capture_id for j in queue.jobs} == set(ids) - {ids[1]}, "never the failed one"
    assert {j.stage for j in queue.jobs} == {"inspect"}


def test_on_postgresql(tmp_path, pg_url):
    svc = make_services(tmp_path, SOHOA_EVENTSTORE_URL=pg_url)
    try:
        ids = history(svc)
        check(svc, ids)
        queue = ListQueue()
        assert sweep(svc, queue, quiet_s=0) == 4
        rebuild(svc)
        check(svc, ids)
    finally:
        svc.close()
