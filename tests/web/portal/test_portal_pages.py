"""Portal and staff pages made for people: labels in both languages, values as text, events as
sentences, captures titled without server paths, the viewer's word layer, the map's CSP."""

from __future__ import annotations

import re
from uuid import UUID

from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from pipeline.presenters import capture_title
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.web.conftest import reindex
from tests.web.records import read_pages, site
from web.app import CSP, content_policy
from web.labels import Labels


def test_events_values_and_kinds_read_as_words_in_both_languages():
    vi, en = Labels("vi"), Labels("en")
    assert vi.event("models.capture:Capture.PageRecognised", {"page": 2}) == (
        "Đã nhận dạng văn bản trang 3"
    )
    assert en.event("PageRecognised", {"page": 2}) == "Text of page 3 recognised"
    assert vi.event("Published") == "Đã công bố"
    assert vi.kind("site") == "Di tích" and en.kind("site") == "Heritage site"
    assert vi.value("has_model", "false") == "Không" and en.value("has_model", False) == "No"
    assert vi.text(["Văn Miếu", "Quốc Tử Giám"]) == "Văn Miếu, Quốc Tử Giám"
    assert en.text({"area_m2": 120.5, "sheet": "12"}) == "Area (m²): 120.5; Map sheet: 12"
    assert en.field("opening_hours") == "Opening hours"  # unlabelled: still readable


def test_portal_facets_and_record_pages_show_labels_not_field_names(svc, public):
    r = site(svc.store, "01-201", "Văn Miếu", aliases=["Văn Miếu", "Quốc Tử Giám"])
    reindex(svc)
    page = public.get("/").text
    facets = page[page.index('class="facets"') : page.index('class="results"')]
    assert "Loại hồ sơ" in facets and "Di tích" in facets and "Mô hình 3D" in facets
    assert not re.search(r">\s*(has_model|has_documents|kind|false|site)\s*<", facets)
    english = public.get("/", params={"lang": "en"}).text
    assert "Heritage site" in english and "Record kind" in english
    record = public.get(f"/records/{r.id}", params={"lang": "vi"}).text
    assert "Văn Miếu, Quốc Tử Giám" in record and "\\u" not in record.split("<script")[0]
    assert "Đã công bố" in record and ">AttributesRecorded<" not in record


def test_a_facet_link_removes_only_its_own_filter(svc, public):
    site(svc.store, "01-202", "Đình A", rank="quốc gia")
    reindex(svc)
    page = public.get("/", params={"facet": ["rank=quốc gia", "kind=site"], "q": "dinh"}).text
    off = re.search(r'href="([^"]*)"[^>]*aria-current="true" data-facet="rank=', page)
    assert off, "the chosen rank is marked"
    link = off.group(1).replace("&amp;", "&")
    assert "facet=kind%3Dsite" in link and "rank" not in link and "q=dinh" in link


def test_a_capture_is_titled_by_its_metadata_or_file_name_never_a_server_path(
    svc, archivist, tmp_path
):
    (tmp_path / "scans").mkdir()
    png = samples.make_png(tmp_path / "scans" / "bia-tien-si.png", 200, 100)
    [r] = ingest_paths(svc, [png], None, None, True)
    capture = svc.store.capture(UUID(r.capture_id))
    assert capture_title(capture) == "bia-tien-si.png"
    page = archivist.get(f"/staff/captures/{capture.id}").text
    assert "<h1>bia-tien-si.png</h1>" in page
    assert str(tmp_path) not in page.split("<h1>")[1].split("</h1>")[0]
    home = archivist.get("/staff").text  # the lists of recent captures, queue and failures
    assert "bia-tien-si.png" in home and str(tmp_path) not in home


def test_a_public_page_gives_its_words_with_boxes_for_the_viewer(svc, public, tmp_path):
    r = site(svc.store, "01-203", "Đình Hào Nam")
    png = samples.make_png(tmp_path / "bia.png", 600, 400)
    [ingested] = ingest_paths(svc, [png], None, None, True)
    cid = UUID(ingested.capture_id)
    assert public.get(f"/api/public/captures/{cid}/pages/1/words").status_code == 404
    svc.store.update(cid, lambda c: c.link_record(record_id=r.id))
    svc.store.update(r.id, lambda rec: rec.link_capture(capture_id=cid))
    run_inspect(svc, cid, Attempt(1, False))
    read_pages(svc, cid, [["Bia đá đình Hào Nam"]])
    body = public.get(f"/api/public/captures/{cid}/pages/1/words").json()
    assert [w[0] for w in body["words"]] == ["Bia", "đá", "đình", "Hào", "Nam"]
    _, left, top, width, height = body["words"][0]
    assert (left, top) == (round(20 / 600, 5), round(20 / 600, 5))  # fractions of the width
    assert 0 < width < 1 and 0 < height < 1
    record = public.get(f"/records/{r.id}").text
    assert f'data-info="/iiif/{cid}/1/info.json"' in record and "openseadragon" in record


def test_the_content_policy_lets_the_map_tiles_in():
    tiles = content_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' https://*.tile.example.org " in tiles
    assert content_policy("") == CSP  # offline layer only: nothing from outside


def test_a_photo_model_without_scale_shows_no_size_in_metres():
    from types import SimpleNamespace
    from uuid import uuid4

    from web.portal.records import model_data

    def shown(**scale):
        metrics = {"faces": 1200, "bbox_m": [2.1, 1.3, 0.9], "volume_m3": 0.4, **scale}
        capture = SimpleNamespace(
            id=uuid4(), kind="photo-set", media_type="application/zip", model={"metrics": metrics}
        )
        return model_data(capture, public=True)["metrics"]

    unscaled = shown(scale_known=False, size_m=None)
    assert "bbox_m" not in unscaled and "volume_m3" not in unscaled
    assert unscaled["faces"] == 1200
    assert shown(scale_known=True, size_m=[2.1, 1.3, 0.9])["bbox_m"] == [2.1, 1.3, 0.9]
    assert "bbox_m" in shown()  # range scans and meshes are in metres already
