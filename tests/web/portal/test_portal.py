"""The public portal: search, record pages, IIIF — and nothing restricted, nothing unescaped."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from pipeline.settings import WebSettings
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.web.conftest import reindex
from tests.web.records import ID_NUMBER, OWNER, XSS, parcel, read_pages, site
from web.app import create_app


def test_search_without_diacritics_finds_published_only(svc, public):
    one = site(svc.store, "01-001", "Chùa Một Cột", rank="quốc gia đặc biệt")
    hidden = site(svc.store, "01-002", "Chùa Trấn Quốc", published=False)
    reindex(svc)

    body = public.get("/api/search", params={"q": "chua mot cot"}).json()
    assert [h["id"] for h in body["hits"]] == [str(one.id)]
    assert body["hits"][0]["lat"] is not None
    page = public.get("/", params={"q": "chua"}).text
    assert "Chùa Một Cột" in page and "Chùa Trấn Quốc" not in page
    assert public.get(f"/records/{one.id}").status_code == 200
    assert public.get(f"/records/{hidden.id}").status_code == 404
    assert public.get("/api/public/records/00000000-0000-0000-0000-000000000001").status_code == 404
    english = public.get("/", params={"q": "chua", "lang": "en"})
    assert "Search" in english.text and english.cookies.get("sohoa_lang") == "en"


def test_script_in_a_title_is_text_everywhere(svc, public, archivist):
    evil = site(svc.store, "01-666", f"Đình {XSS}")
    reindex(svc)
    for page in (
        public.get("/", params={"q": "dinh"}).text,
        public.get(f"/records/{evil.id}").text,
        archivist.get(f"/staff/records/{evil.id}").text,
        archivist.get("/staff", params={"q": "dinh"}).text,
    ):
        assert XSS not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "script-src 'self'" in public.get("/").headers["content-security-policy"]


def test_public_never_sees_owners_or_id_numbers(svc, public):
    p = parcel(svc.store, description=f"Chủ: {OWNER}")
    reindex(svc)
    for r in (
        public.get("/api/search", params={"q": "giang vo"}),
        public.get("/", params={"q": "giang vo"}),
        public.get(f"/records/{p.id}"),
        public.get(f"/api/public/records/{p.id}"),
        public.get(f"/api/public/records/{p.id}/history"),
        public.get("/api/search", params={"q": OWNER}),
    ):
        assert r.status_code == 200
        assert OWNER not in r.text and ID_NUMBER not in r.text and "Bích Ngọc" not in r.text
    assert public.get(f"/api/public/records/{p.id}").json()["attributes"]["area_m2"] == 120.5
    assert public.get("/api/search", params={"q": OWNER}).json()["total"] == 0


def test_huge_query_string_and_rate_limit(svc):
    client = TestClient(create_app(svc, WebSettings(search_rate_per_min=1, search_burst=3)))
    assert client.get("/api/search", params={"q": "x" * 20_000}).status_code == 414  # 100 KB: e2e
    codes = [client.get("/api/search", params={"q": "ha noi"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert client.get("/api/search", params={"q": "a"}).headers["retry-after"]


def test_iiif_manifest_and_level0_image(svc, public, tmp_path):
    site(svc.store, "01-003", "Văn Miếu")
    png = samples.make_png(tmp_path / "bia.png", 640, 480)
    [r] = ingest_paths(svc, [png], None, None, True)
    cid = UUID(r.capture_id)
    assert public.get(f"/iiif/{cid}/manifest.json").status_code == 404  # not linked: not public
    svc.store.update(cid, lambda c: c.link_record(record_id=site_id_of(svc)))
    svc.store.update(site_id_of(svc), lambda rec: rec.link_capture(capture_id=cid))
    run_inspect(svc, cid, Attempt(1, False))
    # before its page is read, nothing of it is shown: the inspection thumbnail is not redacted
    for path in ("thumbnail.jpg", "1/info.json", "1/full/max/0/default.jpg"):
        assert public.get(f"/iiif/{cid}/{path}").status_code == 404, path
    assert public.get(f"/iiif/{cid}/manifest.json").json()["items"] == []
    read_pages(svc, cid, [["Bia Văn Miếu"]], size=(640, 480))

    m = public.get(f"/iiif/{cid}/manifest.json").json()
    assert m["type"] == "Manifest" and m["@context"].endswith("presentation/3/context.json")
    body = m["items"][0]["items"][0]["items"][0]["body"]
    assert (body["width"], body["height"]) == (640, 480)
    info = public.get(f"/iiif/{cid}/1/info.json").json()
    assert info["profile"] == "level0" and info["width"] == 640
    image = public.get(body["id"].replace("http://testserver", ""))
    assert image.headers["content-type"] == "image/jpeg" and image.content[:2] == b"\xff\xd8"
    page = public.get(f"/records/{site_id_of(svc)}").text
    assert f"/iiif/{cid}/manifest.json" in page and f"/iiif/{cid}/1/full/max/0/default.jpg" in page
    assert public.get(f"/iiif/{cid}/thumbnail.jpg").status_code == 200


def site_id_of(svc):
    from models.ids import site_id

    return site_id("01-003")


def test_land_certificate_images_are_never_public(svc, public, tmp_path):
    p = parcel(svc.store)
    png = samples.make_png(tmp_path / "gcn.png", 300, 200)
    [r] = ingest_paths(svc, [png], "land-certificate", None, True)
    cid = UUID(r.capture_id)
    svc.store.update(cid, lambda c: c.link_record(record_id=p.id))
    svc.store.update(p.id, lambda rec: rec.link_capture(capture_id=cid))
    run_inspect(svc, cid, Attempt(1, False))
    assert public.get(f"/iiif/{cid}/manifest.json").status_code == 404
    assert public.get(f"/iiif/{cid}/1/full/max/0/default.jpg").status_code == 404
    assert public.get(f"/iiif/{cid}/thumbnail.jpg").status_code == 404
