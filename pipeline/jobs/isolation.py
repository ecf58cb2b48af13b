"""Heavy work outside the worker's interpreter: a child per stage, or a pool of processes.

`run_isolated`: 3D libraries can exhaust memory or crash on hostile input; in a child the
worker lives on and the failure becomes a recorded outcome. The parent watches the child's
resident memory (a rlimit on address space breaks libraries that reserve large virtual ranges)
and kills it past the limit.

`WorkPool`: the CPU-bound part of a page's OCR (preprocessing, hOCR parsing, the Vietnamese
corrector, JSON and JPEG encoding) is Python that holds the interpreter lock; worker threads
that run it side by side take turns on one core. The pool's processes run it in parallel, one
page each; the threads only wait for them and record the results.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import select
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import InputRejectedError

POLL_S = 0.2
T = TypeVar("T")


class StageLimitError(InputRejectedError):
    """The stage went over its time or memory limit (rerun with other parameters)."""


def run_isolated(
    fn: Callable[..., Any], args: tuple, *, time_limit_s: float, memory_mb: int
) -> tuple[Any, int]:
    """`fn(*args)` in a spawned child; returns (its result, the child's peak RSS in MB).

    `fn` must be importable (module level) and its arguments and result picklable. An
    InputRejectedError in the child is raised again here with its message; other exceptions
    come back as RuntimeError (transient, retried).
    """
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(sender, fn, args), daemon=True)
    child.start()
    sender.close()
    deadline = time.monotonic() + time_limit_s
    peak = 0
    try:
        while True:
            if receiver.poll(POLL_S):
                kind, payload = receiver.recv()
                break
            if not child.is_alive():
                raise InputRejectedError(
                    f"the stage's process died (exit code {child.exitcode}) on this input"
                )
            peak = max(peak, rss_mb(child.pid))
            if peak > memory_mb:
                raise StageLimitError(f"over the memory limit of {memory_mb} MB ({peak} MB)")
            if time.monotonic() > deadline:
                raise StageLimitError(f"over the time limit of {time_limit_s:.0f} s")
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if kind == "ok":
        return payload, peak
    if kind == "rejected":
        raise InputRejectedError(payload)
    raise RuntimeError(payload)


def _child(sender, fn: Callable[..., Any], args: tuple) -> None:
    _die_with_parent()
    try:
        sender.send(("ok", fn(*args)))
    except InputRejectedError as e:
        sender.send(("rejected", str(e)))
    except Exception as e:  # reported to the parent with its traceback
        sender.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"))
    finally:
        sender.close()


def _die_with_parent() -> None:
    """A worker killed mid-stage takes its child along (Linux), instead of leaving it to burn
    CPU on work that will be redone."""
    import contextlib
    import ctypes
    import os
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    parent = mp.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)  # the parent died while this child was starting


def rss_mb(pid: int) -> int:
    """Resident memory of a process in MB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


class WorkPool:
    """Processes that run picklable module-level functions; each runs `warm` once when it
    starts.

    They are forked from a fresh server process (multiprocessing's forkserver), never from the
    worker, so no lock or thread of the worker is copied into them; the server imports the
    main module and `preload` once, so a process starts without importing them again."""

    def __init__(
        self,
        processes: int,
        warm: Callable[[], None] | None = None,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.processes = processes
        self._warm = warm
        self._preload = preload
        self._lock = threading.Lock()
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["__main__", *self._preload])
        executor = ProcessPoolExecutor(
            self.processes,
            mp_context=context,
            initializer=_pool_process_start,
            initargs=(os.getpid(), self._warm),
        )
        for _ in range(self.processes):  # start them all now, while the first jobs queue up
            executor.submit(os.getpid)
        return executor

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a pool process. Exceptions raised by `fn` come back as they are; a
        process that died (killed, out of memory) is a RuntimeError (transient: the job is
        retried) and the pool is started again."""
        executor = self._executor
        try:
            return executor.submit(fn, *args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._start()
            raise RuntimeError("a process of the work pool died during this job") from None

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def _pool_process_start(owner: int, warm: Callable[[], None] | None) -> None:
    """In each pool process: end it when the process that owns the pool ends, however it
    ends. Its parent is the fork server, not the owner, and it holds both ends of the pool's
    queues, so without this a killed owner (SIGKILL, a `serve` stopped by its PID) would leave
    the server and its processes running for ever."""
    threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()
    if warm is not None:
        warm()


def _exit_with(owner: int) -> None:
    try:
        fd = os.pidfd_open(owner)
    except OSError:  # already gone, or no pidfd (not Linux ≥ 5.3): poll for it
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the owner has exited
    else:
        while _alive(owner):
            time.sleep(1.0)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_pools: dict[tuple[int, Callable[[], None] | None], WorkPool] = {}
_pools_lock = threading.Lock()


def shared_pool(
    processes: int, warm: Callable[[], None] | None = None, preload: tuple[str, ...] = ()
) -> WorkPool:
    """The process's pool of this size and warm-up, started on first use and shut down at exit
    (one per process: worker threads, runtimes and tests share it)."""
    key = (processes, warm)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = WorkPool(processes, warm, preload)
            if len(_pools) == 1:
                atexit.register(_close_pools)
        return pool


def _close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
