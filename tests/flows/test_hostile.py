"""The hostile-input corpus (tests/factories/hostile.py) through the real ingest and the real job
loop.

One batch on the embedded defaults: every bomb, trap and piece of junk beside good files. Each
hostile input must be rejected with a reason that names its problem, within bounded time and
memory, leaving nothing behind; the good files in the same batch must go through; inputs that
pass ingest must reach a final state in the job loop with a recorded reason, and the workers
must still be working afterwards.

Known gaps are strict xfails naming the fix, so they turn red the day they are fixed.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from models.capture import Capture
from models.plan import MODEL_KINDS, TEXT_KINDS
from pipeline.bootstrap import Services
from pipeline.media.sniff import PAGE_TYPES
from pipeline.usecases.ingest import IngestResult
from pipeline.usecases.inputs import display_name
from scanners.cli.ingest import ingest_paths
from tests.factories import hostile, samples
from tests.factories.hostile import FAILS_STAGE, REJECTED, Case
from tests.helpers import make_services, sohoa
from workers.runtime import Runtime, wait_until_settled

ENV = {
    # Only inspection runs by itself; the test asks for text and model runs of the hostile
    # captures, as `sohoa ocr` / `sohoa reconstruct` do, so good files cost no OCR time.
    "SOHOA_AUTO_RUNS": "",
    "SOHOA_JOB_RETRIES": "0",  # a failure is final at once: the test waits for final states
    "SOHOA_RECONSTRUCT_TIME_LIMIT_S": "60",
    "SOHOA_RECONSTRUCT_MEMORY_MB": "1500",
    "SOHOA_OCR_TIMEOUT_S": "30",
}
BATCH_SECONDS = 30.0
RSS_GROWTH_MB = 300
LOOP_SECONDS = 150.0

CRASHERS: dict[str, str] = {}
"""Inputs that abort the whole batch with an exception (none now; add one here with the reason
to keep the rest of the batch testable while it is fixed)."""

GAPS = {}
"""Cases the pipeline does not handle yet (strict xfails), and why."""


@dataclass
class Batch:
    svc: Services
    root: Path
    corpus: Path
    results: list[IngestResult]
    seconds: float
    rss_growth_mb: float
    blob_files: list[Path]
    """Files in the blob store right after the batch (before any worker wrote thumbnails)."""
    leftovers: list[Path]
    """Files in the ingest and blob-store temporary folders right after the batch."""


def _vm_hwm_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    hostile.build_corpus(corpus)
    (root / "crashers").mkdir()
    for name in CRASHERS:
        for path in corpus.glob(glob_escape(name) + "*"):  # with its sidecar
            shutil.move(path, root / "crashers" / path.name)
    svc = make_services(root, **ENV)
    before, start = _vm_hwm_mb(), time.perf_counter()
    results = ingest_paths(svc, [corpus], None, None, as_json=False)
    seconds = time.perf_counter() - start
    growth = _vm_hwm_mb() - before
    blobs, tmp = root / "data" / "blobs", root / "data" / "tmp"
    blob_files = [
        p for p in blobs.rglob("*") if p.is_file() and p.relative_to(blobs).parts[0] != "tmp"
    ]
    leftovers = [p for d in (tmp, blobs / "tmp") for p in d.rglob("*")]
    return Batch(svc, root, corpus, results, seconds, growth, blob_files, leftovers)


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def results_for(batch: Batch, case: Case) -> list[IngestResult]:
    """The results of one input: the file itself, or each member of a ZIP."""
    shown = display_name(str(batch.corpus / case.name))
    return [r for r in batch.results if r.path == shown or r.path.startswith(shown + "!")]


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=GAPS[case.name])] if case.name in GAPS else []
    return pytest.param(case, id=hostile.shown(case.name)[:60], marks=marks)


BATCH_CASES = [c for c in hostile.cases() if c.name not in CRASHERS]


def test_the_corpus_is_big_and_varied():
    cases = hostile.cases()
    assert len(cases) >= 40
    assert {c.category for c in cases} >= {
        "bomb", "zip-slip", "pdf", "tiff", "3d", "name", "sidecar", "xml", "junk", "truncated",
    }  # fmt: skip
    assert len({c.name for c in cases}) == len(cases)


@pytest.mark.parametrize("case", [_param(c) for c in BATCH_CASES])
def test_each_input_gets_the_outcome_it_deserves(batch: Batch, case: Case):
    check_outcome(case, results_for(batch, case))


def check_outcome(case: Case, results: list[IngestResult]) -> None:
    """Rejected with a reason naming the problem, or ingested, as the case expects."""
    assert results, f"{hostile.shown(case.name)} was not reported at all"
    if case.expect == REJECTED:
        assert all(r.status == "rejected" and r.capture_id is None for r in results), results
        # A ZIP reports each member: the one that is the problem must be named as such.
        reasons = [r.error or "" for r in results]
        assert any(case.keyword.lower() in reason.lower() for reason in reasons), reasons
    else:
        assert {r.status for r in results} <= {"ingested", "duplicate"}, results


def test_bad_input_costs_the_good_files_nothing(batch: Batch):
    controls = [c for c in BATCH_CASES if c.category == "control"]
    assert len(controls) >= 6
    for case in controls:
        results = results_for(batch, case)
        assert results and {r.status for r in results} == {"ingested"}, results


def test_the_batch_is_quick_and_lean(batch: Batch):
    assert batch.seconds < BATCH_SECONDS, f"batch took {batch.seconds:.1f} s"
    assert batch.rss_growth_mb < RSS_GROWTH_MB, f"peak RSS grew {batch.rss_growth_mb:.0f} MiB"


def test_rejected_inputs_leave_nothing_behind(batch: Batch):
    stored = {r.sha256 for r in batch.results if r.status in ("ingested", "duplicate")}
    assert len(batch.blob_files) == len(stored)
    assert batch.leftovers == []


def test_javascript_in_a_pdf_cannot_run():
    """PDFium runs JavaScript only when built with V8 *and* given a form-fill environment."""
    import pypdfium2.version

    assert "V8" not in pypdfium2.version.PDFIUM_INFO.flags


@dataclass
class Settled:
    states: dict[UUID, str]
    late_state: str
    """The state of a good file ingested after the hostile ones were processed."""


@pytest.fixture(scope="module")
def settled(batch: Batch) -> Settled:
    """The job loop over every capture of the batch: inspection, then text and model runs for
    the hostile ones (as `sohoa ocr` / `sohoa reconstruct` ask), then one more good file."""
    svc = batch.svc
    captured = _captures(batch)
    ids = [cid for _, cid in captured]
    with Runtime(svc, workers=True, follow=True):
        wait_until_settled(svc, ids, timeout_s=LOOP_SECONDS)
        _request_runs(svc, [cid for case, cid in captured if case.category != "control"])
        states = wait_until_settled(svc, ids, timeout_s=LOOP_SECONDS)
        after = samples.make_png(batch.root / "after-the-batch.png", 80, 60)
        [late] = ingest_paths(svc, [after], None, None, as_json=False)
        [late_state] = wait_until_settled(svc, [UUID(late.capture_id)], timeout_s=60).values()
    return Settled(states, late_state)


LOOP_GAPS = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=hostile.shown(c.name)[:60],
            marks=[pytest.mark.xfail(strict=True, reason=LOOP_GAPS[c.name])]
            if c.name in LOOP_GAPS
            else [],
        )
        for c in BATCH_CASES
        if c.expect != REJECTED and c.name not in GAPS
    ],
)
def test_accepted_input_ends_in_a_final_state_with_its_reason(
    batch: Batch, settled: Settled, case: Case
):
    ids = [UUID(r.capture_id) for r in results_for(batch, case) if r.status == "ingested"]
    assert ids
    for cid in ids:
        capture, state = batch.svc.store.capture(cid), settled.states[cid]
        assert state in ("done", "partial", "failed")
        if state != "done":
            assert capture.failures and all(f["message"] for f in capture.failures)
        # Bad input is a permanent failure; anything else means a stage crashed on it.
        assert not [f for f in capture.failures if not f["permanent"]], capture.failures
        if case.expect == FAILS_STAGE:
            assert state in ("failed", "partial")
            reasons = " ".join(f["message"] for f in capture.failures)
            assert case.keyword.lower() in reasons.lower(), reasons


def test_the_workers_live_on(settled: Settled):
    assert settled.late_state == "done"


def _captures(batch: Batch) -> list[tuple[Case, UUID]]:
    """Every capture the batch made, with its case (a ZIP's members share one)."""
    return [
        (case, UUID(r.capture_id))
        for case in BATCH_CASES
        for r in results_for(batch, case)
        if r.status == "ingested"
    ]


def _request_runs(svc: Services, capture_ids: list[UUID]) -> None:
    """A text run for each inspected document, a reconstruction for each inspected 3D capture."""
    for cid in capture_ids:
        capture = svc.store.capture(cid)
        if capture.outcomes.get("inspect", {}).get("status") != "done":
            continue
        if capture.kind in TEXT_KINDS and capture.media_type in PAGE_TYPES:
            params = svc.settings.text_params(capture.meta)
            svc.store.update(cid, lambda c, p=params: _request_text(c, p))
        elif capture.kind in MODEL_KINDS:
            svc.store.update(cid, _request_model)


def _request_text(c: Capture, params: dict) -> None:
    c.request_text(run=len(c.text_runs) + 1, params=params, requested_by="test")


def _request_model(c: Capture) -> None:
    c.request_reconstruction(run=len(c.model_runs) + 1, params={}, requested_by="test")


def test_an_xml_sidecar_is_refused_unread(batch: Batch):
    """`--meta` with a billion-laughs document: refused as not JSON, never expanded."""
    laughs = batch.corpus / "billion-laughs.xml"
    good = samples.make_png(batch.root / "with-xml-meta.png", 70, 50)
    env = {"SOHOA_DATA_DIR": str(batch.root / "cli-data")}
    start = time.perf_counter()
    run = sohoa("ingest", str(good), "--meta", str(laughs), "--json", env=env, timeout=60)
    assert run.returncode != 0
    assert "not valid JSON" in run.stderr
    assert time.perf_counter() - start < 30


# -- one unexpected error is one input's verdict, never the batch's end (issue 20) ------------


def _explode_on(name: str):
    from pipeline.usecases import ingest as ingest_module

    real = ingest_module.probe

    def probe(path, media_type, limits):
        if path.name == name:
            raise IndexError("a parser bug")
        return real(path, media_type, limits)

    return ingest_module, probe


def test_a_bug_on_one_file_is_its_verdict_and_the_batch_goes_on(tmp_path, monkeypatch, caplog):
    svc = make_services(tmp_path, SOHOA_AUTO_RUNS="")
    folder = tmp_path / "in"
    folder.mkdir()
    samples.make_png(folder / "a.png", 20, 20)
    samples.make_png(folder / "b.png", 21, 21)
    samples.make_png(folder / "c.png", 22, 22)
    module, probe = _explode_on("b.png")
    monkeypatch.setattr(module, "probe", probe)

    results = {Path(r.path).name: r for r in ingest_paths(svc, [folder], None, None, True)}

    assert results["a.png"].status == results["c.png"].status == "ingested"
    failed = results["b.png"]
    assert failed.status == "failed" and failed.error.startswith("internal error ")
    error_id = failed.error.split()[-1]
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info and "a parser bug" in caplog.text


def test_the_cli_gives_every_file_a_verdict_and_exits_1(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    samples.make_png(folder / "good.png", 20, 20)
    (folder / "tiny.tif").write_bytes(b"II*\0\x08")  # five bytes: once a crash of the probe
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_AUTO_RUNS": ""}
    result = sohoa("ingest", "--json", str(folder), env=env)
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 1 and len(verdicts) == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_a_hot_folder_moves_a_file_that_hits_a_bug_to_rejected(tmp_path, monkeypatch):
    from scanners.hotfolder import HotFolder

    svc = make_services(tmp_path, SOHOA_WATCH_SETTLE_S="0", SOHOA_AUTO_RUNS="")
    inbox = tmp_path / "inbox"
    hot = HotFolder(svc, inbox, None)
    samples.make_png(inbox / "good.png", 20, 20)
    samples.make_png(inbox / "bug.png", 21, 21)
    module, probe = _explode_on("bug.png")
    monkeypatch.setattr(module, "probe", probe)
    hot.scan()
    results = {Path(r.path).name: r.status for r in hot.scan()}
    assert results == {"good.png": "ingested", "bug.png": "failed"}
    reason = (inbox / "rejected" / "bug.png.reason.txt").read_text()
    assert "failed: internal error" in reason and (inbox / "done" / "good.png").exists()


def test_an_import_row_that_hits_a_bug_is_its_verdict(tmp_path, monkeypatch):
    from pipeline.usecases.importing import records as importer

    svc = make_services(tmp_path)
    data = tmp_path / "sites.jsonl"
    data.write_text(
        '{"code": "HN-1", "name": "Đình A"}\n{"code": "HN-2", "name": "boom"}\n'
        '{"code": "HN-3", "name": "Đình C"}\n',
        encoding="utf-8",
    )
    real = importer.parse_row

    def parse_row(raw, defaults=None):
        if raw.values.get("name") == "boom":
            raise KeyError("a bug")
        return real(raw, defaults)

    monkeypatch.setattr(importer, "parse_row", parse_row)
    report = importer.import_records(svc.store, data)
    assert report.registered == 2 and len(report.rejected) == 1
    assert report.rejected[0]["reason"].startswith("failed: internal error ")


def test_a_stage_bug_is_a_permanent_failure_with_an_id(tmp_path, monkeypatch):
    from pipeline.jobs import inspection as handlers
    from pipeline.jobs.execute import Attempt
    from pipeline.jobs.inspection import run_inspect

    svc = make_services(tmp_path, SOHOA_AUTO_RUNS="")
    [result] = ingest_paths(svc, [samples.make_png(tmp_path / "p.png", 20, 20)], None, None, True)
    cid = UUID(result.capture_id)

    def broken(services, capture):
        raise ZeroDivisionError("a stage bug")

    monkeypatch.setattr(handlers, "_inspect_blob", broken)
    assert run_inspect(svc, cid, Attempt(1, final=False)) == "failed"
    [failure] = svc.store.capture(cid).failures
    assert failure["permanent"] and failure["message"].startswith("internal error ")
