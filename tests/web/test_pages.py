"""Page images beside their text, redaction of public pages, the certificate review screen,
live progress and the 3D viewer: on pages recorded as the workers would (no OCR here)."""

from __future__ import annotations

import io
import json
import re
from uuid import UUID

from PIL import Image

from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from pipeline.presenters import fields_view
from pipeline.usecases.accounts import audit_entries
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.web.records import ID_NUMBER, OWNER, parcel, read_pages, site, word_box

HOAN_KIEM = (588405.0, 2326366.0)  # VN-2000 / TM-3 105° easting, northing
AREA_BOX = word_box(2, "Diện tích", "120,5")


def ingest(svc, path, kind=None, link=None):
    [r] = ingest_paths(svc, [path], kind, None, True)
    cid = UUID(r.capture_id)
    if link is not None:
        svc.store.update(cid, lambda c: c.link_record(record_id=link))
        svc.store.update(link, lambda rec: rec.link_capture(capture_id=cid))
    run_inspect(svc, cid, Attempt(1, False))
    return cid


def pixel(data: bytes, xy) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel(xy)


def test_staff_capture_page_shows_each_page_beside_its_text_and_progress(svc, archivist, tmp_path):
    cid = ingest(svc, samples.make_tiff(tmp_path / "so-dia-ba.tif", 2))
    before = archivist.get(f"/api/captures/{cid}/progress").json()
    assert before["state"] == "pending"
    assert before["text_runs"][0] | {"done": 0, "pages": 2} == before["text_runs"][0]

    read_pages(svc, cid, [["Địa bạ xã Kim Liên", "năm Gia Long"], ["Trang hai của sổ"]])
    after = archivist.get(f"/api/captures/{cid}/progress").json()
    assert after["state"] == "done" and after["text_runs"][0]["done"] == 2
    assert {"stage": "text/1", "status": "done"} in after["stages"] and not after["retryable"]

    page = archivist.get(f"/staff/captures/{cid}", params={"q": "kim lien"}).text
    assert page.index(f"/api/captures/{cid}/pages/1/image.jpg") < page.index(
        f"/api/captures/{cid}/pages/2/image.jpg"
    )
    assert "Địa bạ xã Kim Liên" in page and "Trang hai của sổ" in page
    assert len(re.findall(r'class="hit"', page)) == 2  # "Kim" and "Liên" on the image
    image = archivist.get(f"/api/captures/{cid}/pages/2/image.jpg")
    assert image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (600, 400)
    assert audit_entries(svc.store) == []  # nothing personal on these pages


def test_public_pages_mask_and_black_out_owners_and_id_numbers(svc, public, tmp_path):
    s = site(svc.store, "01-003", "Văn Miếu")
    cid = ingest(svc, samples.make_tiff(tmp_path / "bia.tif", 2), link=s.id)
    line = f"Ông {OWNER} CCCD {ID_NUMBER}"
    read_pages(svc, cid, [["Bia ghi công đức", line, "năm Bảo Đại"], ["Trang hai văn bia"]])
    owner = {"name": OWNER, "id_number": ID_NUMBER, "page": 0, "box": [0, 60, 40, 110]}
    result = {"kind": "other", "fields": {}, "provenance": {}, "owners": [owner], "changes": []}
    svc.store.update(
        cid,
        lambda c: c.record_fields(job_key="f", run=1, kind="other", result=result, record_id=None),
    )

    for r in (
        public.get(f"/records/{s.id}", params={"q": "ngoc bia"}),
        public.get(f"/api/public/records/{s.id}"),
        public.get(f"/iiif/{cid}/manifest.json"),
    ):
        assert r.status_code == 200
        assert ID_NUMBER not in r.text and "Bích Ngọc" not in r.text and "BICH" not in r.text
        assert "Bia ghi công đức" in r.text
    page = public.get(f"/records/{s.id}", params={"q": "ngoc bia"}).text
    assert len(re.findall(r'class="hit"', page)) == 2  # "Bia" twice, never the hidden name

    m = public.get(f"/iiif/{cid}/manifest.json").json()
    assert [c["id"].rsplit("/", 1)[1] for c in m["items"]] == ["1", "2"]
    assert (m["items"][1]["width"], m["items"][1]["height"]) == (600, 400)
    assert "Trang hai" in m["items"][1]["annotations"][0]["items"][0]["body"]["value"]
    info = public.get(f"/iiif/{cid}/2/info.json").json()
    assert info["profile"] == "level0" and (info["width"], info["height"]) == (600, 400)

    image = public.get(f"/iiif/{cid}/1/full/max/0/default.jpg").content
    before = line.split(ID_NUMBER)[0]
    for box in (word_box(1, before, ID_NUMBER), word_box(1, "Ông", OWNER.split()[0])):
        assert max(pixel(image, (box[0] + 5, box[1] + 10))) < 40  # blacked out
    assert max(pixel(image, (10, 80))) < 40  # inside the owner's box from the fields
    assert 100 < pixel(image, (25, 30))[0] < 200  # "Bia" on line 0 stays grey
    thumb = public.get(f"/iiif/{cid}/thumbnail.jpg")
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) <= 256
    assert public.get(f"/iiif/{cid}/3/info.json").status_code == 404


def certificate_result(pid) -> dict:
    e, n = HOAN_KIEM
    corners = [[e, n], [e + 10, n], [e + 10, n + 12.05], [e, n + 12.05]]
    return {
        "kind": "land_certificate",
        "form": "2009",
        "pages": ["I"],
        "fields": {"parcel_number": "45", "map_sheet": "12", "area_m2": 120.5, "serial": "BV 1"},
        "provenance": {
            "area_m2": {"confidence": 0.93, "page": 0, "box": list(AREA_BOX)},
            "parcel_number": {"confidence": 0.41, "page": 0, "box": [20, 20, 80, 50]},
        },
        "corners": corners,
        "area_check": {"stated_m2": 120.5, "polygon_m2": 120.5, "ok": True},
        "owners": [{"name": OWNER, "id_number": ID_NUMBER, "birth_year": 1980, "id_kind": "CCCD",
                    "page": 0, "box": [20, 70, 500, 100], "confidence": 0.9}],
        "changes": [],
    }  # fmt: skip


def test_certificate_review_crop_correction_map_and_officer_view(
    svc, archivist, officer, public, tmp_path
):
    p = parcel(svc.store, published=False)
    cid = ingest(svc, samples.make_png(tmp_path / "gcn.png", 300, 200), "land-certificate", p.id)
    read_pages(svc, cid, [["Thửa đất số 45", f"Ông {OWNER} CCCD {ID_NUMBER}", "Diện tích 120,5"]])
    result = certificate_result(p.id)
    svc.store.update(
        cid,
        lambda c: c.record_fields(
            job_key="f", run=1, kind="land_certificate", result=result, record_id=p.id
        ),
    )

    page = archivist.get(f"/staff/captures/{cid}").text
    assert 'name="field.area_m2" value="120.5"' in page and OWNER in page
    box = ",".join(map(str, AREA_BOX))
    assert f"/api/captures/{cid}/pages/1/crop.jpg?box={box}" in page
    crop = archivist.get(f"/api/captures/{cid}/pages/1/crop.jpg", params={"box": box})
    assert crop.headers["content-type"] == "image/jpeg"
    assert archivist.get(f"/api/captures/{cid}/pages/1/crop.jpg?box=1,2,3").status_code == 422
    shape = json.loads(re.search(r'id="map-data">(.*?)</script>', page).group(1))[0]["geometry"]
    lon, lat = shape["coordinates"][0][0]
    assert 105.84 < lon < 105.86 and 21.02 < lat < 21.04  # Hoàn Kiếm

    r = archivist.post(
        f"/staff/captures/{cid}/fields",
        data={"field.area_m2": "121,5", "field.parcel_number": "45", "reason": "đo lại"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    view = fields_view(svc.store.capture(cid))
    assert view["fields"]["area_m2"] == 121.5 and list(view["corrections"]) == ["area_m2"]
    assert view["corrections"]["area_m2"]["by"] == "person:lan"
    assert "person:lan" in archivist.get(f"/staff/captures/{cid}").text

    sheet = officer.get(f"/land/parcels/{p.id}").text
    assert f"/api/captures/{cid}/pages/1/image.jpg" in sheet and ID_NUMBER in sheet
    shown = officer.get(f"/api/captures/{cid}/pages/1/image.jpg")
    assert max(pixel(shown.content, word_box(1, "Ông", "Trần")[:2])) > 100  # not blacked out
    reads = [e for e in audit_entries(svc.store) if e["subject_id"] == str(cid)]
    assert {e["who"] for e in reads} == {"lan", "minh"}
    assert any(e["who"] == "minh" and e["action"] == "page 1 image" for e in reads)
    assert public.get(f"/api/captures/{cid}/pages/1/image.jpg").status_code == 401
    assert public.get(f"/iiif/{cid}/1/full/max/0/default.jpg").status_code == 404


def test_the_viewer_gets_a_web_level_of_detail_its_poster_and_metrics(
    svc, public, archivist, tmp_path
):
    s = site(svc.store, "01-900", "Tháp Rùa")
    glb = samples.make_glb(tmp_path / "thap.glb")
    cid = ingest(svc, glb, link=s.id)
    page = public.get(f"/records/{s.id}").text
    assert f'data-src="/public/captures/{cid}/model.glb"' in page  # the upload, until rebuilt
    full, small = (svc.blobs.put_bytes(glb.read_bytes() + b" " * n).key for n in (1, 2))
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    preview = svc.blobs.put_bytes(png.getvalue()).key
    model = {
        "job_key": "m", "run": 1, "method": "mesh", "glb_key": full,
        "lods": {"100k": small, "20k": full}, "preview_key": preview,
        "metrics": {"faces": 12, "bbox_m": [1.0, 2.0, 3.0], "rmse_m": 0.0021},
        "params": {}, "stages": [],
    }  # fmt: skip
    svc.store.update(cid, lambda c: c.record_model(**model))

    page = public.get(f"/records/{s.id}").text
    assert f'data-src="/public/captures/{cid}/model.glb?lod=100k"' in page
    assert f'data-poster="/public/captures/{cid}/preview.png"' in page
    assert "1 × 2 × 3 m" in page and "2.10 mm" in page
    lod = public.get(f"/public/captures/{cid}/model.glb", params={"lod": "100k"})
    assert lod.content == glb.read_bytes() + b"  "
    assert public.get(f"/public/captures/{cid}/preview.png").content[:4] == b"\x89PNG"
    staff = archivist.get(f"/staff/captures/{cid}").text
    assert f'data-src="/api/captures/{cid}/model.glb?lod=100k"' in staff
