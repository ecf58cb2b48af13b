"""Fuzz target: the PDF probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("application/pdf", "doc.pdf")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_pdf(p.with_suffix(".pdf"), 2, w=40, h=50),
        lambda p: samples.make_pdf_without_pages(p.with_suffix(".pdf")),
        lambda p: samples.make_encrypted_pdf(p.with_suffix(".pdf")),
    )
