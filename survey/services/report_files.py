"""Report files: the XLSX workbook and the printable PDF report.

Both come from one ``Report`` (report_data.py). The workbook is written in xlsxwriter's
constant-memory mode, row after row, so that its raw-data sheet can hold a million responses.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from flask import current_app, render_template

from analysis.charts import figure_to_png, group_bar_chart, trend_chart
from analysis.formatting import interval, number, percent
from analysis.wide import wide_columns

from ..models import Unit
from .exports import neutralise, wide_rows
from .report_data import Report, low_ratings, suggestions
from .stats import VIETNAM

Progress = Callable[[int], None]

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


def method_note(report: Report) -> str:
    """Return the method paragraph printed with every report."""
    if report.questionnaire.index == "sipas":
        source = SOURCE_SIPAS.get(report.questionnaire.id, SOURCE_SIPAS_DEFAULT)
        note = METHOD_SIPAS.format(min_cell=report.min_cell, source=source)
        return note + " " + AGGREGATION_NOTE.get(report.aggregation, "")
    return METHOD_PAPI.format(min_cell=report.min_cell)


def group_word(report: Report) -> str:
    """Return what a group is called: "Yếu tố" (SIPAS), "Chỉ số nội dung" (PAPI-style)."""
    return "Yếu tố" if report.questionnaire.index == "sipas" else "Chỉ số nội dung"


def organisation_name(report: Report) -> str:
    """Return the ward the report is about (the units' ward), else the configured name."""
    import sqlalchemy as sa

    from ..extensions import db

    wards = {u.ward.name for u in report.filters.units if u.ward is not None}
    if len(wards) == 1:
        return wards.pop()
    all_wards = db.session.scalars(sa.select(Unit.name).where(Unit.kind == "ward")).all()
    if len(all_wards) == 1:
        return all_wards[0]
    return str(current_app.config["ORGANISATION_NAME"])


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
    channels = ", ".join(report.filters.channels) or "tất cả kênh"
    return f"{units}; {channels}"


def _value(report: Report, value: float | None) -> str:
    return percent(value) if report.questionnaire.index == "sipas" else number(value, 2)


def unit_label(report: Report, unit_id: int) -> str:
    """Return "CODE – name" of a unit in a breakdown."""
    unit = report.units.get(unit_id)
    return f"{unit.code} – {unit.name}" if unit else str(unit_id)


# --- XLSX ----------------------------------------------------------------------------------

def write_xlsx(report: Report, path: Path | str, *, progress: Progress | None = None) -> None:
    """Write the workbook: summary sheets in Vietnamese, raw data (§5) and the codebook."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False,
                                           "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1, "text_wrap": True,
                            "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    one = book.add_format({"num_format": "0.0"})
    two = book.add_format({"num_format": "0.00"})
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    good = book.add_format({"bg_color": "#D8F0DF"})
    bad = book.add_format({"bg_color": "#FBE0DE"})
    unsure = book.add_format({"bg_color": "#FFF3C4"})
    summary = report.summary
    groups = summary["groups"]
    target = report.target
    num = one if report.questionnaire.index == "sipas" else two

    def mark(ci95: list[float] | None) -> Any:
        """Return the colour of a value whose interval is ``ci95``: its verdict (§8)."""
        return {"met": good, "not_met": bad, "undecided": unsure}.get(
            report.verdict_of(ci95) or "")

    # 1. Tổng hợp: the index and each group's value, as people read them.
    sheet = book.add_worksheet("Tổng hợp")
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 3, 18)
    sheet.write(0, 0, f"{organisation_name(report)} — {report.questionnaire.title.vi}", title)
    rows: list[tuple[str, Any]] = [
        ("Phiếu khảo sát", f"{report.questionnaire.id} (phiên bản {report.questionnaire.version})"),
        ("Thời gian", period_text(report)),
        ("Phạm vi", scope_text(report)),
        ("Số phiếu", summary["n_responses"]),
        ("Phiếu đã loại (không tính)", summary["n_excluded"]),
        ("Chỉ số", _value(report, summary["index"]["value"])),
        ("Khoảng tin cậy 95 %", interval(summary["index"]["ci95"])),
        ("Mục tiêu", _value(report, target) if target is not None else "—"),
        ("Đánh giá", VERDICT_TEXT.get(report.status or "", "—")),
        ("Lập lúc", datetime.now(VIETNAM).strftime("%d/%m/%Y %H:%M")),
    ]
    for i, (label, value) in enumerate(rows, start=2):
        sheet.write(i, 0, label, bold)
        sheet.write(i, 1, value, mark(summary["index"]["ci95"]) if label == "Đánh giá" else None)
    start = len(rows) + 3
    if report.adapted:
        sheet.merge_range(start - 1, 0, start - 1, 3, METHOD_PAPI.split(": kết quả")[0]
                          + ": kết quả không so sánh được với Chỉ số PAPI chính thức.", wrap)
        start += 1
    sheet.write_row(start, 0, [group_word(report), "Giá trị", "Số phiếu", "Giá trị (số)"], head)
    for i, group in enumerate(groups, start=start + 1):
        sheet.write(i, 0, f"{group['id']}. {group['label']}")
        sheet.write(i, 1, _value(report, group["value"]))
        sheet.write(i, 2, group["n"])
        if group["value"] is not None:
            sheet.write_number(i, 3, group["value"], num)
    sheet.write(start + len(groups) + 2, 0, "Phương pháp", bold)
    sheet.merge_range(start + len(groups) + 3, 0, start + len(groups) + 8, 3, method_note(report),
                      wrap)

    # 2. Theo yếu tố (and sub-dimensions for PAPI).
    sheet = book.add_worksheet("Theo yếu tố")
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 60)
    sheet.set_column(2, 4, 14)
    sheet.write_row(0, 0, ["Mã", group_word(report) if not report.adapted else
                           "Chỉ số nội dung / nội dung thành phần", "Giá trị", "Số phiếu",
                           "Mục tiêu"], head)
    row = 1
    for group in groups:
        sheet.write(row, 0, group["id"], bold)
        sheet.write(row, 1, group["label"], bold)
        _number(sheet, row, 2, group["value"], num)
        sheet.write(row, 3, group["n"])
        if target is not None and report.questionnaire.index == "sipas":
            sheet.write_number(row, 4, target, one)
        row += 1
        for sub in group["subgroups"]:
            sheet.write(row, 0, sub["id"])
            sheet.write(row, 1, "    " + sub["label"])
            _number(sheet, row, 2, sub["value"], num)
            sheet.write(row, 3, sub["n"])
            row += 1

    # 3. Theo câu hỏi.
    sheet = book.add_worksheet("Theo câu hỏi")
    sheet.set_column(0, 1, 9)
    sheet.set_column(2, 2, 70)
    sheet.set_column(3, 8, 12)
    texts = {entry["id"]: entry["text"] for entry in report.scheme.codebook}
    sheet.write_row(0, 0, [group_word(report), "Câu", "Nội dung", "Số trả lời", "Hài lòng",
                           "Tỷ lệ hài lòng", "KTC 95 % thấp", "KTC 95 % cao", "Điểm TB"], head)
    row = 1
    for group in groups:
        items = group["items"] or [i for s in group["subgroups"] for i in s["items"]]
        for item in items:
            sheet.write(row, 0, group["id"])
            sheet.write(row, 1, item["id"])
            sheet.write(row, 2, texts.get(item["id"], ""), wrap)
            sheet.write(row, 3, item["n"])
            _number(sheet, row, 4, item["satisfied"], None)
            _number(sheet, row, 5, item["rate"], one, mark(item["rate_ci95"]))
            ci = item["rate_ci95"] or [None, None]
            _number(sheet, row, 6, ci[0], one)
            _number(sheet, row, 7, ci[1], one)
            _number(sheet, row, 8, item["mean"], two)
            row += 1

    # 4 and 5. Theo đơn vị, theo tháng.
    for name, rows_, label in (("Theo đơn vị", report.by_unit, "Đơn vị"),
                               ("Theo tháng", report.by_month, "Tháng"),
                               ("Theo quý", report.by_quarter, "Quý"),
                               ("Theo kênh", report.by_channel, "Kênh")):
        sheet = book.add_worksheet(name)
        sheet.set_column(0, 0, 40 if name == "Theo đơn vị" else 12)
        sheet.set_column(1, 2 + len(groups), 11)
        sheet.write_row(0, 0, [label, "Số phiếu", "Chỉ số", *[g["id"] for g in groups]], head)
        for i, cell in enumerate(rows_, start=1):
            key = unit_label(report, cell["key"]) if name == "Theo đơn vị" else str(cell["key"])
            sheet.write(i, 0, key)
            sheet.write(i, 1, cell["n"])
            if cell["suppressed"]:
                sheet.write(i, 2, f"ẩn (dưới {report.min_cell} phiếu)")
                continue
            _number(sheet, i, 2, cell["index"], num, mark(cell["ci95"]))
            for j, group in enumerate(groups, start=3):
                _number(sheet, i, j, cell["groups"].get(group["id"]), num)

    # 5b. Theo đặc điểm: the field of the procedure and the respondent profile.
    sheet = book.add_worksheet("Theo đặc điểm")
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 4 + len(groups), 11)
    sheet.write_row(0, 0, ["Câu hỏi / câu trả lời", "Số phiếu", "Tỷ lệ (%)", "Chỉ số",
                           *[g["id"] for g in groups]], head)
    row = 1
    for entry in report.profile_questions:
        report.add_profile(entry["id"])
        sheet.write(row, 0, f"{entry['id']}: {entry['text']}", bold)
        row += 1
        for cell in report.by_profile[entry["id"]]:
            sheet.write(row, 0, "    " + cell["label"])
            sheet.write(row, 1, cell["n"])
            _number(sheet, row, 2, cell["share"], one)
            if cell["suppressed"]:
                sheet.write(row, 3, f"ẩn (dưới {report.min_cell} phiếu)")
            else:
                _number(sheet, row, 3, cell["index"], num, mark(cell["ci95"]))
                for j, group in enumerate(groups, start=4):
                    _number(sheet, row, j, cell["groups"].get(group["id"]), num)
            row += 1

    # 6. Góp ý.
    sheet = book.add_worksheet("Góp ý")
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 2, 12)
    sheet.set_column(3, 3, 90)
    sheet.set_column(4, 4, 14)
    sheet.write_row(0, 0, ["Thời điểm", "Đơn vị", "Mã phiếu", "Góp ý", "Có câu 1–2"], head)
    row, offset = 1, 0
    while True:
        page, _ = suggestions(report.filters, limit=500, offset=offset)
        for s in page:
            sheet.write_datetime(row, 0, s.submitted_at.replace(tzinfo=None), when)
            sheet.write(row, 1, s.unit)
            sheet.write(row, 2, s.receipt)
            sheet.write_string(row, 3, neutralise(s.text), wrap)
            sheet.write(row, 4, "có" if s.low else "")
            row += 1
        if len(page) < 500:
            break
        offset += 500

    # 7. Dữ liệu: the raw responses of contract §5.
    sheet = book.add_worksheet("Dữ liệu")
    columns = wide_columns(report.scheme)
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 1, 20)
    sheet.set_column(2, len(columns), 10)
    sheet.write_row(0, 0, columns, head)
    for i, values in enumerate(wide_rows(report.filters, report.scheme), start=1):
        sheet.write_string(i, 0, values[0])
        sheet.write_datetime(i, 1, values[1].replace(tzinfo=None), when)
        sheet.write_string(i, 2, values[2])
        sheet.write_string(i, 3, values[3])
        for j, value in enumerate(values[4:], start=4):
            if isinstance(value, int):
                sheet.write_number(i, j, value)
            elif value:
                sheet.write_string(i, j, value)
        if progress is not None and i % 1000 == 0:
            progress(1000)

    # 8. Mã hóa: the codebook, so that anyone can recompute the figures.
    sheet = book.add_worksheet("Mã hóa")
    sheet.set_column(0, 3, 10)
    sheet.set_column(4, 4, 70)
    sheet.set_column(5, 5, 8)
    sheet.set_column(6, 6, 30)
    sheet.set_column(7, 8, 10)
    sheet.write_row(0, 0, ["Câu", "Loại", "Yếu tố", "Nội dung con", "Nội dung", "Mã",
                           "Nhãn", "Điểm", "Hài lòng"], head)
    row = 1
    for entry in report.scheme.codebook:
        options = entry["options"] or [None]
        for option in options:
            sheet.write_row(row, 0, [entry["id"], entry["type"], entry["group"] or "",
                                     entry["subgroup"] or "", entry["text"]])
            if option is not None:
                sheet.write_number(row, 5, option["code"])
                sheet.write(row, 6, option["label"])
                if option["score"] is not None:
                    sheet.write_number(row, 7, option["score"])
                sheet.write(row, 8, "có" if option["satisfied"] else "")
            row += 1
    book.close()


def _number(sheet: Any, row: int, col: int, value: float | int | None, fmt: Any,
            highlight: Any = None) -> None:
    if value is None:
        sheet.write_blank(row, col, None, highlight)
        return
    if highlight is not None and fmt is not None:
        sheet.write_number(row, col, value, highlight)
        return
    sheet.write_number(row, col, value, fmt)


# --- PDF -----------------------------------------------------------------------------------

def _png_data_uri(figure: Any) -> str:
    return "data:image/png;base64," + base64.b64encode(figure_to_png(figure, dpi=150)).decode()


def chart_points(report: Report) -> list[tuple[str, float | None, int]]:
    """Return the monthly trend as (month, index or None when hidden, n)."""
    return [(str(c["key"]), None if c["suppressed"] else c["index"], c["n"])
            for c in report.by_month]


def chart_intervals(report: Report) -> list[list[float] | None]:
    """Return the monthly trend's intervals (None where the month is hidden)."""
    return [None if c["suppressed"] else c["ci95"] for c in report.by_month]


def render_report_html(report: Report) -> str:
    """Return the HTML of the printable report (also the source of the PDF)."""
    groups_chart = _png_data_uri(group_bar_chart(
        report.summary, target=report.target,
        title=f"Kết quả theo {group_word(report).lower()}"))
    trend = _png_data_uri(trend_chart(chart_points(report), target=report.target,
                                      title="Chỉ số theo tháng",
                                      index=report.questionnaire.index,
                                      intervals=chart_intervals(report)))
    lows, low_total = low_ratings(report.filters, limit=20)
    for entry in report.profile_questions:
        report.add_profile(entry["id"])
    texts = {entry["id"]: entry["text"] for entry in report.scheme.codebook}
    return render_template(
        "reports/report.html", report=report, organisation=organisation_name(report),
        period=period_text(report), scope=scope_text(report), method=method_note(report),
        groups_chart=groups_chart, trend_chart=trend, value=lambda v: _value(report, v),
        unit_label=lambda uid: unit_label(report, uid), texts=texts, lows=lows,
        low_total=low_total, generated=datetime.now(VIETNAM).strftime("%d/%m/%Y %H:%M"),
        interval=interval, percent=percent, group_word=group_word(report),
        verdict_text=VERDICT_TEXT)


def write_pdf(report: Report, path: Path | str) -> None:
    """Write the A4 PDF report."""
    from weasyprint import HTML

    HTML(string=render_report_html(report)).write_pdf(str(path))
