"""Bulk parcel import beside ogr2ogr, and the index following it beside raw tantivy.

    .venv/bin/python bench/bench_import.py --setup      # installs the ogr2ogr peer (gdal-bin)
    .venv/bin/python bench/bench_import.py [--n 100000] [--quick] [--json]

Input: one GeoJSON FeatureCollection of `--n` parcels (20,000 with `--quick`) named as a VBDLIS
export names them (`OBJECTID`, `MaXa`, `SoHieuToBanDo`, `SoThuTuThua`, `DienTich`,
`KyHieuMucDichSuDung`), each a six-vertex polygon in Hà Nội; 1 % of the rows are bad (an area
that is not a number, no parcel number, a unit code that is not one, a field no export has).

1. Import, in ABBA order in one run: `ogr2ogr -f GPKG` of the file into a fresh GeoPackage
   (the peer: GDAL's own GeoJSON reader and GeoPackage writer, installed by `--setup`, i.e.
   Debian's `gdal-bin`), and `import_records` (what `sohoa import FILE` runs) into a fresh
   SQLite event store: every row its events, saved in batches, each bad row reported with its
   feature number and reason (checked: exactly the 1 %). Figure: rows/s, mean of two runs each.
2. Index: the indexer (`IndexProjection` under a `Follower`, as `sohoa follow` wires it, without
   the gazetteer) catching up from an empty tantivy index over the store of step 1 (documents
   built from the events, commits per round of `pipeline.dispatch.indexer.BATCH` notifications).
   Baseline, before and after it (ABA): raw tantivy, one stored id and one text field (title
   and text) per document, the same documents in batches of 1000 with one commit each.

Each figure has a CPU-time twin (user + system seconds of the same runs: ogr2ogr's as a
child's, the index writer's threads included): on a machine shared with other work the wall
clock counts their load too, the CPU time only the work each side did.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_search import raw_build  # the same raw-tantivy peer as the search bench
from bench.common import Stopwatch, emit, load_average, log, parser, row, scratch

SEED = 15
BAD_SHARE = 100  # one row in 100 is bad
PURPOSES = ("ODT", "LUC", "CLN", "DGT", "ONT", "DCH", "ODT+CLN", "BHK", "TSC")


# -- CPU time ---------------------------------------------------------------


class CpuClock:
    """`with CpuClock() as c: ...` then `c.s`: CPU seconds (user + system) of this process's
    threads and of the children that ended meanwhile. On a shared machine the wall clock
    counts the other helpers' load; this counts only the work done."""

    def __enter__(self) -> CpuClock:
        self._start = _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = _cpu() - self._start


def _cpu() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# -- the peer ---------------------------------------------------------------


def setup_ogr2ogr() -> bool:
    """ogr2ogr on PATH, installing Debian's gdal-bin if it is missing (bench set-up only)."""
    if shutil.which("ogr2ogr"):
        return True
    if not shutil.which("apt-get"):
        log("ogr2ogr is missing and there is no apt-get: install GDAL's command-line tools")
        return False
    log("installing gdal-bin (ogr2ogr) with apt-get")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "gdal-bin"]):
        if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
            log(f"{' '.join(cmd)} failed")
            return False
    return shutil.which("ogr2ogr") is not None


# -- the input --------------------------------------------------------------


def parcels(n: int, seed: int = SEED) -> tuple[list[dict[str, Any]], set[int]]:
    """N VBDLIS-named features and the feature numbers (1-based) of the bad ones."""
    rng = random.Random(seed)
    features, bad = [], set()
    for i in range(n):
        lon, lat, d = 105.80 + (i % 300) * 0.0002, 21.00 + (i // 300) * 0.0002, 0.00015
        ring = [
            [lon, lat],
            [lon + d, lat],
            [lon + d, lat + d * 0.6],
            [lon + d * 0.7, lat + d],
            [lon, lat + d],
            [lon, lat],
        ]
        props: dict[str, Any] = {
            "OBJECTID": 1_000_000 + i,
            "MaXa": "00031",
            "SoHieuToBanDo": i // 1000 + 1,
            "SoThuTuThua": i % 1000 + 1,
            "DienTich": round(rng.uniform(30, 500), 6),
            "KyHieuMucDichSuDung": rng.choice(PURPOSES),
        }
        if i % BAD_SHARE == BAD_SHARE // 2:
            bad.add(i + 1)
            kind = (i // BAD_SHARE) % 4
            if kind == 0:
                props["DienTich"] = "nhiều"
            elif kind == 1:
                del props["SoThuTuThua"]
            elif kind == 2:
                props["MaXa"] = "X1"
            else:
                props["GhiChu"] = "?"
        geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return features, bad


def write_collection(path: Path, features: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type": "FeatureCollection", "features": [\n')
        f.write(",\n".join(json.dumps(x, ensure_ascii=False) for x in features))
        f.write("\n]}\n")


# -- 1. import --------------------------------------------------------------


def run_ogr2ogr(source: Path, target: Path) -> tuple[float, float]:
    """Wall and CPU seconds."""
    with Stopwatch() as t, CpuClock() as c:
        subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), str(source)], check=True)
    return t.s, c.s


def run_import(source: Path, db: Path, bad: set[int]) -> tuple[float, float, Any]:
    from models.application import RecordStore
    from pipeline.settings import eventstore_env
    from pipeline.usecases.importing.records import import_records

    store = RecordStore(env=eventstore_env(f"sqlite:///{db}"))
    with Stopwatch() as t, CpuClock() as c:
        report = import_records(store, source, recorded_by="bench")
    reported = {int(r["where"].split()[-1]) for r in report.rejected}
    if reported != bad or not all(r["reason"] for r in report.rejected):
        raise SystemExit(f"bad rows reported {sorted(reported)[:5]}…, expected {sorted(bad)[:5]}…")
    return t.s, c.s, store


# -- 2. index ---------------------------------------------------------------


def follow(store: Any, path: Path) -> tuple[float, float, int]:
    from pipeline.dispatch.follower import Follower
    from pipeline.dispatch.indexer import BATCH
    from search.indexer import IndexProjection
    from search.tantivy.index import TantivyIndex

    index = TantivyIndex(path)
    follower = Follower("indexer", store, index, IndexProjection(store, index).handle, BATCH)
    with Stopwatch() as t, CpuClock() as c:
        follower.catch_up()
    return t.s, c.s, index.count()


def raw(path: Path, documents: list[Any]) -> tuple[float, float]:
    """Wall and CPU seconds of the raw-tantivy baseline."""
    with CpuClock() as c:
        wall = raw_build(path, documents)
    return wall, c.s


def documents_of(store: Any) -> list[Any]:
    """The documents the indexer builds, made once (untimed) for the raw baseline."""
    from search.documents import record_document
    from search.indexer import replay

    events: dict[Any, list[Any]] = {}
    for n in store.notifications():
        events.setdefault(n.originator_id, []).append(store.mapper.to_domain_event(n))
    return [record_document(replay(e)) for e in events.values()]


# -- the run ----------------------------------------------------------------


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="parcels in the GeoJSON file")
    p.add_argument("--setup", action="store_true", help="install the ogr2ogr peer and stop")
    args = p.parse_args()
    if args.setup:
        sys.exit(0 if setup_ogr2ogr() else 1)
    have_peer = setup_ogr2ogr()
    n = 20_000 if args.quick else args.n
    log(load_average())
    rows = []
    with scratch("import") as root:
        features, bad = parcels(n)
        source = root / "parcels.geojson"
        write_collection(source, features)
        del features
        log(f"{n:,} parcels, {len(bad)} bad, {source.stat().st_size / 1e6:.0f} MB")
        times: dict[str, list[float]] = {"ogr2ogr": [], "sohoa": []}
        cpu: dict[str, list[float]] = {"ogr2ogr": [], "sohoa": []}
        store = None
        order = ("ogr2ogr", "sohoa", "sohoa", "ogr2ogr") if have_peer else ("sohoa",)
        for run, name in enumerate(order):  # ABBA: drift in the machine's load cancels
            log(f"{name}, run {run + 1} of {len(order)}")
            if name == "ogr2ogr":
                seconds, cpu_s = run_ogr2ogr(source, root / f"out{run}.gpkg")
            else:
                seconds, cpu_s, store = run_import(source, root / f"events{run}.sqlite3", bad)
            times[name].append(seconds)
            cpu[name].append(cpu_s)
            log(f"{name}: {n / times[name][-1]:,.0f} rows/s")
        ours = n / (sum(times["sohoa"]) / len(times["sohoa"]))
        peer = n / (sum(times["ogr2ogr"]) / 2) if have_peer else None
        rows.append(
            row(
                f"import, {n:,} parcels GeoJSON (VBDLIS names, 1 % bad)",
                "rows/s",
                ours,
                peer,
                aim="ratio ≥ 0.5",
                note=(
                    f"import_records (sohoa import) into SQLite, every row its events, batches "
                    f"of 1000 rows per transaction (each written by a thread while the next is "
                    f"read), {len(bad)} bad rows reported with feature "
                    f"and reason; baseline: ogr2ogr -f GPKG of the same file, ABBA, mean of 2"
                    if have_peer
                    else "peer not installed: run make bench-setup"
                ),
            )
        )
        if have_peer:
            rows.append(
                row(
                    "import, the same, CPU time",
                    "rows per CPU-s",
                    n / (sum(cpu["sohoa"]) / 2),
                    n / (sum(cpu["ogr2ogr"]) / 2),
                    note="user + system seconds of the same runs (ogr2ogr: the child's), mean "
                    "of 2: what the wall-clock ratio is when the machine is not shared",
                )
            )
        log("index: documents for the raw baseline (untimed)")
        documents = documents_of(store)
        gc.freeze()  # the baseline's documents stay out of the indexer's garbage collections
        log("index: raw tantivy (A)")
        raw_runs = [raw(root / "raw0", documents)]
        log("index: sohoa indexer catch-up (B)")
        follow_s, follow_cpu, count = follow(store, root / "index")
        assert count == len(documents), (count, len(documents))
        log("index: raw tantivy (A)")
        raw_runs.append(raw(root / "raw1", documents))
        raw_s = [wall for wall, _ in raw_runs]
        docs = len(documents)
        rows.append(
            row(
                f"index following the import, {docs:,} documents",
                "documents/s",
                docs / follow_s,
                docs / (sum(raw_s) / 2),
                aim="sohoa ≥ 20,000",
                note=(
                    "IndexProjection under a Follower over the import's SQLite store (documents "
                    "from the events, one commit per round of 5,000 notifications, full sohoa "
                    "schema); baseline: raw tantivy, one stored id + one text field, batches of "
                    "1000, ABA, mean of 2"
                ),
            )
        )
        rows.append(
            row(
                "index, the same, CPU time",
                "documents per CPU-s",
                docs / follow_cpu,
                docs / (sum(c for _, c in raw_runs) / 2),
                note="user + system seconds of the same runs (the writer's threads included)",
            )
        )
        store.close()
    log(load_average())
    emit(rows, args.json)


if __name__ == "__main__":
    main()
