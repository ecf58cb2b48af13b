"""Handlers of a text run: one page's text (`ocr`), the capture's full text and searchable PDF
(`text`), and a land certificate's fields (`fields`).

Page results are blobs (a PageText JSON with words, boxes, raw and corrected text; the page's
hOCR); events carry their keys and a few numbers.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from PIL import Image

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import TEXT
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs.execute import Apply, Attempt, execute
from pipeline.stages.pages.pagetext import PageText

PAGE_SEPARATOR = "\f"
"""Between pages in a capture's full text (form feed, as `pdftotext` writes it)."""


def run_text(services: Services, capture_id: UUID, run: int, attempt: Attempt) -> str:
    """The capture's full text and a searchable PDF, from the pages that were read."""

    def work(capture: Capture) -> Apply:
        outcomes = capture.page_outcomes(run)
        done = sorted(p for p, o in outcomes.items() if o["status"] == "done")
        failed = sorted(p for p, o in outcomes.items() if o["status"] != "done")
        if not done:
            raise InputRejectedError(f"none of the {len(outcomes)} pages could be read")
        with tempfile.TemporaryDirectory(prefix="sohoa-text-") as folder:
            made = assemble(services, [outcomes[p] for p in done], Path(folder))
            text_key = services.blobs.put_file(made.text).key
            pdf_key = services.blobs.put_file(made.pdf).key

        def apply(store: RecordStore, key: str) -> None:
            store.assemble_text(
                capture_id,
                job_key=key,
                run=run,
                text_key=text_key,
                pdf_key=pdf_key,
                pages=len(outcomes),
                pages_failed=failed,
                chars=made.chars,
                mean_conf=made.mean_conf,
            )

        return apply

    return execute(
        services, capture_id, TEXT, str(Outcome(TEXT.name, run)), {"run": run}, attempt, work
    )


@dataclass
class Assembled:
    """A capture's full text and searchable PDF, as files in a work folder."""

    text: Path
    pdf: Path
    chars: int = 0
    conf_sum: float = 0.0
    conf_pages: int = 0

    @property
    def mean_conf(self) -> float:
        return round(self.conf_sum / self.conf_pages, 2) if self.conf_pages else 0.0


def assemble(services: Services, outcomes: list[dict[str, Any]], folder: Path) -> Assembled:
    """Write the full text and the searchable PDF of the pages read, one page at a time: each
    page's text and JPEG are read, written to both files and let go, so memory stays at one
    page whatever the page count (a 2,000-page register)."""
    from pipeline.stages.pages.searchable_pdf import write_searchable_pdf

    made = Assembled(folder / "text.txt", folder / "searchable.pdf")
    with (
        made.text.open("w", encoding="utf-8", newline="") as text,
        made.pdf.open("wb") as pdf,
    ):

        def pages() -> Iterator[tuple[bytes, PageText]]:
            for number, outcome in enumerate(outcomes):
                page = page_text(services, outcome)
                chunk = (PAGE_SEPARATOR if number else "") + page.text
                text.write(chunk)
                made.chars += len(chunk)
                if page.text:
                    made.conf_sum += page.mean_conf
                    made.conf_pages += 1
                # the page's JPEG as it is, not encoded again
                yield services.blobs.read_bytes(outcome["image_key"]), page

        write_searchable_pdf(pages(), pdf)
    return made


def page_text(services: Services, outcome: dict[str, Any]) -> PageText:
    return PageText.from_json(json.loads(services.blobs.read_bytes(outcome["text_key"])))


def page_image(services: Services, outcome: dict[str, Any]) -> Image.Image:
    """The page image a page's word boxes refer to."""
    with Image.open(io.BytesIO(services.blobs.read_bytes(outcome["image_key"]))) as im:
        im.load()
        return im


def page_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("L" if image.mode in ("1", "L", "LA") else "RGB").save(
        out, "JPEG", quality=80, dpi=image.info.get("dpi", (300, 300))
    )
    return out.getvalue()


def full_text(services: Services, capture: Capture) -> str | None:
    """The capture's latest full text, or None before its text run has finished."""
    if not capture.text:
        return None
    return services.blobs.read_bytes(capture.text["text_key"]).decode("utf-8")


def raw_full_text(services: Services, capture: Capture) -> str | None:
    """The latest full text as the engine read it, before Vietnamese correction."""
    if not capture.text:
        return None
    outcomes = capture.page_outcomes(capture.text["run"])
    pages = [page_text(services, o) for _, o in sorted(outcomes.items()) if o["status"] == "done"]
    return PAGE_SEPARATOR.join(p.raw_text if p.raw_text is not None else p.text for p in pages)
