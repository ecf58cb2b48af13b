"""Register records that already exist as data: `sohoa import FILE`.

Each row of a file becomes one parcel or heritage-site record. Its id comes from its
natural key (parcel: unit code and era, map sheet, parcel number; site: registration code),
so importing a file twice, or a corrected file, only records what changed. Per row, in one
save: `Registered` (if new), `AttributesRecorded` (the changed attributes, with
`source="import:FILE:LINE"`), `GeometrySet` (if the geometry differs), `Published` (if the
row says so). A bad row is reported with its line and reason; the rest imports.

Formats are decided by content, then by extension:

- **JSON Lines** (`.jsonl`, `.ndjson`): one JSON object per line. Rows are numbered by file line.
- **CSV** (`.csv`): UTF-8 with or without BOM, a header row, separated by `,`, `;` or tab
  (Excel in a Vietnamese locale writes `;`, because `,` is its decimal mark). Rows are numbered
  by the file line they start on. An empty cell means "not given".
- **GeoJSON** (`.geojson`, `.json`): a FeatureCollection (or one Feature). A feature's
  `properties` are the row and its `geometry` the record's geometry. Rows are "feature N".
  Coordinates are longitude/latitude (RFC 7946, recorded as `EPSG:4326`) unless the collection
  has a legacy `crs` member, e.g. `urn:ogc:def:crs:EPSG::5897` (VN-2000 / TM-3 105°, Hà Nội),
  which is recorded as `EPSG:5897`. Projected coordinates without a `crs` member are rejected.

Fields (plain snake_case; the same in every format):

| field | for | value | notes |
|---|---|---|---|
| `kind` | both | `parcel` or `site` | optional: parcel fields → parcel, else `code` → site |
| `code` | site | text | registration or staff code; the site's key (upper-cased) |
| `unit_code` | parcel | up to 5 digits | commune-level unit code; key |
| `unit_era` | parcel | `pre2025` or `2025` | key; required with a plain `unit_code` (see below) |
| `sheet` | parcel | text or integer | map sheet (tờ bản đồ số); key |
| `parcel_number` | parcel | text or integer | parcel number (thửa đất số); key |
| `name` | both | text | |
| `aliases` | site | list of text, or text separated by `;` | other names |
| `type` | site | list of text, or text separated by `;` | heritage types; multi-valued |
| `rank` | site | text | e.g. `quốc gia đặc biệt` |
| `period` | site | text | |
| `ward`, `district`, `province` | both | text | unit names as written |
| `address` | both | text | where the parcel or site is |
| `locality` | parcel | text | named field area (xứ đồng) |
| `description` | both | text | |
| `lat`, `lon` | both | decimal degrees (WGS84) | together; a Point (not with a feature geometry) |
| `published` | both | `true`/`false`, `"true"`/`"false"`, `"1"`/`"0"` | false never withdraws |
| `area_m2` | parcel | number; `"12.5"`, `"12,5"`, `"1.234,5"` | area in m² |
| `legal_area_m2` | parcel | number, as `area_m2` | legal area (diện tích pháp lý) |
| `purpose` | parcel | text | land-use code: `ODT`, `LUC`, `ODT+CLN` … |
| `purpose_label` | parcel | text | land-use name |
| `owner` | parcel | text | restricted (personal data) |
| `owner_address` | parcel | text | restricted |
| `serial` | parcel | text | certificate serial; restricted |
| `registry_number` | parcel | text | certificate registry number; restricted |
| `old_unit_code`, `old_sheet`, `old_parcel_number` | parcel | text | numbers before a renumbering |
| `valid_from` | both | `YYYY-MM-DD` or `DD/MM/YYYY` | when the values took effect (see below) |
| `extra` | both | JSON object (in CSV: JSON text) | source fields kept as is, not interpreted |

Names from land-database exports are accepted in any letter case and mapped:

| export field | source | becomes |
|---|---|---|
| `MaXa`, `MaDVHC` | VBDLIS / ELIS | `unit_code` |
| `SoHieuToBanDo`, `SoTo` | VBDLIS / ELIS | `sheet` |
| `SoThuTuThua`, `ThuaDatSo` | VBDLIS / ELIS | `parcel_number` |
| `SoHieuToBanDoCu`, `SoThuTuThuaCu` | VBDLIS | `old_sheet`, `old_parcel_number` |
| `DienTich`, `DienTichPhapLy` | VBDLIS | `area_m2`, `legal_area_m2` |
| `KyHieuMucDichSuDung` | VBDLIS | `purpose` |
| `OBJECTID` | GIS exports | `extra.OBJECTID` |
| `so_thua`, `to_ban_do`, `dien_tich` | commune registers | `parcel_number`, `sheet`, `area_m2` |
| `mdsd2003` | commune registers | `purpose` (2003-law land-use code) |
| `ten_chu`, `dia_chi`, `xu_dong` | commune registers | `owner`, `address`, `locality` |
| `loai_dat`, `id` | commune registers | `extra.loai_dat` (pre-2003 land class), `extra.id` |

Any other field is an error for its row, naming the field. An empty or null value means "not
given": an import never removes an attribute. Text is NFC-normalised, and legacy TCVN3 or VNI
text (8-bit Vietnamese fonts read as Latin-1, e.g. "NguyÔn V¨n A") is detected per value and
converted to Unicode.

**Unit era.** Codes were reused in the 2025 reorganisation, so a wrong era silently files a
parcel under another commune. A plain `unit_code` therefore needs `unit_era`. A code from a
VBDLIS/ELIS field (`MaXa`, `MaDVHC`) defaults to `pre2025`: those databases were built on the
pre-reform codes and the exports we have (Đà Nẵng ward 20248) predate 1 July 2025. Give
`unit_era: "2025"` for exports made after the reform.

**valid_from** is recorded in the same `AttributesRecorded` event as the attributes that changed;
on its own (nothing else changed) it records nothing.

**Duplicates.** A second row with the key of an earlier row in the same file is rejected
(naming the earlier row), so the first one wins and a re-import stays a no-op.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from models.ids import ERAS, InvalidKeyError, parcel_key
from models.record import RESTRICTED_ATTRIBUTES
from models.store import CONFLICT_RETRIES, RecordRef, RecordStore
from pipeline.bounded import internal_error
from pipeline.errors import InputRejectedError
from search.legacy import is_vietnamese_legacy, to_unicode

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "geojson")
KINDS = ("parcel", "site")
WGS84 = "EPSG:4326"
BOM = b"\xef\xbb\xbf"
EXTRA = "extra"

KEY_FIELDS = {"parcel": ("unit_code", "sheet", "parcel_number"), "site": ("code",)}
COMMON_FIELDS = frozenset(
    {
        "kind",
        "name",
        "ward",
        "district",
        "province",
        "address",
        "description",
        "lat",
        "lon",
        "published",
        "valid_from",
        "extra",
    }
)
SITE_FIELDS = frozenset({"code", "aliases", "type", "rank", "period"})
PARCEL_FIELDS = frozenset(
    {
        "unit_code",
        "unit_era",
        "sheet",
        "parcel_number",
        "locality",
        "area_m2",
        "legal_area_m2",
        "purpose",
        "purpose_label",
        "owner",
        "owner_address",
        "serial",
        "registry_number",
        "old_unit_code",
        "old_sheet",
        "old_parcel_number",
    }
)
NOT_ATTRIBUTES = frozenset(
    {"kind", "code", "unit_code", "unit_era", "sheet", "parcel_number", "lat", "lon"}
    | {"published", "valid_from"}
)

VENDOR_FIELDS: dict[str, str] = {
    # VBDLIS (Vietbando) exports and web API, ELIS
    "maxa": "unit_code",
    "madvhc": "unit_code",
    "sohieutobando": "sheet",
    "soto": "sheet",
    "sothututhua": "parcel_number",
    "thuadatso": "parcel_number",
    "sohieutobandocu": "old_sheet",
    "sothututhuacu": "old_parcel_number",
    "dientich": "area_m2",
    "dientichphaply": "legal_area_m2",
    "kyhieumucdichsudung": "purpose",
    "objectid": EXTRA,
    # commune register exports (Vân Đình sample)
    "so_thua": "parcel_number",
    "to_ban_do": "sheet",
    "dien_tich": "area_m2",
    "mdsd2003": "purpose",
    "ten_chu": "owner",
    "dia_chi": "address",
    "xu_dong": "locality",
    "loai_dat": EXTRA,
    "id": EXTRA,
}
"""Export field names (lower-cased) and the plain field they become (`extra`: kept as is)."""

VENDOR_UNIT_CODES = frozenset({"maxa", "madvhc"})
"""Unit-code fields of databases built on pre-2025 codes: their era defaults to pre2025."""

GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
VN2000_PROJECTED = frozenset({3405, 5897, *range(9205, 9219)})
"""VN-2000 TM-3 / UTM codes: easting about 0.1–0.9 million metres, northing 0.9–2.7 million."""


class RowRejected(Exception):
    """One row cannot be imported; the message says why."""


@dataclass(frozen=True)
class ImportRow:
    """What happened to one row (passed to `on_row`, printed by `sohoa import --json`)."""

    line: int
    where: str
    status: str  # registered | updated | unchanged | rejected | failed (internal error <id>)
    record_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "where": self.where,
            "status": self.status,
            "record_id": self.record_id,
            "error": self.error,
        }


@dataclass
class ImportReport:
    file: str
    format: str
    rows: int = 0
    registered: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, row: ImportRow) -> None:
        self.rows += 1
        if row.status == "rejected":
            self.rejected.append({"line": row.line, "where": row.where, "reason": row.error})
        elif row.status == "failed":  # our bug on this row: counted with the rejected ones
            self.rejected.append(
                {"line": row.line, "where": row.where, "reason": f"failed: {row.error}"}
            )
        else:
            setattr(self, row.status, getattr(self, row.status) + 1)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.file}: {self.rows} rows, {self.registered} registered, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected "
            f"({self.seconds:.1f} s, {self.rate:.0f} rows/s)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "registered": self.registered,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class RawRow:
    """A row as read: its number, where it is (for messages), its values or why it is unreadable."""

    line: int
    where: str
    label: str  # the provenance suffix: "12" or "feature 3"
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    geometry: Any = None
    crs: str = WGS84
    failed: bool = False  # the reader broke here (our bug): `error` is "internal error <id>"


@dataclass
class ParsedRow:
    ref: RecordRef
    attributes: dict[str, Any]
    geometry: dict[str, Any] | None
    crs: str
    publish: bool
    valid_from: str | None


# -- the use case -----------------------------------------------------------


def import_records(
    store: RecordStore,
    path: Path | str,
    *,
    on_row: Callable[[ImportRow], None] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> ImportReport:
    """Import every row of `path`; a bad row is reported and skipped, the rest imports.

    `defaults` are plain fields applied to rows that lack them and to which they apply
    (e.g. `{"unit_code": "10354", "unit_era": "pre2025"}` for a register without unit codes).
    A file that cannot be read at all raises `InputRejectedError`.
    """
    path = Path(path)
    fmt = detect_format(path)
    base = _defaults(defaults or {})
    report = ImportReport(file=path.name, format=fmt)
    seen: dict[UUID, str] = {}
    started = time.perf_counter()
    for raw in _guarded(read_rows(path, fmt), path):
        if raw.failed:
            result = ImportRow(raw.line, raw.where, "failed", None, raw.error)
        else:
            result = _import_row(store, raw, base, seen, path.name)
        report.add(result)
        if on_row:
            on_row(result)
    report.seconds = time.perf_counter() - started
    return report


def _import_row(
    store: RecordStore, raw: RawRow, base: Mapping[str, Any], seen: dict[UUID, str], name: str
) -> ImportRow:
    """One row's verdict; never raises (our bug on a row is that row's `failed`)."""
    record_id: UUID | None = None
    try:
        if raw.error:
            raise RowRejected(raw.error)
        row = parse_row(raw, base)
        record_id = row.ref.id
        if record_id in seen:
            raise RowRejected(f"same {row.ref.kind} as {seen[record_id]} ({_describe(row.ref)})")
        seen[record_id] = raw.where
        status = apply_row(store, row, source=f"import:{name}:{raw.label}")
        return ImportRow(raw.line, raw.where, status, str(record_id))
    except RowRejected as e:
        rid = str(record_id) if record_id else None
        return ImportRow(raw.line, raw.where, "rejected", rid, str(e))
    except Exception:  # our bug: this row's verdict, with the traceback logged; rows go on
        rid = str(record_id) if record_id else None
        return ImportRow(
            raw.line, raw.where, "failed", rid, internal_error(log, f"{name} {raw.where}")
        )


def _guarded(rows: Iterator[RawRow], path: Path) -> Iterator[RawRow]:
    """The rows; if the reader breaks on an unexpected error, one last row that says so."""
    last = 0
    try:
        for raw in rows:
            last = raw.line
            yield raw
    except InputRejectedError:
        raise
    except Exception:  # our bug in a reader: what was read stands, the rest is reported
        where = f"after row {last}" if last else "the whole file"
        error = internal_error(log, f"{path.name} {where}")
        yield RawRow(last + 1, f"{where} (unreadable)", "rest", error=error, failed=True)


def apply_row(store: RecordStore, row: ParsedRow, source: str) -> str:
    """Record what is new in `row` in one save; returns registered, updated or unchanged."""
    for _ in range(CONFLICT_RETRIES):
        record = store.record_or_new(row.ref, source=source)
        new = bool(record.pending_events)
        changed = record.changed_attributes(row.attributes)
        if changed:
            if row.valid_from:
                changed["valid_from"] = row.valid_from
            record.record_attributes(attributes=changed, source=source)
        if row.geometry is not None and record.geometry != {
            "geometry": row.geometry,
            "crs": row.crs,
        }:
            record.set_geometry(geometry=row.geometry, crs=row.crs, source=source)
        if row.publish and not record.published:
            record.publish()
        if not record.pending_events:
            return "unchanged"
        try:
            store.save(record)
        except IntegrityError:
            continue  # another writer got there first: reload and compare again
        return "registered" if new else "updated"
    raise RuntimeError(f"{row.ref.id}: too many concurrent writers")


# -- reading files ------------------------------------------------------------


def detect_format(path: Path) -> str:
    """jsonl, csv or geojson, from the first bytes; the extension only breaks ties."""
    ext = path.suffix.lower()
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as e:
        raise InputRejectedError(f"cannot read {path}: {e.strerror or e}") from None
    text = head.removeprefix(BOM).lstrip()
    if not text:
        return {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}.get(ext, "jsonl")
    if text[:1] == b"[":
        raise InputRejectedError(
            f"{path.name} is a JSON array; give one JSON object per line (JSON Lines) "
            "or a GeoJSON FeatureCollection"
        )
    if text[:1] != b"{":
        if ext in (".json", ".jsonl", ".ndjson", ".geojson"):
            raise InputRejectedError(f"{path.name} does not start with a JSON object")
        return "csv"
    first = text.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict):
        geojson = obj.get("type") in ("FeatureCollection", "Feature") or ext == ".geojson"
        return "geojson" if geojson else "jsonl"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if re.match(rb'\{\s*"type"\s*:\s*"(FeatureCollection|Feature)"', text):
        return "geojson"
    lines = [ln for ln in text.split(b"\n")[1:6] if ln.strip()]
    for ln in lines[:-1]:  # the last may be cut off by the 64 KiB read
        try:
            if isinstance(json.loads(ln), dict):
                return "jsonl"  # the first line is broken, the next are rows
        except (ValueError, RecursionError):
            pass
    return "geojson"


def count_rows(path: Path) -> int | None:
    """A cheap estimate of the number of rows, for a progress bar."""
    try:
        fmt = detect_format(path)
        if fmt == "geojson":
            return len(re.findall(rb'"type"\s*:\s*"Feature"', path.read_bytes()))
        count = 0
        with open(path, "rb") as f:
            for raw in f:
                if raw.strip():
                    count += 1
        return max(count - 1, 0) if fmt == "csv" else count
    except (OSError, InputRejectedError):
        return None


def read_rows(path: Path, fmt: str) -> Iterator[RawRow]:
    if fmt == "jsonl":
        return _jsonl_rows(path)
    if fmt == "csv":
        return _csv_rows(path)
    if fmt == "geojson":
        return _geojson_rows(path)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if n == 1:
                raw = raw.removeprefix(BOM)
            if not raw.strip():
                continue
            row = RawRow(n, f"line {n}", str(n))
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                row.error = "not valid UTF-8"
            except json.JSONDecodeError as e:
                row.error = f"not valid JSON: {e.msg} at column {e.colno}"
            except RecursionError:
                row.error = "JSON nested too deeply"
            else:
                if isinstance(obj, dict):
                    row.values = obj
                else:
                    row.error = f"a row must be a JSON object, got {_json_type(obj)}"
            yield row


def _csv_rows(path: Path) -> Iterator[RawRow]:
    with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
        first = f.readline()
        reader = csv.reader(chain([first], f), delimiter=_delimiter(first))
        header: list[str] | None = None
        previous = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise InputRejectedError(f"{path.name} line {reader.line_num}: {e}") from None
            line, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [_nfc(c).strip() or f"(column {i})" for i, c in enumerate(cells, 1)]
                dup = sorted({h for h in header if header.count(h) > 1})
                if dup:
                    raise InputRejectedError(
                        f"{path.name}: column(s) {', '.join(dup)} appear more than once"
                    )
                continue
            row = RawRow(line, f"line {line}", str(line))
            if len(cells) > len(header):
                row.error = f"{len(cells)} cells but the header has {len(header)} columns"
            elif any(_has_surrogates(c) for c in cells):
                row.error = "not valid UTF-8 (save the file as UTF-8)"
            else:
                row.values = {h: c for h, c in zip(header, cells, strict=False) if c.strip()}
            yield row


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _geojson_rows(path: Path) -> Iterator[RawRow]:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputRejectedError(f"{path.name} is not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputRejectedError(f"{path.name} is not valid JSON: {e}") from None
    except RecursionError:
        raise InputRejectedError(f"{path.name}: JSON nested too deeply") from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        features: Any = [doc]
    elif kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise InputRejectedError(f"{path.name}: a FeatureCollection needs a features list")
    else:
        raise InputRejectedError(
            f"{path.name} is JSON but not a GeoJSON FeatureCollection (type {kind!r})"
        )
    crs = collection_crs(doc, path.name)
    for n, feature in enumerate(features, start=1):
        row = RawRow(n, f"feature {n}", f"feature {n}", crs=crs)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.error = "not a GeoJSON Feature"
        elif not isinstance(feature.get("properties") or {}, dict):
            row.error = "properties must be a JSON object"
        else:
            row.values = dict(feature.get("properties") or {})
            row.geometry = feature.get("geometry")
        yield row


def collection_crs(doc: dict[str, Any], name: str) -> str:
    """The CRS of a GeoJSON document: RFC 7946 lon/lat, or a legacy named `crs` member."""
    member = doc.get("crs")
    if member is None:
        return WGS84
    crs_name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if isinstance(crs_name, str):
        if re.search(r"CRS:?84$", crs_name, re.IGNORECASE):
            return WGS84
        m = re.search(r"EPSG(?::[\d.]*:|:|/\d+/)(\d+)$", crs_name, re.IGNORECASE)
        if m:
            return f"EPSG:{int(m.group(1))}"
    raise InputRejectedError(f"{name}: unrecognised crs member {json.dumps(member)[:200]}")


# -- one row ----------------------------------------------------------------


def parse_row(raw: RawRow, defaults: Mapping[str, Any] | None = None) -> ParsedRow:
    """Validate one row's values; raises `RowRejected` naming the field at fault."""
    values, vendor_unit_code = _plain_names(_nfc(raw.values))
    fields: dict[str, Any] = {name: _parse(name, value) for name, value in values.items()}
    kind = _kind(fields)
    allowed = COMMON_FIELDS | (PARCEL_FIELDS if kind == "parcel" else SITE_FIELDS)
    wrong = sorted(set(fields) - allowed)
    if wrong:
        raise RowRejected(f"field(s) {', '.join(wrong)} do not apply to a {kind}")
    for name, value in (defaults or {}).items():
        if name in allowed and name not in fields:
            fields[name] = value
    ref = _ref(kind, fields, vendor_unit_code)
    geometry, crs = _geometry(raw, fields)
    attributes = {k: v for k, v in fields.items() if k not in NOT_ATTRIBUTES}
    return ParsedRow(
        ref=ref,
        attributes=attributes,
        geometry=geometry,
        crs=crs,
        publish=bool(fields.get("published")),
        valid_from=fields.get("valid_from"),
    )


def _plain_names(values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Map export names to plain ones, gather `extra`, and refuse unknown fields."""
    plain: dict[str, Any] = {}
    origin: dict[str, str] = {}
    extra: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in values.items():
        name = str(name).strip()
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name in COMMON_FIELDS | SITE_FIELDS | PARCEL_FIELDS:
            target = name
        elif name.lower() in VENDOR_FIELDS:
            target = VENDOR_FIELDS[name.lower()]
            if target == EXTRA:
                extra[name] = value
                continue
        else:
            unknown.append(name)
            continue
        if target in plain and str(plain[target]).strip() != str(value).strip():
            raise RowRejected(f"{target} is given twice ({origin[target]}, {name}), differently")
        plain[target], origin[target] = value, name
    if unknown:
        raise RowRejected(f"unknown field(s) {', '.join(repr(u) for u in unknown)}")
    if extra:
        given = plain.get(EXTRA, {})
        if isinstance(given, str):
            given = _parse(EXTRA, given)
        if not isinstance(given, dict):
            raise RowRejected("extra must be a JSON object")
        plain[EXTRA] = {**extra, **given}
    return plain, origin.get("unit_code", "").lower() in VENDOR_UNIT_CODES


def _kind(fields: dict[str, Any]) -> str:
    if "kind" in fields:
        return fields["kind"]
    parcel = sorted(set(fields) & PARCEL_FIELDS)
    site = sorted(set(fields) & SITE_FIELDS)
    if parcel and site:
        raise RowRejected(
            f"parcel field(s) {', '.join(parcel)} and site field(s) {', '.join(site)} "
            "together: give kind"
        )
    if parcel:
        return "parcel"
    if "code" in fields:
        return "site"
    raise RowRejected(
        "cannot tell a parcel from a site: give kind, the parcel key "
        "(unit_code, unit_era, sheet, parcel_number) or a site code"
    )


def _ref(kind: str, fields: dict[str, Any], vendor_unit_code: bool) -> RecordRef:
    missing = [k for k in KEY_FIELDS[kind] if k not in fields]
    if missing:
        raise RowRejected(f"a {kind} needs {', '.join(missing)}")
    if kind == "site":
        return RecordRef("site", {"code": fields["code"].upper()})
    era = fields.get("unit_era") or ("pre2025" if vendor_unit_code else None)
    if era is None:
        raise RowRejected(
            "unit_era is missing (pre2025 or 2025): unit codes were reused in the 2025 "
            "reorganisation, so a code alone does not say which commune"
        )
    try:
        code, era, sheet, number = parcel_key(
            fields["unit_code"], era, fields["sheet"], fields["parcel_number"]
        )
    except InvalidKeyError as e:
        raise RowRejected(str(e)) from None
    return RecordRef("parcel", {"unit_code": code, "era": era, "sheet": sheet, "number": number})


def _describe(ref: RecordRef) -> str:
    k = ref.key
    if ref.kind == "parcel":
        return f"unit {k['unit_code']} {k['era']}, sheet {k['sheet']}, parcel {k['number']}"
    return f"code {k['code']}"


def _defaults(defaults: Mapping[str, Any]) -> dict[str, Any]:
    known = COMMON_FIELDS | SITE_FIELDS | PARCEL_FIELDS
    unknown = sorted(set(defaults) - known)
    if unknown:
        raise InputRejectedError(f"unknown default field(s) {', '.join(unknown)}")
    try:
        return {k: _parse(k, _nfc(v)) for k, v in defaults.items() if v not in (None, "")}
    except RowRejected as e:
        raise InputRejectedError(f"defaults: {e}") from None


# -- values -----------------------------------------------------------------


def _parse(name: str, value: Any) -> Any:
    parser = PARSERS[name]
    try:
        return parser(value)
    except RowRejected as e:
        if name in RESTRICTED_ATTRIBUTES:  # personal data never goes into a message
            raise RowRejected(f"{name}: {_json_type(value)} is not accepted") from None
        raise RowRejected(f"{name}: {e}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise RowRejected(f"must be text, got {_json_type(value)}")
    return value.strip()


def _code(value: Any) -> str:
    """A number-like code: text, or an integer (GIS exports write sheet numbers as numbers)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if text not in options:
            raise RowRejected(f"must be one of {', '.join(options)}, got {text!r}")
        return text

    return parse


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = value.split(";")
    elif isinstance(value, list):
        items = value
    else:
        raise RowRejected(f"must be a list or ';'-separated text, got {_json_type(value)}")
    out: list[str] = []
    for item in items:
        text = _text(item)
        if text and text not in out:
            out.append(text)
    return out


def _area(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise RowRejected(f"must not be negative, got {value!r}")
    return number


def _number(value: Any) -> float:
    """A finite number; text may use a decimal comma ("12,5") and dot thousands ("1.234,5")."""
    if isinstance(value, bool):
        raise RowRejected("must be a number, got a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+,\d+", text):
            text = text.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"[+-]?\d+,\d+", text):
            text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            raise RowRejected(f"{value!r} is not a number")
        number = float(text)
    else:
        raise RowRejected(f"must be a number, got {_json_type(value)}")
    if not math.isfinite(number):
        raise RowRejected(f"{value!r} is not a finite number")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise RowRejected(f'must be true or false ("true"/"false", "1"/"0"), got {value!r}')


def _date(value: Any) -> str:
    text = _text(value)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text) or re.fullmatch(
        r"(\d{1,2})/(\d{1,2})/(\d{4})", text
    )
    try:
        if m and len(m.group(1)) == 4:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        pass
    raise RowRejected(f"must be a date YYYY-MM-DD or DD/MM/YYYY, got {text!r}")


def _object(value: Any) -> dict[str, Any]:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise RowRejected(f"is not valid JSON: {e.msg}") from None
    if not isinstance(value, dict):
        raise RowRejected(f"must be a JSON object, got {_json_type(value)}")
    return value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "kind": _choice(KINDS),
    "code": _code,
    "unit_code": _code,
    "unit_era": _choice(ERAS),
    "sheet": _code,
    "parcel_number": _code,
    "name": _text,
    "aliases": _texts,
    "type": _texts,
    "rank": _text,
    "period": _text,
    "ward": _text,
    "district": _text,
    "province": _text,
    "address": _text,
    "locality": _text,
    "description": _text,
    "lat": _number,
    "lon": _number,
    "published": _flag,
    "area_m2": _area,
    "legal_area_m2": _area,
    "purpose": _text,
    "purpose_label": _text,
    "owner": _text,
    "owner_address": _text,
    "serial": _code,
    "registry_number": _code,
    "old_unit_code": _code,
    "old_sheet": _code,
    "old_parcel_number": _code,
    "valid_from": _date,
    "extra": _object,
}


def _nfc(value: Any) -> Any:
    """NFC, and legacy TCVN3/VNI text (8-bit fonts read as Latin-1) converted to Unicode."""
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value)
        encoding = is_vietnamese_legacy(text, min_units=1)
        return unicodedata.normalize("NFC", to_unicode(text, encoding)) if encoding else text
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# -- geometry ---------------------------------------------------------------


def _geometry(raw: RawRow, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    has_point = "lat" in fields or "lon" in fields
    if raw.geometry is not None:
        if has_point:
            raise RowRejected("lat/lon and a feature geometry: give one")
        try:
            return check_geometry(raw.geometry, raw.crs), raw.crs
        except RowRejected as e:
            raise RowRejected(f"geometry: {e}") from None
    if not has_point:
        return None, raw.crs
    if "lat" not in fields or "lon" not in fields:
        raise RowRejected("lat and lon go together")
    point = {"type": "Point", "coordinates": [fields["lon"], fields["lat"]]}
    return check_geometry(point, WGS84), WGS84


def check_geometry(geometry: Any, crs: str = WGS84) -> dict[str, Any]:
    """A validated copy of a GeoJSON geometry (positions as lists of floats), or `RowRejected`."""
    if not isinstance(geometry, dict):
        raise RowRejected(f"must be a GeoJSON geometry object, got {_json_type(geometry)}")
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list) or not members:
            raise RowRejected("a GeometryCollection needs a non-empty geometries list")
        return {"type": kind, "geometries": [check_geometry(g, crs) for g in members]}
    if not isinstance(kind, str) or kind not in GEOMETRY_DEPTH:
        raise RowRejected(f"unknown geometry type {str(kind)[:40]!r}")
    coords = _positions(geometry.get("coordinates"), GEOMETRY_DEPTH[kind], crs)
    if kind == "LineString":
        _line(coords, "a LineString")
    elif kind == "MultiLineString":
        for i, line in enumerate(coords, 1):
            _line(line, f"line {i}")
    elif kind == "Polygon":
        _polygon(coords, "")
    elif kind == "MultiPolygon":
        for i, polygon in enumerate(coords, 1):
            _polygon(polygon, f"polygon {i} ")
    return {"type": kind, "coordinates": coords}


def _positions(value: Any, depth: int, crs: str) -> Any:
    if depth == 0:
        return _position(value, crs)
    if not isinstance(value, list) or not value:
        raise RowRejected("coordinates are missing or empty")
    return [_positions(v, depth - 1, crs) for v in value]


def _position(value: Any, crs: str) -> list[float]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise RowRejected(f"a position must be [x, y] or [x, y, z], got {_short(value)}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise RowRejected(f"coordinate {_short(v)} is not a finite number")
    x, y = float(value[0]), float(value[1])
    if crs == WGS84:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            hint = " (axes swapped?)" if -90 <= x <= 90 and -180 <= y <= 180 else ""
            raise RowRejected(
                f"[{x}, {y}] is not longitude/latitude{hint}; projected coordinates "
                "(VN-2000 metres) need a crs member naming their EPSG code, e.g. EPSG:5897"
            )
    elif _epsg(crs) in VN2000_PROJECTED and x > 1_000_000 > y:
        raise RowRejected(
            f"[{x}, {y}] looks like (northing, easting); {crs} positions are (E, N) "
            "(Vietnamese coordinate tables print X = northing)"
        )
    return [float(v) for v in value]


def _line(positions: list[list[float]], what: str) -> None:
    if len(positions) < 2:
        raise RowRejected(f"{what} needs at least 2 positions, has {len(positions)}")


def _polygon(rings: list[list[list[float]]], what: str) -> None:
    for i, ring in enumerate(rings, 1):
        if len(ring) < 4:
            raise RowRejected(f"{what}ring {i} has {len(ring)} positions; a ring needs 4 or more")
        if ring[0] != ring[-1]:
            raise RowRejected(f"{what}ring {i} is not closed (its first and last positions differ)")


def _epsg(crs: str) -> int | None:
    m = re.fullmatch(r"EPSG:(\d+)", crs)
    return int(m.group(1)) if m else None


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
