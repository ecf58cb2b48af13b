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
    "id_kind": ("Loại giấy tờ", "ID kind"),
    "id_number": ("Số giấy tờ", "ID number"),
    "birth_year": ("Năm sinh", "Birth year"),
    "title": ("Tiêu đề", "Title"),
    "source": ("Nguồn", "Source"),
    "notes": ("Ghi chú", "Notes"),
    "parcel_number": ("Thửa đất số", "Parcel number"),
    "map_sheet": ("Tờ bản đồ số", "Map sheet"),
    "purpose_code": ("Mã mục đích sử dụng", "Land-use code"),
    "term": ("Thời hạn sử dụng", "Term of use"),
    "use_form": ("Hình thức sử dụng", "Form of use"),
    "origin": ("Nguồn gốc sử dụng", "Origin of use"),
    "issue_date": ("Ngày cấp", "Issue date"),
    "issuer": ("Cơ quan cấp", "Issued by"),
    "serial": ("Số phát hành (số seri)", "Serial"),
    "registry_number": ("Số vào sổ cấp GCN", "Registry number"),
}

REASONS: dict[str, Pair] = {
    "not_read": ("không đọc được", "not read"),
    "unreadable": ("đọc ra không phải giá trị của trường này", "not a value of this field"),
    "format": ("sai định dạng", "not in the field's format"),
    "unusual": ("dạng ít gặp, cần xác nhận", "an unusual shape: confirm it"),
    "zero": ("số 0 ít gặp", "0 is unusual"),
    "range": ("ngoài khoảng hợp lý", "out of the plausible range"),
    "registry_prefix": ("tiền tố số vào sổ không có thật", "not a registry's prefix"),
    "form": ("không khớp mẫu giấy chứng nhận", "does not fit the certificate's form"),
    "after_capture": ("ngày sau ngày nhận tư liệu", "a date after the capture arrived"),
    "era": ("ngày ngoài thời kỳ của mẫu giấy", "a date outside the form's era"),
    "date_words": ("ngày đọc lẫn ký tự khác", "the date was read through other marks"),
    "purpose_list": ("mục đích không có trong danh mục", "not an official purpose"),
    "code_list": ("mã không có trong danh mục", "not an official land-use code"),
    "purpose_code": ("mục đích và mã không khớp", "purpose and code disagree"),
    "address_unit": ("địa chỉ không nêu phường, xã, quận, huyện", "names no ward or district"),
    "issuer_body": ("không bắt đầu bằng tên cơ quan cấp", "names no issuing body"),
    "too_short": ("quá ngắn", "too short"),
    "symbols": ("lẫn ký hiệu lạ", "stray symbols"),
    "no_diacritics": ("đọc mất dấu tiếng Việt", "read without diacritics"),
    "digits_in_word": ("chữ số lẫn trong từ", "digits inside a word"),
    "not_vietnamese": ("có từ không phải tiếng Việt", "words that are not Vietnamese"),
    "unusual_words": ("từ ngữ bất thường", "unusual wording"),
    "low_confidence": ("độ tin cậy thấp", "read with low confidence"),
    "area_words": ("diện tích bằng chữ là {m2} m²", "the area in words is {m2} m²"),
    "area_polygon": ("tọa độ góc thửa cho {m2} m²", "the corner polygon gives {m2} m²"),
    "term_before_issue": ("thời hạn hết trước ngày cấp", "the term ends before the issue date"),
    "qr_disagrees": ("mã QR ghi {qr}", "the QR code says {qr}"),
}
"""Why a certificate field needs review (`pipeline.stages.certificate.reasons`), with the
numbers the check named (`args`) in braces."""

PARCEL_PROBLEMS: dict[str, Pair] = {
    "no_gazetteer": (
        "Chưa nạp danh mục đơn vị hành chính nên không tìm được phường, xã trong địa chỉ: báo"
        " quản trị viên đặt SOHOA_GAZETTEER_DIR, rồi chấp nhận hoặc sửa một trường để gắn thửa.",
        "The administrative-unit tables are not loaded, so the address's ward cannot be found:"
        " ask the administrator to set SOHOA_GAZETTEER_DIR, then accept or correct a field.",
    ),
    "missing": (
        "Chưa gắn được vào thửa đất: thiếu {fields}. Nhập giá trị in trên giấy (trang II) để gắn.",
        "Not linked to a parcel: {fields} missing. Type the values printed on the certificate"
        " (page II) to link it.",
    ),
    "no_unit": (
        "Chưa gắn được vào thửa đất: địa chỉ không nêu phường, xã. Sửa địa chỉ cho đủ phường,"
        " xã (và quận, huyện với giấy cấp trước 01/7/2025).",
        "Not linked to a parcel: the address names no ward or commune. Correct the address"
        " (with its district for certificates issued before 1 July 2025).",
    ),
    "unit_unknown": (
        "Chưa gắn được vào thửa đất: không có phường, xã “{unit}” trong danh mục {era}. Kiểm"
        " tra chính tả địa chỉ và ngày cấp (ngày cấp chọn danh mục trước hay sau 01/7/2025).",
        "Not linked to a parcel: no ward or commune “{unit}” in the {era} tables. Check the"
        " address's spelling and the issue date (it chooses the units before or after 1 July"
        " 2025).",
    ),
    "unit_ambiguous": (
        "Chưa gắn được vào thửa đất: có {n} phường, xã tên “{unit}”. Thêm quận, huyện vào địa chỉ.",
        "Not linked to a parcel: {n} wards or communes are called “{unit}”. Add the district"
        " to the address.",
    ),
    "bad_key": (
        "Chưa gắn được vào thửa đất: tờ bản đồ “{sheet}” hoặc thửa “{number}” không dùng được"
        " làm số hiệu thửa. Sửa cho đúng như in trên giấy.",
        "Not linked to a parcel: map sheet “{sheet}” or parcel “{number}” cannot name a parcel."
        " Correct them as printed.",
    ),
    "not_on_pages": (
        "Chưa gắn được vào thửa đất: trên ảnh này không đọc được gì ở chỗ in {fields}. Nếu"
        " trang đó (trang II của sổ) được chụp ở ảnh khác, để trống (Alt+B); nếu có, nhập giá"
        " trị như in trên giấy.",
        "Not linked to a parcel: nothing was read where {fields} are printed. If that page"
        " (page II of the booklet) is on another photo, leave them blank (Alt+B); if it is here,"
        " type the values as printed.",
    ),
    "left_blank": (
        "Không gắn vào thửa đất: {fields} để trống vì không có trên ảnh này. Thửa được gắn từ"
        " ảnh có trang II của cùng giấy.",
        "Not linked to a parcel: {fields} left blank, not on this photo. The photo of the same"
        " certificate's page II links it.",
    ),
    "not_recorded": (
        "Thửa tờ {sheet} số {number} chưa nhận thông tin của giấy này: chấp nhận hoặc sửa một"
        " trường để ghi.",
        "Parcel sheet {sheet} number {number} has not received this certificate's values yet:"
        " accept or correct a field to record them.",
    ),
}
"""Why a certificate's values reached no parcel (`pipeline.usecases.certificates`), and what
the archivist can do, with the values the problem names in braces."""

ERAS: dict[str, Pair] = {
    "pre2025": ("trước 01/7/2025", "before 1 July 2025"),
    "2025": ("từ 01/7/2025", "from 1 July 2025"),
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

    def reasons(self, codes: list[str], args: Mapping[str, Any], text: str | None) -> str:
        """Why a field needs review, in this language; a field checked before the codes
        existed has only the English `text`, shown as it is."""
        said = []
        for code in codes:
            template = self._pick(REASONS, code)
            if template is None:
                return text or ""
            try:
                said.append(template.format(**{k: self.text(v) for k, v in args.items()}))
            except (KeyError, IndexError):
                said.append(template.split(" {")[0])
        return "; ".join(said) if said else (text or "")

    def parcel_problem(self, problem: str, args: Mapping[str, Any]) -> str:
        """Why a certificate reached no parcel and what to do, in this language."""
        template = self._pick(PARCEL_PROBLEMS, problem) or humanise(problem)
        said = {
            "fields": ", ".join(self.field(str(f)) for f in args.get("fields") or []),
            "era": self._pick(ERAS, str(args.get("era"))) or "",
        }
        values = {k: self.text(v) for k, v in args.items()} | said
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            return template.split(" {")[0]

    def event(self, name: str, data: Mapping[str, Any] | None = None) -> str:
        """A history event as a sentence; `name` may be the full topic (`models.x:Capture.Y`)."""
        short = name.rsplit(".", 1)[-1]
        template = self._pick(EVENTS, short)
        if template is None:
            return humanise(short)
        page = (data or {}).get("page")  # events count pages from 0, people from 1
        return template.format(page=page + 1 if isinstance(page, int) else "")
