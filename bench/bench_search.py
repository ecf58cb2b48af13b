"""Search on the embedded backend: index build and replay rates, query latency, indexer lag.

    .venv/bin/python bench/bench_search.py [--records 200000] [--replay 50000] [--queries 200]
                                            [--lag-s 30] [--quick] [--json]
                                            [--backend opensearch [--url http://127.0.0.1:9201]]

Records are generated (seeded): 70 % land parcels (a 15 m square in WGS 84, area, land-use
code, address, owner and certificate serial, restricted), 30 % heritage sites (Vietnamese names
such as "Đình Hòa Phúc", types, rank, period, a 30–60 word description, a point), filed under
Hà Nội wards of both eras (the pre-2025 ward and the 2025 ward it became); 85 % published.

1. Build: `TantivyIndex.upsert` of `--records` documents (made by `record_document` from
   in-memory Record aggregates, untimed) in batches of 1000, one commit each. Baseline: a raw
   tantivy index with one stored id and one text field (title and description), same batches.
2. Replay: the indexer (`IndexProjection` under a `Follower`, as `pipeline.dispatch.indexer` wires
it,
   without the gazetteer) catching up from an empty index over a SQLite event store holding
   `--replay` records (≈3.9 events each; 50,000 by default: the figure is a rate, and all
   200,000 would take a quarter of an hour more). Baseline: a raw `select_notifications` scan
   of the same log in pages of 1000.
3. Queries on the index of step 1, `--queries` of each kind after a warm-up, public role, 10
   hits with snippets and facets where asked: a quoted two-word phrase, two words (both
   required, the last also as a prefix, as typed), a three-letter prefix, a one-word search
   with four facets counted, the parcel at a point (`containing`) and parcels meeting a 300 m
   box (`intersecting`; officer role). Baseline: the nearest raw tantivy query on the same
   index (phrase / two `Must` terms / prefix on the folded name field; a term query with the
   same terms aggregation; lat/lon range queries), 10 hits with their stored documents read.
4. Lag: a writer thread appends 200 events/s (one `AttributesRecorded` per save, on sites of
   the replayed store) for `--lag-s` seconds while the indexer follows (`Follower.run`, idle
   poll `pipeline.dispatch.indexer.IDLE_S` as `sohoa follow`); lag = time from `store.save`
returning
   to the batch holding that event being searchable. Baseline: a follower whose handler does
   nothing, polling the same log in another thread of the same process.

With `--backend opensearch` (the node at `--url`, default `SOHOA_TEST_OPENSEARCH_URL` or the one
`make services` wrote to `var/services.env`) the same four steps run on the real node as well,
on the same documents, queries and event store, in the same run, each beside tantivy: its
baseline is then the tantivy figure of that step. The node gets its own alias
(`sohoa-bench-<hex>`), dropped at the end. Its lag adds a `_refresh` after each batch (the
node makes writes searchable only on refresh; without it, add its 1 s refresh interval).
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, emit, load_average, log, parser, percentile, row, scratch

BATCH = 1000
SAVE_BATCH = 100
SEED = 20250701
HANOI = (21.02, 105.84)  # lat, lon
SPREAD = 0.12  # degrees either way
PARCEL_SIDE = 15 / 111_195  # 15 m in degrees of latitude
WARDS = [  # (pre-2025 ward, its 2025 ward, district before 2025) — DOMAIN.md §3
    ("Phường Hàng Bạc", "Phường Hoàn Kiếm", "Quận Hoàn Kiếm"),
    ("Phường Hàng Bài", "Phường Cửa Nam", "Quận Hoàn Kiếm"),
    ("Phường Chương Dương", "Phường Hồng Hà", "Quận Hoàn Kiếm"),
    ("Phường Trúc Bạch", "Phường Ba Đình", "Quận Ba Đình"),
    ("Phường Giảng Võ", "Phường Giảng Võ", "Quận Ba Đình"),
    ("Phường Thịnh Quang", "Phường Đống Đa", "Quận Đống Đa"),
    ("Phường Nghĩa Tân", "Phường Nghĩa Đô", "Quận Cầu Giấy"),
    ("Phường Cống Vị", "Phường Ngọc Hà", "Quận Ba Đình"),
    ("Phường Văn Miếu", "Phường Văn Miếu - Quốc Tử Giám", "Quận Đống Đa"),
    ("Xã Vân Đình", "Xã Vân Đình", "Huyện Ứng Hòa"),
]
SITE_KINDS = ["Đình", "Chùa", "Đền", "Miếu", "Phủ", "Quán", "Nhà thờ họ", "Văn chỉ"]
SYLLABLES = [
    "Hòa",
    "Phúc",
    "Kim",
    "Ngân",
    "Long",
    "Quang",
    "Thịnh",
    "An",
    "Bình",
    "Đông",
    "Văn",
    "Thủy",
    "Hưng",
    "Khánh",
    "Mỹ",
    "Lộc",
    "Tiên",
    "Thanh",
    "Hà",
    "Nghĩa",
    "Đức",
    "Trung",
    "Hậu",
    "Yên",
    "Phú",
    "Xuân",
    "Thọ",
    "Linh",
    "Cảnh",
    "Thái",
    "Hoàng",
    "Minh",
    "Tân",
    "Vĩnh",
    "Đại",
    "Bảo",
    "Sơn",
    "Hoà",
]
PHRASES = [
    "di tích lịch sử văn hóa",
    "thờ Thành hoàng làng",
    "kiến trúc thời Nguyễn",
    "bia đá khắc năm Cảnh Hưng",
    "lễ hội truyền thống mùa xuân",
    "được trùng tu năm",
    "hệ thống tượng Phật",
    "câu đối hoành phi",
    "giếng nước trước cửa",
    "cây đa cổ thụ",
    "nơi ghi dấu",
    "sắc phong của triều đình",
    "chuông đồng đúc thời Lê",
    "tam quan hai tầng mái",
]
RANKS = ["quốc gia đặc biệt", "quốc gia", "cấp thành phố", "cấp thành phố", "chưa xếp hạng"]
TYPES = ["di tích lịch sử", "kiến trúc nghệ thuật", "khảo cổ", "danh lam thắng cảnh"]
PERIODS = ["Lý", "Trần", "Hậu Lê", "Mạc", "Nguyễn", "Tây Sơn"]
PURPOSES = ["ODT", "LUC", "CLN", "TMD", "ONT", "ODT+CLN"]
STREETS = ["Hàng Bạc", "Hàng Bài", "Giảng Võ", "Nguyễn Thái Học", "Đê La Thành", "Láng Hạ"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
GIVEN = ["Văn An", "Thị Mận", "Đức Thắng", "Thị Hòa", "Minh Tuấn", "Thu Thủy"]


# -- generated records ------------------------------------------------------------------------


def make_records(n: int, seed: int = SEED) -> list:
    """`n` Record aggregates (not saved): 70 % parcels, 30 % sites."""
    rng = random.Random(seed)
    return [_parcel(rng, i) if rng.random() < 0.7 else _site(rng, i) for i in range(n)]


def _position(rng: random.Random) -> tuple[float, float]:
    return HANOI[0] + rng.uniform(-SPREAD, SPREAD), HANOI[1] + rng.uniform(-SPREAD, SPREAD)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SITE_KINDS)} {rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"


def _site(rng: random.Random, i: int):
    from models.record import Record

    old, new, district = rng.choice(WARDS)
    lat, lon = _position(rng)
    words = " ".join(rng.choice(PHRASES) for _ in range(rng.randint(6, 10)))
    record = Record(kind="site", key={"code": f"HN-B{i:07d}"}, source="bench")
    record.record_attributes(
        attributes={
            "name": _name(rng),
            "aliases": [_name(rng)],
            "type": rng.sample(TYPES, rng.randint(1, 2)),
            "rank": rng.choice(RANKS),
            "period": rng.choice(PERIODS),
            "ward": old,
            "ward_old": [old],
            "ward_new": [new],
            "district": district,
            "description": f"{words}.",
        },
        source="bench",
    )
    record.set_geometry(
        geometry={"type": "Point", "coordinates": [lon, lat]}, crs="EPSG:4326", source="bench"
    )
    if rng.random() < 0.85:
        record.publish()
    return record


def _parcel(rng: random.Random, i: int):
    from models.record import Record

    old, new, _ = rng.choice(WARDS)
    era, unit = ("pre2025", f"{rng.randint(1, 400):05d}")
    lat, lon = _position(rng)
    d = PARCEL_SIDE
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    key = {"unit_code": unit, "era": era, "sheet": str(i // 1000 + 1), "number": str(i)}
    record = Record(kind="parcel", key=key, source="bench")
    record.record_attributes(
        attributes={
            "area_m2": round(rng.uniform(30, 500), 1),
            "purpose": rng.choice(PURPOSES),
            "address": f"số {rng.randint(1, 200)} {rng.choice(STREETS)}",
            "ward": old,
            "ward_new": [new],
            "owner": f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
            "serial": f"B{rng.choice('KVX')} {rng.randint(100000, 999999)}",
        },
        source="bench",
    )
    record.set_geometry(
        geometry={"type": "Polygon", "coordinates": [ring]}, crs="EPSG:4326", source="bench"
    )
    if rng.random() < 0.85:
        record.publish()
    return record


# -- 1. build -------------------------------------------------------------------------------------


def bench_build(root: Path, records: list) -> tuple[list[dict], Any]:
    from search.documents import record_document
    from search.tantivy.index import TantivyIndex

    log(f"build: {len(records):,} documents from records")
    documents = [record_document(r) for r in records]
    index = TantivyIndex(root / "built")
    with Stopwatch() as t:
        for start in range(0, len(documents), BATCH):
            index.upsert(documents[start : start + BATCH])
    log(f"build: {len(documents) / t.s:,.0f} documents/s; raw tantivy baseline")
    raw_s = raw_build(root / "raw", documents)
    n = len(documents)
    note = (
        f"TantivyIndex.upsert, batches of {BATCH} (a version check, 3 text groups x 2 forms, "
        "facets, numbers, envelope and its tiles, JSON stored; one commit each); baseline: "
        "raw tantivy, one stored id + one text field, same batches and commits"
    )
    return [row(f"index build, {n:,} documents", "documents/s", n / t.s, n / raw_s, "", note)], (
        index,
        documents,
        n / t.s,
    )


# -- the same on a real node (--backend opensearch) -----------------------------------------------


def node_url(arg: str | None) -> str:
    import os

    from tests.services.services import read_env

    env = Path(__file__).resolve().parent.parent / "var" / "services.env"
    url = (
        arg
        or os.environ.get("SOHOA_TEST_OPENSEARCH_URL", "")
        or read_env(env).get("SOHOA_TEST_OPENSEARCH_URL", "")
    )
    if not url:
        raise SystemExit("--backend opensearch needs --url or SOHOA_TEST_OPENSEARCH_URL")
    return url if "+" in url.split("://")[0] else f"opensearch+{url}"


def open_node(url: str, purpose: str) -> Any:
    import uuid

    from search.elastic.index import ElasticIndex

    return ElasticIndex.from_url(f"{url.rstrip('/')}/sohoa-bench-{purpose}-{uuid.uuid4().hex[:8]}")


def bench_node_build(node: Any, documents: list, tantivy_rate: float) -> list[dict]:
    log(f"build on {node.product}: {len(documents):,} documents")
    with Stopwatch() as t:
        for start in range(0, len(documents), BATCH):
            node.upsert(documents[start : start + BATCH])
        node.refresh()
    n = len(documents)
    assert node.count() == n, (node.count(), n)
    log(f"build on {node.product}: {n / t.s:,.0f} documents/s")
    note = (
        f"ElasticIndex.upsert on {node.product}, batches of {BATCH} (bulk split at "
        f"{node.max_bulk_bytes // 1024 // 1024} MB, external versions), one refresh at the end; "
        "baseline: TantivyIndex.upsert of the same documents, same run"
    )
    return [
        row(
            f"{node.product} index build, {n:,} documents",
            "documents/s",
            n / t.s,
            tantivy_rate,
            "",
            note,
        )
    ]


def raw_build(path: Path, documents: list) -> float:
    import tantivy

    path.mkdir()
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    b.add_text_field("body", tokenizer_name="default")
    index = tantivy.Index(b.build(), path=str(path))
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    with Stopwatch() as t:
        for start in range(0, len(documents), BATCH):
            for d in documents[start : start + BATCH]:
                writer.add_document(tantivy.Document(id=d.id, body=f"{d.title} {d.text}"))
            writer.commit()
    writer.wait_merging_threads()
    return t.s


# -- 2. replay ------------------------------------------------------------------------------------


def fill_store(path: Path, n: int):
    from models.application import RecordStore
    from pipeline.settings import eventstore_env

    store = RecordStore(env=eventstore_env(f"sqlite:///{path}"))
    records = make_records(n, seed=SEED + 1)
    log(f"replay: saving {n:,} records to SQLite")
    for start in range(0, n, SAVE_BATCH):
        store.save(*records[start : start + SAVE_BATCH])
    return store, [r.id for r in records if r.kind == "site"]


def indexer_of(store, index, batch: int = 1000):
    from pipeline.dispatch.follower import Follower
    from search.indexer import IndexProjection

    return Follower("indexer", store, index, IndexProjection(store, index).handle, batch)


def bench_replay(root: Path, n: int) -> tuple[list[dict], Any, Any, list]:
    from search.tantivy.index import TantivyIndex

    store, sites = fill_store(root / "events.sqlite3", n)
    events = store.max_notification_id()
    log(f"replay: raw scan of {events:,} notifications")
    with Stopwatch() as scan:
        start = 1
        while page := store.recorder.select_notifications(start, 1000):
            start = page[-1].id + 1
    index = TantivyIndex(root / "replayed")
    log("replay: indexer catch-up")
    with Stopwatch() as t:
        covered = indexer_of(store, index).catch_up()
    assert covered == events and index.count() == n, (covered, events, index.count(), n)
    note = (
        f"{n:,} records, {events:,} events, SQLite; IndexProjection under a Follower "
        f"(batches of 1000: versions lookup, load each aggregate, build, upsert, commit) = "
        f"{n / t.s:,.0f} documents/s; baseline: raw select_notifications scan in pages of 1000"
    )
    rows = [row("indexer replay from the event store", "events/s", events / t.s, events / scan.s)]
    rows[0]["note"] = note
    return rows, store, index, sites


# -- 3. queries -----------------------------------------------------------------------------------


def query_sets(rng: random.Random, records: list, n: int) -> dict[str, list]:
    """Per kind: (sohoa Query, raw tantivy query builder arguments)."""
    from models.language.text import fold
    from search.geo.crs import box_region
    from search.query import GeoPoint, Query

    names = [r.attributes["name"] for r in records if r.kind == "site"]
    parcels = [r for r in records if r.kind == "parcel"]
    facets = ("type", "rank", "ward", "period")
    out: dict[str, list] = {k: [] for k in ("phrase", "and", "prefix", "facet", "geo point")}
    out["geo box"] = []
    for _ in range(n):
        words = rng.choice(names).split()[-2:]
        out["phrase"].append(
            (Query(text=f'"{" ".join(words)}"'), ("phrase", [fold(w) for w in words]))
        )
        two = [rng.choice(SITE_KINDS).split()[0], rng.choice(SYLLABLES)]
        out["and"].append((Query(text=" ".join(two)), ("and", [fold(w) for w in two])))
        stem = fold(rng.choice(SYLLABLES))[:3].lower()
        out["prefix"].append((Query(text=stem), ("prefix", [stem])))
        word = rng.choice(SYLLABLES)
        out["facet"].append((Query(text=word, facets=facets), ("facet", [fold(word)])))
        p = rng.choice(parcels).geometry["geometry"]["coordinates"][0][0]
        inside = GeoPoint(lat=p[1] + PARCEL_SIDE / 2, lon=p[0] + PARCEL_SIDE / 2)
        out["geo point"].append(
            (Query(role="officer", containing=inside), ("box", inside.lon, inside.lat, 0.0))
        )
        lat, lon = _position(rng)
        half = 150 / 111_195
        region = box_region(lon - half, lat - half, lon + half, lat + half, "wgs84")
        out["geo box"].append((Query(role="officer", intersecting=region), ("box", lon, lat, half)))
    return out


def raw_query(spec: tuple) -> Any:
    from tantivy import Occur
    from tantivy import Query as TQuery

    from search.tantivy.schema import SCHEMA

    kind = spec[0]
    if kind == "phrase":
        return TQuery.phrase_query(SCHEMA, "names_folded", [w.lower() for w in spec[1]])
    if kind == "and":
        terms = [TQuery.term_query(SCHEMA, "names_folded", w.lower()) for w in spec[1]]
        return TQuery.boolean_query([(Occur.Must, q) for q in terms])
    if kind in ("prefix", "facet"):
        word = spec[1][0].lower()
        if kind == "facet":
            return TQuery.term_query(SCHEMA, "names_folded", word)
        return TQuery.fuzzy_term_query(SCHEMA, "names_folded", word, 0, True, True)
    _, lon, lat, half = spec
    import tantivy

    ranges = [
        TQuery.range_query(SCHEMA, "lat", tantivy.FieldType.Float, lat - half, lat + half),
        TQuery.range_query(SCHEMA, "lon", tantivy.FieldType.Float, lon - half, lon + half),
    ]
    return TQuery.boolean_query([(Occur.Must, q) for q in ranges])


LABELS = {
    "phrase": "phrase query",
    "and": "two-term AND query",
    "prefix": "prefix query",
    "facet": "facet query (4 facets)",
    "geo point": "geo: parcel at a point",
    "geo box": "geo: parcels in a 300 m box",
}


def timed(calls: list[Callable[[], Any]], warmup: int) -> list[float]:
    for call in calls[:warmup]:
        call()
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench_queries(index: Any, records: list, n: int, node: Any = None) -> list[dict]:
    rng = random.Random(SEED + 2)
    sets = query_sets(rng, records, n)
    if node is not None:
        return bench_node_queries(index, node, sets, n)
    searcher_of = index._index.searcher  # the same index, read by raw tantivy
    facet_spec = {
        f: {"terms": {"field": f, "size": 500}} for f in ("type", "rank", "ward", "period")
    }

    def raw_call(spec: tuple) -> Callable[[], Any]:
        compiled = raw_query(spec)

        def call() -> None:
            searcher = searcher_of()
            found = searcher.search(compiled, limit=10, count=True)
            for _, address in found.hits:
                searcher.doc(address)
            if spec[0] == "facet":
                searcher.aggregate(compiled, facet_spec)

        return call

    rows = []
    labels = LABELS
    for kind, pairs in sets.items():
        log(f"queries: {kind} x {len(pairs)}")
        ours = timed([lambda q=q: index.search(q) for q, _ in pairs], warmup=min(20, n))
        raw = timed([raw_call(spec) for _, spec in pairs], warmup=min(20, n))
        hits = sum(index.search(q).total for q, _ in pairs[:20]) / min(20, len(pairs))
        note = f"{len(pairs)} queries, {hits:,.0f} matches on average; baseline: raw tantivy"
        for q, aim in ((50, ""), (95, "sohoa ≤ 10")):
            rows.append(
                row(
                    f"{labels[kind]}, p{q}",
                    "ms",
                    percentile(ours, q),
                    percentile(raw, q),
                    aim,
                    note,
                )
            )
    return rows


def bench_node_queries(index: Any, node: Any, sets: dict[str, list], n: int) -> list[dict]:
    rows = []
    for kind, pairs in sets.items():
        log(f"queries on {node.product}: {kind} x {len(pairs)}")
        ours = timed([lambda q=q: node.search(q) for q, _ in pairs], warmup=min(20, n))
        tantivy = timed([lambda q=q: index.search(q) for q, _ in pairs], warmup=min(20, n))
        hits = [node.search(q).total for q, _ in pairs[:20]]
        same = sum(h == index.search(q).total for h, (q, _) in zip(hits, pairs, strict=False))
        note = (
            f"{len(pairs)} queries, {sum(hits) / len(hits):,.0f} matches on average, "
            f"{same} of {len(hits)} with tantivy's count; baseline: TantivyIndex.search, same run"
        )
        for q in (50, 95):
            rows.append(
                row(
                    f"{node.product} {LABELS[kind]}, p{q}",
                    "ms",
                    percentile(ours, q),
                    percentile(tantivy, q),
                    "",
                    note,
                )
            )
    return rows


def bench_node_replay(store: Any, node: Any, tantivy_rate: float) -> list[dict]:
    events = store.max_notification_id()
    log(f"replay on {node.product}: indexer catch-up over {events:,} events")
    with Stopwatch() as t:
        covered = indexer_of(store, node).catch_up()
    assert covered == events, (covered, events)
    note = (
        f"the same log and IndexProjection as the tantivy replay, into {node.product}; "
        "baseline: the tantivy replay's events/s, same run"
    )
    return [row(f"{node.product} indexer replay", "events/s", events / t.s, tantivy_rate, "", note)]


# -- 4. lag ---------------------------------------------------------------------------------------


class MemoryPositions:
    def __init__(self, start: int) -> None:
        self.value = start

    def position(self, follower: str) -> int:
        return self.value

    def set_position(self, follower: str, notification_id: int) -> None:
        self.value = notification_id


def bench_lag(
    store: Any,
    index: Any,
    sites: list,
    seconds: float,
    rate: int = 200,
    baseline: tuple[str, float] | None = None,
) -> list[dict]:
    """Lag on `index`; with `baseline` (name, p95 s), that figure is the baseline instead of the
    no-op follower, and each batch is refreshed (a node's writes are searchable on refresh)."""
    from pipeline.dispatch.follower import Follower
    from search.indexer import IndexProjection

    saved: dict[tuple[str, int], float] = {}
    lags: dict[str, list[float]] = {"indexer": [], "no-op": []}
    projection = IndexProjection(store, index)

    def timing(name: str, handle: Callable) -> Callable:
        def wrapped(page: list) -> None:
            handle(page)
            if name == "indexer" and baseline is not None:
                index.refresh()
            now = time.perf_counter()
            for n in page:
                at = saved.get((str(n.originator_id), int(n.originator_version)))
                if at is not None:
                    lags[name].append(now - at)

        return wrapped

    top = store.max_notification_id()
    indexer = Follower("indexer", store, index, timing("indexer", projection.handle))
    noop = Follower("noop", store, MemoryPositions(top), timing("no-op", lambda page: None))
    assert indexer.lag() == 0
    stop = threading.Event()
    from pipeline.dispatch.indexer import IDLE_S

    threads = [
        threading.Thread(target=f.run, args=(stop, IDLE_S), daemon=True) for f in (indexer, noop)
    ]
    for t in threads:
        t.start()
    log(f"lag: {rate} events/s for {seconds:.0f} s")
    rng = random.Random(SEED + 3)
    start = time.perf_counter()
    count = int(seconds * rate)
    late = 0
    for i in range(count):
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        else:
            late += 1
        record = store.record(rng.choice(sites))
        record.record_attributes(
            attributes={"description": f"{rng.choice(PHRASES)} {i}"}, source="bench"
        )
        store.save(record)
        saved[(str(record.id), record.version)] = time.perf_counter()
    achieved = count / (time.perf_counter() - start)
    deadline = time.perf_counter() + 30
    while (indexer.lag() or noop.lag()) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(5)
    ours, floor = lags["indexer"], lags["no-op"]
    assert len(ours) == count, (len(ours), count)
    note = (
        f"{count:,} events at {achieved:,.0f}/s achieved (target {rate}); indexer p50 "
        f"{percentile(ours, 50) * 1000:.0f} ms, max {max(ours) * 1000:.0f} ms; baseline: a "
        f"no-op follower polling the same log (p95), same process"
    )
    if baseline is not None:
        name = getattr(index, "product", "node")
        note = note.split("; baseline")[0] + f"; batches refreshed; baseline: {baseline[0]}"
        return [
            row(
                f"{name} indexer lag at {rate} events/s, p95",
                "s",
                percentile(ours, 95),
                baseline[1],
                "",
                note,
            )
        ]
    return [
        row(
            f"indexer lag at {rate} events/s, p95",
            "s",
            percentile(ours, 95),
            percentile(floor, 95),
            "sohoa ≤ 1",
            note,
        )
    ]


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, help="documents indexed (default 200000; quick 20000)")
    p.add_argument("--replay", type=int, help="records replayed (default 50000; quick 5000)")
    p.add_argument("--queries", type=int, help="queries of each kind (default 200; quick 50)")
    p.add_argument("--lag-s", type=float, help="seconds of steady ingest (default 30; quick 10)")
    p.add_argument("--backend", choices=["tantivy", "opensearch"], default="tantivy")
    p.add_argument("--url", help="the OpenSearch node (default SOHOA_TEST_OPENSEARCH_URL)")
    args = p.parse_args()
    n = args.records or (20_000 if args.quick else 200_000)
    replay = args.replay or (5_000 if args.quick else 50_000)
    queries = args.queries or (50 if args.quick else 200)
    lag_s = args.lag_s or (10.0 if args.quick else 30.0)
    url = node_url(args.url) if args.backend == "opensearch" else None
    log(f"bench_search: {load_average()}")
    nodes: list[Any] = []
    try:
        with scratch("search") as root:
            records = make_records(n)
            rows, (built, documents, build_rate) = bench_build(root, records)
            if url:
                nodes.append(node := open_node(url, "built"))
                rows += bench_node_build(node, documents, build_rate)
            del documents
            rows += bench_queries(built, records, queries)
            if url:
                rows += bench_queries(built, records, queries, node=nodes[0])
                nodes[0].drop()
            built.close()
            del records
            replay_rows, store, replayed, sites = bench_replay(root, replay)
            rows += replay_rows
            if url:
                nodes.append(node := open_node(url, "replayed"))
                rows += bench_node_replay(store, node, replay_rows[0]["sohoa"])
            rows += bench_lag(store, replayed, sites, lag_s)
            if url:
                indexer_of(store, nodes[1]).catch_up()  # the events of tantivy's lag run
                tantivy_lag = ("the tantivy indexer's p95, same run", rows[-1]["sohoa"])
                rows += bench_lag(store, nodes[1], sites, lag_s, baseline=tantivy_lag)
            replayed.close()
            store.close()
    finally:
        for node in nodes:
            node.drop()
            node.close()
    log(f"bench_search done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
