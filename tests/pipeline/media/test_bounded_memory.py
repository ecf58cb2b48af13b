"""Probing a big file holds little of it in memory (the process's own peak, VmHWM)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.factories import samples

REPO = Path(__file__).resolve().parents[3]
MB = 1_000_000

PEAK = """
import sys
from pathlib import Path
from pipeline.media.pdf import _reject_flate_bombs
from pipeline.settings import Settings

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024

limits = Settings.from_env().limits
before = hwm()
_reject_flate_bombs(Path(sys.argv[1]), limits)
print(hwm() - before)
"""


def big_pdf(path: Path, streams: int, stream_bytes: int) -> Path:
    """A PDF with many large non-Flate streams (scans stored as they are)."""
    small = samples.make_pdf(path.with_suffix(".small.pdf"), pages=1).read_bytes()
    head, _, tail = small.rpartition(b"%%EOF")
    with open(path, "wb") as f:
        f.write(head)
        blob = b"\xff\xd8" + bytes(range(256)) * (stream_bytes // 256)
        for n in range(streams):
            f.write(f"{900 + n} 0 obj\n<< /Filter /DCTDecode /Length {len(blob)} >>\n".encode())
            f.write(b"stream\n" + blob + b"\nendstream\nendobj\n")
        f.write(b"%%EOF" + tail)
    return path


def test_the_pdf_bomb_scan_does_not_keep_the_file_resident(tmp_path) -> None:
    path = big_pdf(tmp_path / "book.pdf", streams=40, stream_bytes=4 * MB)  # 160 MB
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    grew = int(out.stdout.strip())
    assert grew < 100 * MB, f"the scan's peak grew by {grew / MB:.0f} MB for a 160 MB PDF"
