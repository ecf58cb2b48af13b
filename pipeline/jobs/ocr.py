"""The ocr job: one page's text."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import OCR
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs.execute import Apply, Attempt, execute
from pipeline.jobs.text import _json, page_jpeg


def ocr_params(run_params: dict[str, Any]):
    from pipeline.stages.ocr.recognise import OcrParams

    return OcrParams(
        lang=run_params["lang"], dpi=run_params["dpi"], timeout_s=run_params["timeout_s"]
    )


def run_page(services: Services, capture_id: UUID, run: int, page: int, attempt: Attempt) -> str:
    """Read one page: its PDF text layer when good, else OCR; then Vietnamese correction."""

    def work(capture: Capture) -> Apply:
        from pipeline.stages.certificate.photoread import read_certificate_page
        from pipeline.stages.ocr.recognise import read_page_image
        from pipeline.stages.vietnamese.correction import correct_page

        params = _run_params(capture, run)
        read = read_certificate_page if capture.kind == "land-certificate" else read_page_image
        with services.blobs.local_path(capture.blob_key) as path:
            text, image = read(
                path, capture.media_type, page, ocr_params(params), services.settings.limits
            )
        if params.get("correct", True) and text.lang.startswith("vie"):
            text = correct_page(text)
        text_key = services.blobs.put_bytes(_json(text.to_json())).key
        hocr_key = services.blobs.put_bytes(text.hocr).key if text.hocr else None
        image_key = services.blobs.put_bytes(page_jpeg(image)).key

        def apply(store: RecordStore, key: str) -> None:
            store.record_page(
                capture_id,
                job_key=key,
                run=run,
                page=page,
                text_key=text_key,
                hocr_key=hocr_key,
                image_key=image_key,
                chars=len(text.text),
                mean_conf=round(text.mean_conf, 2),
                source=text.source,
                engine=text.engine,
                lang=text.lang,
                params=text.params,
            )

        return apply

    key_params = {"run": run, "page": page}
    return execute(
        services, capture_id, OCR, str(Outcome(OCR.name, run, page)), key_params, attempt, work
    )


def _run_params(capture: Capture, run: int) -> dict[str, Any]:
    if not 1 <= run <= len(capture.text_runs):
        raise InputRejectedError(f"capture {capture.id} has no text run {run}")
    return capture.text_runs[run - 1]
