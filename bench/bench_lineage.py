"""Parcel lineage: import speed with splits beside a plain import, and lineage lookup time.

1. Import of N parcels (JSON Lines) into fresh SQLite stores, in ABBA order in one run: the
   baseline is N plain rows; sohoa's figure is N rows of which 10 % are split children over
   three generations (5 % from roots, 3 % from those, 2 % from those), each row naming its
   parent (`split_from`) and an effective date; each such row retires its parent in the same
   save. Figure: rows/s, ratio lineage ÷ plain (aim ≥ 0.5).
2. Lineage lookup of a parcel with 50 ancestors (a chain of renumberings): the parcel with its
   lineage (`pipeline.usecases.lineage.parcel_on`), p95 over repeated lookups (aim ≤ 20 ms);
   baseline: walking the parents one record at a time, as without the stored ancestors.

    .venv/bin/python -m bench.bench_lineage [--n 100000] [--quick] [--json]
"""

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from bench.common import Stopwatch, emit, load_average, log, parser, percentile, row, scratch
from models.application import RecordStore
from models.ids import ParcelKey
from models.places.lineage import LegalBasis, LineageChange
from models.record import Record
from pipeline.settings import eventstore_env
from pipeline.usecases.importing.records import import_records
from pipeline.usecases.lineage import parcel_on

SHEETS = 200
SHARES = (0.05, 0.03, 0.02)  # children per generation, as shares of N: 10 % in all
ANCESTORS = 50
LOOKUPS = 200


def plain_rows(n: int) -> list[dict]:
    return [_row(i) for i in range(n)]


def lineage_rows(n: int, seed: int = 16) -> list[dict]:
    """N rows: roots, then three generations of split children (each parent earlier)."""
    rng = random.Random(seed)
    counts = [round(n * s) for s in SHARES]
    roots = n - sum(counts)
    rows = [_row(i) for i in range(roots)]
    parents = list(range(roots))
    number = roots
    for generation, count in enumerate(counts, 1):
        chosen = rng.sample(parents, count)
        children = []
        for p in chosen:
            day = date(2015 + generation, 1, 1) + timedelta(days=p % 300)
            rows.append(
                {
                    **_row(number, area=40.0),
                    "split_from": _label(p),
                    "effective_date": day.isoformat(),
                    "legal_basis": f"QĐ {p}/QĐ-UBND",
                }
            )
            children.append(number)
            number += 1
        parents = children
    return rows


def _row(i: int, area: float = 100.0) -> dict:
    return {
        "unit_code": "00031",
        "unit_era": "pre2025",
        "sheet": i % SHEETS + 1,
        "parcel_number": i // SHEETS + 1,
        "area_m2": area,
        "purpose": "ODT",
        "valid_from": "2010-01-01",
    }


def _label(i: int) -> str:
    return f"00031:pre2025/{i % SHEETS + 1}/{i // SHEETS + 1}"


def timed_import(root: Path, name: str, rows: list[dict]) -> tuple[float, int]:
    path = root / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = RecordStore(env=eventstore_env(f"sqlite:///{root}/{name}.sqlite3"))
    try:
        with Stopwatch() as t:
            report = import_records(store, path, recorded_by="bench")
    finally:
        store.close()
    if report.rejected:
        raise SystemExit(f"{name}: {len(report.rejected)} rows rejected: {report.rejected[:3]}")
    return t.s, report.rows


def chain(store: RecordStore, length: int) -> ParcelKey:
    """A parcel renumbered `length` times; returns the last number."""
    key = ParcelKey.of("00031", "pre2025", "900", "1")
    first = Record(kind="parcel", key=key.as_record_key(), source="bench")
    first.record_attributes(attributes={"area_m2": 100.0, "valid_from": "1990-01-01"}, source="b")
    store.save(first)
    for n in range(2, length + 2):
        new = ParcelKey.of("00031", "pre2025", "900", str(n))
        change = LineageChange(
            kind="renumber",
            parents=(key,),
            children=(new,),
            effective=date(1990, 1, 1) + timedelta(days=100 * n),
            basis=LegalBasis("bench"),
            recorded_by="bench",
            source="bench",
        )
        store.record_parcel_change(change, today=date.today(), tolerance=0.02)
        key = new
    return key


def walk_parents(store: RecordStore, key: ParcelKey) -> int:
    """The baseline: every ancestor read one record at a time."""
    seen, record = 0, store.record(key.id)
    while record.parents:
        record = store.record(UUID(record.parents[0]["id"]))
        seen += 1
    return seen


def lookups(root: Path) -> tuple[list[float], list[float]]:
    store = RecordStore(env=eventstore_env(f"sqlite:///{root}/chain.sqlite3"))
    try:
        last = chain(store, ANCESTORS)
        view = parcel_on(store, last.id).view
        assert len(view["lineage"]["ancestors"]) == ANCESTORS, "the chain has 50 ancestors"
        ours, walks = [], []
        for _ in range(LOOKUPS):
            start = time.perf_counter()
            parcel_on(store, last.id)
            ours.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            assert walk_parents(store, last) == ANCESTORS
            walks.append((time.perf_counter() - start) * 1000)
    finally:
        store.close()
    return ours, walks


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="parcels per import")
    args = p.parse_args()
    n = 5_000 if args.quick else args.n
    log(load_average())
    rows = []
    with scratch("lineage") as root:
        times: dict[str, list[float]] = {"plain": [], "lineage": []}
        inputs = {"plain": plain_rows(n), "lineage": lineage_rows(n)}
        for run, name in enumerate(("plain", "lineage", "lineage", "plain")):  # ABBA: drift cancels
            log(f"{name} import of {n:,} rows (run {run + 1} of 4)")
            seconds, _ = timed_import(root, f"{name}{run}", inputs[name])
            times[name].append(seconds)
        plain_s, split_s = (sum(times[k]) / 2 for k in ("plain", "lineage"))
        plain_rate, split_rate = n / plain_s, n / split_s
        rows.append(
            row(
                f"import of {n:,} parcels, 10 % split over 3 generations",
                "rows/s",
                split_rate,
                plain_rate,
                aim="ratio ≥ 0.5",
                note=f"baseline: plain import of the same N in the same run, ABBA order, mean of "
                f"2 each ({plain_s:.0f} s vs {split_s:.0f} s); SQLite store; each child row "
                "retires its parent in the same save",
            )
        )
        log(f"lineage lookups ({ANCESTORS} ancestors, {LOOKUPS} times)")
        ours, walks = lookups(root)
        rows.append(
            row(
                f"lineage lookup, parcel with {ANCESTORS} ancestors (p95)",
                "ms",
                percentile(ours, 95),
                percentile(walks, 95),
                aim="sohoa ≤ 20",
                note="parcel_on (record, lineage with stored ancestors, timeline); baseline: "
                "walking the parents one record read at a time; SQLite store",
            )
        )
    log(load_average())
    emit(rows, args.json)


if __name__ == "__main__":
    main()
