"""The Capture aggregate: one acquisition as received (a scan, a PDF, a photo set, a 3D scan)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from models.ids import Outcome, capture_id

KINDS = ("document", "land-certificate", "photo-set", "scan-set", "model")


class Capture(Aggregate):
    """Bytes that arrived, and everything the pipeline learnt from them.

    Every fact is an event; stage results are keyed by a job key (capture,
    stage, input sha256, engine version, parameters hash) so a repeated message
    finds its result recorded and does nothing.
    """

    @staticmethod
    def create_id(sha256: str) -> UUID:
        return capture_id(sha256)

    @event("Received")
    def __init__(
        self,
        *,
        sha256: str,
        blob_key: str,
        size: int,
        media_type: str,
        kind: str,
        original_name: str,
        source: str,
        operator: str,
        meta: dict[str, Any],
        member_count: int,
        links: list[UUID],
    ) -> None:
        self.sha256 = sha256
        self.blob_key = blob_key
        self.size = size
        self.media_type = media_type
        self.kind = kind
        self.original_names = [original_name]
        self.source = source
        self.operator = operator
        self.meta = meta
        self.member_count = member_count
        self.links = list(links)
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.inspection: dict[str, Any] = {}
        self.thumbnail_key: str | None = None
        self.failures: list[dict[str, Any]] = []
        self.text_runs: list[dict[str, Any]] = []
        self.text: dict[str, Any] | None = None
        self.fields: dict[str, Any] | None = None
        self.corrections: dict[str, dict[str, Any]] = {}
        self.acceptances: dict[str, dict[str, Any]] = {}
        self.model_runs: list[dict[str, Any]] = []
        self.model: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        """The capture's heading everywhere (staff pages, the portal, the index): the title its
        metadata gives, else the file's name without the folders it was in on the machine that
        ingested it (a server path names machines and often people), else its id."""
        title = str((self.meta or {}).get("title") or "").strip()
        if title:
            return title
        for name in self.original_names:
            if base := PurePath(name.replace("\\", "/")).name:
                return base
        return str(self.id)

    @event("ReceivedAgain")
    def receive_again(self, *, original_name: str, source: str, operator: str) -> None:
        """The same bytes arrived under another name: linked, never stored twice."""
        self.original_names.append(original_name)

    @event("RecordLinked")
    def link_record(self, *, record_id: UUID) -> None:
        self.links.append(record_id)

    @event("Inspected")
    def record_inspection(self, *, job_key: str, stage: str, facts: dict[str, Any]) -> None:
        """Page count and image metadata (dimensions, dpi, colour mode, tags)."""
        self.inspection = facts
        self.outcomes[stage] = {"status": "done", "job_key": job_key}

    @event("ThumbnailRendered")
    def record_thumbnail(self, *, blob_key: str, width: int, height: int) -> None:
        self.thumbnail_key = blob_key

    @event("ProcessingFailed")
    def record_failure(
        self,
        *,
        job_key: str,
        stage: str,
        error_class: str,
        message: str,
        attempt: int,
        permanent: bool,
    ) -> None:
        failure = {
            "job_key": job_key,
            "stage": stage,
            "error_class": error_class,
            "message": message,
            "attempt": attempt,
            "permanent": permanent,
        }
        self.failures.append(failure)
        self.outcomes[stage] = {"status": "failed", **failure}

    @event("TextRequested")
    def request_text(self, *, run: int, params: dict[str, Any], requested_by: str) -> None:
        """A text run (OCR or text layer, per page) with these parameters; runs never overwrite."""
        self.text_runs.append(params)

    @event("PageRecognised")
    def record_page(
        self,
        *,
        job_key: str,
        run: int,
        page: int,
        text_key: str,
        hocr_key: str | None,
        image_key: str | None,
        chars: int,
        mean_conf: float,
        source: str,
        engine: str,
        lang: str,
        params: dict[str, Any],
    ) -> None:
        """One page's text: `text_key` is a PageText JSON blob (words, boxes, raw and corrected
        text), `image_key` the page image its boxes refer to (upright, deskewed; JPEG), `source`
        says whether it came from OCR or an accepted PDF text layer."""
        self.outcomes[str(Outcome("ocr", run, page))] = {
            "status": "done",
            "job_key": job_key,
            "text_key": text_key,
            "hocr_key": hocr_key,
            "image_key": image_key,
            "chars": chars,
            "mean_conf": mean_conf,
            "source": source,
            "engine": engine,
            "lang": lang,
        }

    @event("TextAssembled")
    def record_text(
        self,
        *,
        job_key: str,
        run: int,
        text_key: str,
        pdf_key: str | None,
        pages: int,
        pages_failed: list[int],
        chars: int,
        mean_conf: float,
    ) -> None:
        """The capture's full text and searchable PDF for a run, once every page has an outcome."""
        self.text = {
            "run": run,
            "text_key": text_key,
            "pdf_key": pdf_key,
            "pages": pages,
            "pages_failed": pages_failed,
            "chars": chars,
            "mean_conf": mean_conf,
        }
        self.outcomes[str(Outcome("text", run))] = {"status": "done", "job_key": job_key}

    @event("FieldsExtracted")
    def record_fields(
        self, *, job_key: str, run: int, kind: str, result: dict[str, Any], record_id: UUID | None
    ) -> None:
        """Certificate fields (value, confidence, page and box each) as the machine read them."""
        self.fields = {"run": run, "kind": kind, "result": result, "record_id": record_id}
        self.outcomes[str(Outcome("fields", run))] = {"status": "done", "job_key": job_key}

    @event("FieldCorrected")
    def correct_field(self, *, field: str, value: Any, by: str, reason: str) -> None:
        """A person's value for a field; it wins over the machine's in every later run (and
        over the field having been left blank before)."""
        self.corrections[field] = {"value": value, "by": by, "reason": reason}
        self.blanked = {k: v for k, v in self.blanks.items() if k != field}

    @event("FieldAccepted")
    def accept_field(self, *, field: str, value: Any, by: str) -> None:
        """A person confirmed the machine's `value` of a field as read (it needs no review)."""
        self.acceptances[field] = {"value": value, "by": by}
        self.blanked = {k: v for k, v in self.blanks.items() if k != field}

    blanked: dict[str, dict[str, Any]] | None = None
    """Fields a person said are not on these pages (`FieldsLeftBlank`): name → {by, reason}.
    A class default, so captures recorded before the event existed load unchanged."""

    @property
    def blanks(self) -> dict[str, dict[str, Any]]:
        """`blanked`, empty when nothing was left blank."""
        return dict(self.blanked or {})

    @event("FieldsLeftBlank")
    def leave_blank(self, *, names: list[str], by: str, reason: str) -> None:
        """A person confirmed these fields are not on the pages captured (a photo of page 1 of
        a booklet holds no parcel): no value, and nothing to review. Not a correction: it
        never reaches the parcel, and a later correction or acceptance wins."""
        self.blanked = {**self.blanks, **{n: {"by": by, "reason": reason} for n in names}}
        for name in names:
            self.corrections.pop(name, None)

    @event("ReconstructionRequested")
    def request_reconstruction(
        self, *, run: int, params: dict[str, Any], requested_by: str
    ) -> None:
        self.model_runs.append(params)

    model_progress: dict[str, Any] | None = None
    """How far the latest reconstruction run has got (`ReconstructionProgressed`); a class
    default, so captures recorded before the event existed load unchanged."""

    @event("ReconstructionProgressed")
    def record_model_progress(
        self, *, run: int, stage: str, done: int | None, total: int | None, elapsed_s: float
    ) -> None:
        """A running reconstruction's stage and count (photos read, pairs matched, photos
        registered of `total`). The job records it throttled, about ten per long stage, so
        the history says how a long run went without an event per photo."""
        self.model_progress = {
            "run": run,
            "stage": stage,
            "done": done,
            "total": total,
            "elapsed_s": elapsed_s,
        }

    @event("ModelReconstructed")
    def record_model(
        self,
        *,
        job_key: str,
        run: int,
        method: str,
        glb_key: str,
        lods: dict[str, str],
        preview_key: str | None,
        metrics: dict[str, Any],
        params: dict[str, Any],
        stages: list[dict[str, Any]],
    ) -> None:
        self.model = {
            "run": run,
            "method": method,
            "glb_key": glb_key,
            "lods": lods,
            "preview_key": preview_key,
            "metrics": metrics,
            "params": params,
            "stages": stages,
        }
        self.outcomes[str(Outcome("reconstruct", run))] = {"status": "done", "job_key": job_key}

    @event("RetryRequested")
    def request_retry(self, *, stages: list[str], requested_by: str) -> None:
        """Failed stages to run again (the failures stay in `failures` and the history)."""
        for stage in stages:
            self.outcomes.pop(stage, None)

    def failed_stages(self) -> list[str]:
        return [s for s, o in self.outcomes.items() if o.get("status") == "failed"]

    def stages_to_retry(self) -> list[str]:
        """The failed stages, and the text (and fields) of every run whose pages are read
        again: re-read pages mean their text is assembled again."""
        failed = self.failed_stages()
        runs = {o.run for o in map(Outcome.parse, failed) if o.is_page}
        later = [
            name
            for run in sorted(runs)
            for stage in ("text", "fields")
            if (name := str(Outcome(stage, run))) in self.outcomes and name not in failed
        ]
        return failed + later

    def page_outcomes(self, run: int) -> dict[int, dict[str, Any]]:
        """Outcomes (done or failed) of a text run's pages, by page index."""
        named = ((Outcome.parse(name), outcome) for name, outcome in self.outcomes.items())
        return {
            o.page: outcome
            for o, outcome in named
            if o.stage == "ocr" and o.run == run and o.page is not None
        }

    def field_values(self) -> dict[str, Any]:
        """Extracted field values with people's corrections applied over them; a field left
        blank has none."""
        values = dict((self.fields or {}).get("result", {}).get("fields", {}))
        values.update({name: c["value"] for name, c in self.corrections.items()})
        values.update(dict.fromkeys(self.left_blank(), None))
        return values

    def left_blank(self) -> dict[str, dict[str, Any]]:
        """The fields a person left blank, by whom and why: those of `FieldsLeftBlank`, and
        those corrected to "" before that event existed (how a blank was recorded then)."""
        old = {
            name: {"by": c["by"], "reason": c["reason"]}
            for name, c in self.corrections.items()
            if c["value"] == ""
        }
        return {**old, **self.blanks}

    def has_outcome(self, job_key: str) -> bool:
        return any(o.get("job_key") == job_key for o in self.outcomes.values())

    def state(self, planned_stages: list[str]) -> str:
        """`pending` while a planned stage has no outcome; then `done` if all succeeded,
        `partial` if some pages failed but the last stage (the text, the model) was made,
        `failed` otherwise.

        A stage that fails ends its capture's processing except for pages: one unreadable
        frame of a TIFF leaves the other pages' text in place.
        """
        statuses = [self.outcomes.get(s, {}).get("status") for s in planned_stages]
        if "failed" in statuses:
            if statuses[-1] == "done":
                return "partial"
            # a failed page still lets the later stages run; anything else ends the capture
            failed_pages_only = all(
                st != "failed" or Outcome.parse(s).is_page
                for s, st in zip(planned_stages, statuses, strict=True)
            )
            return "pending" if failed_pages_only and None in statuses else "failed"
        if all(s == "done" for s in statuses):
            return "done"
        return "pending"
