"""Field names of import files, ours and vendors'."""

from __future__ import annotations

KINDS = ("parcel", "site")
EXTRA = "extra"

LINEAGE_FIELDS = ("split_from", "merged_from", "renumbered_from")
"""Where a parcel comes from (`UNIT/SHEET/NUMBER` or `UNIT:ERA/SHEET/NUMBER`): one per row."""
CHANGE_FIELDS = frozenset({*LINEAGE_FIELDS, "effective_date", "legal_basis", "basis_capture"})
"""A row's change of lineage and its date and legal basis: not attributes."""

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
        *CHANGE_FIELDS,
    }
)
NOT_ATTRIBUTES = frozenset(
    {"kind", "code", "unit_code", "unit_era", "sheet", "parcel_number", "lat", "lon"}
    | {"published", "valid_from"}
    | CHANGE_FIELDS
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
