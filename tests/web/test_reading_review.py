"""What the reading skipped and what it read dimly, shown to the people who check: a page with
a seal and a handwritten note, read by the real workers (Tesseract), on the staff capture page
(boxes over the image, dimmed lines, a legend), in `sohoa text --json`, never on the portal."""

from __future__ import annotations

import json
import re
from uuid import UUID

import pytest

from models.language.text import fold
from scanners.cli.ingest import ingest_paths
from tests.factories.degrade import ANNOTATED_LINES, annotated_page
from tests.helpers import sohoa
from tests.web.records import site
from workers.runtime import Runtime, wait_until_settled


@pytest.fixture
def read_page(svc, tmp_path):
    """The annotated page ingested as a document of a published site, read by the workers."""
    s = site(svc.store, "01-019", "Đình Đông Ngạc")
    path = tmp_path / "quyet-dinh-co-dau.png"
    annotated_page().save(path, dpi=(300, 300))
    [r] = ingest_paths(svc, [path], "document", None, True)
    cid = UUID(r.capture_id)
    svc.store.update(cid, lambda c: c.link_record(record_id=s.id))
    svc.store.update(s.id, lambda rec: rec.link_capture(capture_id=cid))
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, [cid], timeout_s=240)
    assert states[cid] == "done"
    return cid, s.id


def test_staff_see_the_seal_boxed_and_the_handwriting_dimmed_the_public_neither(
    svc, archivist, public, read_page
):
    cid, record_id = read_page
    page = archivist.get(f"/staff/captures/{cid}", params={"lang": "en"}).text
    boxes = re.findall(r'<span class="skipped" data-kind="(\w+)"[^>]*style="([^"]*)"', page)
    assert "seal" in [kind for kind, _ in boxes]
    for _, style in boxes:  # inside the image
        left, top, width, height = (float(v) for v in re.findall(r"([\d.]+)%", style))
        assert left >= 0 and top >= 0
        assert left + width <= 100.5 and top + height <= 100.5
    assert '<span class="label">seal</span>' in page
    dim = re.findall(r'<span class="dim" title="uncertain reading">([^<]*)</span>', page)
    assert dim, "the handwritten note is not marked as an uncertain reading"
    printed = {fold(w) for line in ANNOTATED_LINES for w in line.split()}
    assert not any(fold(w) in printed for line in dim for w in line.split())  # print is not dim
    assert "uncertain reading" in page.split('class="reading-legend"')[1][:300]
    pre = re.search(r'<pre class="ocr"[^>]*>(.*?)</pre>', page, re.S).group(1)
    assert "Về việc công nhận di tích\nĐình làng Đông Ngạc" in re.sub(r"<[^>]+>", "", pre)

    portal = public.get(f"/records/{record_id}").text
    assert "Đình làng Đông Ngạc" in portal  # the page is shown…
    assert 'class="skipped"' not in portal and 'class="dim"' not in portal  # …not its review


def test_cli_text_json_lists_the_skipped_regions_and_the_dim_lines(svc, read_page):
    cid, _ = read_page
    shown = sohoa("text", str(cid), "--json", env={"SOHOA_DATA_DIR": str(svc.settings.data_dir)})
    assert shown.returncode == 0, shown.stderr
    [page] = json.loads(shown.stdout)["pages"]
    assert page["page"] == 1 and "Đông Ngạc" in page["text"]
    seals = [r for r in page["suppressed"] if r["kind"] == "seal"]
    assert seals and all(len(r["box"]) == 4 for r in seals), page
    assert page["dim_lines"] and all(line in page["text"] for line in page["dim_lines"])
