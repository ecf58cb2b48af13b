"""IIIF as archives use it: Content Search inside a document, ALTO and hOCR per page, public
downloads, CORS for viewers on other origins — and nothing of a document that is not public."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from uuid import UUID

import pdfplumber
import pytest

from models.ids import site_id
from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from pipeline.stages.ocr.hocr import parse_hocr
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.web.records import OWNER, parcel, read_pages, site, word_box

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
PAGES = [
    ["Bia Văn Miếu Quốc Tử Giám", "Văn bia tiến sĩ khoa Nhâm Tuất"],
    ["Khuê Văn Các", "Giếng Thiên Quang"],
]


def document(svc, tmp_path, pages=PAGES, code="01-010", size=(600, 400), **site_attrs) -> UUID:
    """A document capture read page by page and linked to a published site."""
    site(svc.store, code, "Văn Miếu", **site_attrs)
    tiff = samples.make_tiff(tmp_path / f"{code}.tif", len(pages), *size)
    [r] = ingest_paths(svc, [tiff], None, None, True)
    cid = UUID(r.capture_id)
    link(svc, cid, site_id(code))
    run_inspect(svc, cid, Attempt(1, False))
    read_pages(svc, cid, pages, size=size)
    return cid


def link(svc, cid: UUID, rid: UUID) -> None:
    svc.store.update(cid, lambda c: c.link_record(record_id=rid))
    svc.store.update(rid, lambda rec: rec.link_capture(capture_id=cid))


def canvas(cid: UUID, n: int) -> str:
    return f"http://testserver/iiif/{cid}/canvas/{n}"


def xywh(box) -> str:
    left, top, right, bottom = box
    return f"{left},{top},{right - left},{bottom - top}"


def test_search_inside_a_document_with_or_without_diacritics(svc, public, tmp_path):
    cid = document(svc, tmp_path)
    manifest = public.get(f"/iiif/{cid}/manifest.json").json()
    [service] = [s for s in manifest["service"] if s.get("type") == "SearchService2"]
    path = service["id"].replace("http://testserver", "")

    found = public.get(path, params={"q": "van mieu"}).json()
    assert found["type"] == "AnnotationPage" and found["@context"].endswith("search/2/context.json")
    [hit] = found["items"]
    left = word_box(0, "Bia", "Văn")
    right = word_box(0, "Bia Văn", "Miếu")
    assert hit["target"] == f"{canvas(cid, 1)}#xywh={xywh((*left[:2], *right[2:]))}"
    assert hit["body"]["value"] == "Văn Miếu"
    [context] = found["annotations"][0]["items"]
    assert context["target"][0]["selector"][0]["prefix"] == "Bia"

    targets = [a["target"] for a in public.get(path, params={"q": "VĂN"}).json()["items"]]
    assert targets == [
        f"{canvas(cid, 1)}#xywh={xywh(word_box(0, 'Bia', 'Văn'))}",
        f"{canvas(cid, 1)}#xywh={xywh(word_box(1, '', 'Văn'))}",
        f"{canvas(cid, 2)}#xywh={xywh(word_box(0, 'Khuê', 'Văn'))}",
    ]
    assert (
        public.get(path, params={"q": "giếng thien"})
        .json()["items"][0]["target"]
        .startswith(canvas(cid, 2) + "#")
    )
    assert public.get(path, params={"q": "mieu van"}).json()["items"] == []  # a phrase, in order
    one = public.get(f"/iiif/{cid}/search1", params={"q": "van"}).json()
    assert one["within"]["total"] == 3 and len(one["hits"]) == 3
    assert one["resources"][2]["on"] == targets[2]


def test_a_word_spanning_two_lines_gets_a_box_on_each(svc, public, tmp_path):
    cid = document(svc, tmp_path, pages=[["Quốc Tử", "Giám"]])
    items = public.get(f"/iiif/{cid}/search", params={"q": "tu giam"}).json()["items"]
    assert [i["target"].split("=")[1] for i in items] == [
        xywh(word_box(0, "Quốc", "Tử")),
        xywh(word_box(1, "", "Giám")),
    ]


def test_canvas_boxes_follow_the_canvas_size_of_a_large_page(svc, public, tmp_path):
    cid = document(svc, tmp_path, pages=[["Văn Miếu"]], size=(6000, 400))  # canvas is 3000 wide
    manifest = public.get(f"/iiif/{cid}/manifest.json").json()
    assert manifest["items"][0]["width"] == 3000
    [item] = public.get(f"/iiif/{cid}/search", params={"q": "mieu"}).json()["items"]
    left, top, right, _bottom = word_box(0, "Văn", "Miếu")
    assert item["target"].endswith(f"xywh={left // 2},{top // 2},{(right - left) // 2},15")


@pytest.mark.parametrize("q", ["", "   ", "?!…,.", "a" * 10_000, "văn " * 60])
def test_a_query_nobody_could_mean_gets_400_and_an_empty_annotation_page(svc, public, tmp_path, q):
    cid = document(svc, tmp_path)
    r = public.get(f"/iiif/{cid}/search", params={"q": q})
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "AnnotationPage" and body["items"] == [] and body["label"]["en"][0]
    assert r.headers["access-control-allow-origin"] == "*"


def test_alto_hocr_text_and_pdf_of_a_page(svc, public, tmp_path):
    cid = document(svc, tmp_path)
    manifest = public.get(f"/iiif/{cid}/manifest.json").json()
    see_also = {s["label"]["none"][0]: s["id"] for s in manifest["items"][0]["seeAlso"]}
    alto = ET.fromstring(public.get(see_also["ALTO"].replace("http://testserver", "")).content)
    assert alto.tag == f"{ALTO}alto"
    page = alto.find(f"{ALTO}Layout/{ALTO}Page")
    assert (page.get("WIDTH"), page.get("HEIGHT")) == ("600", "400")
    strings = alto.iter(f"{ALTO}String")
    assert [s.get("CONTENT") for s in strings] == " ".join(PAGES[0]).split()
    mieu = next(s for s in alto.iter(f"{ALTO}String") if s.get("CONTENT") == "Miếu")
    left, top, right, _ = word_box(0, "Bia Văn", "Miếu")
    assert (mieu.get("HPOS"), mieu.get("VPOS"), mieu.get("WIDTH")) == (
        str(left),
        str(top),
        str(right - left),
    )
    hocr = public.get(see_also["hOCR"].replace("http://testserver", ""))
    assert [w.text for w in parse_hocr(hocr.content)] == " ".join(PAGES[0]).split()
    text = public.get(f"/iiif/{cid}/2/text.txt")
    assert text.text == "\n".join(PAGES[1])
    rendering = {r["format"]: r["id"] for r in manifest["rendering"]}
    whole = public.get(rendering["text/plain"].replace("http://testserver", "")).text
    assert whole.split("\f") == ["\n".join(p) for p in PAGES]
    pdf = public.get(rendering["application/pdf"].replace("http://testserver", ""))
    assert pdf.headers["content-type"] == "application/pdf"
    with pdfplumber.open(io.BytesIO(pdf.content)) as doc:
        assert len(doc.pages) == 2
        assert "Giếng Thiên Quang" in doc.pages[1].extract_text(x_tolerance=1)


def test_an_owners_name_is_never_found_nor_shown(svc, public, tmp_path):
    pages = [[f"Chủ đất {OWNER} ở Văn Miếu"]]
    cid = document(svc, tmp_path, pages=pages, owner=OWNER)
    assert public.get(f"/iiif/{cid}/search", params={"q": "bich ngoc"}).json()["items"] == []
    assert len(public.get(f"/iiif/{cid}/search", params={"q": "van mieu"}).json()["items"]) == 1
    for path in ("1/alto.xml", "1/hocr.html", "1/text.txt", "text.txt", "manifest.json"):
        r = public.get(f"/iiif/{cid}/{path}")
        assert r.status_code == 200 and "Ngọc" not in r.text and "Miếu" in r.text, path
    pdf = public.get(f"/iiif/{cid}/document.pdf").content
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        words = doc.pages[0].extract_text(x_tolerance=1)
    assert "Ngọc" not in words and "Miếu" in words


ROUTES = (
    "manifest.json",
    "search?q=van",
    "search1?q=van",
    "1/alto.xml",
    "1/hocr.html",
    "1/text.txt",
    "text.txt",
    "document.pdf",
    "1/info.json",
)


def test_a_document_that_is_not_public_is_404_everywhere(svc, public, tmp_path):
    hidden = site(svc.store, "01-020", "Đền Ngọc Sơn", published=False)
    tiff = samples.make_tiff(tmp_path / "hidden.tif", 2, 600, 400)
    [r] = ingest_paths(svc, [tiff], None, None, True)
    unpublished = UUID(r.capture_id)
    link(svc, unpublished, hidden.id)
    run_inspect(svc, unpublished, Attempt(1, False))
    read_pages(svc, unpublished, PAGES)
    land = document(svc, tmp_path, code="01-021")
    link(svc, land, parcel(svc.store).id)  # a parcel's document is never public
    for cid in (unpublished, land):
        for path in ROUTES:
            r = public.get(f"/iiif/{cid}/{path}")
            assert r.status_code == 404, (cid, path)
            assert "Văn" not in r.text and "items" not in r.json(), path


def test_viewers_on_other_origins_may_read_every_iiif_resource(svc, public, tmp_path):
    cid = document(svc, tmp_path)
    origin = {"Origin": "http://viewer.example:8001"}
    for path in (*ROUTES, "1/full/max/0/default.jpg", "thumbnail.jpg"):
        r = public.get(f"/iiif/{cid}/{path}", headers=origin)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*", path
    missing = public.get("/iiif/00000000-0000-0000-0000-000000000001/manifest.json", headers=origin)
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"
    preflight = public.options(
        f"/iiif/{cid}/search",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "accept"
    assert "access-control-allow-origin" not in public.get("/api/search", headers=origin).headers


def test_many_hits_come_a_hundred_at_a_time(svc, public, tmp_path):
    lines = [" ".join(["Văn"] * 10) for _ in range(12)]
    cid = document(svc, tmp_path, pages=[lines], size=(800, 700))
    first = public.get(f"/iiif/{cid}/search", params={"q": "van"}).json()
    assert len(first["items"]) == 100 and first["partOf"]["total"] == 120
    assert first["startIndex"] == 0 and "prev" not in first
    second = public.get(first["next"]["id"].replace("http://testserver", "")).json()
    assert len(second["items"]) == 20 and second["startIndex"] == 100 and "next" not in second
    assert second["items"][-1]["target"].endswith(xywh(word_box(11, "Văn " * 9, "Văn")))
    one = public.get(f"/iiif/{cid}/search1", params={"q": "van"}).json()
    assert (
        one["within"]["total"] == 120 and len(one["hits"]) == 100 and one["next"].endswith("page=2")
    )


def test_a_withdrawn_record_takes_its_document_away_at_once(svc, public, tmp_path):
    cid = document(svc, tmp_path)
    assert public.get(f"/iiif/{cid}/manifest.json").status_code == 200
    assert public.get(f"/iiif/{cid}/search", params={"q": "van"}).json()["items"]
    svc.store.update(site_id("01-010"), lambda r: r.withdraw(reason="review"))
    for path in ROUTES:
        assert public.get(f"/iiif/{cid}/{path}").status_code == 404, path


def test_cite_this_gives_stable_urls_and_only_public_downloads(svc, public, tmp_path):
    cid = document(svc, tmp_path)
    rid = site_id("01-010")
    page = public.get(f"/records/{rid}").text
    assert f'value="http://testserver/records/{rid}"' in page
    assert "Văn Miếu. Số hóa di sản Hà Nội, cập nhật" in page
    cite = f"http://testserver/records/{rid}/pages/{cid}/2"
    assert cite in page
    for link in ("document.pdf", "text.txt", "2/alto.xml", "2/hocr.html", "2/text.txt"):
        assert f'href="/iiif/{cid}/{link}"' in page, link
    r = public.get(cite.replace("http://testserver", ""), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/records/{rid}#page-{cid}-2"
    assert f'id="page-{cid}-2"' in page
    for wrong in (f"{cid}/3", f"{cid}/0", f"{UUID(int=7)}/1"):
        r = public.get(f"/records/{rid}/pages/{wrong}", follow_redirects=False)
        assert r.status_code == 404, wrong
    assert "Cite this" in public.get(f"/records/{rid}", params={"lang": "en"}).text
    svc.store.update(rid, lambda r: r.withdraw(reason="review"))
    assert public.get(f"/records/{rid}/pages/{cid}/1", follow_redirects=False).status_code == 404


def test_a_page_not_read_yet_offers_no_download(svc, public, tmp_path):
    site(svc.store, "01-030", "Đình Kim Liên")
    tiff = samples.make_tiff(tmp_path / "unread.tif", 2, 600, 400)
    [r] = ingest_paths(svc, [tiff], None, None, True)
    cid = UUID(r.capture_id)
    link(svc, cid, site_id("01-030"))
    run_inspect(svc, cid, Attempt(1, False))
    page = public.get(f"/records/{site_id('01-030')}").text
    assert "Chưa đọc" in page and f"/iiif/{cid}/1/alto.xml" not in page
    assert f"/iiif/{cid}/document.pdf" not in page
