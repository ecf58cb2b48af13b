"""Tesseract inside the process: libtesseract's C API through ctypes, one engine per thread
and model, loaded once and reused for every page.

Why: a `tesseract` process per page spends about 0.13 of its 0.75 CPU-seconds on a 300-dpi A4
page starting up (loading the model and its dictionaries) and reading the image back from a
file; a pool process that reads page after page pays that once. The library is the one the
`tesseract` program runs, called with the same parameters, and gives the same words, boxes and
confidences (tests/pipeline/stages/test_libtesseract.py compares the two).

A page over its time limit is stopped by Tesseract itself (an ETEXT_DESC deadline, checked
between words) and reported as `TesseractTimeout`. The library is optional: `engine()` answers
None when it cannot be loaded, or when OpenMP in this process would give Tesseract more than
one thread (pages run in parallel processes, one thread each), and callers then run the
`tesseract` program instead.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from ctypes import c_char_p, c_int, c_void_p

import numpy as np

log = logging.getLogger(__name__)

LIBRARY = "libtesseract.so.5"
_GOMP = "libgomp.so.1"


class TesseractTimeout(Exception):
    """Tesseract stopped at its deadline before reading the whole image."""


class TesseractLibraryError(Exception):
    """The library could not load a model or read an image (the message says which)."""


_SIGNATURES: dict[str, tuple[list, object]] = {
    "TessBaseAPICreate": ([], c_void_p),
    "TessBaseAPIDelete": ([c_void_p], None),
    "TessBaseAPIInit3": ([c_void_p, c_char_p, c_char_p], c_int),
    "TessBaseAPISetVariable": ([c_void_p, c_char_p, c_char_p], c_int),
    "TessBaseAPISetPageSegMode": ([c_void_p, c_int], None),
    "TessBaseAPISetImage": ([c_void_p, c_void_p, c_int, c_int, c_int, c_int], None),
    "TessBaseAPIRecognize": ([c_void_p, c_void_p], c_int),
    "TessBaseAPIGetHOCRText": ([c_void_p, c_int], c_void_p),
    "TessBaseAPIClear": ([c_void_p], None),
    "TessDeleteText": ([c_void_p], None),
    "TessMonitorCreate": ([], c_void_p),
    "TessMonitorDelete": ([c_void_p], None),
    "TessMonitorSetDeadlineMSecs": ([c_void_p, c_int], None),
    "TessVersion": ([], c_char_p),
}

HOCR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='{system}' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>
 </head>
 <body>
"""
_TAIL = b" </body>\n</html>\n"
"""Tesseract's hOCR renderer's document around the page (TessHOcrRenderer), as the program
writes it; `{system}` is "tesseract VERSION" (the second pass names itself there too)."""

_lib: ctypes.CDLL | None = None
_lib_tried = False
_lib_lock = threading.Lock()
_local = threading.local()


def _library() -> ctypes.CDLL | None:
    """libtesseract with its functions typed, or None (not installed, or multi-threaded)."""
    global _lib, _lib_tried
    with _lib_lock:
        if _lib_tried:
            return _lib
        _lib_tried = True
        if not _gomp_loaded():
            # OpenMP reads its thread limit once, when it is loaded (with libtesseract, now):
            # the same single thread per page as the `tesseract` program is given.
            os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            lib = ctypes.CDLL(LIBRARY)
            for name, (args, result) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.argtypes, fn.restype = args, result
        except (OSError, AttributeError) as e:
            log.debug("libtesseract not used (%s): running the tesseract program", e)
            return None
        if _omp_thread_limit() > 1:
            log.debug("libtesseract not used: OpenMP was loaded before with several threads")
            return None
        _lib = lib
        return lib


def _gomp_loaded() -> bool:
    try:
        with open("/proc/self/maps") as maps:
            return any(_GOMP in line for line in maps)
    except OSError:
        return False


def _omp_thread_limit() -> int:
    try:
        return int(ctypes.CDLL(_GOMP).omp_get_thread_limit())
    except (OSError, AttributeError):
        return 1  # no OpenMP: Tesseract runs one thread


class Engine:
    """One initialised TessBaseAPI for one model (`lang`, `tessdata`); not thread-safe (each
    thread has its own, see `engine`)."""

    def __init__(self, lib: ctypes.CDLL, lang: str, tessdata: str | None) -> None:
        self._lib = lib
        self._head = HOCR_HEAD.format(system=f"tesseract {lib.TessVersion().decode()}").encode()
        self._api = lib.TessBaseAPICreate()
        # Its messages ("Estimating resolution as …") would go to the worker's stderr.
        lib.TessBaseAPISetVariable(self._api, b"debug_file", b"/dev/null")
        path = tessdata.encode() if tessdata else None
        if lib.TessBaseAPIInit3(self._api, path, lang.encode()) != 0:
            raise TesseractLibraryError(f"Tesseract could not load the model {lang!r}")

    def __del__(self) -> None:  # a thread's engines go with the thread (and a failed one)
        api, self._api = getattr(self, "_api", None), None
        if api:
            self._lib.TessBaseAPIDelete(api)

    def hocr(self, pixels: np.ndarray, *, psm: int, dpi: int | None, timeout_s: float) -> bytes:
        """The hOCR document of a uint8 image (H×W grey or H×W×3 RGB), as `tesseract IMAGE
        stdout --psm PSM [--dpi DPI] hocr` writes it; `dpi` None lets Tesseract estimate the
        resolution from the text (as for an image file without a resolution)."""
        lib, api = self._lib, self._api
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        height, width = pixels.shape[:2]
        depth = 1 if pixels.ndim == 2 else pixels.shape[2]
        lib.TessBaseAPISetPageSegMode(api, psm)
        lib.TessBaseAPISetVariable(api, b"user_defined_dpi", str(dpi or 0).encode())
        monitor = lib.TessMonitorCreate()
        try:
            lib.TessMonitorSetDeadlineMSecs(monitor, max(1, round(timeout_s * 1000)))
            # Tesseract copies the pixels it is given: numpy's buffer is handed over as it is.
            lib.TessBaseAPISetImage(api, pixels.ctypes.data, width, height, depth, width * depth)
            if lib.TessBaseAPIRecognize(api, monitor) != 0:
                raise TesseractTimeout(f"stopped at its {timeout_s:g} s deadline")
            text = lib.TessBaseAPIGetHOCRText(api, 0)
            if not text:
                raise TesseractLibraryError("Tesseract gave no hOCR for the image")
            try:
                return self._head + ctypes.string_at(text) + _TAIL
            finally:
                lib.TessDeleteText(text)
        finally:
            lib.TessBaseAPIClear(api)
            lib.TessMonitorDelete(monitor)


def engine(lang: str, tessdata: str | None = None) -> Engine | None:
    """This thread's engine for the model, created on first use; None without the library,
    and None in any thread but the process's main one.

    Why only the main thread: some of Tesseract's parameters are global to the library
    (`debug_file`, which every engine sets, among them), so engines working in several
    threads of one process share state; an embedded runtime's job threads reading
    certificates that way ended the test suite once with a segmentation fault. The page
    pool's processes read pages in their main thread; job threads run the program."""
    if threading.current_thread() is not threading.main_thread():
        return None
    lib = _library()
    if lib is None:
        return None
    engines: dict[tuple[str, str | None], Engine] = _local.__dict__.setdefault("engines", {})
    key = (lang, tessdata)
    if key not in engines:
        engines[key] = Engine(lib, lang, tessdata)
    return engines[key]
