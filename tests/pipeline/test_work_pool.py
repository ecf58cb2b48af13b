"""The pool pages are read in: work runs in other processes, side by side; a failure comes back
as the job's failure, and a process that dies takes only its own jobs down."""

from __future__ import annotations

import os
import signal
import time

import pytest

from pipeline.errors import InputRejectedError
from pipeline.jobs.isolation import WorkPool


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _reject(message: str) -> None:
    raise InputRejectedError(message)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def pool():
    pool = WorkPool(2)
    yield pool
    pool.close()


def test_work_runs_in_other_processes_side_by_side(pool):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as threads:  # two worker threads, each waiting on the pool
        pids = list(threads.map(lambda _: pool.run(_pid_after, 0.5), range(2)))
    assert os.getpid() not in pids
    assert len(set(pids)) == 2  # two processes at once, not one after the other in one


def test_a_rejected_input_stays_a_rejected_input(pool):
    with pytest.raises(InputRejectedError, match="page 3 is not a page"):
        pool.run(_reject, "page 3 is not a page")


def test_a_process_that_dies_fails_its_job_and_the_pool_goes_on(pool):
    with pytest.raises(RuntimeError, match="died"):
        pool.run(_die)
    assert pool.run(_pid_after, 0) != os.getpid()


_OWNER = """
import os, sys, time
from pipeline.jobs.isolation import WorkPool
pool = WorkPool(2)
print(pool.run(os.getpid), pool.run(os.getppid), flush=True)  # a pool process, the fork server
time.sleep(600)
"""


def test_a_killed_owner_takes_its_pool_and_fork_server_with_it():
    import subprocess
    import sys

    from tests.helpers import REPO

    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        worker, server = map(int, owner.stdout.readline().split())
        assert worker != owner.pid and server != owner.pid
    finally:
        owner.kill()  # no atexit, no shutdown: as `kill -9` or an out-of-memory kill
        owner.wait()
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in (worker, server)):
        assert time.monotonic() < deadline, "the pool outlived the process that owned it"
        time.sleep(0.2)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def _models_loaded() -> tuple[bool, bool]:
    """(Tesseract's Vietnamese model loaded in this process?, the corrector's model?)"""
    from pipeline.stages.tools import libtesseract
    from pipeline.stages.vietnamese import model

    engines = libtesseract._local.__dict__.get("engines", {})
    return ("vie", None) in engines, model.load_model.cache_info().currsize > 0


def test_a_page_pool_process_has_its_models_loaded_before_its_first_page():
    from pipeline.jobs.ocr import PRELOAD, warm
    from pipeline.stages.tools.libtesseract import engine

    if engine("vie") is None:
        pytest.skip("libtesseract.so.5 cannot be loaded here")
    pool = WorkPool(1, warm, PRELOAD)
    try:
        assert pool.run(_models_loaded) == (True, True)
    finally:
        pool.close()


_PRELOADED = """
import os
from pipeline.jobs.isolation import WorkPool
from pipeline.jobs.ocr import PRELOAD, warm
from tests.pipeline.test_work_pool import _loaded_where
pool = WorkPool(2, warm, PRELOAD)
print(*pool.run(_loaded_where), pool.run(_loaded_where)[0], flush=True)
pool.close()
"""


def _loaded_where() -> tuple[int | None, int, int]:
    """(the process that loaded the OCR models this pool process has, this one, its parent)"""
    from pipeline.jobs import preload_ocr

    return preload_ocr.loaded_in, os.getpid(), os.getppid()


def test_the_fork_server_loads_the_models_once_for_every_page_pool_process():
    import subprocess
    import sys

    from pipeline.stages.tools.libtesseract import engine
    from tests.helpers import REPO

    if engine("vie") is None:
        pytest.skip("libtesseract.so.5 cannot be loaded here")
    # its own process: a process has one fork server, started with the first pool's preload
    done = subprocess.run(
        [sys.executable, "-c", _PRELOADED], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded_in, pid, server, loaded_in_other = map(int, done.stdout.split())
    assert loaded_in == server != pid  # loaded before the fork, not in the pool process
    assert loaded_in_other == server
