"""Hot folder: stable files are taken once, moved to done/ or rejected/, across restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from scanners.hotfolder import HotFolder
from tests.factories import samples
from tests.helpers import REPO, make_services


def test_stable_files_go_to_done_bad_ones_to_rejected_with_a_reason(tmp_path):
    svc = make_services(tmp_path, SOHOA_WATCH_SETTLE_S="0.2")
    inbox = tmp_path / "inbox"
    hot = HotFolder(svc, inbox, None)
    samples.make_png(inbox / "page.png", 20, 20)
    samples.make_random(inbox / "junk.pdf")

    assert hot.scan() == []  # first sight: not yet known to be stable
    time.sleep(0.3)
    results = hot.scan()

    assert sorted(r.status for r in results) == ["ingested", "rejected"]
    assert (inbox / "done" / "page.png").exists()
    assert (inbox / "rejected" / "junk.pdf").exists()
    reason = (inbox / "rejected" / "junk.pdf.reason.txt").read_text()
    assert "unsupported content" in reason
    assert not (inbox / "page.png").exists() and len(list(svc.store.capture_ids())) == 1


def test_a_file_still_being_written_is_not_taken(tmp_path):
    svc = make_services(tmp_path, SOHOA_WATCH_SETTLE_S="0.5")
    inbox = tmp_path / "inbox"
    hot = HotFolder(svc, inbox, None)
    growing = inbox / "scan.tif"
    data = samples.make_tiff(tmp_path / "t.tif", 2).read_bytes()
    with open(growing, "wb") as f:
        f.write(data[:100])
        f.flush()
        hot.scan()
        time.sleep(0.3)
        assert hot.scan() == []
        f.write(data[100:])
    hot.scan()
    assert list(svc.store.capture_ids()) == []
    time.sleep(0.6)
    [result] = hot.scan()
    assert result.status == "ingested"


def test_killed_between_ingest_and_move_neither_loses_nor_doubles(tmp_path):
    """Every file ends in done/ exactly once, with one capture each, after kill -9 and restart."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(40):
        samples.make_png(inbox / f"{i:02d}.png", 200 + i, 200)
    env = {**os.environ, "SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_WATCH_SETTLE_S": "0.1"}
    cmd = [sys.executable, "-m", "scanners.cli", "watch", str(inbox)]

    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stderr=subprocess.DEVNULL)
    while len(list((inbox / "done").glob("*.png"))) < 5 if (inbox / "done").exists() else True:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(
        [*cmd, "--once"], env=env, cwd=REPO, timeout=120, check=True, stderr=subprocess.DEVNULL
    )

    done = sorted(p.name for p in (inbox / "done").glob("*.png"))
    assert done == [f"{i:02d}.png" for i in range(40)]
    assert list(inbox.glob("*.png")) == []
    svc = make_services(tmp_path)
    assert len(set(svc.store.capture_ids())) == 40
