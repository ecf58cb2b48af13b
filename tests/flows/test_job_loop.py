"""The job loop end to end: ingest → dispatcher → broker → worker → outcome events.

Run on the embedded defaults and on real PostgreSQL, Redis and RabbitMQ. These tests are about
the loop itself, so captures stop after inspection; text and 3D runs have their own tests
(tests/flows/test_text_flow.py, tests/flows/test_model_flow.py).
"""

from __future__ import annotations

import time
import uuid
from uuid import UUID

import pytest

from models.plan import Job
from pipeline.dispatch.dispatcher import dispatcher
from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.helpers import make_services
from workers.broker import DramatiqQueue, make_broker
from workers.runtime import Runtime, wait_until_settled

INSPECT_ONLY = {"SOHOA_AUTO_RUNS": ""}


def mixed_folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    samples.make_tiff(d / "register.tif", pages=3)
    samples.make_jpeg(d / "photo.jpg", 320, 240, exif=True)
    samples.make_pdf(d / "letter.pdf", pages=2)
    samples.make_ply(d / "stele.ply", 2000)
    samples.make_png(d / "page.png", 300, 200)
    return d


def run_loop(svc, folder):
    results = ingest_paths(svc, [folder], None, None, as_json=True)
    ids = [UUID(r.capture_id) for r in results if r.capture_id]
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids, timeout_s=120)
    return ids, states


def assert_inspected(svc, ids):
    facts = {
        svc.store.capture(i).original_names[0].rsplit("/", 1)[-1]: svc.store.capture(i) for i in ids
    }
    assert facts["register.tif"].inspection["pages"] == 3
    assert facts["letter.pdf"].inspection["pages"] == 2
    assert facts["photo.jpg"].inspection["width"] == 320
    assert facts["photo.jpg"].inspection["tags"]["Make"]
    assert facts["stele.ply"].inspection["points"] == 2000
    for capture in facts.values():
        assert capture.thumbnail_key and svc.blobs.exists(capture.thumbnail_key)
        events = [e.event for e in svc.store.history(capture.id)]
        assert events.count("Capture.Inspected") == 1


def test_embedded_defaults_process_every_capture(tmp_path):
    svc = make_services(tmp_path, **INSPECT_ONLY)
    ids, states = run_loop(svc, mixed_folder(tmp_path))
    assert set(states.values()) == {"done"} and len(ids) == 5
    assert_inspected(svc, ids)


@pytest.fixture
def clean_amqp(amqp_url):
    broker = make_broker(amqp_url)
    broker.flush_all()
    broker.close()
    return amqp_url


def test_postgres_and_redis(tmp_path, pg_url, clean_redis):
    svc = make_services(
        tmp_path, **INSPECT_ONLY, SOHOA_EVENTSTORE_URL=pg_url, SOHOA_BROKER_URL=clean_redis
    )
    ids, states = run_loop(svc, mixed_folder(tmp_path))
    assert set(states.values()) == {"done"}
    assert_inspected(svc, ids)


def test_rabbitmq(tmp_path, clean_amqp):
    svc = make_services(tmp_path, **INSPECT_ONLY, SOHOA_BROKER_URL=clean_amqp)
    ids, states = run_loop(svc, mixed_folder(tmp_path))
    assert set(states.values()) == {"done"}
    assert_inspected(svc, ids)


def test_a_message_delivered_twice_has_no_second_effect(tmp_path):
    svc = make_services(tmp_path, **INSPECT_ONLY)
    png = samples.make_png(tmp_path / "p.png", 50, 50)
    [result] = ingest_paths(svc, [png], None, None, as_json=True)
    cid = UUID(result.capture_id)

    assert run_inspect(svc, cid, Attempt(1, False)) == "done"
    assert run_inspect(svc, cid, Attempt(1, False)) == "skipped"

    events = [e.event for e in svc.store.history(cid)]
    assert events == ["Capture.Received", "Capture.Inspected", "Capture.ThumbnailRendered"]


def test_corrupt_content_found_by_the_worker_is_a_permanent_failure(tmp_path):
    svc = make_services(tmp_path, **INSPECT_ONLY)
    bad = samples.make_tiff_with_corrupt_page(tmp_path / "bad.tif", pages=1, bad_page=1)
    [result] = ingest_paths(svc, [bad], None, None, as_json=True)
    if result.status == "rejected":
        pytest.skip("probe already rejects this file at ingest")
    cid = UUID(result.capture_id)

    assert run_inspect(svc, cid, Attempt(1, False)) == "failed"

    failure = svc.store.capture(cid).failures[0]
    assert failure["permanent"] and failure["stage"] == "inspect"
    assert run_inspect(svc, cid, Attempt(1, False)) == "skipped"


def test_a_missing_blob_is_retried_then_recorded_as_failed(tmp_path):
    svc = make_services(tmp_path, **INSPECT_ONLY)
    png = samples.make_png(tmp_path / "p.png", 50, 50)
    [result] = ingest_paths(svc, [png], None, None, as_json=True)
    cid = UUID(result.capture_id)
    svc.blobs.delete(svc.store.capture(cid).blob_key)

    with pytest.raises(Exception):  # noqa: B017 - not the final attempt: Dramatiq retries
        run_inspect(svc, cid, Attempt(1, final=False))
    assert svc.store.capture(cid).failures == []
    assert run_inspect(svc, cid, Attempt(4, final=True)) == "failed"
    assert svc.store.capture(cid).failures[0]["permanent"] is False


class RecordingQueue:
    def __init__(self):
        self.jobs: list[Job] = []

    def enqueue(self, job: Job) -> None:
        self.jobs.append(job)

    def depth(self) -> dict[str, int]:
        return {"default": len(self.jobs)}


def test_dispatcher_resumes_from_its_stored_position(tmp_path):
    svc = make_services(tmp_path, **INSPECT_ONLY)
    for i in range(3):
        ingest_paths(svc, [samples.make_png(tmp_path / f"{i}.png", 10 + i, 10)], None, None, True)
    queue = RecordingQueue()

    first = dispatcher(svc.store, svc.positions, queue)
    assert first.catch_up() >= 3 and len(queue.jobs) == 3
    ingest_paths(svc, [samples.make_png(tmp_path / "4.png", 20, 20)], None, None, True)
    # a restarted dispatcher (new object, same store) only sees what is new
    again = dispatcher(svc.store, svc.positions, queue)
    assert again.lag() > 0
    again.catch_up()
    assert len(queue.jobs) == 4 and again.lag() == 0


def test_two_dispatchers_started_by_mistake_lose_nothing(tmp_path):
    svc = make_services(tmp_path, **INSPECT_ONLY)
    for i in range(5):
        ingest_paths(svc, [samples.make_png(tmp_path / f"{i}.png", 10 + i, 10)], None, None, True)
    queue = RecordingQueue()
    a = dispatcher(svc.store, svc.positions, queue)
    b = dispatcher(svc.store, svc.positions, queue)

    a.run_once()
    b.run_once()  # finds nothing new: a stored the position

    assert {j.capture_id for j in queue.jobs} == set(svc.store.capture_ids())
    assert a.lag() == b.lag() == 0


def test_queue_depth_on_redis(tmp_path, clean_redis):
    broker = make_broker(clean_redis)
    queue = DramatiqQueue(broker)
    queue.enqueue(Job("inspect", uuid.uuid4(), {}))
    assert queue.depth()["default"] == 1
    broker.flush_all()
    broker.close()


def test_s3_storage_end_to_end_with_fixity(tmp_path, s3_url):
    from pipeline.usecases.status import verify

    svc = make_services(tmp_path, **INSPECT_ONLY, SOHOA_STORAGE_URL=s3_url)
    ids, states = run_loop(svc, mixed_folder(tmp_path))

    assert set(states.values()) == {"done"}
    assert_inspected(svc, ids)
    report = verify(svc)
    assert report.passed and report.checked == 10  # 5 originals + 5 thumbnails
    capture = svc.store.capture(ids[0])
    assert svc.blobs.url(capture.blob_key).startswith("http://127.0.0.1:")


def test_s3_unavailable_fails_clearly_after_retries_then_a_rerun_stores_it(tmp_path):
    """Storage down: each file is retried with backoff, then reported as `failed` (not bad
    input), nothing is recorded or half-written; once storage is back the same command
    stores it."""
    import subprocess
    import sys

    from storage.s3 import S3BlobStore
    from tests.conftest import port_open
    from tests.s3server import free_port

    port = free_port()
    url = f"s3://key:secret@127.0.0.1:{port}/bucket?secure=false"
    svc = make_services(tmp_path, **INSPECT_ONLY)
    svc.blobs = S3BlobStore.from_url(url, create_bucket=False)
    png = samples.make_png(tmp_path / "p.png", 10, 10)

    [result] = ingest_paths(svc, [png], None, None, as_json=True)

    assert result.status == "failed" and "unavailable after 4 attempts" in result.error
    assert list(svc.store.capture_ids()) == []
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if port_open("127.0.0.1", port):
                break
            time.sleep(0.1)
        svc.blobs = S3BlobStore.from_url(url, create_bucket=True)
        assert list(svc.blobs.keys()) == []  # nothing half-written by the failed attempts
        [again] = ingest_paths(svc, [png], None, None, as_json=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert again.status == "ingested" and len(list(svc.store.capture_ids())) == 1
