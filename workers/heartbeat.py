"""A long-running process says it is alive by rewriting a small file; `sohoa health` reads it.

Container healthchecks must test the process they guard: a worker whose consumer threads died,
or a follower stuck on a database that no longer answers, still has a running PID and an event
store that answers `sohoa status`. So each part of the process contributes a check, and the
file is rewritten only while every check passes. A stale file is the unhealthy signal.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

Check = Callable[[], bool]


def beat(path: Path, checks: Mapping[str, Check]) -> dict[str, bool]:
    """Evaluate the checks; rewrite the file (atomically) only when they all pass."""
    results = {}
    for name, check in checks.items():
        try:
            results[name] = bool(check())
        except Exception:  # a check that fails to answer is a failed check
            log.exception("heartbeat check %s raised", name)
            results[name] = False
    if all(results.values()):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"pid": os.getpid(), "time": time.time(), "parts": results}))
        tmp.replace(path)
    else:
        log.warning("heartbeat withheld: %s", ", ".join(n for n, ok in results.items() if not ok))
    return results


def run(path: Path, checks: Mapping[str, Check], stop: threading.Event, every_s: float) -> None:
    while True:
        beat(path, checks)
        if stop.wait(every_s):
            return


def check_file(path: Path, max_age_s: float, now: float | None = None) -> tuple[bool, str]:
    """(healthy?, a line saying why) for `sohoa health`."""
    try:
        data = json.loads(path.read_text())
        age = (time.time() if now is None else now) - float(data["time"])
    except FileNotFoundError:
        return False, f"{path}: no heartbeat yet"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"{path}: unreadable heartbeat ({error})"
    parts = ", ".join(sorted(data.get("parts", {})))
    if age > max_age_s:
        return False, f"stale: last heartbeat {age:.0f} s ago (limit {max_age_s:.0f} s); {parts}"
    return True, f"alive: pid {data.get('pid')}, {age:.0f} s ago; {parts}"
