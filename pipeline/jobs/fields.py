"""The fields job: a land certificate's fields from its text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import FIELDS
from pipeline.bootstrap import Services
from pipeline.jobs.execute import Apply, Attempt, execute
from pipeline.jobs.text import page_image, page_text
from pipeline.usecases.certificates import link_certificate

if TYPE_CHECKING:
    from pipeline.stages.certificate.qr import QrCode


def run_fields(services: Services, capture_id: UUID, run: int, attempt: Attempt) -> str:
    """A land certificate's fields; the capture is linked to its parcel and the parcel gets
    the values (people's corrections win over the machine's)."""

    def work(capture: Capture) -> Apply:
        from pipeline.stages.certificate.photoread import split_spreads
        from pipeline.stages.certificate.sections import extract_certificate

        outcomes = capture.page_outcomes(run)
        pages = split_spreads(
            [page_text(services, o) for _, o in sorted(outcomes.items()) if o["status"] == "done"]
        )
        qr = read_qr(services, outcomes)
        received = capture.created_on.date()
        result = extract_certificate(pages, received=received, qr=qr).to_json()
        record_id = link_certificate(services, capture, result)

        def apply(store: RecordStore, key: str) -> None:
            store.record_fields(
                capture_id,
                job_key=key,
                run=run,
                kind=result["kind"],
                result=result,
                record_id=record_id,
            )

        return apply

    return execute(
        services, capture_id, FIELDS, str(Outcome(FIELDS.name, run)), {"run": run}, attempt, work
    )


def read_qr(services: Services, outcomes: dict[int, dict[str, Any]]) -> list[QrCode]:
    """The QR codes on the pages' stored images (those the word boxes refer to)."""
    from pipeline.stages.certificate.qr import read_qr_codes

    codes: list[QrCode] = []
    for n, outcome in sorted(outcomes.items()):
        if outcome["status"] == "done" and outcome.get("image_key"):
            codes += read_qr_codes(page_image(services, outcome), n)
    return codes
