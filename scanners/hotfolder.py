"""Hot folder: take each file once it is stable, then move it to done/ or rejected/.

A file is stable when its size and modification time have not changed for
`SOHOA_WATCH_SETTLE_S`. It is ingested before it is moved, so a crash between
the two re-ingests it on restart, which content addressing turns into a
`duplicate` result, never a second capture: nothing is lost or taken twice.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from pipeline.bootstrap import Services
from pipeline.media.bounded import internal_error
from pipeline.usecases.ingest import IngestResult
from pipeline.usecases.inputs import Item, collect
from scanners.cli.ingest import ingestor, is_zip

log = logging.getLogger(__name__)


class HotFolder:
    def __init__(self, services: Services, folder: Path, kind: str | None) -> None:
        self.folder = folder
        self.kind = kind
        self.settle_s = services.settings.watch_settle_s
        self.limits = services.settings.limits
        self.ingestor = ingestor(services)
        self.done = folder / "done"
        self.rejected = folder / "rejected"
        for d in (folder, self.done, self.rejected):
            d.mkdir(parents=True, exist_ok=True)
        self._seen: dict[Path, tuple[int, int, float]] = {}

    def run(self, stop: threading.Event, once: bool = False, poll_s: float = 0.5) -> None:
        while not stop.is_set():
            took = self.scan()
            if once and not self._seen:
                return
            if not took:
                stop.wait(poll_s)

    def scan(self) -> list[IngestResult]:
        """Ingest and move every file that has been stable for the settle time."""
        results = []
        for path in self.stable_files():
            try:
                results.extend(self.take(path))
            except Exception:  # our bug: this file goes to rejected/ with the id, the rest on
                results.append(self._give_up(path, internal_error(log, str(path))))
        return results

    def _give_up(self, path: Path, reason: str) -> IngestResult:
        self._seen.pop(path, None)
        try:
            moved = _move(path, self.rejected)
            moved.with_name(moved.name + ".reason.txt").write_text(
                f"{path.name}: failed: {reason}\n", encoding="utf-8"
            )
        except OSError:
            log.exception("cannot move %s to %s", path, self.rejected)
        return IngestResult(str(path), "failed", error=reason)

    def stable_files(self) -> list[Path]:
        now = time.monotonic()
        ready = []
        present = set()
        for entry in sorted(self.folder.iterdir()):
            if (
                entry.name.startswith(".")
                or entry in (self.done, self.rejected)
                or not entry.is_file()
            ):
                continue
            if entry.name.endswith(".json") and _is_sidecar(entry):
                continue
            present.add(entry)
            st = entry.stat()
            sig = (st.st_size, st.st_mtime_ns)
            prev = self._seen.get(entry)
            if prev is None or prev[:2] != sig:
                self._seen[entry] = (*sig, now)
            elif now - prev[2] >= self.settle_s:
                ready.append(entry)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return ready

    def take(self, path: Path) -> list[IngestResult]:
        items: list[Item] = list(collect([path], self.kind, is_zip, self.limits))
        results = [r for item in items for r in self.ingestor.ingest_item(item)]
        if any(r.retryable for r in results):
            # storage is down: leave the file where it is; the next scan takes it again
            self._seen.pop(path, None)
            for r in results:
                log.warning("%s %s %s", r.status, r.path, r.error)
            return results
        ok = all(r.status in ("ingested", "duplicate") for r in results)
        target = self.done if ok else self.rejected
        moved = _move(path, target)
        sidecar = path.with_name(path.name + ".json")
        if sidecar.exists():
            _move(sidecar, target)
        if not ok:
            reasons = "\n".join(
                f"{r.path}: {'' if r.status == 'rejected' else 'failed: '}{r.error}"
                for r in results
                if r.error is not None
            )
            moved.with_name(moved.name + ".reason.txt").write_text(reasons + "\n", encoding="utf-8")
        self._seen.pop(path, None)
        for r in results:
            log.info("%s %s %s", r.status, r.path, r.error or r.capture_id)
        return results


def _is_sidecar(path: Path) -> bool:
    return path.with_suffix("").exists() or any(path.parent.glob(path.stem + ".*"))


def _move(path: Path, folder: Path) -> Path:
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    os.replace(path, target)
    return target
