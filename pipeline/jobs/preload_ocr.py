"""Imported by the page pool's fork server (`pipeline.jobs.ocr.PRELOAD`), before it forks any
pool process: loads what every page needs (`pipeline.jobs.ocr.warm`: Tesseract's Vietnamese
model in libtesseract, the corrector's language model) once, so the pool's processes start with
them, shared copy-on-write, instead of each loading them again (53–77 ms of CPU and 25–50 MB a
process).

Safe over fork: the server is one thread and never reads a page; the engine it created is
used by one thread of a child only (`pipeline.stages.tools.libtesseract.engine` keeps one per
thread, and the thread that forks is the child's main thread, where the pool runs its work);
OpenMP is held to one thread (no thread pool to lose in the fork). The model's objects are
frozen out of the garbage collector, whose passes in the children would otherwise write to
(and so copy) every page of them.

Anything going wrong here leaves the loading to each process (`warm` again), as before.
"""

from __future__ import annotations

import gc
import logging
import os

log = logging.getLogger(__name__)

loaded_in: int | None = None
"""The process that loaded the models here (the fork server), None if it could not."""

try:
    from pipeline.jobs.ocr import warm

    warm()
    loaded_in = os.getpid()
except Exception as e:  # a pool process loads them itself (and reports what fails)
    log.debug("the fork server did not load the OCR models: %s", e)
gc.freeze()
