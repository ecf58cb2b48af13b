"""Register records that already exist as data: `sohoa import FILE`.

Each row of a file becomes one parcel or heritage-site record. Its id comes from its
natural key (parcel: unit code and era, map sheet, parcel number; site: registration code),
so importing a file twice, or a corrected file, only records what changed. Per row:
`Registered` (if new), `AttributesRecorded` (the changed attributes, with
`source="import:FILE:LINE"`), `GeometrySet` (if the geometry differs), `Published` (if the
row says so). A bad row is reported with its line and reason; the rest imports. Rows are saved
in batches, one transaction each, and row by row when a batch fails (`saving`); a thread
writes each batch while the next is read (`writer`).

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
  Files are read a feature at a time (ijson's C parser), so memory does not grow with the
  file; `type` and `crs` are read before `features`, where GDAL and QGIS write them. A file
  that stops being JSON part way keeps the features before the fault: the fault is the last
  rejected row, "feature N onwards (byte B)", and the rest of the file is not read.

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
| `split_from` | parcel | `UNIT/SHEET/NUMBER`, `UNIT:ERA/SHEET/NUMBER` | split from (tách thửa) |
| `merged_from` | parcel | list of parcels as above, or `;`-separated | merged (hợp thửa) |
| `renumbered_from` | parcel | a parcel as above | this parcel's number before a renumbering |
| `effective_date` | parcel | `YYYY-MM-DD` or `DD/MM/YYYY` | when that change took effect |
| `legal_basis` | parcel | text | the decision or contract behind the change |
| `basis_capture` | parcel | capture id | the scanned decision |
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

**Lineage.** A row with `split_from`, `merged_from` or `renumbered_from` registers its parcel
as derived from those parents, which are retired (kept, never deleted) on `effective_date`; the
parents must exist (recorded, or in an earlier row), or the row is rejected with its line. A
merge across units, a cycle, a date before the parent began or in the future reject the row
naming the parcels; children whose areas exceed the parent's by more than
`SOHOA_SPLIT_AREA_TOLERANCE` are recorded with a warning. A re-import whose value differs from
the recorded one also records a dated correction (from, to, the row's source) on the parcel's
timeline.

**Duplicates.** A second row with the key of an earlier row in the same file is rejected
(naming the earlier row), so the first one wins and a re-import stays a no-op.
"""

"""Register records that already exist as data."""
