"""Shared helpers of the benchmark scripts: rows, tables, `--json`, scratch folders, timing.

A row is a dict with the keys of `KEYS`: what was measured (`figure`, `unit`), sohoa's
figure, the baseline measured in the same run, their ratio, and the aim as text
("ratio ≥ 0.5", "sohoa ≤ 150", or "" for a figure shown for information). `note` says
how to read the figure (modes, caches, what the baseline was). Sizes are in MB = 10^6 bytes.

Benchmarks are scripts, never tests: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MB = 1_000_000
KEYS = ("figure", "unit", "sohoa", "baseline", "ratio", "aim", "note")
_AIM = re.compile(r"^\s*(sohoa|ratio)\s*(≥|>=|≤|<=)\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*$")


def row(
    figure: str,
    unit: str,
    sohoa: float,
    baseline: float | None,
    aim: str = "",
    note: str = "",
    ratio: float | None = None,
) -> dict:
    """A result row; `ratio` defaults to sohoa ÷ baseline."""
    if ratio is None and baseline:
        ratio = sohoa / baseline
    return {
        "figure": figure,
        "unit": unit,
        "sohoa": sohoa,
        "baseline": baseline,
        "ratio": ratio,
        "aim": aim,
        "note": note,
    }


def met(r: dict) -> bool | None:
    """Whether a row meets its aim; None when it has none (or the aim cannot be read)."""
    m = _AIM.match(r.get("aim") or "")
    if not m:
        return None
    value = r.get(m.group(1))
    if value is None:
        return False
    target = float(m.group(3).replace(",", "").replace("_", ""))
    return value >= target if m.group(2) in ("≥", ">=") else value <= target


def fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict], with_met: bool = False, with_notes: bool = True) -> str:
    header = ["figure", "unit", "sohoa", "baseline", "ratio", "aim"]
    if with_met:
        header.append("met?")
    lines = []
    for r in rows:
        cells = [fmt(r.get(k)) for k in header[:6]]
        if with_met:
            cells.append({True: "yes", False: "NO", None: "—"}[met(r)])
        lines.append(cells)
    widths = [max([len(h)] + [len(c[i]) for c in lines]) for i, h in enumerate(header)]
    right = {2, 3, 4}

    def line(cells: list[str]) -> str:
        return " | ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        )

    out = [line(header), "-+-".join("-" * w for w in widths)]
    out += [line(c) for c in lines]
    if with_notes:
        noted = [(i, r) for i, r in enumerate(rows, 1) if r.get("note")]
        if noted:
            out.append("")
            out += [f"[{i}] {r['figure']}: {r['note']}" for i, r in noted]
    return "\n".join(out)


def emit(rows: list[dict], as_json: bool) -> None:
    """The rows as a JSON list on stdout (`--json`), else as a table."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print(table(rows))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    p.add_argument("--quick", action="store_true", help="scaled-down run (a minute or so)")
    return p


def log(message: str) -> None:
    """Progress on stderr, so stdout stays a table or JSON."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def scratch_root() -> Path:
    """Where benchmarks write: $SOHOA_BENCH_DIR, else the system temp folder."""
    root = Path(os.environ.get("SOHOA_BENCH_DIR") or tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh folder under `scratch_root()`, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"sohoa-bench-{prefix}-", dir=scratch_root()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fsync_tree(path: Path) -> float:
    """fsync every file under `path` (only ours: no system-wide `sync`); returns seconds."""
    start = time.perf_counter()
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return time.perf_counter() - start


def tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


class Stopwatch:
    """`with Stopwatch() as t: ...` then `t.s` (wall seconds, perf_counter)."""

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self._start
