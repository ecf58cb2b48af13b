"""Ingest onto the S3 server against the same ingest onto local storage, in the same run.

    .venv/bin/python bench/bench_storage.py [--size-mb 1024] [--rounds 2] [--quick] [--json]

The mixed folder of `bench_ingest.py` (~1 GB of PNG/JPEG/TIFF/PDF/PLY files, mostly 8–40 MB)
is ingested in this process through `scanners.cli.ingest.ingest_paths`, each time into a
fresh SOHOA_DATA_DIR (SQLite, memory:// broker), once with local blobs and once with
SOHOA_STORAGE_URL on a fresh bucket of the S3 server that `make services` runs (S3Proxy on its
filesystem backend, signatures checked, on this machine over loopback). Rounds alternate
local, S3, local, S3 …; the better of each is shown. The S3 server's address and keys come from
SOHOA_TEST_S3_* in the environment or var/services.env.

A second row is the plain client's speed on the same files (minio `fput_object`, one object
per file, no hashing, no temporary object): what the server itself allows.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingest import generate_mix
from bench.common import (
    MB,
    REPO,
    Stopwatch,
    emit,
    fsync_tree,
    load_average,
    log,
    parser,
    row,
    scratch,
    tree_bytes,
)


def s3_settings() -> tuple[str, str, str]:
    """(endpoint, access key, secret) of the S3 server, from the environment or services.env."""
    from tests.services.services import read_env

    values = {**read_env(REPO / "var" / "services.env"), **os.environ}
    try:
        return (
            values["SOHOA_TEST_S3_ENDPOINT"],
            values["SOHOA_TEST_S3_ACCESS_KEY"],
            values["SOHOA_TEST_S3_SECRET_KEY"],
        )
    except KeyError:
        raise SystemExit("no S3 server: run `make services` (or set SOHOA_TEST_S3_*)") from None


def minio_client(endpoint: str, access_key: str, secret_key: str):
    from minio import Minio

    return Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=False)


def drop_bucket(client, bucket: str) -> None:
    from minio.deleteobjects import DeleteObject

    if not client.bucket_exists(bucket):
        return
    names = [DeleteObject(o.object_name) for o in client.list_objects(bucket, recursive=True)]
    for error in client.remove_objects(bucket, names):
        log(f"could not remove {error}")
    client.remove_bucket(bucket)


def bucket_bytes(client, bucket: str) -> int:
    return sum(o.size or 0 for o in client.list_objects(bucket, prefix="sha256/", recursive=True))


def ingest_once(src: Path, data_dir: Path, files: int, storage_url: str | None) -> float:
    """Seconds of `ingest_paths` of `src` into a fresh data dir (every file must be taken)."""
    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings
    from scanners.cli.ingest import ingest_paths

    env = {"SOHOA_DATA_DIR": str(data_dir)}
    if storage_url:
        env["SOHOA_STORAGE_URL"] = storage_url
    svc = bootstrap(Settings.from_env(env))
    try:
        with redirect_stdout(sys.stderr), Stopwatch() as t:
            results = ingest_paths(svc, [src], None, None, False)
    finally:
        svc.close()
    statuses = {r.status for r in results}
    if statuses != {"ingested"} or len(results) != files:
        bad = [r for r in results if r.status != "ingested"][:5]
        raise SystemExit(f"ingest did not take every file: {statuses}, e.g. {bad}")
    return t.s


def local_round(src: Path, root: Path, n: int, files: int, total: int) -> float:
    data_dir = root / f"data-local-{n}"
    seconds = ingest_once(src, data_dir, files, None)
    stored = tree_bytes(data_dir / "blobs" / "sha256")
    assert stored == total, (stored, total)
    shutil.rmtree(data_dir)
    return seconds


def s3_round(src: Path, root: Path, n: int, files: int, total: int, s3: tuple) -> float:
    endpoint, access_key, secret_key = s3
    client = minio_client(*s3)
    bucket = f"sohoa-bench-{uuid.uuid4().hex[:10]}"
    url = f"s3://{access_key}:{secret_key}@{endpoint}/{bucket}?secure=false&region=us-east-1"
    try:
        seconds = ingest_once(src, root / f"data-s3-{n}", files, url)
        stored = bucket_bytes(client, bucket)
        assert stored == total, (stored, total)
    finally:
        drop_bucket(client, bucket)
        shutil.rmtree(root / f"data-s3-{n}", ignore_errors=True)
    return seconds


def raw_put(src: Path, s3: tuple) -> float:
    """Seconds to upload every file as is with the plain client (no sohoa in the way)."""
    client = minio_client(*s3)
    bucket = f"sohoa-bench-{uuid.uuid4().hex[:10]}"
    client.make_bucket(bucket)
    try:
        with Stopwatch() as t:
            for path in sorted(p for p in src.rglob("*") if p.is_file()):
                client.fput_object(bucket, str(path.relative_to(src)), str(path))
    finally:
        drop_bucket(client, bucket)
    return t.s


def bench(size_mb: int, rounds: int) -> list[dict]:
    s3 = s3_settings()
    minio_client(*s3).list_buckets()  # fails now, not after generating a gigabyte
    with scratch("storage") as root:
        src = root / "inbox"
        log(f"generating ~{size_mb} MB of mixed files in {src}")
        counts = generate_mix(src, size_mb * MB)
        total, files = tree_bytes(src), sum(counts.values())
        fsync_tree(src)
        log(f"generated {files} files, {total / MB:.0f} MB")
        local, remote = [], []
        for n in range(1, rounds + 1):
            log(f"round {n}: ingest onto local storage")
            local.append(local_round(src, root, n, files, total))
            log(f"round {n}: ingest onto S3 at {s3[0]}")
            remote.append(s3_round(src, root, n, files, total, s3))
        log("plain client: fput_object of every file")
        raw = raw_put(src, s3)

    local_mbps, s3_mbps = total / MB / min(local), total / MB / min(remote)
    times = (
        f"local {' / '.join(f'{s:.1f}' for s in local)} s, "
        f"S3 {' / '.join(f'{s:.1f}' for s in remote)} s"
    )
    note = (
        f"{files} files, {total / MB:.0f} MB; ingest_paths (sniff, probe, sha256, store, one "
        f"SQLite commit per capture), fresh data dir and bucket each round; rounds alternate "
        f"local/S3, better of {rounds} shown ({times}). S3: S3Proxy 2.6.0, filesystem backend, "
        f"same machine, loopback; put_file hashes each file first, then uploads it once "
        f"straight to its content address (one PutObject up to 64 MiB, else 16 MiB parts)"
    )
    return [
        row(f"ingest {total / MB:.0f} MB onto S3 ÷ local", "MB/s", s3_mbps, local_mbps, "", note),
        row(
            "plain S3 upload of the same files",
            "MB/s",
            s3_mbps,
            total / MB / raw,
            "ratio ≥ 0.5",
            f"baseline: minio fput_object of each file as is ({raw:.1f} s): the server's own "
            f"speed here; ratio = sohoa's S3 ingest ÷ that",
        ),
    ]


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--size-mb", type=int, help="total of the mixed files (default 1024; quick 100)")
    p.add_argument("--rounds", type=int, default=2, help="local/S3 pairs (default 2)")
    args = p.parse_args()
    if args.json:
        os.environ["TQDM_DISABLE"] = "1"
    size_mb = args.size_mb or (100 if args.quick else 1024)
    log(f"bench_storage: {load_average()}")
    rows = bench(size_mb, args.rounds)
    log(f"bench_storage done: {load_average()}")
    emit(rows, args.json)


if __name__ == "__main__":
    main()
