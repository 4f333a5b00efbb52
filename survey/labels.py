"""Names shown for stored codes (unit kinds, roles, channels, case statuses and reasons).

Translated when shown (Flask-Babel's lazy strings). One place, imported by the services that
write these names into the audit log and by the pages that show them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "ward": _l("Phường"),
    "counter": _l("Quầy Trung tâm Phục vụ hành chính công"),
    "office": _l("Phòng chuyên môn"),
    "group": _l("Tổ dân phố"),
}
ROLE_LABELS = {"admin": _l("Quản trị"), "staff": _l("Cán bộ"), "leader": _l("Tổ trưởng"),
               "city": _l("Thành phố")}
CHANNEL_LABELS = {"qr": _l("Mã QR"), "kiosk": _l("Máy tại quầy"), "paper": _l("Phiếu giấy"),
                  "import": _l("Nhập từ tệp")}
STATUS_LABELS = {
    "new": _l("Mới"),
    "in_progress": _l("Đang xử lý"),
    "answered": _l("Đã trả lời"),
    "closed": _l("Đã đóng"),
}
REASON_LABELS = {
    "suggestion": _l("Có góp ý"),
    "low_rating": _l("Đánh giá 1–2"),
}
INDICATOR_LABELS = {
    "received": _l("Tiếp nhận"),
    "resolved": _l("Đã giải quyết"),
    "on_time": _l("Đúng hạn"),
    "late_apology": _l("Trễ hạn có thư xin lỗi"),
    "online": _l("Trực tuyến toàn trình"),
    "paid_online": _l("Thanh toán trực tuyến"),
    "postal": _l("Bưu chính công ích"),
    "digitised": _l("Số hóa"),
}
"""What the page calls each count (the same words as the file's columns)."""
