"""The officer console: record a split, see it in the lineage graph, the timeline and the map
on a chosen date."""

from __future__ import annotations

import re

from tests.web.records import parcel

CHILD_A, CHILD_B = "00031:pre2025/12/45A", "00031:pre2025/12/45B"


def split(officer, pid, into: str, effective: str = "2021-03-01"):
    form = {"kind": "split", "into": into, "effective": effective, "basis": "QĐ 9/QĐ-UBND"}
    token = officer.headers["X-CSRF-Token"]
    return officer.post(
        f"/land/parcels/{pid}/changes", data={**form, "csrf_token": token}, follow_redirects=False
    )


def test_an_officer_records_a_split_and_sees_it_on_the_page(svc, officer):
    p = parcel(svc.store, valid_from="2010-01-01")
    r = split(officer, p.id, "31/12/45A=60\n31/12/45B=60,5")
    assert r.status_code == 303 and "on=2021-03-01" in r.headers["location"]

    page = officer.get(f"/land/parcels/{p.id}", params={"on": "2021-03-01"}).text
    svg = re.search(r"<svg class=\"lineage\".*?</svg>", page, re.S).group()
    assert CHILD_A in svg and CHILD_B in svg and "/land/parcels/" in svg
    assert 'id="retired"' in page and "2021-03-01" in page
    timeline = re.search(r'id="timeline".*?</section>', page, re.S).group()
    assert "QĐ 9/QĐ-UBND" in timeline and "minh" in timeline
    assert "valid-on-note" in page  # it says what the date means

    earlier = officer.get(f"/api/land/parcels/{p.id}", params={"on": "2020-12-31"}).json()
    assert earlier["record"]["retired"] is None and earlier["record"]["geometry_wgs84"]
    child = officer.get(f"/api/land/parcels/{r_child(svc)}", params={"on": "2020-01-01"})
    assert child.json()["record"]["existed"] is False


def r_child(svc):
    from models.ids import ParcelKey

    return ParcelKey.of("31", "pre2025", "12", "45a").id


def test_a_bad_change_is_refused_with_the_parcels_named(svc, officer):
    p = parcel(svc.store, valid_from="2010-01-01")
    r = split(officer, p.id, "31/12/46", effective="2009-05-05")
    assert r.status_code == 303 and "problem=" in r.headers["location"]
    assert "did not exist yet" in officer.get(r.headers["location"]).text
    api = officer.post(
        f"/api/land/parcels/{p.id}/changes",
        json={
            "kind": "merge",
            "into": ["31/12/47"],
            "merge_with": ["4/12/1"],
            "effective": "2020-01-01",
            "basis": "x",
        },
    )
    assert api.status_code == 400 and "00004:pre2025/12/1" in api.json()["detail"]
    assert officer.get(f"/api/land/parcels/{p.id}").json()["record"]["retired"] is None


def test_a_certificate_change_links_to_its_page_on_the_parcel_page(svc, officer):
    import hashlib

    from models.application import Receipt, RecordRef
    from models.ids import ParcelKey
    from pipeline.usecases.lineage import record_certificate_changes

    key = ParcelKey.of("31", "pre2025", "12", "45")
    p = parcel(svc.store)
    sha = hashlib.sha256(b"gcn").hexdigest()
    receipt = Receipt(sha, "k", 1, "image/png", "land-certificate", "gcn.png", "t", "lan", {})
    cid, _ = svc.store.receive(receipt, [RecordRef("parcel", key.as_record_key())])
    entry = {
        "date": "2016-01-02",
        "text": "Thế chấp theo hợp đồng số 5",
        "page": 2,
        "box": [1, 2, 3, 4],
    }
    record_certificate_changes(svc.store, p.id, cid, [entry])
    page = officer.get(f"/land/parcels/{p.id}").text
    assert f'href="#page-{cid}-2"' in page and 'data-kind="mortgage"' in page


def test_officers_download_the_export_with_owners_and_it_is_audited(svc, officer, public):
    from pipeline.usecases.accounts import audit_entries

    parcel(svc.store)
    r = officer.get("/api/land/export/parcels", params={"format": "geojson"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    [feature] = r.json()["features"]
    assert feature["properties"]["owner"] and feature["properties"]["SoThuTuThua"] == "45"
    assert any(e["subject_id"] == "export:parcels.geojson" for e in audit_entries(svc.store))
    assert public.get("/api/land/export/parcels").status_code == 401
