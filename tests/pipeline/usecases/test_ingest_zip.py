"""A ZIP of many members: read once, its bad members reported, the rest ingested."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.helpers import make_services


@pytest.fixture
def svc(tmp_path):
    s = make_services(tmp_path)
    yield s
    s.close()


def test_a_zip_with_bad_members_reports_them_and_ingests_the_rest(svc, tmp_path, monkeypatch):
    png = samples.make_png(tmp_path / "page.png", 40, 30).read_bytes()
    path = tmp_path / "box.zip"
    with zipfile.ZipFile(path, "w") as z:
        for n in range(40):
            page = samples.make_png(tmp_path / f"{n}.png", 40 + n, 30).read_bytes()
            z.writestr(f"box/{n:03d}.png", page)
        z.writestr("box/cut.png", png[: len(png) // 2])
        z.writestr("box/empty.png", b"")
        z.writestr("box/notes.png", b"not an image\n" * 10)
    opened = []
    real = zipfile.ZipFile

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, file, *args, **kwargs):
            opened.append(file)
            super().__init__(file, *args, **kwargs)

    monkeypatch.setattr("pipeline.usecases.inputs.zipfile.ZipFile", Counting)
    results = {
        Path(r.path.split("!")[-1]).name: r for r in ingest_paths(svc, [path], None, None, True)
    }

    assert results["cut.png"].status == "rejected" and "truncated" in results["cut.png"].error
    assert results["empty.png"].status == "rejected" and "empty" in results["empty.png"].error
    assert results["notes.png"].status == "rejected" and "unsupported" in results["notes.png"].error
    good = [r for name, r in results.items() if name[0].isdigit()]
    assert len(good) == 40 and {r.status for r in good} == {"ingested"}
    assert len(opened) == 3  # probed, listed, read: not once per member


def test_each_zip_is_closed_after_its_last_member(svc, tmp_path, monkeypatch):
    """Listing many ZIPs opens none; each is open only while its members are read."""
    png = samples.make_png(tmp_path / "page.png", 40, 30).read_bytes()
    paths = []
    for n in range(3):
        paths.append(tmp_path / f"{n}.zip")
        with zipfile.ZipFile(paths[-1], "w") as z:
            z.writestr("a.png", png)
            z.writestr("b.png", png + b"\0" * n)
    open_now = []
    real_close = zipfile.ZipFile.close

    def tracking_close(self):
        if self in open_now:
            open_now.remove(self)
        real_close(self)

    real_init = zipfile.ZipFile.__init__

    def tracking_init(self, file, *args, **kwargs):
        real_init(self, file, *args, **kwargs)
        if not isinstance(file, io.IOBase):
            open_now.append(self)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", tracking_init)
    monkeypatch.setattr(zipfile.ZipFile, "close", tracking_close)
    results = ingest_paths(svc, paths, None, None, as_json=False)
    assert len(results) == 6 and open_now == []
