"""The land officer's parcel page says where each value came from: read by the machine from
the certificate, accepted by an archivist as read, corrected by an archivist on a day, in the
officer's language; people and restricted values' sources only for roles that may see them."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from models.ids import parcel_id
from pipeline.usecases.certificates import accept_fields, correct_fields
from tests.web.test_review_queue import certificate
from tests.web.test_review_walk import SECTION_II, YEN_NGHIA, svc  # noqa: F401 - the fixture
from web.i18n import translator
from web.land.sources import value_sources


def source_cell(page: str, name: str) -> str:
    row = page.split(f'<td data-attribute="{name}">')[1].split("</tr>")[0]
    return re.sub(r"<[^>]+>", "", row.split('<td class="source"')[1].split(">", 1)[1]).strip()


def test_the_parcel_page_says_who_read_accepted_or_corrected_each_value(
    svc,  # noqa: F811
    officer,
    tmp_path,
):
    cid = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    accept_fields(svc, cid, ["address"], "person:lan")
    correct_fields(svc, cid, {"area_m2": 121.0}, "đọc nhầm", "person:lan")
    linked = parcel_id(YEN_NGHIA, "pre2025", "12", "45")
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()  # the office's day
    page = officer.get(f"/land/parcels/{linked}", params={"lang": "en"}).text
    assert source_cell(page, "area_m2") == f"corrected by lan on {today}, from gcn-1.png"
    assert source_cell(page, "address") == "read by the machine from gcn-1.png, accepted by lan"
    assert source_cell(page, "parcel_number") == "read by the machine from gcn-1.png"
    assert f'href="#doc-{cid}"' in page and f'id="doc-{cid}"' in page  # to the certificate
    vietnamese = officer.get(f"/land/parcels/{linked}", params={"lang": "vi"}).text
    assert source_cell(vietnamese, "area_m2") == f"lan sửa ngày {today}, theo gcn-1.png"


def test_people_and_restricted_values_sources_only_for_roles_that_may_see_them(
    svc,  # noqa: F811
    tmp_path,
):
    cid = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    provenance = {
        "area_m2": f"person:lan via capture:{cid}:fields/1",
        "owners": f"person:lan via capture:{cid}:fields/1",
        "purpose": "person:minh",
        "valid_from": "import:/home/someone/so-dia-chinh.csv:12",
    }
    t = translator("en")
    record = {"provenance": provenance, "attributes": {}}
    staff = value_sources(svc, record, [], "officer", t)
    assert "lan" in staff["owners"].text and "minh" in staff["purpose"].text
    assert staff["valid_from"].text.startswith("imported from so-dia-chinh.csv")  # no folders
    public = value_sources(svc, record, [], "public", t)
    assert "owners" not in public  # a restricted value's source
    assert "lan" not in public["area_m2"].text and "a staff member" in public["area_m2"].text
    assert "minh" not in public["purpose"].text


def test_an_acceptance_names_its_person_for_the_value_accepted_only(svc, tmp_path):  # noqa: F811
    cid = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    accept_fields(svc, cid, ["address"], "person:lan")
    accepted = svc.store.capture(cid).acceptances["address"]["value"]
    t = translator("en")

    def source(value: str):
        record = {"provenance": {"address": f"capture:{cid}:fields/2"}, "attributes": {}}
        record["attributes"]["address"] = value
        return value_sources(svc, record, [], "officer", t)["address"]

    assert source(accepted).kind == "accepted" and "lan" in source(accepted).text
    assert source("phường khác, read again").kind == "read"  # a later run's value
