"""The XLSX workbook of a report: one function per sheet.

It comes from one ``Report`` (report.py), like the PDF. The workbook is written in
xlsxwriter's constant-memory mode, row after row, so that its raw-data sheet can hold a
million responses; the sheets that list rows take them as iterables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import xlsxwriter

from analysis.indicators import INDICATOR_FIGURES
from analysis.vietnam import VIETNAM
from analysis.wide import wide_columns

from ..models import Unit
from .exports import neutralise, wide_rows
from .report import Report, Suggestion, iter_suggestions
from .service import ServiceFigures
from .wards import Comparison
from .wording import (
    CHANNEL_NAMES,
    METHOD_PAPI,
    RATIO_NAMES,
    VERDICT_TEXT,
    cases_method,
    group_word,
    method_note,
    organisation_name,
    period_text,
    scope_text,
    unit_label,
)

Progress = Callable[[int], None]


# --- XLSX ----------------------------------------------------------------------------------
#
# Numbers are stored as numbers, unrounded, and shown through a number format: SIPAS rates as
# fractions with "0.0%" (72.2 % is 0.722), PAPI values with "0.0" (one decimal, contract §6),
# items' mean scores with "0.00", counts with "#,##0". The reader's spreadsheet then shows them
# rounded, with its own decimal comma, and they add up.

A4 = 9  # xlsxwriter's paper code for A4
PERCENT, POINTS, SCORE, COUNT = "0.0%", "0.0", "0.00", "#,##0"
VERDICT_COLOURS = {"met": "#D8F0DF", "not_met": "#FBE0DE", "undecided": "#FFF3C4"}


class _Formats:
    """The workbook's cell formats, one per (number format, verdict colour, wrap)."""

    def __init__(self, book: Any, report: Report) -> None:
        self.book = book
        self.cache: dict[tuple[str, str, bool, bool], Any] = {}
        self.report = report
        self.sipas = report.questionnaire.index == "sipas"
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.top = self.get()
        self.bold = self.get(bold=True)
        self.wrap = self.get(wrap=True)
        self.head = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1,
                                     "text_wrap": True, "valign": "top"})
        self.when = self.get("dd/mm/yyyy hh:mm:ss")

    def get(self, num: str = "", colour: str = "", *, bold: bool = False,
            wrap: bool = False) -> Any:
        key = (num, colour, bold, wrap)
        if key not in self.cache:
            spec: dict[str, Any] = {"valign": "top"}
            if num:
                spec["num_format"] = num
            if colour:
                spec["bg_color"] = colour
            if bold:
                spec["bold"] = True
            if wrap:
                spec["text_wrap"] = True
            self.cache[key] = self.book.add_format(spec)
        return self.cache[key]

    def value(self, sheet: Any, row: int, col: int, value: float | None,
              ci95: list[float] | None = None, *, percent: bool | None = None,
              bold: bool = False) -> None:
        """Write a value of the report (percent points for SIPAS), coloured by its verdict."""
        percent = self.sipas if percent is None else percent
        colour = VERDICT_COLOURS.get(self.report.verdict_of(ci95) or "", "")
        fmt = self.get(PERCENT if percent else POINTS, colour, bold=bold)
        if value is None:
            sheet.write_blank(row, col, None, fmt)
        else:
            sheet.write_number(row, col, value / 100 if percent else value, fmt)

    def count(self, sheet: Any, row: int, col: int, value: int | None, *,
              bold: bool = False) -> None:
        if value is None:
            sheet.write_blank(row, col, None)
        else:
            sheet.write_number(row, col, value, self.get(COUNT, bold=bold))


def _fit_row(sheet: Any, row: int, cells: list[tuple[str, float]]) -> None:
    """Give a row the height of its longest wrapped text.

    In constant-memory mode nothing measures it later, and LibreOffice would draw the lines
    of a wrapped text over the next rows.
    """
    lines = max((math.ceil(len(text) / max(width * 1.2, 1)) for text, width in cells),
                default=1)
    if lines > 1:
        sheet.set_row(row, 15 * lines)


def _table_sheet(book: Any, f: _Formats, name: str, header: list[str],
                 widths: Sequence[float], *, landscape: bool = True,
                 freeze: tuple[int, int] = (1, 0), fit: bool = True) -> Any:
    """Add a sheet whose first row is a header: frozen, repeated on every printed page."""
    sheet = book.add_worksheet(name)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width, f.top)  # cells without a format of their own
    _fit_row(sheet, 0, list(zip(header, widths, strict=False)))
    sheet.write_row(0, 0, header, f.head)
    sheet.freeze_panes(*freeze)
    _print_setup(sheet, landscape=landscape, fit=fit)
    sheet.repeat_rows(0)
    return sheet


def _print_setup(sheet: Any, *, landscape: bool, fit: bool = True) -> None:
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    if fit:
        sheet.fit_to_pages(1, 0)  # as wide as the page, as many pages long as it takes
    sheet.set_footer("&L&A&R&P / &N")


def _filter(sheet: Any, last_row: int, last_col: int) -> None:
    sheet.autofilter(0, 0, max(last_row, 1), last_col)



def write_xlsx(report: Report, path: Path | str, *, progress: Progress | None = None,
               labels: bool = False) -> None:
    """Write the workbook: summary sheets in Vietnamese, raw data (§5) and the codebook.

    ``labels`` writes the sheet ``Dữ liệu`` for reading rather than re-importing: option
    labels instead of codes, unit and channel names instead of codes (contract §5 keeps codes,
    the default).
    """
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False,
                                           "strings_to_numbers": False})
    f = _Formats(book, report)
    _summary_sheet(book, f, report)
    _groups_sheet(book, f, report)
    _items_sheet(book, f, report)
    for name, cells, label in (("Theo đơn vị", report.by_unit, "Đơn vị"),
                               ("Theo tháng", report.by_month, "Tháng"),
                               ("Theo quý", report.by_quarter, "Quý"),
                               ("Theo kênh", report.by_channel, "Kênh")):
        _breakdown_sheet(book, f, report, name, cells, label)
    _profile_sheet(book, f, report)
    _cases_sheet(book, f, report)
    if report.service is not None:
        _service_sheet(book, f, report.service)
    _suggestions_sheet(book, f, iter_suggestions(report.session, report.filters))
    names = (dict(report.session.execute(sa.select(Unit.code, Unit.name)).all())
             if labels else None)
    _data_sheet(book, f, report, wide_rows(report.session, report.filters, report.scheme),
                unit_names=names, progress=progress)
    _codebook_sheet(book, f, report)
    book.close()


def _summary_sheet(book: Any, f: _Formats, report: Report) -> None:
    """Tổng hợp: the index and each group's value, as people read them (contract §6)."""
    summary, target = report.summary, report.target
    sheet = book.add_worksheet("Tổng hợp")
    _print_setup(sheet, landscape=False)
    sheet.freeze_panes(1, 0)  # the title (organisation and questionnaire) stays in view
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 3, 16)
    sheet.write(0, 0, f"{organisation_name(report)} — {report.questionnaire.title.vi}", f.title)
    ci = summary["index"]["ci95"] or [None, None]
    rows: list[tuple[str, Callable[[int], None]]] = [
        ("Phiếu khảo sát", lambda r: sheet.write(
            r, 1, f"{report.questionnaire.id} (phiên bản {report.questionnaire.version})")),
        ("Thời gian", lambda r: sheet.write(r, 1, period_text(report))),
        ("Phạm vi", lambda r: sheet.write(r, 1, scope_text(report))),
        ("Số phiếu", lambda r: f.count(sheet, r, 1, summary["n_responses"])),
        ("Phiếu đã loại (không tính)", lambda r: f.count(sheet, r, 1, summary["n_excluded"])),
        ("Chỉ số", lambda r: f.value(sheet, r, 1, summary["index"]["value"],
                                     summary["index"]["ci95"], bold=True)),
        ("Khoảng tin cậy 95 %: cận dưới", lambda r: f.value(sheet, r, 1, ci[0])),
        ("Khoảng tin cậy 95 %: cận trên", lambda r: f.value(sheet, r, 1, ci[1])),
        ("Mục tiêu", lambda r: f.value(sheet, r, 1, target)),
        ("Đánh giá", lambda r: sheet.write(
            r, 1, VERDICT_TEXT.get(report.status or "", "—"),
            f.get(colour=VERDICT_COLOURS.get(report.status or "", "")))),
        ("Lập lúc", lambda r: sheet.write_datetime(
            r, 1, datetime.now(VIETNAM).replace(tzinfo=None, microsecond=0),
            f.get("dd/mm/yyyy hh:mm"))),
    ]
    for i, (label, write) in enumerate(rows, start=2):
        sheet.write(i, 0, label, f.bold)
        write(i)
    start = len(rows) + 3
    if report.adapted:
        sheet.merge_range(start - 1, 0, start - 1, 3, METHOD_PAPI.split(": kết quả")[0]
                          + ": kết quả không so sánh được với Chỉ số PAPI chính thức.", f.wrap)
        sheet.set_row(start - 1, 45)
        start += 1
    sheet.write_row(start, 0, [group_word(report), "Giá trị", "Số phiếu"], f.head)
    groups = summary["groups"]
    for i, group in enumerate(groups, start=start + 1):
        _fit_row(sheet, i, [(f"{group['id']}. {group['label']}", 48)])
        sheet.write(i, 0, f"{group['id']}. {group['label']}", f.wrap)
        f.value(sheet, i, 1, group["value"])
        f.count(sheet, i, 2, group["n"])
    sheet.write(start + len(groups) + 2, 0, "Phương pháp", f.bold)
    _fit_row(sheet, start + len(groups) + 3, [(method_note(report), 48 + 3 * 16 - 8)])
    sheet.merge_range(start + len(groups) + 3, 0, start + len(groups) + 3, 3,
                      method_note(report), f.wrap)


def _groups_sheet(book: Any, f: _Formats, report: Report) -> None:
    """Theo yếu tố (and the sub-dimensions of a PAPI-style index)."""
    word = (group_word(report) if not report.adapted
            else "Chỉ số nội dung / nội dung thành phần")
    header = ["Mã", word, "Giá trị", "Số phiếu"]
    sipas_target = report.target is not None and f.sipas
    if sipas_target:
        header.append("Mục tiêu")
    sheet = _table_sheet(book, f, "Theo yếu tố", header, [10, 60, 12, 12, 12],
                         landscape=False)
    row = 1
    for group in report.summary["groups"]:
        _fit_row(sheet, row, [(group["label"], 60)])
        sheet.write(row, 0, group["id"], f.bold)
        sheet.write(row, 1, group["label"], f.get(bold=True, wrap=True))
        f.value(sheet, row, 2, group["value"], bold=True)
        f.count(sheet, row, 3, group["n"], bold=True)
        if sipas_target:
            f.value(sheet, row, 4, report.target)
        row += 1
        for sub in group["subgroups"]:
            _fit_row(sheet, row, [("    " + sub["label"], 60)])
            sheet.write(row, 0, sub["id"])
            sheet.write(row, 1, "    " + sub["label"], f.wrap)
            f.value(sheet, row, 2, sub["value"])
            f.count(sheet, row, 3, sub["n"])
            row += 1
    _filter(sheet, row - 1, len(header) - 1)


def _items_sheet(book: Any, f: _Formats, report: Report) -> None:
    """Theo câu hỏi: each item's answers, rate with its interval, and mean score."""
    header = [group_word(report), "Câu", "Nội dung", "Số trả lời", "Hài lòng",
              "Tỷ lệ hài lòng", "KTC 95 % thấp", "KTC 95 % cao", "Điểm TB"]
    sheet = _table_sheet(book, f, "Theo câu hỏi", header,
                         [9, 7, 70, 11, 10, 11, 11, 11, 9], freeze=(1, 3))
    texts = report.texts
    row = 1
    for group in report.summary["groups"]:
        items = group["items"] or [i for s in group["subgroups"] for i in s["items"]]
        for item in items:
            _fit_row(sheet, row, [(texts.get(item["id"], ""), 70)])
            sheet.write(row, 0, group["id"])
            sheet.write(row, 1, item["id"])
            sheet.write(row, 2, texts.get(item["id"], ""), f.wrap)
            f.count(sheet, row, 3, item["n"])
            f.count(sheet, row, 4, item["satisfied"])
            f.value(sheet, row, 5, item["rate"], item["rate_ci95"], percent=True)
            low, high = item["rate_ci95"] or (None, None)
            f.value(sheet, row, 6, low, percent=True)
            f.value(sheet, row, 7, high, percent=True)
            if item["mean"] is None:
                sheet.write_blank(row, 8, None)
            else:
                sheet.write_number(row, 8, item["mean"], f.get(SCORE))
            row += 1
    _filter(sheet, row - 1, len(header) - 1)


def _breakdown_sheet(book: Any, f: _Formats, report: Report, name: str,
                     cells: list[dict[str, Any]], label: str) -> None:
    """Theo đơn vị, tháng, quý, kênh: the index and each group's value per cell."""
    groups = report.summary["groups"]
    header = [label, "Số phiếu", "Chỉ số", *[g["id"] for g in groups]]
    sheet = _table_sheet(book, f, name, header,
                         [40 if name == "Theo đơn vị" else 16, 10, 10, *[9] * len(groups)],
                         freeze=(1, 1), landscape=len(groups) > 6)
    for i, cell in enumerate(cells, start=1):
        if name == "Theo đơn vị":
            key = unit_label(report, cell["key"])
        elif name == "Theo kênh":
            key = CHANNEL_NAMES.get(str(cell["key"]), str(cell["key"]))
        else:
            key = str(cell["key"])
        sheet.write(i, 0, key)
        f.count(sheet, i, 1, cell["n"])
        if cell["suppressed"]:
            sheet.write(i, 2, f"ẩn (dưới {report.min_cell} phiếu)")
            continue
        f.value(sheet, i, 2, cell["index"], cell["ci95"])
        for j, group in enumerate(groups, start=3):
            f.value(sheet, i, j, cell["groups"].get(group["id"]))
    _filter(sheet, len(cells), len(header) - 1)


def _profile_sheet(book: Any, f: _Formats, report: Report) -> None:
    """Theo đặc điểm: the field of the procedure and the respondent profile."""
    groups = report.summary["groups"]
    header = ["Câu hỏi / câu trả lời", "Số phiếu", "Tỷ lệ", "Chỉ số",
              *[g["id"] for g in groups]]
    sheet = _table_sheet(book, f, "Theo đặc điểm", header, [48, 10, 10, 10, *[9] * len(groups)],
                         landscape=len(groups) > 5)
    row = 1
    for entry in report.profile_questions:
        report.add_profile(entry["id"])
        sheet.write(row, 0, f"{entry['id']}: {entry['text']}", f.bold)
        row += 1
        for cell in report.by_profile[entry["id"]]:
            sheet.write(row, 0, "    " + cell["label"])
            f.count(sheet, row, 1, cell["n"])
            f.value(sheet, row, 2, cell["share"], percent=True)
            if cell["suppressed"]:
                sheet.write(row, 3, f"ẩn (dưới {report.min_cell} phiếu)")
            else:
                f.value(sheet, row, 3, cell["index"], cell["ci95"])
                for j, group in enumerate(groups, start=4):
                    f.value(sheet, row, j, cell["groups"].get(group["id"]))
            row += 1
    _filter(sheet, row - 1, len(header) - 1)


CASES_HEADER = ["Theo", "Phạm vi", "Tiếp nhận", "Đã trả lời", "Trả lời đúng hạn",
                "Quá hạn chưa trả lời", "Số ngày trả lời (trung vị)", "Tỷ lệ xử lý đúng hạn",
                "Tỷ lệ hài lòng trong xử lý PAKN"]
def _case_row(sheet: Any, f: _Formats, report: Report, row: int, group: str, label: str,
              figures: Any, *, bold: bool = False) -> None:
    """Write one line of handling figures: counts, median days, the two ratios coloured."""
    assert report.cases is not None  # noqa: S101 - the caller checked
    sheet.write(row, 0, group, f.get(bold=bold))
    sheet.write(row, 1, label, f.get(bold=bold))
    for col, key in enumerate(("opened", "answered", "answered_on_time", "overdue"), start=2):
        f.count(sheet, row, col, figures[key], bold=bold)
    if figures["median_days"] is None:
        sheet.write_blank(row, 6, None)
    else:
        sheet.write_number(row, 6, figures["median_days"], f.get(POINTS, bold=bold))
    for col, key in ((7, "on_time_rate"), (8, "satisfaction_rate")):
        rate = figures[key]
        colour = VERDICT_COLOURS.get(report.cases.verdict_of(rate) or "", "")
        if rate is None:
            sheet.write_blank(row, col, None)
        else:
            sheet.write_number(row, col, rate / 100, f.get(PERCENT, colour, bold=bold))


def _cases_sheet(book: Any, f: _Formats, report: Report) -> None:
    """Phản ánh, kiến nghị: the handling figures overall, by unit and by month, vs the target.

    One table (filter column A: "Toàn bộ", "Đơn vị", "Tháng"), then the target and the method.
    """
    cases = report.cases
    if cases is None:
        return
    widths = [10, 62, 16, 11, 12, 12, 13, 13, 15]  # C also holds the target and the time
    sheet = _table_sheet(book, f, "Phản ánh, kiến nghị", CASES_HEADER, widths, freeze=(1, 2))
    _case_row(sheet, f, report, 1, "Toàn bộ", "Toàn bộ", cases.overall, bold=True)
    row = 2
    for group, figures_of, name_of in (("Đơn vị", cases.by_unit, cases.unit_label),
                                       ("Tháng", cases.by_month, str)):
        for key, figures in figures_of.items():
            _case_row(sheet, f, report, row, group, name_of(key), figures)
            row += 1
    _filter(sheet, row - 1, len(CASES_HEADER) - 1)
    row += 1
    for label, write in (
            ("Mục tiêu (cả hai tỷ lệ)", lambda r: sheet.write_number(
                r, 2, cases.target / 100, f.get(PERCENT))),
            ("Đánh giá tỷ lệ xử lý đúng hạn", lambda r: sheet.write(
                r, 2, VERDICT_TEXT.get(cases.verdict_of(cases.overall["on_time_rate"]) or "",
                                       "—"),
                f.get(colour=VERDICT_COLOURS.get(
                    cases.verdict_of(cases.overall["on_time_rate"]) or "", "")))),
            ("Số liệu tính đến", lambda r: sheet.write_datetime(
                r, 2, cases.as_of.astimezone(VIETNAM).replace(tzinfo=None, microsecond=0),
                f.get("dd/mm/yyyy hh:mm")))):
        sheet.write(row, 1, label, f.bold)
        write(row)
        row += 1
    row += 1
    sheet.write(row, 1, "Cách tính", f.bold)
    row += 1
    method = cases_method(report.settings.case_due_days)
    _fit_row(sheet, row, [(method, sum(widths) - 20)])
    sheet.merge_range(row, 0, row, len(CASES_HEADER) - 1, method, f.wrap)


SERVICE_HEADER = ["Tháng", "Tiếp nhận", "Đã giải quyết", "Đúng hạn", "Trễ hạn có thư xin lỗi",
                  "Trực tuyến toàn trình", "Thanh toán trực tuyến", "Bưu chính công ích",
                  "Số hóa"]


def _service_sheet(book: Any, f: _Formats, service: ServiceFigures) -> None:
    """Chỉ tiêu phục vụ: dossiers by month and in all, then each ratio against the plan."""
    sheet = _table_sheet(book, f, "Chỉ tiêu phục vụ", SERVICE_HEADER,
                         [12, 11, 13, 11, 14, 14, 14, 13, 11])
    count = f.get(COUNT)
    row = 1
    for month, figures in [*service.by_month.items(), ("Cả kỳ", service.whole)]:
        sheet.write(row, 0, str(month), f.bold if month == "Cả kỳ" else f.top)
        for col, name in enumerate(INDICATOR_FIGURES, start=1):
            sheet.write_number(row, col, getattr(figures, name), count)
        row += 1
    _filter(sheet, row - 2, len(SERVICE_HEADER) - 1)
    row += 1
    sheet.write_row(row, 0, ["Chỉ tiêu", "Kết quả", "Tử số", "Mẫu số", "Kế hoạch", "Đánh giá"],
                    f.head)
    row += 1
    for item in service.rows:
        sheet.write(row, 0, RATIO_NAMES[item.name])
        if item.shown is None:
            sheet.write(row, 1, "—")
        else:  # rounded down to a tenth, so that 79.99 % never shows as 80.0 % not met
            sheet.write_number(row, 1, item.shown / 100, f.get(PERCENT))
        sheet.write_number(row, 2, item.numerator, count)
        sheet.write_number(row, 3, item.denominator, count)
        if item.target is None:
            sheet.write(row, 4, "—")
        else:
            sheet.write_number(row, 4, item.target / 100, f.get(PERCENT))
        verdict = "" if item.met is None else ("met" if item.met else "not_met")
        sheet.write(row, 5, {"met": "Đạt", "not_met": "Chưa đạt"}.get(verdict, "—"),
                    f.get(colour=VERDICT_COLOURS.get(verdict, "")))
        row += 1


def _suggestions_sheet(book: Any, f: _Formats, rows: Iterable[Suggestion]) -> None:
    """Góp ý: citizens' suggestions, in the order given (newest first)."""
    header = ["Thời điểm", "Đơn vị", "Mã phiếu", "Góp ý", "Có câu 1–2"]
    sheet = _table_sheet(book, f, "Góp ý", header, [17, 12, 12, 90, 11])
    row = 1
    for s in rows:
        _fit_row(sheet, row, [(s.text, 90)])
        sheet.write_datetime(row, 0, s.submitted_at.replace(tzinfo=None), f.when)
        sheet.write(row, 1, s.unit)
        sheet.write(row, 2, s.receipt)
        sheet.write_string(row, 3, neutralise(s.text), f.wrap)
        sheet.write(row, 4, "có" if s.low else "")
        row += 1
    _filter(sheet, row - 1, len(header) - 1)


DATA_SHEET = "Dữ liệu"
SHEET_ROWS = 1_048_576
"""Rows of a worksheet (Excel's limit, the header included): beyond, the raw responses go on
on "Dữ liệu (2)", "Dữ liệu (3)" …, each with the header again; the import reads them in turn."""


def _data_sheet(book: Any, f: _Formats, report: Report, rows: Iterable[list[Any]], *,
                unit_names: dict[str, str] | None, progress: Progress | None) -> None:
    """Dữ liệu: the raw responses of contract §5 (codes), or their labels for reading.

    ``rows`` are contract §5 rows (``exports.wide_rows``); with ``unit_names`` the sheet is
    for reading: unit and channel names, option labels instead of codes.
    """
    labels = unit_names is not None
    names = unit_names or {}
    columns = wide_columns(report.scheme)
    texts = report.texts

    def data_sheet(name: str) -> Any:
        # Raw data is not printed to fit a page: forty columns on one sheet of paper are
        # unreadable.
        sheet = _table_sheet(book, f, name, columns, [38, 20, 10, 10, 12, 9], freeze=(1, 1),
                             fit=False)
        sheet.set_column(6, len(columns) - 1, 20 if labels else 9, f.top)
        for col, column in enumerate(columns):
            if column in texts:
                sheet.write_comment(0, col, texts[column][:1000])
        return sheet

    options = {entry["id"]: {o["code"]: o["label"] for o in entry["options"]}
               for entry in report.scheme.codebook if entry["options"]}
    sheet, sheets, row = data_sheet(DATA_SHEET), 1, 0
    for done, values in enumerate(rows, start=1):
        if row == SHEET_ROWS - 1:  # this sheet is full: the rest on "Dữ liệu (2)", …
            _filter(sheet, row, len(columns) - 1)
            sheets += 1
            sheet, row = data_sheet(f"{DATA_SHEET} ({sheets})"), 0
        row += 1
        sheet.write_string(row, 0, values[0])
        sheet.write_datetime(row, 1, values[1].replace(tzinfo=None), f.when)
        sheet.write_string(row, 2, names.get(values[2], values[2]) if labels else values[2])
        sheet.write_string(row, 3, CHANNEL_NAMES.get(values[3], values[3]) if labels
                           else values[3])
        for j, value in enumerate(values[4:], start=4):
            if isinstance(value, int) and labels and columns[j] in options:
                sheet.write_string(row, j, options[columns[j]].get(value, str(value)))
            elif isinstance(value, int):
                sheet.write_number(row, j, value)
            elif value:
                sheet.write_string(row, j, value)
        if progress is not None and done % 1000 == 0:
            progress(1000)
    _filter(sheet, row, len(columns) - 1)


def _codebook_sheet(book: Any, f: _Formats, report: Report) -> None:
    """Mã hóa: the codebook, so that anyone can recompute the figures."""
    header = ["Câu", "Loại", "Yếu tố", "Nội dung con", "Nội dung", "Mã", "Nhãn", "Điểm",
              "Hài lòng"]
    # One line a row, as data: the text is cut at the column's edge (the cell holds it all).
    sheet = _table_sheet(book, f, "Mã hóa", header, [10, 8, 8, 12, 80, 6, 36, 7, 9])
    row = 1
    for entry in report.scheme.codebook:
        for option in entry["options"] or [None]:
            sheet.write_row(row, 0, [entry["id"], entry["type"], entry["group"] or "",
                                     entry["subgroup"] or ""])
            sheet.write(row, 4, entry["text"])
            if option is not None:
                sheet.write_number(row, 5, option["code"])
                sheet.write(row, 6, option["label"])
                if option["score"] is not None:
                    sheet.write_number(row, 7, option["score"])
                sheet.write(row, 8, "có" if option["satisfied"] else "")
            row += 1
    _filter(sheet, row - 1, len(header) - 1)


def write_wards_xlsx(comparison: Comparison, path: Path | str, *, period: str = "") -> None:
    """Write the city's workbook: one row per ward, then one row per ward and element.

    A ward under the small-cell minimum shows its count and "Chưa đủ phiếu", no values.
    """
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_urls": False,
                                           "strings_to_numbers": False})
    sipas = comparison.questionnaire.index == "sipas"
    head = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1,
                            "text_wrap": True, "valign": "top"})
    formats: dict[tuple[str, str], Any] = {}

    def fmt(num: str, colour: str = "") -> Any:
        if (num, colour) not in formats:
            spec: dict[str, Any] = {"num_format": num, "valign": "top"}
            if colour:
                spec["bg_color"] = colour
            formats[num, colour] = book.add_format(spec)
        return formats[num, colour]

    def value(sheet: Any, row: int, col: int, number: float | None, colour: str = "") -> None:
        shown = fmt(PERCENT if sipas else POINTS, colour)
        if number is None:
            sheet.write_blank(row, col, None, shown)
        else:
            sheet.write_number(row, col, number / 100 if sipas else number, shown)

    word = "Yếu tố" if sipas else "Chỉ số nội dung"
    groups = comparison.groups
    header = ["Hạng", "Mã phường", "Tên phường", "Số phiếu", "Chỉ số", "Khoảng tin cậy 95 % – thấp",
              "Khoảng tin cậy 95 % – cao", "Mục tiêu", "Đánh giá"] + [
        f"{gid} – {label}" for gid, label in groups]
    widths = [6, 12, 28, 10, 10, 14, 14, 10, 18] + [16] * len(groups)
    sheet = book.add_worksheet("So sánh phường")
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.write_row(0, 0, header, head)
    sheet.freeze_panes(1, 3)
    _print_setup(sheet, landscape=True)
    sheet.repeat_rows(0)
    rank = 0
    for r, row in enumerate(comparison.rows, start=1):
        colour = VERDICT_COLOURS.get(row.verdict or "", "")
        if not row.suppressed and row.index is not None:
            rank += 1
            sheet.write_number(r, 0, rank)
        sheet.write(r, 1, row.code)
        sheet.write(r, 2, row.name)
        sheet.write_number(r, 3, row.n_responses, fmt(COUNT))
        value(sheet, r, 4, row.index, colour)
        value(sheet, r, 5, row.ci95[0] if row.ci95 else None)
        value(sheet, r, 6, row.ci95[1] if row.ci95 else None)
        value(sheet, r, 7, row.target)
        sheet.write(r, 8, "Chưa đủ phiếu" if row.suppressed
                    else VERDICT_TEXT.get(row.verdict or "", "—"))
        for c, (gid, _label) in enumerate(groups, start=9):
            value(sheet, r, c, row.groups.get(gid))
    _filter(sheet, len(comparison.rows), len(header) - 1)
    last = len(comparison.rows) + 2
    q = comparison.questionnaire
    sheet.write(last, 0, f"Phiếu: {q.title.vi} ({q.id})" + (f"; kỳ: {period}" if period else ""))
    sheet.write(last + 1, 0, f"Phường có dưới {comparison.min_cell} phiếu chỉ hiện số phiếu "
                "(“Chưa đủ phiếu”), không hiện kết quả, để không lộ câu trả lời của người dân.")

    long = book.add_worksheet(f"Theo {word.lower()}")
    long_header = ["Mã phường", "Tên phường", word, "Tên", "Giá trị", "Số phiếu của phường"]
    for col, width in enumerate([12, 28, 10, 40, 10, 12]):
        long.set_column(col, col, width)
    long.write_row(0, 0, long_header, head)
    long.freeze_panes(1, 0)
    _print_setup(long, landscape=False)
    long.repeat_rows(0)
    r = 0
    for row in sorted(comparison.rows, key=lambda x: x.code):
        for gid, label in groups:
            r += 1
            long.write_row(r, 0, [row.code, row.name, gid, label])
            value(long, r, 4, row.groups.get(gid))
            long.write_number(r, 5, row.n_responses, fmt(COUNT))
    _filter(long, r, len(long_header) - 1)
    book.close()
