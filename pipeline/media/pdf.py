"""Structural probes of PDFs, and opening them with pdfium."""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import InputRejectedError
from pipeline.media.bounded import BoundedReader
from pipeline.media.limits import _reject_pages

if TYPE_CHECKING:
    from pipeline.media.limits import Limits

PDFIUM_LOCK = threading.RLock()


# PDF


def _probe_pdf(r: BoundedReader, limits: Limits, path: Path) -> dict:
    if b"%%EOF" not in r.read_up_to(max(0, r.size - 2048), 2048):
        raise InputRejectedError("truncated PDF (no %%EOF marker at the end)")
    with open_pdf(path) as pdf:
        pages = len(pdf)
    _reject_pages("PDF", pages, limits)
    _reject_flate_bombs(path, limits)
    return {"pages": pages}


_STREAM = re.compile(rb"stream\r?\n")
_PDF_BOMB_FLOOR = 16 * 1024 * 1024
"""A non-image stream may inflate this much whatever its ratio (real content streams do)."""


def _reject_flate_bombs(path: Path, limits: Limits) -> None:
    """Inflate each Flate-compressed non-image stream, bounded: one that would expand past
    SOHOA_MAX_ZIP_RATIO × its compressed size (and past 16 MB) is a bomb. Page content and
    fonts compress a few times; a bomb a thousand times. Image streams are bounded by the
    pixel limit when pages are rendered, and a blank scan legitimately compresses 1000×."""
    import mmap

    if path.stat().st_size == 0:
        return
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        released = 0
        for m in _STREAM.finditer(data):
            released = _release_behind(data, released, m.start() - 2048)
            start = m.end()
            header = data[max(0, m.start() - 2048) : m.start()]
            if (
                b"FlateDecode" not in header[header.rfind(b"<<") :]
                or b"/Image" in header[header.rfind(b"<<") :]
            ):
                continue
            end = data.find(b"endstream", start)
            if end < 0:
                return  # PDFium has judged the structure; nothing more to inflate here
            cap = max(_PDF_BOMB_FLOOR, (end - start) * limits.max_zip_ratio)
            inflater = zlib.decompressobj()
            out = 0
            for pos in range(start, end, 1 << 16):
                try:
                    chunk = data[pos : min(end, pos + (1 << 16))]
                    out += len(inflater.decompress(chunk, 1 << 20))
                    while inflater.unconsumed_tail and out <= cap:
                        out += len(inflater.decompress(inflater.unconsumed_tail, 1 << 20))
                except zlib.error:
                    break  # not our business: a broken stream fails where it is read
                if out > cap:
                    raise InputRejectedError(
                        f"a PDF stream inflates past {cap:,} bytes from {end - start:,} "
                        f"(SOHOA_MAX_ZIP_RATIO): a possible decompression bomb"
                    )


_RELEASE_STEP = 64 * 1024 * 1024


def _release_behind(data, released: int, upto: int) -> int:
    """Drop the pages of the mapping already scanned from this process (the page cache keeps
    them): without it a scan of a 2 GB PDF held 2 GB of resident memory by its end."""
    import mmap

    upto -= upto % mmap.PAGESIZE
    if upto - released < _RELEASE_STEP:
        return released
    data.madvise(mmap.MADV_DONTNEED, released, upto - released)
    return upto


@contextmanager
def open_pdf(path: Path) -> Iterator:
    """Open a PDF with pypdfium2 under PDFIUM_LOCK; load failures become reasons.

    Loads through the raw API: pypdfium2's own constructor reports an empty page tree with
    whatever error a previous, unrelated load left behind.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with PDFIUM_LOCK:
        raw = pdfium_c.FPDF_LoadDocument(os.fsencode(path) + b"\0", None)
        if not raw:
            raise InputRejectedError(
                _PDF_LOAD_ERRORS.get(pdfium_c.FPDF_GetLastError(), _UNREADABLE)
            )
        pdf = pdfium.PdfDocument(raw)
        try:
            if len(pdf) < 1:
                raise InputRejectedError("PDF has no pages")
            yield pdf
        finally:
            pdf.close()


_UNREADABLE = "not a readable PDF: PDFium cannot parse it"
_PDF_LOAD_ERRORS = {
    4: "encrypted PDF (password protected)",  # FPDF_ERR_PASSWORD
    5: "encrypted PDF (unsupported security handler)",  # FPDF_ERR_SECURITY
    2: "not a readable PDF: the file cannot be opened",  # FPDF_ERR_FILE
    3: "not a readable PDF: its structure is corrupt",  # FPDF_ERR_FORMAT
}
