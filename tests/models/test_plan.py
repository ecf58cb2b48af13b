"""The pure core of dispatch: `plan`, `jobs_after`, `ready_jobs` and `Capture.state`, on
aggregates built in memory (no store, no broker)."""

from __future__ import annotations

import hashlib

from models.capture import Capture
from models.plan import AFTER, Job, jobs_after, plan, ready_jobs


def _capture(kind: str = "document", name: str = "a.tif") -> Capture:
    return Capture(
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        blob_key="blobs/x",
        size=1,
        media_type="image/tiff",
        kind=kind,
        original_name=name,
        source="test",
        operator="tester",
        meta={},
        member_count=1,
        links=[],
    )


def _last_event(capture: Capture) -> object:
    return capture.collect_events()[-1]


def _inspected(capture: Capture, pages: int = 2) -> Capture:
    capture.record_inspection(job_key="k-inspect", stage="inspect", facts={"pages": pages})
    return capture


def _page(capture: Capture, run: int, page: int) -> None:
    capture.record_page(
        job_key=f"k-{run}-{page}",
        run=run,
        page=page,
        text_key="t",
        hocr_key=None,
        image_key=None,
        chars=3,
        mean_conf=90.0,
        source="ocr",
        engine="tesseract",
        lang="vie",
        params={},
    )


def _fail(capture: Capture, stage: str) -> None:
    capture.record_failure(
        job_key=f"k-{stage}",
        stage=stage,
        error_class="X",
        message="no",
        attempt=1,
        permanent=True,
    )


def _text(capture: Capture, run: int) -> None:
    capture.record_text(
        job_key=f"k-text-{run}",
        run=run,
        text_key="t",
        pdf_key=None,
        pages=2,
        pages_failed=[],
        chars=6,
        mean_conf=90.0,
    )


def test_a_new_capture_plans_only_its_inspection():
    assert plan(_capture()) == ["inspect"]


def test_a_text_run_plans_one_outcome_per_page_then_the_text():
    c = _inspected(_capture())
    c.request_text(run=1, params={}, requested_by="t")
    assert plan(c) == ["inspect", "ocr/1/0", "ocr/1/1", "text/1"]


def test_a_land_certificate_plans_its_fields_after_the_text():
    c = _inspected(_capture("land-certificate"), pages=1)
    c.request_text(run=1, params={}, requested_by="t")
    assert plan(c) == ["inspect", "ocr/1/0", "text/1", "fields/1"]


def test_the_plan_follows_the_latest_run():
    c = _inspected(_capture("model"), pages=0)
    c.request_reconstruction(run=1, params={}, requested_by="t")
    c.request_reconstruction(run=2, params={}, requested_by="t")
    assert plan(c) == ["inspect", "reconstruct/2"]


def test_the_policy_dispatches_on_capture_event_classes():
    assert set(AFTER) == {
        Capture.Received,
        Capture.TextRequested,
        Capture.PageRecognised,
        Capture.ProcessingFailed,
        Capture.TextAssembled,
        Capture.ReconstructionRequested,
        Capture.RetryRequested,
    }


def test_a_received_capture_is_inspected():
    c = _capture()
    assert jobs_after(_last_event(c), c) == [Job("inspect", c.id, {})]


def test_an_event_outside_the_policy_makes_no_job():
    c = _capture()
    c.collect_events()
    c.correct_field(field="area_m2", value=1, by="x", reason="y")
    assert jobs_after(_last_event(c), c) == []


def test_a_text_request_fans_out_one_ocr_job_per_page():
    c = _inspected(_capture(), pages=3)
    c.request_text(run=1, params={}, requested_by="t")
    jobs = jobs_after(_last_event(c), c)
    assert jobs == [Job("ocr", c.id, {"run": 1, "page": p}) for p in range(3)]


def test_the_text_is_assembled_only_when_every_page_has_an_outcome():
    c = _inspected(_capture(), pages=2)
    c.request_text(run=1, params={}, requested_by="t")
    _page(c, 1, 0)
    assert jobs_after(_last_event(c), c) == []
    _fail(c, "ocr/1/1")  # a failed page counts as settled
    assert jobs_after(_last_event(c), c) == [Job("text", c.id, {"run": 1})]


def test_a_failure_of_a_whole_stage_makes_no_job():
    c = _inspected(_capture(), pages=1)
    c.request_text(run=1, params={}, requested_by="t")
    _page(c, 1, 0)
    _fail(c, "text/1")
    assert jobs_after(_last_event(c), c) == []


def test_assembled_text_of_a_land_certificate_asks_for_its_fields():
    cert = _inspected(_capture("land-certificate"), pages=1)
    cert.request_text(run=1, params={}, requested_by="t")
    _text(cert, 1)
    assert jobs_after(_last_event(cert), cert) == [Job("fields", cert.id, {"run": 1})]
    doc = _inspected(_capture("document", "b.tif"), pages=1)
    doc.request_text(run=1, params={}, requested_by="t")
    _text(doc, 1)
    assert jobs_after(_last_event(doc), doc) == []


def test_a_reconstruction_request_enqueues_its_run():
    c = _inspected(_capture("photo-set"), pages=0)
    c.request_reconstruction(run=1, params={}, requested_by="t")
    assert jobs_after(_last_event(c), c) == [Job("reconstruct", c.id, {"run": 1})]


def test_a_retry_of_pages_reruns_the_pages_but_not_their_text_yet():
    c = _inspected(_capture(), pages=2)
    c.request_text(run=1, params={}, requested_by="t")
    _page(c, 1, 0)
    _fail(c, "ocr/1/1")
    _text(c, 1)
    c.request_retry(stages=["ocr/1/1", "text/1"], requested_by="t")
    assert jobs_after(_last_event(c), c) == [Job("ocr", c.id, {"run": 1, "page": 1})]


def test_ready_jobs_are_what_a_lost_message_leaves_undone():
    c = _capture()
    assert ready_jobs(c) == [Job("inspect", c.id, {})]
    _inspected(c, pages=2)
    c.request_text(run=1, params={}, requested_by="t")
    _page(c, 1, 0)
    assert ready_jobs(c) == [Job("ocr", c.id, {"run": 1, "page": 1})]
    _page(c, 1, 1)
    assert ready_jobs(c) == [Job("text", c.id, {"run": 1})]
    _text(c, 1)
    assert ready_jobs(c) == []


def test_state_is_pending_until_every_planned_stage_has_an_outcome():
    c = _inspected(_capture(), pages=2)
    c.request_text(run=1, params={}, requested_by="t")
    assert c.state(plan(c)) == "pending"
    _page(c, 1, 0)
    _page(c, 1, 1)
    _text(c, 1)
    assert c.state(plan(c)) == "done"


def test_a_failed_page_leaves_the_capture_pending_then_partial():
    c = _inspected(_capture(), pages=2)
    c.request_text(run=1, params={}, requested_by="t")
    _fail(c, "ocr/1/0")
    assert c.state(plan(c)) == "pending"
    _page(c, 1, 1)
    _text(c, 1)
    assert c.state(plan(c)) == "partial"


def test_a_failed_stage_other_than_a_page_fails_the_capture():
    c = _capture()
    _fail(c, "inspect")
    assert c.state(plan(c)) == "failed"
