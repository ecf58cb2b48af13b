"""The fields job: a land certificate's fields from its text."""

from __future__ import annotations

from uuid import UUID

from models.capture import Capture
from models.plan import FIELDS
from pipeline.bootstrap import Services
from pipeline.jobs.execute import Apply, Attempt, execute
from pipeline.jobs.text import page_text
from pipeline.usecases.certificates import link_certificate


def run_fields(services: Services, capture_id: UUID, run: int, attempt: Attempt) -> str:
    """A land certificate's fields; the capture is linked to its parcel and the parcel gets
    the values (people's corrections win over the machine's)."""

    def work(capture: Capture) -> Apply:
        from pipeline.stages.certificate.sections import extract_certificate

        outcomes = capture.page_outcomes(run)
        pages = [
            page_text(services, o) for _, o in sorted(outcomes.items()) if o["status"] == "done"
        ]
        result = extract_certificate(pages).to_json()
        record_id = link_certificate(services, capture, result)

        def apply(c: Capture, key: str) -> None:
            c.record_fields(
                job_key=key, run=run, kind=result["kind"], result=result, record_id=record_id
            )
            if record_id is not None and record_id not in c.links:
                c.link_record(record_id=record_id)

        return apply

    return execute(services, capture_id, FIELDS, f"fields/{run}", {"run": run}, attempt, work)
