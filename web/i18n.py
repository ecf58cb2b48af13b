"""Interface strings in Vietnamese (default) and English; `?lang=en` switches and is remembered."""

from __future__ import annotations

from fastapi import Request

LANGS = ("vi", "en")
LANG_COOKIE = "sohoa_lang"

STRINGS: dict[str, tuple[str, str]] = {
    # key: (vi, en)
    "site": ("Số hóa di sản Hà Nội", "Hanoi heritage archive"),
    "search": ("Tìm kiếm", "Search"),
    "search_hint": (
        "Tên di tích, địa danh, tư liệu… (gõ không dấu cũng được)",
        "Site, place, document… (diacritics optional)",
    ),
    "results": ("kết quả", "results"),
    "no_results": ("Không tìm thấy kết quả.", "Nothing found."),
    "filters": ("Bộ lọc", "Filters"),
    "map": ("Bản đồ", "Map"),
    "attributes": ("Thông tin", "Details"),
    "images": ("Hình ảnh", "Images"),
    "text": ("Văn bản", "Text"),
    "text_pending": ("Chưa có văn bản nhận dạng.", "No recognised text yet."),
    "model": ("Mô hình 3D", "3D model"),
    "history": ("Lịch sử", "History"),
    "manifest": ("IIIF manifest", "IIIF manifest"),
    "cite_this": ("Trích dẫn", "Cite this"),
    "cite_url": ("Địa chỉ trích dẫn", "Citation URL"),
    "cite_updated": ("cập nhật", "updated"),
    "downloads": ("Tải về", "Downloads"),
    "dl_pdf": ("PDF tìm kiếm được", "Searchable PDF"),
    "dl_text": ("Văn bản", "Text"),
    "dl_image": ("Ảnh trang", "Page image"),
    "not_read_yet": ("Chưa đọc", "Not read yet"),
    "login": ("Đăng nhập", "Sign in"),
    "logout": ("Đăng xuất", "Sign out"),
    "login_name": ("Tên đăng nhập", "Login"),
    "password": ("Mật khẩu", "Password"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong login or password."),
    "land": ("Tra cứu thửa đất", "Parcel lookup"),
    "unit": ("Đơn vị hành chính (tên cũ hoặc mới, hoặc mã)", "Unit (old or new name, or code)"),
    "sheet": ("Tờ bản đồ số", "Map sheet"),
    "number": ("Thửa đất số", "Parcel number"),
    "find": ("Tra cứu", "Look up"),
    "owner_search": ("Tìm theo tên chủ sử dụng", "Search by owner name"),
    "as_of": ("Tình trạng tại ngày", "As it stood on"),
    "time": ("Giờ", "Time"),
    "show": ("Xem", "Show"),
    "current": ("Hiện tại", "Current"),
    "documents": ("Tài liệu liên quan", "Linked documents"),
    "restricted_note": (
        "Dữ liệu cá nhân: mọi lượt xem đều được ghi lại.",
        "Personal data: every view is recorded.",
    ),
    "staff": ("Lưu trữ viên", "Archive staff"),
    "upload": ("Tải lên", "Upload"),
    "queue": ("Đang xử lý", "Queue"),
    "failures": ("Lỗi xử lý", "Failures"),
    "recent": ("Mới nhận", "Recently received"),
    "records": ("Hồ sơ", "Records"),
    "review": ("Xem xét", "Review"),
    "publish": ("Công bố", "Publish"),
    "withdraw": ("Thu hồi", "Withdraw"),
    "save": ("Lưu", "Save"),
    "status": ("Trạng thái", "Status"),
    "retry": ("Chạy lại", "Retry"),
    "audit": ("Nhật ký truy cập", "Access log"),
    "unlock_login": ("Mở khóa tài khoản", "Unlock login"),
    "unlock": ("Mở khóa", "Unlock"),
    "tokens": ("Khóa API", "API tokens"),
    "not_yet": ("Chưa được ghi nhận vào thời điểm đó.", "Not yet recorded at that time."),
    "published": ("Đã công bố", "Published"),
    "page": ("Trang", "Page"),
    "pages": ("trang", "pages"),
    "no_image": ("Chưa có ảnh trang.", "No page image yet."),
    "page_failed": ("Không đọc được trang này", "This page could not be read"),
    "confidence": ("độ tin cậy", "confidence"),
    "uncertain_reading": ("đọc không chắc chắn", "uncertain reading"),
    "skipped_region": ("vùng bỏ qua khi đọc", "region the reading skipped"),
    "mark_seal": ("con dấu", "seal"),
    "mark_stamp": ("dấu", "stamp"),
    "mark_signature": ("chữ ký", "signature"),
    "mark_logo": ("biểu trưng", "logo"),
    "mark_rule": ("đường kẻ", "rule"),
    "mark_symbols": ("ký hiệu", "symbols"),
    "progress": ("Tiến độ xử lý", "Processing"),
    "text_run": ("Lượt nhận dạng", "Text run"),
    "pages_read": ("trang đã đọc", "pages read"),
    "failed": ("lỗi", "failed"),
    "fields": ("Thông tin trích xuất từ giấy chứng nhận", "Certificate fields"),
    "field": ("Trường", "Field"),
    "value": ("Giá trị", "Value"),
    "machine_value": ("Máy đọc", "As read"),
    "on_page": ("Trên trang", "On the page"),
    "reason": ("Lý do sửa", "Reason"),
    "owners": ("Người sử dụng đất", "Owners"),
    "changes": ("Biến động", "Changes"),
    "corners": ("Tọa độ góc thửa (VN-2000)", "Corner coordinates (VN-2000)"),
    "polygon_area": ("Diện tích theo tọa độ", "Polygon area"),
    "stated_area": ("diện tích ghi trên giấy", "stated area"),
    "saved": ("Đã lưu", "Saved"),
    "m_faces": ("Số mặt", "Faces"),
    "m_points": ("Số điểm", "Points"),
    "m_bbox_m": ("Kích thước", "Size"),
    "m_surface_area_m2": ("Diện tích bề mặt", "Surface area"),
    "m_volume_m3": ("Thể tích", "Volume"),
    "m_rmse_m": ("Sai số ghép (RMSE)", "Registration RMSE"),
    "m_fitness": ("Độ khớp", "Fitness"),
    "m_registered_images": ("Ảnh đã ghép", "Registered images"),
    "m_images": ("Số ảnh", "Images"),
    "m_reprojection_error_px": ("Sai số chiếu lại", "Reprojection error"),
    "unpublished": ("Chưa công bố", "Not published"),
    "showing_for": (
        "Không tìm thấy đúng từ đã gõ. Hiển thị kết quả cho",
        "No exact match. Showing results for",
    ),
    "skip_to_content": ("Đến nội dung chính", "Skip to main content"),
    "prev_page": ("Trang trước", "Previous page"),
    "next_page": ("Trang sau", "Next page"),
    "page_of": ("Trang {page}/{last}", "Page {page} of {last}"),
    "remove_filter": ("bỏ lọc", "remove filter"),
    "zoom": ("Xem phóng to", "Open in zoom viewer"),
    "close_viewer": ("Đóng trình xem", "Close viewer"),
    "viewer_help": (
        "Kéo để di chuyển, cuộn hoặc +/− để phóng to; chọn chữ trên ảnh để sao chép.",
        "Drag to move, scroll or +/− to zoom; select the words on the image to copy them.",
    ),
    "not_public_values": ("thông tin không công khai", "details not public"),
    "result_list": ("Kết quả tìm kiếm", "Search results"),
    "kind_label": ("Loại", "Kind"),
    "review_queue": ("Duyệt thông tin giấy chứng nhận", "Certificate review queue"),
    "review_queue_note": (
        "Giấy chứng nhận có trường cần người xem trước, trường yếu nhất trước.",
        "Certificates with fields needing a person come first, weakest field first.",
    ),
    "review_figures": ("Số liệu duyệt", "Review figures"),
    "review_empty": ("Chưa có giấy chứng nhận nào được đọc.", "No certificate read yet."),
    "review_keys": (
        "Enter: chấp nhận giá trị đang hiện; gõ giá trị khác rồi Enter: sửa. ↑/↓: trường trước,"
        " sau; Esc: trả lại giá trị máy đọc; Alt+B: để trống các trường chưa đọc; Alt+L: gắn"
        " vào thửa của ảnh cùng giấy; Alt+N: giấy tiếp theo.",
        "Enter accepts the value shown; type another value and press Enter to correct it."
        " ↑/↓: previous, next field; Esc: back to the value read; Alt+B: leave the fields not"
        " read blank; Alt+L: join the parcel of the same certificate's other photo; Alt+N: next"
        " certificate.",
    ),
    "review_empty_hint": (
        "Nhập ảnh chụp hoặc bản quét giấy chứng nhận ở trang Lưu trữ viên (loại “Giấy chứng"
        " nhận”) hoặc bằng lệnh: sohoa ingest THƯ_MỤC --kind land-certificate --wait.",
        "Upload photos or scans of certificates on the staff page (kind “Land certificate”) or"
        " run: sohoa ingest FOLDER --kind land-certificate --wait.",
    ),
    "review_start": ("Bắt đầu với giấy yếu nhất", "Start with the weakest certificate"),
    "review_all_done": (
        "Không còn trường nào cần xem trong {n} giấy chứng nhận.",
        "Nothing left to review in the {n} certificates.",
    ),
    "review_done": ("Đã xong", "Done"),
    "review_sections": ("Trang (phần) trên ảnh", "Sections in this capture"),
    "review_pages": ("Ảnh các trang", "Page images"),
    "review_parcel_linked": ("Thông tin đã ghi vào", "Values recorded on"),
    "review_parcel_key": (
        "thửa {number}, tờ {sheet}, {unit}",
        "parcel {number}, sheet {sheet}, {unit}",
    ),
    "review_join": (
        "Cùng giấy với {name}: gắn vào thửa của ảnh đó",
        "Same certificate as {name}: join its parcel",
    ),
    "review_join_note": (
        "Ảnh này nhận tờ bản đồ, số thửa, địa chỉ và ngày cấp của ảnh kia, các trường chưa đọc"
        " để trống; thông tin trên ảnh này (người sử dụng đất, biến động) được ghi vào thửa.",
        "This photo takes the other's map sheet, parcel number, address and issue date, its"
        " fields not read are left blank, and what it holds (owners, changes) reaches the parcel.",
    ),
    "review_blank": (
        "Để trống {n} trường chưa đọc (Alt+B)",
        "Leave the {n} fields not read blank (Alt+B)",
    ),
    "review_blank_note": (
        "khi chúng không có trên ảnh này, ví dụ ảnh trang 1 hoặc trang 4 của sổ.",
        "when they are not on this photo, say a photo of page 1 or 4 of the booklet.",
    ),
    "certificates": ("Giấy chứng nhận", "Certificates"),
    "certificate": ("Giấy chứng nhận", "Certificate"),
    "weakest": ("Độ tin cậy thấp nhất", "Weakest confidence"),
    "st_needs_review": ("Cần xem", "Needs review"),
    "st_accepted": ("Đã chấp nhận", "Accepted"),
    "st_corrected": ("Đã sửa", "Corrected"),
    "st_left_blank": ("Để trống", "Left blank"),
    "st_read": ("Máy đọc", "Read"),
    "raw_reading": ("Máy đọc được", "Raw reading"),
    "crop_of": ("Ảnh cắt của trường", "Crop of field"),
    "no_crop": ("Không có vùng ảnh cho trường này.", "No image area for this field."),
    "accept_or_save": ("Chấp nhận / lưu", "Accept / save"),
    "next_certificate": ("Giấy tiếp theo", "Next certificate"),
    "capture_page": ("Trang tệp", "Capture page"),
    "qr_read": ("Mã QR", "QR code"),
    # staff accounts (web.staff.accounts)
    "password_change": ("Đổi mật khẩu", "Change password"),
    "password_changed": (
        "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.",
        "Password changed. Your other sessions have ended.",
    ),
    "password_current": ("Mật khẩu hiện tại", "Current password"),
    "password_new": ("Mật khẩu mới", "New password"),
    "password_again": ("Nhập lại mật khẩu mới", "New password again"),
    "password_rule": ("Ít nhất {n} ký tự.", "At least {n} characters."),
    "password_others_end": (
        "Mọi phiên đăng nhập khác của bạn sẽ kết thúc.",
        "Every other session of yours will end.",
    ),
    "password_mismatch": ("Hai mật khẩu mới không giống nhau.", "The two new passwords differ."),
    "password_wrong": ("Mật khẩu hiện tại không đúng.", "The current password is wrong."),
    "password_short": ("Mật khẩu mới quá ngắn.", "The new password is too short."),
    "accounts": ("Tài khoản", "Accounts"),
    "accounts_caption": (
        "Tài khoản nhân viên (giờ {zone})",
        "Staff accounts (times in {zone})",
    ),
    "accounts_name": ("Tên hiển thị", "Name"),
    "accounts_role": ("Vai trò", "Role"),
    "accounts_locked": ("Khóa đăng nhập", "Sign-in lockout"),
    "accounts_until": ("đến", "until"),
    "accounts_no_lockout": ("Không", "No"),
    "accounts_last_sign_in": ("Đăng nhập gần nhất", "Last sign-in"),
    "accounts_never": ("Chưa bao giờ", "Never"),
    "accounts_actions": ("Thao tác", "Actions"),
    "accounts_disabled": ("đã vô hiệu", "disabled"),
    "accounts_revoke": ("Kết thúc phiên và khóa API", "End sessions and tokens"),
    "accounts_unlocked": ("đã mở khóa.", "unlocked."),
    "accounts_not_locked": ("không bị khóa.", "was not locked."),
    "accounts_revoked": (
        "mọi phiên đăng nhập và khóa API đã kết thúc.",
        "every session and API token ended.",
    ),
    # where each value of a parcel came from (parcel.html, web.land.sources)
    "value_source": ("Nguồn", "Source"),
    "src_read": ("máy đọc từ {doc}", "read by the machine from {doc}"),
    "src_accepted": (
        "máy đọc từ {doc}, {who} đã chấp nhận",
        "read by the machine from {doc}, accepted by {who}",
    ),
    "src_corrected": (
        "{who} sửa ngày {day}, theo {doc}",
        "corrected by {who} on {day}, from {doc}",
    ),
    "src_person": ("{who} sửa ngày {day}", "corrected by {who} on {day}"),
    "src_import": ("nhập từ {source} ngày {day}", "imported from {source} on {day}"),
    "src_staff": ("cán bộ", "a staff member"),
    "src_document": ("giấy chứng nhận", "the certificate"),
    "role_archivist": ("Lưu trữ viên", "Archivist"),
    "role_officer": ("Cán bộ địa chính", "Land officer"),
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    stored = request.cookies.get(LANG_COOKIE)
    return stored if stored in LANGS else "vi"


def translator(lang: str):
    index = LANGS.index(lang)

    def t(key: str) -> str:
        pair = STRINGS.get(key)
        return pair[index] if pair else key

    return t
