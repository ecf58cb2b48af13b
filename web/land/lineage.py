"""The parcel page's lineage graph and timeline, for the officer console.

The graph is server-rendered SVG (no script): the parcel in the middle, its parents above and
its children below, each a link to that parcel on the same effective date, each edge labelled
with the change's kind and date; further ancestors are listed nearest first. Every timeline
entry links to its source document: the page of the capture it was read from, on this page.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from web.i18n import STRINGS

LAND_STRINGS: dict[str, tuple[str, str]] = {
    "valid_on": ("Hiệu lực tại ngày", "In force on"),
    "valid_on_note": (
        "Ngày hiệu lực: thông tin đất đai có hiệu lực vào ngày này.",
        "Effective date: the land facts in force on that day.",
    ),
    "recorded_as_of": ("Đã ghi nhận đến", "As recorded by"),
    "lineage": ("Nguồn gốc thửa đất", "Lineage"),
    "parents": ("Thửa gốc", "Parents"),
    "children": ("Thửa mới", "Children"),
    "ancestors": ("Các thửa trước đó", "Earlier parcels"),
    "timeline": ("Biến động", "Changes"),
    "retired": ("Đã chấm dứt từ", "Retired on"),
    "not_yet_existed": (
        "Thửa đất chưa tồn tại vào ngày này; bắt đầu từ",
        "Did not exist yet; began",
    ),
    "basis": ("Cơ sở pháp lý", "Legal basis"),
    "source": ("Nguồn", "Source"),
    "record_change": ("Ghi nhận biến động", "Record a change"),
    "change_kind": ("Loại", "Kind"),
    "into": (
        "Thành các thửa (mỗi dòng: ĐƠN_VỊ/TỜ/THỬA[=DIỆN_TÍCH])",
        "Into (one a line: UNIT/SHEET/NUMBER[=AREA])",
    ),
    "merge_with": ("Hợp cùng các thửa (mỗi dòng)", "Merged with (one a line)"),
    "effective": ("Ngày hiệu lực", "Effective date"),
    "basis_capture": ("Mã tư liệu của quyết định", "Capture id of the decision"),
    "restricted_change": ("hạn chế", "restricted"),
    "undated": ("không rõ ngày", "undated"),
    "export_parcels": (
        "Xuất thửa đất cho cơ sở dữ liệu đất đai",
        "Export parcels for the land database",
    ),
    "kind_split": ("Tách thửa", "Split"),
    "kind_merge": ("Hợp thửa", "Merge"),
    "kind_renumber": ("Đổi số thửa", "Renumbering"),
    "kind_transfer": ("Chuyển quyền", "Transfer"),
    "kind_mortgage": ("Thế chấp", "Mortgage"),
    "kind_mortgage_release": ("Xóa thế chấp", "Mortgage released"),
    "kind_area_correction": ("Đính chính diện tích", "Area correction"),
    "kind_purpose_correction": ("Đổi mục đích sử dụng", "Purpose correction"),
    "kind_correction": ("Đính chính", "Correction"),
    "kind_other": ("Khác", "Other"),
}
for _key, _value in LAND_STRINGS.items():  # the console's own strings, beside the shared ones
    STRINGS.setdefault(_key, _value)

BOX_W, BOX_H, GAP, ROW = 180, 34, 24, 100


def lineage_svg(parcel_id: str, title: str, lineage: dict[str, Any], on: str, t) -> Markup:
    """Parents above, the parcel, children below; every box links to that parcel."""
    parents, children = lineage.get("parents", []), lineage.get("children", [])
    width = max(len(parents), len(children), 1) * (BOX_W + GAP) + GAP
    mid_y = GAP + (ROW if parents else 0)
    height = mid_y + BOX_H + GAP + (ROW if children else 0)
    centre = width / 2
    middle = {"id": parcel_id, "key": title}
    parts = [_box(middle, centre - BOX_W / 2, mid_y, on, current=True)]
    for x, item in zip(_xs(len(parents), width), parents, strict=True):
        below = (x + BOX_W / 2, GAP + BOX_H + 14)  # the label under the parent
        parts.insert(0, _edge(x + BOX_W / 2, GAP + BOX_H, centre, mid_y, item, t, below))
        parts.append(_box(item, x, GAP, on, current=False))
    for x, item in zip(_xs(len(children), width), children, strict=True):
        y = mid_y + ROW
        above = (x + BOX_W / 2, y - 6)  # the label over the child
        parts.insert(0, _edge(centre, mid_y + BOX_H, x + BOX_W / 2, y, item, t, above))
        parts.append(_box(item, x, y, on, current=False))
    label = escape(t("lineage"))
    return Markup(
        f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{label}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}">{"".join(parts)}</svg>'
    )


def _xs(n: int, width: int) -> list[float]:
    used = n * BOX_W + (n - 1) * GAP
    start = (width - used) / 2
    return [start + i * (BOX_W + GAP) for i in range(n)]


def _box(item: dict[str, Any], x: float, y: float, on: str, current: bool) -> str:
    cls = "node current" if current else "node"
    text = escape(item["key"])
    rect = (
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="4"/>'
        f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" '
        f'text-anchor="middle">{text}</text>'
    )
    if current:
        return f'<g class="{cls}">{rect}</g>'
    href = escape(f"/land/parcels/{item['id']}" + (f"?on={on}" if on else ""))
    return f'<a href="{href}" class="{cls}" data-id="{escape(item["id"])}">{rect}</a>'


def _edge(
    x1: float, y1: float, x2: float, y2: float, item: dict[str, Any], t, at: tuple[float, float]
) -> str:
    kind = t(f"kind_{item.get('kind') or 'other'}")
    note = escape(f"{kind} {item.get('effective') or ''}".strip())
    return (
        f'<line class="edge" x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}"/>'
        f'<text class="edge-label" x="{at[0]:.0f}" y="{at[1]:.0f}" '
        f'text-anchor="middle">{note}</text>'
    )


def timeline_entries(timeline: list[dict[str, Any]], documents: set[str]) -> list[dict[str, Any]]:
    """Each change with the link to its source document: the page of the capture it was read
    from (or the scanned decision) when that capture is shown on this page."""
    out = []
    for change in timeline:
        capture = change.get("capture_id") or (change.get("basis") or {}).get("capture_id")
        link = None
        if capture and capture in documents:
            page = change.get("page")
            link = f"#page-{capture}-{page}" if page else f"#capture-{capture}"
        out.append({**change, "link": link})
    return out
