"""Tesseract in the process (libtesseract) against the `tesseract` program: same words, same
limits, nothing on stderr, one OpenMP thread."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from pipeline.stages.ocr.hocr import parse_hocr
from pipeline.stages.ocr.recognise import OcrParams
from pipeline.stages.tools import libtesseract, tesseract
from pipeline.stages.tools.tesseract import OcrTimeoutError, run_tesseract
from tests.factories.degrade import degrade, render_page

pytestmark = pytest.mark.skipif(
    libtesseract.engine("vie") is None, reason="libtesseract.so.5 cannot be loaded here"
)


def both(image: Image.Image, params: OcrParams) -> tuple[bytes, bytes]:
    """(hOCR by the library, hOCR by the program) of one image."""
    in_process = run_tesseract(image, params, page=0, dpi=params.dpi)
    program = tesseract._run_program(image, params, page=0, dpi=params.dpi)
    return in_process, program


def test_the_library_reads_a_page_word_for_word_as_the_program_does():
    image = render_page(dpi=300, size="A5", seed=3)
    in_process, program = both(image, OcrParams())
    words = parse_hocr(in_process)
    assert len(words) > 50 and words == parse_hocr(program)


@pytest.mark.parametrize(
    "params",
    [
        OcrParams(psm=6),
        OcrParams(psm=7),
        OcrParams(dpi=200, estimate_resolution=False),
        OcrParams(lang="vie+eng"),
    ],
    ids=["block", "line", "told-dpi", "two-models"],
)
def test_every_way_the_pipeline_calls_tesseract_gives_the_programs_words(params):
    page = degrade(render_page(dpi=200, size="A5", seed=4), "jpeg", seed=1)
    crop = page.crop((0, 0, page.width, page.height // 3))
    in_process, program = both(crop, params)
    assert parse_hocr(in_process) == parse_hocr(program)
    assert parse_hocr(in_process)


def test_a_colour_image_is_read_as_the_program_reads_it():
    grey = render_page(dpi=200, size="A5", seed=2).crop((0, 0, 1100, 500))
    colour = Image.merge("RGB", (grey, grey.point(lambda v: v * 0.9), grey))
    in_process, program = both(colour, OcrParams())
    assert parse_hocr(in_process) == parse_hocr(program) != []


def test_the_hocr_is_a_whole_document_naming_the_engine():
    in_process, program = both(render_page(dpi=200, size="A5", seed=1), OcrParams())
    root = ET.fromstring(in_process)
    meta = {m.get("name"): m.get("content") for m in root.findall(".//{*}meta")}
    assert meta["ocr-system"] == tesseract.tesseract_version()
    assert in_process.splitlines()[:11] == program.splitlines()[:11]


def test_a_page_over_its_time_limit_is_stopped_inside_the_library():
    image = render_page(dpi=300, size="A4", seed=1)
    with pytest.raises(OcrTimeoutError, match=r"page 1: .* within 0\.01 s"):
        run_tesseract(image, OcrParams(timeout_s=0.01), page=0, dpi=300)
    again = run_tesseract(image.crop((0, 0, 2400, 700)), OcrParams(), page=0, dpi=300)
    assert "CỘNG".encode() in again  # the engine reads on after a page it stopped


def test_a_model_that_cannot_be_loaded_is_a_rejected_page(tmp_path):
    params = dataclasses.replace(OcrParams(), tessdata=str(tmp_path))
    with pytest.raises(tesseract.InputRejectedError, match=r"page 2: .*'vie'"):
        run_tesseract(render_page(dpi=200, size="A5"), params, page=1, dpi=200)


def test_without_the_library_the_program_reads_the_page(monkeypatch):
    monkeypatch.setattr(libtesseract, "_library", lambda: None)
    image = render_page(dpi=200, size="A5", seed=6).crop((0, 0, 1100, 600))
    assert parse_hocr(run_tesseract(image, OcrParams(), page=0, dpi=200)) == parse_hocr(
        tesseract._run_program(image, OcrParams(), page=0, dpi=200)
    )


CHILD = """
import ctypes
from tests.factories.degrade import render_page
from pipeline.stages.ocr.recognise import OcrParams, recognise
page = recognise(render_page(dpi=200, size="A5", seed=1), OcrParams())
assert page.words
print(ctypes.CDLL("libgomp.so.1").omp_get_thread_limit())
"""


def test_the_library_runs_one_thread_and_writes_nothing_on_stderr():
    """One thread per page (pages run in parallel processes), and Tesseract's chatter
    ("Estimating resolution as …") kept out of the worker's log."""
    env = {"PATH": "/usr/bin:/bin", "OMP_THREAD_LIMIT": "4"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1" and done.stderr == ""


def test_only_the_main_thread_uses_the_library_and_a_job_thread_runs_the_program():
    """Engines in several threads of one process share Tesseract's global parameters: a job
    thread gets no engine (and reads through the program), the main thread one."""
    import threading

    from pipeline.stages.tools.libtesseract import engine

    assert engine("vie") is not None
    found: list = []
    worker = threading.Thread(target=lambda: found.append(engine("vie")))
    worker.start()
    worker.join()
    assert found == [None]
