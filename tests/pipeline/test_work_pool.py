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
