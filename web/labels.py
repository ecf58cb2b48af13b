"""What the pages call data, in Vietnamese and English: facet and attribute names, facet values,
record kinds, yes/no, and each history event as a sentence ("Đã nhận dạng văn bản trang 3").

Interface strings (buttons, headings) are `web.i18n`; this module names the data those pages
show, so no page prints a field name (`has_model`), a raw value (`false`), an event class
(`AttributesRecorded`) or a list as JSON. A name with no entry is shown humanised
(`opening_hours` -> "Opening hours"), never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Pair = tuple[str, str]  # (vi, en)

FIELDS: dict[str, Pair] = {
    "kind": ("Loại hồ sơ", "Record kind"),
    "type": ("Loại hình", "Type"),
    "rank": ("Xếp hạng", "Rank"),
    "ward": ("Phường, xã", "Ward"),
    "ward_old": ("Phường, xã (trước 2025)", "Ward (before 2025)"),
    "district": ("Quận, huyện", "District"),
    "district_old": ("Quận, huyện (trước 2025)", "District (before 2025)"),
    "period": ("Niên đại", "Period"),
    "has_model": ("Mô hình 3D", "3D model"),
    "has_documents": ("Có tư liệu", "Documents"),
    "purpose": ("Mục đích sử dụng", "Land use"),
    "unit_code": ("Mã đơn vị hành chính", "Unit code"),
    "era": ("Thời kỳ địa giới", "Boundary era"),
    "published": ("Công bố", "Published"),
    "name": ("Tên", "Name"),
    "aliases": ("Tên gọi khác", "Other names"),
    "description": ("Mô tả", "Description"),
    "address": ("Địa chỉ", "Address"),
    "code": ("Mã", "Code"),
    "area_m2": ("Diện tích (m²)", "Area (m²)"),
    "built": ("Năm xây dựng", "Built"),
    "recognised": ("Năm công nhận", "Recognised"),
    "decision": ("Quyết định", "Decision"),
    "festival": ("Lễ hội", "Festival"),
    "worship": ("Thờ", "Worships"),
    "sheet": ("Tờ bản đồ", "Map sheet"),
    "number": ("Thửa số", "Parcel number"),
    "owner": ("Người sử dụng", "Owner"),
    "owners": ("Người sử dụng", "Owners"),
    "title": ("Tiêu đề", "Title"),
    "source": ("Nguồn", "Source"),
    "notes": ("Ghi chú", "Notes"),
}

KINDS: dict[str, Pair] = {
    "site": ("Di tích", "Heritage site"),
    "parcel": ("Thửa đất", "Land parcel"),
    "document": ("Tài liệu", "Document"),
    "capture": ("Tư liệu số hóa", "Digitised item"),
    "land-certificate": ("Giấy chứng nhận", "Land certificate"),
    "model": ("Mô hình 3D", "3D model"),
    "scan-set": ("Bộ quét 3D", "3D scan set"),
    "photo-set": ("Bộ ảnh", "Photo set"),
    "image": ("Ảnh", "Image"),
}

VALUES: dict[str, Pair] = {
    "true": ("Có", "Yes"),
    "false": ("Không", "No"),
    "pre2025": ("Trước 2025", "Before 2025"),
    "2025": ("Từ 2025", "From 2025"),
}

EVENTS: dict[str, Pair] = {
    "Registered": ("Đã lập hồ sơ", "Record created"),
    "AttributesRecorded": ("Đã ghi thông tin", "Details recorded"),
    "GeometrySet": ("Đã xác định vị trí", "Location set"),
    "CaptureLinked": ("Đã gắn tư liệu", "Document attached"),
    "Published": ("Đã công bố", "Published"),
    "Withdrawn": ("Đã thu hồi", "Withdrawn"),
    "Retired": ("Đã chấm dứt (tách, hợp thửa)", "Ended (split or merged)"),
    "Derived": ("Hình thành từ thửa khác", "Derived from other parcels"),
    "ChangeRecorded": ("Đã ghi biến động", "Change recorded"),
    "Received": ("Đã nhận tệp", "File received"),
    "ReceivedAgain": ("Đã nhận lại tệp (tên khác)", "File received again"),
    "RecordLinked": ("Đã gắn vào hồ sơ", "Linked to a record"),
    "Inspected": ("Đã kiểm tra tệp", "File inspected"),
    "ThumbnailRendered": ("Đã tạo ảnh thu nhỏ", "Thumbnail made"),
    "ProcessingFailed": ("Xử lý lỗi", "Processing failed"),
    "TextRequested": ("Đã yêu cầu nhận dạng văn bản", "Text recognition requested"),
    "PageRecognised": ("Đã nhận dạng văn bản trang {page}", "Text of page {page} recognised"),
    "TextAssembled": ("Đã ghép văn bản", "Text assembled"),
    "FieldsExtracted": ("Đã trích xuất thông tin", "Fields extracted"),
    "FieldCorrected": ("Đã sửa thông tin", "Field corrected"),
    "FieldAccepted": ("Đã xác nhận thông tin", "Field accepted"),
    "ReconstructionRequested": ("Đã yêu cầu dựng mô hình 3D", "3D reconstruction requested"),
    "ReconstructionProgressed": ("Đang dựng mô hình 3D", "3D reconstruction progressing"),
    "ModelReconstructed": ("Đã dựng mô hình 3D", "3D model built"),
    "RetryRequested": ("Đã yêu cầu chạy lại", "Retry requested"),
}


def humanise(name: str) -> str:
    """`opening_hours` -> "Opening hours": a name nobody has labelled yet, still readable."""
    words = name.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


class Labels:
    """The labels of one language; pages get one as `label` (`web.templating.render`)."""

    def __init__(self, lang: str) -> None:
        self.index = 1 if lang == "en" else 0

    def _pick(self, table: Mapping[str, Pair], key: str) -> str | None:
        pair = table.get(key)
        return pair[self.index] if pair else None

    def field(self, name: str) -> str:
        return self._pick(FIELDS, name) or humanise(name)

    def kind(self, kind: str) -> str:
        return self._pick(KINDS, kind) or humanise(kind)

    def value(self, field: str, value: Any) -> str:
        """A facet or attribute value: kinds and yes/no translated, the rest as text."""
        if field == "kind":
            return self.kind(str(value))
        return self.text(value)

    def text(self, value: Any) -> str:
        """Any value as plain text: lists joined with commas, mappings as "name: value"
        pairs, booleans as yes/no, numbers without a trailing ".0"."""
        if value is None:
            return "—"
        if isinstance(value, bool):
            return self._pick(VALUES, "true" if value else "false") or str(value)
        if isinstance(value, float):
            return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", " ")
        if isinstance(value, Mapping):
            return "; ".join(f"{self.field(str(k))}: {self.text(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple, set, frozenset)):
            return ", ".join(self.text(v) for v in value)
        text = str(value)
        return self._pick(VALUES, text) or text

    def event(self, name: str, data: Mapping[str, Any] | None = None) -> str:
        """A history event as a sentence; `name` may be the full topic (`models.x:Capture.Y`)."""
        short = name.rsplit(".", 1)[-1]
        template = self._pick(EVENTS, short)
        if template is None:
            return humanise(short)
        page = (data or {}).get("page")  # events count pages from 0, people from 1
        return template.format(page=page + 1 if isinstance(page, int) else "")
