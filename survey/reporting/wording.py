"""The words of the report files: method notes, periods, scopes, labels (Vietnamese).

The report files are Vietnamese documents filed with the city: their text lives here, once,
for the XLSX workbook, the PDF and the DOCX.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from analysis.formatting import number, percent
from questionnaires import Questionnaire

from ..models import Unit
from .report import Report

RATIO_NAMES = {"on_time": "Giải quyết đúng hạn", "online": "Nộp trực tuyến toàn trình",
               "paid_online": "Thanh toán trực tuyến", "postal": "Qua bưu chính công ích",
               "digitised": "Số hóa hồ sơ, kết quả", "apology": "Trễ hạn có thư xin lỗi"}
"""The plan's service indicators as the report names them (analysis.indicators.RATIOS)."""
CHANNEL_NAMES = {"qr": "Mã QR", "kiosk": "Máy tại quầy", "paper": "Phiếu giấy",
                 "import": "Nhập từ tệp"}

METHOD_SIPAS = (
    "Tỷ lệ hài lòng của một câu = số câu trả lời 4 (Hài lòng) hoặc 5 (Rất hài lòng) chia cho số "
    "câu trả lời có điểm (không tính câu bỏ trống và câu trả lời «Không áp dụng»), nhân 100, với "
    "khoảng tin cậy 95 % theo phương pháp Wilson. Giá trị của một yếu tố = trung bình không "
    "trọng số tỷ lệ của các câu trong yếu tố; chỉ số = trung bình không trọng số các yếu tố. "
    "{source} Văn bản công thức chính thức không tìm được: coi 4 và 5 là «hài lòng» và lấy "
    "trung bình tỷ lệ các câu là cách tính suy ra từ các kết quả đã công bố (tỷ lệ người dân "
    "hài lòng), không phải công thức được ban hành. "
    "Khoảng tin cậy 95 % của chỉ số: khoảng Wilson với cỡ mẫu hiệu dụng (Korn–Graubard) tính "
    "từ điểm riêng của từng người trả lời, có thêm một người trả lời giả định ở hai đầu thang "
    "điểm, nên không bao giờ thu về một điểm khi ít phiếu. Đánh giá so với mục tiêu: «Đạt» khi "
    "cả khoảng tin cậy từ mục tiêu trở lên, «Chưa đạt» khi cả khoảng dưới mục tiêu, còn lại "
    "«Chưa đủ cơ sở kết luận». Ô có dưới {min_cell} phiếu được ẩn để bảo vệ tính ẩn danh."
)
SOURCE_SIPAS = {
    "mau-02": "Các tiêu chí của mẫu phiếu số 02 của phường lấy từ Quyết định 2640/QĐ-BNV "
              "(SIPAS 2017–2020).",
}
SOURCE_SIPAS_DEFAULT = ("Nội dung khảo sát theo Quyết định 1001/QĐ-BNV (11/12/2023) về Chỉ số "
                        "SIPAS.")
METHOD_PAPI = (
    "Bộ câu hỏi này mô phỏng cách đo của Chỉ số PAPI, do phường tự điều chỉnh từ các chỉ báo "
    "của PAPI (từng câu ghi rõ giữ nguyên hay điều chỉnh): kết quả không so sánh được với Chỉ "
    "số PAPI chính thức của tỉnh, thành phố. Điểm một câu = trung bình điểm [0–1] của các câu "
    "trả lời hợp lệ. Chỉ số nội dung thành phần = (1 + 9 × trung bình các câu) / k, k là số "
    "chỉ số nội dung thành phần của chỉ số nội dung; chỉ số nội dung = tổng các chỉ số nội "
    "dung thành phần (1–10); chỉ số chung = tổng các chỉ số nội dung (8–80), theo cách tính "
    "của PAPI. Khoảng tin cậy 95 %: khoảng Wilson với cỡ mẫu hiệu dụng (Korn–Graubard) tính "
    "từ điểm riêng của từng người trả lời. Ô có dưới {min_cell} phiếu được ẩn để bảo vệ tính "
    "ẩn danh."
)
AGGREGATION_NOTE = {
    "mean_of_items": "Cách gộp: trung bình các câu (mặc định).",
    "pooled": "Cách gộp: gộp chung câu trả lời của yếu tố (tổng hài lòng / tổng câu trả lời).",
}
VERDICT_TEXT = {"met": "Đạt mục tiêu", "not_met": "Chưa đạt mục tiêu",
                "undecided": "Chưa đủ cơ sở kết luận"}


WEIGHTED_NOTE = (
    "Chỉ số có trọng số theo số hồ sơ: mỗi phiếu của một quầy trong một tháng được tính với "
    "trọng số (tỷ lệ hồ sơ tiếp nhận của ô đó trên tổng số hồ sơ) / (tỷ lệ phiếu của ô đó "
    "trên tổng số phiếu), chỉ trong các ô có cả phiếu và số liệu hồ sơ (hậu phân tầng). Khi "
    "tỷ lệ phản hồi (số phiếu / số hồ sơ) của mọi quầy, mọi tháng như nhau thì hai chỉ số "
    "bằng nhau. Khoảng tin cậy của chỉ số có trọng số là xấp xỉ: khoảng của chỉ số không "
    "trọng số, nới rộng theo hệ số thiết kế Kish."
)


def method_note(report: Report) -> str:
    """Return the method paragraph printed with every report."""
    weighted = " " + WEIGHTED_NOTE if report.weighted is not None else ""
    if report.questionnaire.index == "sipas":
        source = SOURCE_SIPAS.get(report.questionnaire.id, SOURCE_SIPAS_DEFAULT)
        note = METHOD_SIPAS.format(min_cell=report.min_cell, source=source)
        return note + " " + AGGREGATION_NOTE.get(report.aggregation, "") + weighted
    return METHOD_PAPI.format(min_cell=report.min_cell) + weighted


def question_name(questionnaire: Questionnaire | None, question_id: str, *,
                  short: bool = False) -> str:
    """Return what the report calls a question: "Câu 15" ("15" when ``short``).

    An unnumbered question is named by its Vietnamese text (shortened), an unknown one by its
    id.
    """
    question = questionnaire.question(question_id) if questionnaire is not None else None
    if question is None:
        return question_id
    if question.number:
        return question.number if short else f"Câu {question.number}"
    text = question.text.get("vi")
    return text if len(text) <= 40 else text[:39].rstrip() + "…"


def running_name(name: str) -> str:
    """Write an authority's name as running text: "Ủy ban nhân dân phường Trần Liễu".

    Takes a ward's name ("Phường Trần Liễu", "UBND phường …") or a heading in capitals
    ("ỦY BAN NHÂN DÂN / PHƯỜNG TRẦN LIỄU", on two lines).
    """
    text = " ".join(name.split()).removeprefix("UBND ")
    if text.isupper():
        text = text.title().replace("Ủy Ban Nhân Dân", "Ủy ban nhân dân")
    for kind in ("Phường", "Xã", "Thị Trấn", "Thị trấn"):
        text = re.sub(rf"(^| ){kind} ", rf"\g<1>{kind.lower()} ", text, count=1)
    return text


def group_word(report: Report) -> str:
    """Return what a group is called: "Yếu tố" (SIPAS), "Chỉ số nội dung" (PAPI-style)."""
    return "Yếu tố" if report.questionnaire.index == "sipas" else "Chỉ số nội dung"


def organisation_name(report: Report) -> str:
    """Return the ward the report is about: its heading, else the units' ward's name.

    Without one ward, the configured name.
    """
    if report.settings.ward_heading:
        return report.settings.ward_heading
    wards = {u.ward.name for u in report.filters.units if u.ward is not None}
    if len(wards) == 1:
        return wards.pop()
    all_wards = report.session.scalars(sa.select(Unit.name).where(Unit.kind == "ward")).all()
    if len(all_wards) == 1:
        return all_wards[0]
    return report.settings.organisation_name


def period_text(report: Report) -> str:
    """Return the period in words: "01/01/2026 – 31/03/2026", or "toàn bộ thời gian"."""
    f = report.filters
    start = f.date_from.strftime("%d/%m/%Y") if f.date_from else "đầu"
    end = f.date_to.strftime("%d/%m/%Y") if f.date_to else "nay"
    if not f.date_from and not f.date_to:
        return "Toàn bộ thời gian"
    return f"{start} – {end}"


def scope_text(report: Report) -> str:
    """Describe the units and channels covered."""
    units = ", ".join(f"{u.name} ({u.code})" for u in report.filters.units) or "Tất cả đơn vị"
    channels = ", ".join(CHANNEL_NAMES.get(c, c) for c in report.filters.channels) or "tất cả kênh"
    return f"{units}; {channels}"


def value_text(report: Report, value: float | None) -> str:
    """Return a value as the report prints it: a percentage (SIPAS) or one decimal (PAPI)."""
    return percent(value) if report.questionnaire.index == "sipas" else number(value, 1)


def unit_label(report: Report, unit_id: int) -> str:
    """Return "CODE – name" of a unit in a breakdown."""
    unit = report.units.get(unit_id)
    return f"{unit.code} – {unit.name}" if unit else str(unit_id)


CASES_METHOD = (
    "Hồ sơ phản ánh, kiến nghị (PAKN) mở từ các phiếu trong phạm vi báo cáo: phiếu có góp ý "
    "hoặc có câu đánh giá 1–2. Hạn trả lời: {days} ngày làm việc (không tính thứ Bảy, Chủ "
    "nhật và ngày nghỉ lễ). Trả lời đúng hạn: ngày trả lời (giờ Việt Nam) không sau ngày hạn. "
    "Quá hạn chưa trả lời: chưa trả lời, chưa đóng và đã qua hạn. Số ngày trả lời: trung vị "
    "số ngày từ khi tiếp nhận đến khi trả lời. Theo Quyết định 766/QĐ-TTg: tỷ lệ xử lý đúng "
    "hạn = số trả lời đúng hoặc trước hạn / số tiếp nhận; tỷ lệ hài lòng trong xử lý PAKN = "
    "(số tiếp nhận − số hồ sơ người dân báo không hài lòng, trả lời trễ hạn hoặc quá hạn chưa "
    "trả lời) / số tiếp nhận. Hồ sơ đóng mà không trả lời không tính là đúng hạn."
)


def cases_method(due_days: int) -> str:
    """Return the paragraph that says how the handling figures are counted."""
    return CASES_METHOD.format(days=due_days)
