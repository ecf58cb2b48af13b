"""Resumable uploads end in the blob store by rename, once; bad input leaves nothing there."""

from __future__ import annotations

import errno

from storage.local import LocalBlobStore
from tests.factories import samples
from tests.storage.test_adopt import FullDiskStore


def start(archivist, name: str, size: int | None) -> str:
    body = {"name": name, "meta": {"site_code": "01-011"}}
    if size is not None:
        body["size"] = size
    return f"/api/uploads/{archivist.post('/api/uploads', json=body).json()['id']}"


def stored(svc) -> list[str]:
    """Blobs and temporary files in the store."""
    store = svc.blobs
    assert isinstance(store, LocalBlobStore)
    return [*store.keys(), *(p.name for p in (store.root / "tmp").iterdir())]


def test_a_finished_upload_is_renamed_into_the_store(svc, archivist, tmp_path):
    data = samples.make_png(tmp_path / "bia.png", 600, 400).read_bytes()
    url = start(archivist, "bia.png", len(data))
    archivist.put(url, params={"offset": 0}, content=data)
    part = svc.settings.data_dir / "uploads" / url.rsplit("/", 1)[1] / "data.part"
    inode = part.stat().st_ino
    done = archivist.post(f"{url}/complete").json()
    assert done["status"] == "ingested"
    key = archivist.get(f"/api/captures/{done['capture_id']}").json()["blob_key"]
    blob = svc.blobs.root / key
    assert blob.read_bytes() == data and blob.stat().st_ino == inode  # moved, not copied
    assert not list((svc.settings.data_dir / "uploads").glob("*/data.part"))


def test_a_truncated_upload_is_rejected_and_stores_nothing(svc, archivist, tmp_path):
    data = samples.make_png(tmp_path / "bia.png", 600, 400).read_bytes()
    declared = start(archivist, "bia.png", len(data))
    archivist.put(declared, params={"offset": 0}, content=data[: len(data) // 2])
    early = archivist.post(f"{declared}/complete")
    assert early.status_code == 409 and early.json()["detail"]["expected"] == len(data) // 2
    undeclared = start(archivist, "cut.png", None)  # the client never said how long
    archivist.put(undeclared, params={"offset": 0}, content=data[: len(data) // 2])
    cut = archivist.post(f"{undeclared}/complete").json()
    assert cut["status"] == "rejected" and cut["error"]
    assert stored(svc) == []
    assert archivist.get(undeclared).status_code == 404  # discarded: no half upload kept


def test_a_part_out_of_order_is_refused_and_stores_nothing(svc, archivist, tmp_path):
    data = samples.make_png(tmp_path / "bia.png", 600, 400).read_bytes()
    url = start(archivist, "bia.png", len(data))
    late = archivist.put(url, params={"offset": 1000}, content=data[1000:])
    assert late.status_code == 409 and late.json()["detail"]["expected"] == 0
    assert archivist.get(url).json()["offset"] == 0
    assert stored(svc) == []


def test_a_full_disk_is_a_recorded_failure_and_stores_nothing(svc, archivist, tmp_path):
    data = samples.make_png(tmp_path / "bia.png", 600, 400).read_bytes()
    svc.blobs = FullDiskStore(svc.blobs.root, room=0)
    url = start(archivist, "bia.png", len(data))
    archivist.put(url, params={"offset": 0}, content=data)
    result = archivist.post(f"{url}/complete").json()
    assert result["status"] == "failed" and "storage is full" in result["error"]
    assert stored(svc) == []
    form = archivist.post("/api/captures", files=[("file", ("a.png", data, "image/png"))])
    assert form.status_code == 201 and form.json()[0]["status"] == "failed"
    assert stored(svc) == []


def test_a_full_disk_while_receiving_a_chunk_says_so(svc, archivist, tmp_path, monkeypatch):
    data = samples.make_png(tmp_path / "bia.png", 600, 400).read_bytes()
    url = start(archivist, "bia.png", len(data))

    def full(self, chunk: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pipeline.usecases.uploads.ChunkWriter._put", full)
    r = archivist.put(url, params={"offset": 0}, content=data)
    assert r.status_code == 507 and "disk is full" in r.json()["detail"]
    assert archivist.get(url).json()["offset"] == 0  # the upload stays, resumable
    assert stored(svc) == []
