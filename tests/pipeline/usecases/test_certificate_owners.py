"""A parcel keeps each owner a certificate names (name, ID kind and number, birth year), not
where on the page the name was read nor how surely: officers read them as sentences."""

from __future__ import annotations

from pipeline.usecases.certificates import link_certificate
from tests.pipeline.usecases.test_certificate_changes import KEY, certificate, svc  # noqa: F401
from web.labels import Labels

OWNER = {  # fictional, as pipeline.stages.certificate gives an owner
    "name": "Trần Thị Thử", "id_kind": "CCCD", "id_number": "001185012345",
    "birth_year": 1985, "page": 0, "box": [265, 1382, 1124, 1498], "confidence": 0.95,
}  # fmt: skip


def test_the_parcel_keeps_who_the_owners_are_not_where_they_were_read(svc):  # noqa: F811
    capture = certificate(svc)
    link_certificate(svc, capture, {"kind": "land_certificate", "fields": {}, "owners": [OWNER]})
    [kept] = svc.store.record(KEY.id).attributes["owners"]
    assert kept == {k: OWNER[k] for k in ("name", "id_kind", "id_number", "birth_year")}
    shown = Labels("vi").text(kept)
    assert (
        shown == "Tên: Trần Thị Thử; Loại giấy tờ: CCCD; Số giấy tờ: 001185012345; Năm sinh: 1985"
    )
