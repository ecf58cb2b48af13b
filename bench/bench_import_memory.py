"""Bulk import in bounded memory: peak RSS of `sohoa import` at two sizes of one GeoJSON file.

    nice .venv/bin/python bench/bench_import_memory.py [--n 100000 1000000] [--quick] [--json]

Input: a GeoJSON FeatureCollection of N parcels named as a VBDLIS export names them, made by
`bench_import.parcels` (the import bench's generator) 10,000 at a time, each block on its own
map sheets, so N = 1,000,000 is written without holding it; 1 % of the rows are bad (an area
that is not a number, no parcel number, a unit code that is not one, a field no export has).

Each N is imported by `import_records` (what `sohoa import FILE` runs) into a fresh SQLite
event store in a fresh process, so peak RSS (`ru_maxrss`) is that import's alone. The child
also samples its RSS at every tenth of the rows. Figures: peak RSS per N, rows/s per N, and
the RSS at 100 % over the RSS at 10 % of the largest N (flat is ≤ 1.1). The bad rows are
checked: exactly the 1 %, each with its feature number. `--quick`: N = 20,000 and 100,000.

`--readers`: how the GeoJSON is read, on the first N only: sohoa's reader (`read_rows`, ijson's
C parser, feature by feature) beside pyogrio (GDAL) read in slices of 10,000 features (the
bounded-memory way to read with it), and `json.loads` of the whole file for reference.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_import import parcels
from bench.common import MB, Stopwatch, emit, load_average, log, parser, row, scratch

BLOCK = 10_000  # features per call of the generator; sheets are offset per block


def write_parcels(path: Path, n: int) -> set[int]:
    """N features written block by block; returns the feature numbers of the bad ones."""
    bad: set[int] = set()
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type": "FeatureCollection", "features": [\n')
        for block, start in enumerate(range(0, n, BLOCK)):
            features, block_bad = parcels(min(BLOCK, n - start), seed=15 + block)
            bad.update(start + b for b in block_bad)
            for i, feature in enumerate(features):
                props = feature["properties"]
                props["OBJECTID"] += start
                props["SoHieuToBanDo"] += block * (BLOCK // 1000)
                f.write(("" if start + i == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
        f.write("\n]}\n")
    return bad


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def child(source: Path, db: Path, n: int) -> None:
    """One import in this process; prints rows, seconds, peak RSS, RSS curve and the bad rows."""
    from models.application import RecordStore
    from pipeline.settings import eventstore_env
    from pipeline.usecases.importing.records import import_records

    store = RecordStore(env=eventstore_env(f"sqlite:///{db}"))
    curve: list[tuple[int, float]] = []
    step, done = max(n // 10, 1), 0

    def on_row(_: object) -> None:
        nonlocal done
        done += 1
        if done % step == 0:
            curve.append((done, rss_mb()))
            log(f"{done:,} rows, RSS {curve[-1][1]:,.0f} MB")

    started = time.perf_counter()
    report = import_records(store, source, on_row=on_row, recorded_by="bench")
    seconds = time.perf_counter() - started
    store.close()
    bad = sorted(int(r["where"].split()[-1]) for r in report.rejected if r["reason"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB
    result = {"rows": report.rows, "seconds": seconds, "peak": peak, "curve": curve, "bad": bad}
    print(json.dumps(result))


def measure(root: Path, n: int) -> dict:
    source = root / f"parcels{n}.geojson"
    log(f"writing {n:,} parcels")
    bad = write_parcels(source, n)
    log(f"{n:,} parcels, {len(bad):,} bad, {source.stat().st_size / MB:,.0f} MB; importing")
    db = root / f"events{n}.sqlite3"
    cmd = [sys.executable, __file__, "--child", str(source), str(db), str(n)]
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(done.stdout)
    if result["rows"] != n or set(result["bad"]) != bad:
        raise SystemExit(f"{n:,}: {result['rows']} rows, {len(result['bad'])} reported bad")
    for leftover in root.iterdir():  # the file and the store: sizes do not share a disk
        leftover.unlink()
    log(f"{n:,}: {n / result['seconds']:,.0f} rows/s, peak RSS {result['peak']:,.0f} MB")
    log("RSS (MB) at rows: " + ", ".join(f"{d:,}: {r:,.0f}" for d, r in result["curve"]))
    return result


def compare_readers(root: Path, n: int) -> list[dict]:
    """Features/s of the streamed reader beside pyogrio in slices and a whole-file json.loads."""
    import pyogrio

    from pipeline.usecases.importing.readers import read_rows

    source = root / "readers.geojson"
    write_parcels(source, n)
    with Stopwatch() as ours:
        assert sum(1 for _ in read_rows(source, "geojson")) == n
    with Stopwatch() as sliced:
        start = 0
        while len(pyogrio.raw.read(str(source), skip_features=start, max_features=BLOCK)[2]):
            start += BLOCK
    with Stopwatch() as whole:
        assert len(json.loads(source.read_bytes())["features"]) == n
    source.unlink()
    note = (
        f"baseline: pyogrio.raw.read with skip_features/max_features {BLOCK:,} (each slice "
        f"scans from the start); json.loads of the whole file: {n / whole.s:,.0f}/s"
    )
    return [row(f"read {n:,} GeoJSON features", "features/s", n / ours.s, n / sliced.s, note=note)]


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--readers", action="store_true", help="compare GeoJSON readers and stop")
    args = p.parse_args()
    sizes = [20_000, 100_000] if args.quick else sorted(args.n)
    log(load_average())
    if args.readers:
        with scratch("import-rss") as root:
            emit(compare_readers(root, sizes[0]), args.json)
        return
    rows = []
    with scratch("import-rss") as root:
        results = {n: measure(root, n) for n in sizes}
    for n, r in results.items():
        rows.append(row(f"import {n:,} parcels GeoJSON (1 % bad): peak RSS", "MB", r["peak"], None))
        rows.append(
            row(f"import {n:,} parcels GeoJSON (1 % bad): rate", "rows/s", n / r["seconds"], None)
        )
    small, large = sizes[0], sizes[-1]
    rows.append(
        row(
            f"peak RSS, {large:,} over {small:,} parcels",
            "ratio",
            results[large]["peak"] / results[small]["peak"],
            None,
            aim="sohoa ≤ 1.1",
            note="import_records in a fresh process per size (ru_maxrss), SQLite event store",
        )
    )
    curve = results[large]["curve"]
    rows.append(
        row(
            f"RSS at 100 % over RSS at 10 % of {large:,} parcels",
            "ratio",
            curve[-1][1] / curve[0][1],
            None,
            aim="sohoa ≤ 1.1",
            note="RSS from /proc/self/statm, sampled as rows are reported",
        )
    )
    log(load_average())
    emit(rows, args.json)


if __name__ == "__main__":
    main()
