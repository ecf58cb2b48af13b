"""The officer console (lookup, as-of, owner search, audit) and staff review and uploads."""

from __future__ import annotations

import io
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image

from pipeline.redaction import mask_text, redact_image
from pipeline.usecases.accounts import audit_entries
from tests.factories import samples
from tests.web.conftest import reindex
from tests.web.records import ID_NUMBER, OWNER, parcel, site


def test_parcel_lookup_as_of_and_audit(svc, officer):
    p = parcel(svc.store)
    time.sleep(0.05)
    between = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    time.sleep(0.05)
    svc.store.update(p.id, lambda r: r.record_attributes(attributes={"area_m2": 99.0}, source="t"))

    found = officer.get("/api/land/parcels", params={"unit": "31", "sheet": "012", "number": "45"})
    assert [f["id"] for f in found.json()] == [str(p.id)]
    now = officer.get(f"/api/land/parcels/{p.id}").json()
    assert now["record"]["attributes"]["area_m2"] == 99.0
    assert now["record"]["attributes"]["owner"] == OWNER  # officers see owners
    then = officer.get(
        f"/api/land/parcels/{p.id}",
        params={"recorded": between.date().isoformat(), "at": between.strftime("%H:%M:%S.%f")},
    ).json()
    assert then["record"]["attributes"]["area_m2"] == 120.5
    before = officer.get(f"/api/land/parcels/{p.id}", params={"recorded": "2001-01-01"}).json()
    assert before["record"] is None
    page = officer.get(f"/land/parcels/{p.id}", params={"recorded": "2001-01-01"}).text
    assert 'id="not-yet"' in page

    entries = audit_entries(svc.store)
    assert len(entries) == 2  # the two reads that showed restricted data
    assert {e["who"] for e in entries} == {"minh"} and "owner" in entries[0]["attributes"]


def test_owner_search_is_for_officers_and_audited(svc, officer, public):
    p = parcel(svc.store, published=False)
    reindex(svc)
    hits = officer.get("/api/land/owners", params={"name": "tran thi bich ngoc"}).json()["hits"]
    assert [h["id"] for h in hits] == [str(p.id)] and hits[0]["owner"] == OWNER
    assert public.get("/api/land/owners", params={"name": "tran thi"}).status_code == 401
    assert audit_entries(svc.store)[0]["subject_id"] == str(p.id)


def test_review_correction_publish_withdraw(svc, archivist, public):
    s = site(svc.store, "01-010", "Đình Kim Liên", published=False)
    r = archivist.post(
        f"/api/records/{s.id}/attributes", json={"attributes": {"name": "Đình Kim Liên (sửa)"}}
    )
    assert r.json()["provenance"]["name"] == "person:lan"
    history = archivist.get(f"/staff/records/{s.id}").text
    assert "person:lan" in history
    archivist.post(f"/api/records/{s.id}/publish")
    reindex(svc)
    assert public.get("/api/search", params={"q": "dinh kim lien sua"}).json()["total"] == 1
    archivist.post(f"/api/records/{s.id}/withdraw", json={"reason": "wrong site"})
    reindex(svc)
    assert public.get("/api/search", params={"q": "dinh kim lien sua"}).json()["total"] == 0
    assert public.get(f"/records/{s.id}").status_code == 404


def test_chunked_upload_resumes_repeats_and_refuses_gaps(svc, archivist, tmp_path):
    data = samples.make_png(tmp_path / "big.png", 900, 700).read_bytes()
    up = archivist.post(
        "/api/uploads", json={"name": "bia.png", "size": len(data), "meta": {"site_code": "01-011"}}
    ).json()
    url = f"/api/uploads/{up['id']}"
    half = len(data) // 2
    assert archivist.put(url, params={"offset": 0}, content=data[:half]).json()["offset"] == half
    again = archivist.put(url, params={"offset": 0}, content=data[:half])  # lost answer, resent
    assert again.status_code == 200 and again.json()["offset"] == half
    gap = archivist.put(url, params={"offset": half + 10}, content=data[half + 10 :])
    assert gap.status_code == 409 and gap.json()["detail"]["expected"] == half
    assert gap.headers["upload-offset"] == str(half)
    early = archivist.post(f"{url}/complete")
    assert early.status_code == 409
    archivist.put(url, params={"offset": half}, content=data[half:])
    done = archivist.post(f"{url}/complete").json()
    assert done["status"] == "ingested" and done["path"] == "bia.png"
    capture = archivist.get(f"/api/captures/{done['capture_id']}").json()
    assert capture["size"] == len(data) and capture["links"]
    assert archivist.get(url).status_code == 404  # gone once ingested


def test_multipart_upload_goes_through_ingest(svc, archivist, tmp_path):
    png = samples.make_png(tmp_path / "a.png", 50, 40).read_bytes()
    files = [("file", ("a.png", png, "image/png")), ("file", ("b.pdf", b"not a pdf", "x/y"))]
    r = archivist.post("/api/captures", files=files, data={"title": "Bia"})
    assert r.status_code == 201
    ok, bad = r.json()
    assert (
        ok["status"] == "ingested" and bad["status"] == "rejected" and "unsupported" in bad["error"]
    )
    assert not list((svc.settings.data_dir / "uploads" / "form").iterdir())  # nothing left over
    assert (
        archivist.post("/api/captures", files=files, data={"kind": "nonsense"}).status_code == 400
    )


def test_redaction_of_text_and_images():
    text = f"Ông {OWNER.upper()}, CCCD số {ID_NUMBER}, CMND 012 345 678, thửa số 45 tờ 12"
    masked = mask_text(text, [OWNER])
    assert ID_NUMBER not in masked and "012 345 678" not in masked and "NGỌC" not in masked
    assert "thửa số 45 tờ 12" in masked
    buf = io.BytesIO()
    Image.new("RGB", (100, 60), (255, 255, 255)).save(buf, "PNG")
    out = Image.open(io.BytesIO(redact_image(buf.getvalue(), [(10, 10, 50, 30)])))
    assert out.getpixel((20, 20)) == (0, 0, 0) and out.getpixel((80, 50)) == (255, 255, 255)
