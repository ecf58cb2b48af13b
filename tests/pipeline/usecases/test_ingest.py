"""Ingest: every input becomes a capture or a clear rejection; the batch always goes on."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from uuid import UUID

import pytest

from models.ids import parcel_id
from pipeline.usecases.sidecar import read_manifest
from scanners.cli.ingest import ingest_paths, ingestor, is_zip
from tests.factories import samples
from tests.helpers import make_services


@pytest.fixture
def svc(tmp_path):
    s = make_services(tmp_path, SOHOA_MAX_FILE_BYTES=str(5_000_000))
    yield s
    s.close()


def by_name(results):
    return {Path(r.path.split("!")[-1]).name: r for r in results}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_folder_of_mixed_files_becomes_captures_by_content(svc, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    samples.make_tiff(d / "register.tif", pages=3)
    samples.make_jpeg(d / "photo.jpg", 64, 48)
    samples.make_png(d / "page.png", 40, 30)
    samples.make_pdf(d / "letter.pdf", pages=2)
    samples.make_ply(d / "stele.ply", 500)
    samples.make_las(d / "survey.las", 100)
    samples.make_png(d / "misnamed.pdf", 20, 20)  # content wins over the extension

    results = by_name(ingest_paths(svc, [d], None, None, as_json=True))

    assert {r.status for r in results.values()} == {"ingested"}
    for name, r in results.items():
        capture = svc.store.capture(UUID(r.capture_id))
        assert capture.sha256 == sha(d / name) == r.sha256
        assert svc.blobs.read_bytes(capture.blob_key) == (d / name).read_bytes()
    kinds = {n: svc.store.capture(UUID(r.capture_id)) for n, r in results.items()}
    assert kinds["misnamed.pdf"].media_type == "image/png"
    assert kinds["register.tif"].kind == "document"
    assert kinds["stele.ply"].kind == "model"


def test_bad_inputs_are_rejected_with_reasons_and_the_rest_goes_through(svc, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    good = samples.make_png(d / "good.png", 30, 30)
    samples.make_empty(d / "empty.tif")
    tiff = samples.make_tiff(tmp_path / "t.tif", 3, 400, 300)
    samples.truncated_copy(tiff, d / "cut.tif", 0.2)  # within page 1: nothing to read
    samples.truncated_copy(tiff, d / "last-page-cut.tif", 0.8)  # pages 1 and 2 are whole
    samples.truncated_copy(samples.make_jpeg(tmp_path / "j.jpg", 400, 300), d / "cut.jpg")
    samples.truncated_copy(samples.make_pdf(tmp_path / "p.pdf", 3), d / "cut.pdf")
    samples.make_random(d / "random.pdf")
    samples.make_png_declaring(d / "huge.png", 60000, 60000)
    (d / "big.tif").write_bytes(b"II*\x00" + bytes(6_000_000))
    unreadable = samples.make_png(d / "locked.png", 10, 10, mode="L")
    os.chmod(unreadable, 0)

    results = by_name(ingest_paths(svc, [d], None, None, as_json=True))

    assert results["good.png"].status == "ingested"
    reasons = {n: (r.error or "") for n, r in results.items() if r.status == "rejected"}
    assert "empty" in reasons["empty.tif"]
    assert "truncated" in reasons["cut.tif"].lower()
    assert results["last-page-cut.tif"].status == "ingested"  # page 3 fails alone
    assert "truncated" in reasons["cut.jpg"].lower()
    assert "truncated" in reasons["cut.pdf"].lower() or "PDF" in reasons["cut.pdf"]
    assert "unsupported content" in reasons["random.pdf"]
    assert "60000" in reasons["huge.png"] and "SOHOA_MAX_PIXELS" in reasons["huge.png"]
    assert "SOHOA_MAX_FILE_BYTES" in reasons["big.tif"]
    if os.geteuid() != 0:  # root reads anything
        assert "permission" in reasons["locked.png"]
    assert list(svc.store.capture_ids()) == [
        UUID(results[n].capture_id) for n in sorted(results) if results[n].status == "ingested"
    ] or len(list(svc.store.capture_ids())) == sum(r.status == "ingested" for r in results.values())
    assert sha(good) == results["good.png"].sha256


def test_hostile_names_are_rejected_and_shown_safely(svc, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    samples.make_png(d / "ok.png", 10, 10)
    samples.make_png(d / "bell\x07.png", 10, 10)
    samples.make_png(Path(os.fsdecode(bytes(d) + b"/latin1-\xe9.png")), 10, 10)

    results = ingest_paths(svc, [d], None, None, as_json=True)

    rejected = [r for r in results if r.status == "rejected"]
    assert len(rejected) == 2
    assert all("\x07" not in r.path and "\udce9" not in r.path for r in rejected)
    assert {("control" in r.error) or ("UTF-8" in r.error) for r in rejected} == {True}
    json.dumps([r.to_json() for r in results])  # printable


def test_zip_members_become_captures_and_hostile_zips_are_rejected(svc, tmp_path):
    png = samples.make_png(tmp_path / "a.png", 12, 12).read_bytes()
    ok = samples.make_zip(
        tmp_path / "batch.zip",
        {"a.png": png, "sub/b.tif": samples.make_tiff(tmp_path / "b.tif", 2).read_bytes()},
    )
    slip = samples.make_zip_slip(tmp_path / "slip.zip")
    link = samples.make_zip_symlink(tmp_path / "link.zip")
    bomb = samples.make_zip_bomb(tmp_path / "bomb.zip")

    results = ingest_paths(svc, [ok, slip, link, bomb], None, None, as_json=True)
    status = {r.path.removeprefix(f"{tmp_path}/"): r for r in results}

    assert status["batch.zip!a.png"].status == "ingested"
    assert status["batch.zip!sub/b.tif"].status == "ingested"
    assert status["slip.zip"].status == "rejected" and "escapes" in status["slip.zip"].error
    assert status["link.zip"].status == "rejected" and "link" in status["link.zip"].error
    assert status["bomb.zip"].status == "rejected"


def test_identical_bytes_are_linked_not_stored_twice(svc, tmp_path):
    a = samples.make_png(tmp_path / "a.png", 20, 20)
    b = tmp_path / "copy-of-a.png"
    b.write_bytes(a.read_bytes())

    first, second = ingest_paths(svc, [a, b], None, None, as_json=True)

    assert (first.status, second.status) == ("ingested", "duplicate")
    assert first.capture_id == second.capture_id
    assert len(list(svc.blobs.keys())) == 1
    assert svc.store.capture(UUID(first.capture_id)).original_names == [str(a), str(b)]


def test_a_folder_of_photos_is_one_photo_set(svc, tmp_path):
    d = tmp_path / "gate"
    d.mkdir()
    for i in range(3):
        samples.make_jpeg(d / f"IMG_{i}.JPG", 64 + i, 48)
    samples.make_random(d / "junk.jpg")
    zipped = samples.make_zip(
        tmp_path / "gate.zip", {p.name: p.read_bytes() for p in d.glob("IMG_*")}
    )

    results = ingest_paths(svc, [d], "photo-set", None, as_json=True)
    again = ingest_paths(svc, [zipped], "photo-set", None, as_json=True)

    sets = [r for r in results if r.status == "ingested"]
    assert len(sets) == 1
    assert next(r for r in results if r.status == "rejected").path.endswith("junk.jpg")
    capture = svc.store.capture(UUID(sets[0].capture_id))
    assert capture.kind == "photo-set" and capture.member_count == 3
    # the same photos as a ZIP are the same set
    assert again[0].status == "duplicate" and again[0].capture_id == sets[0].capture_id


def test_sidecar_links_capture_to_parcel_and_bad_sidecars_reject_their_file(svc, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    samples.make_tiff(d / "gcn.tif", 1)
    (d / "gcn.tif.json").write_text(
        json.dumps(
            {
                "kind": "land-certificate",
                "unit_code": "00070",
                "unit_era": "2025",
                "sheet": "12",
                "parcel_number": "45",
                "title": "Giấy chứng nhận",
            }
        ),
        encoding="utf-8",
    )
    samples.make_png(d / "typo.png", 10, 10)
    (d / "typo.png.json").write_text(json.dumps({"sheeet": "1"}))
    samples.make_png(d / "wrongtype.png", 11, 11)
    (d / "wrongtype.json").write_text(json.dumps({"dpi": "300"}))

    results = by_name(ingest_paths(svc, [d], None, None, as_json=True))

    assert set(results) == {"gcn.tif", "typo.png", "wrongtype.png"}  # sidecars are not captures
    capture = svc.store.capture(UUID(results["gcn.tif"].capture_id))
    pid = parcel_id("00070", "2025", "12", "45")
    assert capture.kind == "land-certificate" and capture.links == [pid]
    assert svc.store.record(pid).captures == [capture.id]
    assert "sheeet" in results["typo.png"].error
    assert "dpi" in results["wrongtype.png"].error and "int" in results["wrongtype.png"].error


def test_csv_manifest_gives_per_file_metadata_and_reports_bad_rows(svc, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    samples.make_png(d / "a.png", 10, 10)
    samples.make_png(d / "b.png", 11, 11)
    manifest = d / "manifest.csv"
    manifest.write_text(
        "path,site_code,title,dpi\na.png,HN-0042,Đình Kim Liên,300\nb.png,,bad dpi,three hundred\n",
        encoding="utf-8",
    )

    meta = read_manifest(manifest)
    results = by_name(ingest_paths(svc, [d / "a.png", d / "b.png"], None, meta, as_json=True))

    a = svc.store.capture(UUID(results["a.png"].capture_id))
    assert a.meta["title"] == "Đình Kim Liên" and a.meta["dpi"] == 300 and len(a.links) == 1
    assert results["b.png"].status == "rejected" and "line 3" in results["b.png"].error


def test_wrong_kind_is_rejected(svc, tmp_path):
    ply = samples.make_ply(tmp_path / "s.ply", 50)
    png = samples.make_png(tmp_path / "p.png", 10, 10)

    r1, r2 = ingest_paths(svc, [ply, png], "land-certificate", None, as_json=True)[
        :1
    ] + ingest_paths(svc, [png], "model", None, as_json=True)

    assert r1.status == "rejected" and "cannot be a land-certificate" in r1.error
    assert r2.status == "rejected"


def test_is_zip_sniffs_content():
    assert ingestor  # the CLI's wiring is importable
    assert is_zip(Path("/nonexistent")) is False
