"""Saving an import's batches one behind its reading: while a thread writes batch N (inserts
its events in one transaction), the caller reads, parses, builds and encodes batch N+1.

SQLite and PostgreSQL insert and commit (fsync) without the GIL, so on two cores that part of
the writing overlaps the reading (ogr2ogr, the peer of `bench/bench_import.py`, is
single-threaded). The events are encoded in the caller: the JSON encoder holds the GIL, and in
the writer it only made the two threads take turns more often (measured: no faster, more CPU).
At most one batch is being written and one built, so memory stays bounded as before. What the
import records and reports is what the sequential path (`overlap=False`) records and reports:

- batches are written in file order, one transaction each, so a crash leaves whole batches;
- a batch's verdicts are reported (`done`) once it is saved, in file order, in the caller's
  thread;
- a batch that depends on the one being written (a row names parents, which may be in it or
  changed by it; or a row's record was changed by it) is built only once that one is saved;
- a write that fails is reported in the caller, naming the batch's rows, and the batch is
  saved row by row there, as the sequential path does; the writer never hangs the import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from pipeline.usecases.importing.rows import ImportRow
from pipeline.usecases.importing.saving import (
    Context,
    Pending,
    Tainted,
    WorkingSet,
    build_batch,
    row_by_row,
    write_batch,
)

log = logging.getLogger(__name__)

Done = Callable[[list[ImportRow]], None]


@dataclass
class InFlight:
    """A batch built and handed to the writer: its verdicts stand once its write succeeds."""

    batch: list[Pending]
    working: WorkingSet
    verdicts: list[ImportRow]
    done: Done
    written: Future[None]

    def rows(self) -> str:
        first, last = self.batch[0].raw.where, self.batch[-1].raw.where
        return f"{len(self.batch)} rows ({first} to {last})"


class InlineExecutor(Executor):
    """Runs a job in the caller's thread: the sequential path, the same steps in one thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # handed to the caller by `result()`, as a thread's would be
            future.set_exception(e)
        return future


class BatchWriter:
    """`with BatchWriter(context) as w: w.save(batch, done) ...`: each batch saved, its verdicts
    passed to `done` in file order; all of them saved when the block ends."""

    def __init__(self, context: Context, *, overlap: bool = True) -> None:
        self.context = context
        self.executor: Executor = (
            ThreadPoolExecutor(1, thread_name_prefix="import-writer")
            if overlap
            else InlineExecutor()
        )
        self.in_flight: InFlight | None = None

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if error is None or isinstance(error, Exception):
                self.drain()  # the batch being written lands and is reported, as it did in turn
        finally:
            self.executor.shutdown(wait=True)

    def save(self, batch: list[Pending], done: Done) -> None:
        """Build `batch` (while the previous one is being written), then hand it to the writer."""
        if self._depends_on_in_flight(batch):
            self.drain()
        try:
            working, verdicts = build_batch(self.context, batch)
            stored = working.events()
        except Tainted as e:
            log.info("import: %s changed a shared record and was rejected; batch row by row", e)
            self._alone(batch, done)
            return
        except Exception as e:  # a refused read, an event not encoded: every row on its own
            log.warning("import: building %d rows failed (%r); row by row", len(batch), e)
            self._alone(batch, done)
            return
        self.drain()
        written = self.executor.submit(write_batch, self.context, stored)
        self.in_flight = InFlight(batch, working, verdicts, done, written)

    def drain(self) -> None:
        """Wait for the batch being written; report it (row by row if its write failed)."""
        in_flight, self.in_flight = self.in_flight, None
        if in_flight is None:
            return
        try:
            in_flight.written.result()
        except Exception as e:  # a conflict or a refused save: every row on its own, as alone
            log.warning("import: saving %s failed (%r); row by row", in_flight.rows(), e)
            verdicts = row_by_row(self.context, in_flight.batch)
        else:
            self.context.parents.remember(*in_flight.working.changed.values())
            verdicts = in_flight.verdicts
        in_flight.done(verdicts)

    def _alone(self, batch: list[Pending], done: Done) -> None:
        self.drain()
        done(row_by_row(self.context, batch))

    def _depends_on_in_flight(self, batch: list[Pending]) -> bool:
        in_flight = self.in_flight
        if in_flight is None:
            return False
        changed = in_flight.working.changed
        return any(p.row.change is not None or p.id in changed for p in batch)
