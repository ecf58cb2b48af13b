"""The ocr job: one page's text.

The page is read in a process of the worker's pool (`page_pool`): loading, preprocessing,
Tesseract (in the process, its model loaded once), the second pass, the Vietnamese corrector
and the encoding of the page's JSON, hOCR and JPEG all run there, so two pages are read on two
cores rather than taking turns on one interpreter. The worker's thread writes the three blobs
(once each) and records the page.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import OCR
from pipeline.errors import InputRejectedError
from pipeline.jobs.execute import Apply, Attempt, execute
from pipeline.jobs.isolation import WorkPool, shared_pool

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.media.limits import Limits
    from pipeline.stages.ocr.recognise import OcrParams


def ocr_params(run_params: dict[str, Any]) -> OcrParams:
    from pipeline.stages.ocr.recognise import OcrParams

    return OcrParams(
        lang=run_params["lang"], dpi=run_params["dpi"], timeout_s=run_params["timeout_s"]
    )


@dataclass(frozen=True)
class PageRead:
    """One page read, as a pool process gives it back: the blobs' bytes and the figures the
    page's event records."""

    text_json: bytes
    hocr: bytes | None
    jpeg: bytes
    figures: dict[str, Any]


def read_page_blobs(
    path: str,
    media_type: str,
    page: int,
    run_params: dict[str, Any],
    limits: Limits,
    certificate: bool = False,
) -> PageRead:
    """Read one page (its PDF text layer when good, else OCR), correct it, encode its blobs.
    A land certificate's page may be a phone photo: `certificate` flattens it first.

    Runs in a pool process: module level, picklable arguments and result.
    """
    from pathlib import Path

    from pipeline.jobs.text import page_jpeg
    from pipeline.stages.certificate.photoread import read_certificate_page
    from pipeline.stages.ocr.recognise import read_page_image
    from pipeline.stages.vietnamese.correction import correct_page

    read = read_certificate_page if certificate else read_page_image
    text, image = read(Path(path), media_type, page, ocr_params(run_params), limits)
    if run_params.get("correct", True) and text.lang.startswith("vie"):
        text = correct_page(text)
    figures = {
        "chars": len(text.text),
        "mean_conf": round(text.mean_conf, 2),
        "source": text.source,
        "engine": text.engine,
        "lang": text.lang,
        "params": text.params,
    }
    return PageRead(_json(text.to_json()), text.hocr or None, page_jpeg(image), figures)


def warm() -> None:
    """What every page needs, loaded once per pool process: the OCR modules, Tesseract's
    version, its Vietnamese model (in this process: `pipeline.stages.tools.libtesseract`)
    and the corrector's language model."""
    from pipeline.stages.tools.libtesseract import engine
    from pipeline.stages.tools.tesseract import tesseract_version
    from pipeline.stages.vietnamese.model import load_model

    tesseract_version()
    engine("vie")
    load_model()


PRELOAD = (
    "pipeline.jobs.ocr",
    "pipeline.jobs.text",
    "pipeline.stages.ocr.recognise",
    "pipeline.stages.vietnamese.correction",
    "pipeline.jobs.preload_ocr",
)
"""Modules the pool's server imports once for all its processes; the last runs `warm` there,
so its processes are forked with the models loaded (`warm` in each then finds them)."""


def page_pool(services: Services) -> WorkPool:
    """The pool pages are read in: SOHOA_OCR_PROCESSES processes, one per core by default."""
    return shared_pool(services.settings.ocr_processes or os.cpu_count() or 1, warm, PRELOAD)


def run_page(services: Services, capture_id: UUID, run: int, page: int, attempt: Attempt) -> str:
    """Read one page in the pool, write its blobs and record it."""

    def work(capture: Capture) -> Apply:
        params = _run_params(capture, run)
        with services.blobs.local_path(capture.blob_key) as path:
            read = page_pool(services).run(
                read_page_blobs,
                str(path),
                capture.media_type,
                page,
                params,
                services.settings.limits,
                capture.kind == "land-certificate",
            )
        text_key = services.blobs.put_bytes(read.text_json).key
        hocr_key = services.blobs.put_bytes(read.hocr).key if read.hocr else None
        image_key = services.blobs.put_bytes(read.jpeg).key

        def apply(store: RecordStore, key: str) -> None:
            store.record_page(
                capture_id,
                job_key=key,
                run=run,
                page=page,
                text_key=text_key,
                hocr_key=hocr_key,
                image_key=image_key,
                **read.figures,
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


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
