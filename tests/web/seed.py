"""A store seeded for security tests: published and unpublished parcels carrying every kind of
restricted value, heritage sites, and captures the public may and may not see.

Every person and number here is made up. `RESTRICTED_VALUES` is what must never appear in a
public response; each is distinctive enough that it cannot turn up by chance (in an echoed
query, a timestamp or an id).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from models.record import Record
from pipeline.bootstrap import Services
from pipeline.jobs.execute import Attempt
from pipeline.jobs.inspection import run_inspect
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.web.records import SQUARE, read_pages

PUBLISHED_OWNER = {
    "owner": "Phùng Thị Quế Dương",
    "id_number": "001168054321",
    "owner_id_number": "030168099887",
    "owner_address": "số 17 ngõ Văn Chương",
    "serial": "BX 731946",
    "registry_number": "CS 04417",
}
HIDDEN_OWNER = {
    "owner": "Khúc Văn Thạch",
    "id_number": "031256789",
    "owner_address": "xóm Bãi Phúc Xá",
    "serial": "AK 385102",
    "registry_number": "CH 09931",
}
RESTRICTED_VALUES = (
    *PUBLISHED_OWNER.values(),
    *HIDDEN_OWNER.values(),
    *("Quế Dương", "Văn Thạch", "que duong", "van thach"),
)
"""Values (and distinctive parts, folded too) that no public response may contain."""


@dataclass
class Seeded:
    published_parcel: UUID
    hidden_parcel: UUID
    public_site: UUID
    hidden_site: UUID
    public_capture: UUID
    certificate: UUID
    """A land certificate linked to the published parcel: never public."""
    hidden_capture: UUID
    """A scan linked only to the unpublished site."""

    @property
    def ids(self) -> list[UUID]:
        return [
            self.published_parcel, self.hidden_parcel, self.public_site, self.hidden_site,
            self.public_capture, self.certificate, self.hidden_capture,
        ]  # fmt: skip


def parcel(svc: Services, number: str, attrs: dict, published: bool) -> Record:
    key = {"unit_code": "00031", "era": "pre2025", "sheet": "12", "number": number}
    r = Record(kind="parcel", key=key, source="seed")
    values = {"ward": "Phường Giảng Võ", "area_m2": 98.5, "birth_year": 1968, **attrs}
    r.record_attributes(attributes=values, source="seed")
    r.set_geometry(geometry=SQUARE, crs="EPSG:4326", source="seed")
    if published:
        r.publish()
    svc.store.save(r)
    return r


def site(svc: Services, code: str, name: str, published: bool) -> Record:
    r = Record(kind="site", key={"code": code}, source="seed")
    r.record_attributes(attributes={"name": name, "rank": "quốc gia"}, source="seed")
    r.set_geometry(
        geometry={"type": "Point", "coordinates": [105.8355, 21.0359]}, crs="EPSG:4326",
        source="seed",
    )  # fmt: skip
    if published:
        r.publish()
    svc.store.save(r)
    return r


def linked_capture(svc: Services, path: Path, kind: str | None, record: Record) -> UUID:
    """A capture ingested, linked to `record` both ways, and inspected (it has a thumbnail)."""
    [result] = ingest_paths(svc, [path], kind, None, True)
    cid = UUID(result.capture_id)
    svc.store.update(cid, lambda c: c.link_record(record_id=record.id))
    svc.store.update(record.id, lambda r: r.link_capture(capture_id=cid))
    run_inspect(svc, cid, Attempt(1, False))
    return cid


def read(svc: Services, cid: UUID) -> UUID:
    """The capture's page read (as OCR would), so its redacted public image exists."""
    read_pages(svc, cid, [["Bia đá đình Hào Nam"]], size=(320, 240))
    return cid


def certificate_scan(folder: Path) -> Path:
    return samples.make_png(folder / "gcn.png", 300, 200, mode="L")


def seed(svc: Services, folder: Path) -> Seeded:
    folder.mkdir(parents=True, exist_ok=True)
    shown = parcel(svc, "45", PUBLISHED_OWNER, published=True)
    hidden = parcel(svc, "46", HIDDEN_OWNER, published=False)
    open_site = site(svc, "01-901", "Đình Hào Nam", published=True)
    closed_site = site(svc, "01-902", "Chùa Bộc", published=False)
    return Seeded(
        published_parcel=shown.id,
        hidden_parcel=hidden.id,
        public_site=open_site.id,
        hidden_site=closed_site.id,
        public_capture=read(
            svc,
            linked_capture(svc, samples.make_png(folder / "bia.png", 320, 240), None, open_site),
        ),
        certificate=linked_capture(
            svc,
            samples.make_png(folder / "gcn.png", 300, 200, mode="L"),
            "land-certificate",
            shown,
        ),
        hidden_capture=linked_capture(
            svc, samples.make_jpeg(folder / "chua.jpg", 200, 150), None, closed_site
        ),
    )
