"""Printed sheets (A4 PDF) and the XLSX entry template of a questionnaire."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from flask import render_template
from xlsxwriter.utility import xl_col_to_name

from analysis.wide import wide_columns
from questionnaires import Question, Questionnaire, Section

from ..addresses import is_loopback_url
from ..models import Batch, Unit
from .paper import format_serial
from .qrcodes import qr_png
from .questionnaires import get_questionnaire
from .rollups import scheme_of


def sheet_url(base_url: str, serial: int) -> str:
    """Return the entry page of a sheet (what its QR code holds)."""
    return f"{base_url.rstrip('/')}/staff/sheets/{format_serial(serial)}"


SHEETS_PER_PDF = 10  # a file prints (and renders, within a request) in well under 2 s
SHORT_QUESTION = 70  # characters of a question and its options that share a line with others
GRID_MAX_OPTIONS = 6  # wider scales print as a list: a column of a grid would be too narrow

def parts_of(batch: Batch) -> list[tuple[int, int, int]]:
    """Return the PDF parts of a batch as (part number, first serial, last serial)."""
    sheets = batch.sheets
    return [(i // SHEETS_PER_PDF + 1, sheets[i].serial,
             sheets[min(i + SHEETS_PER_PDF, len(sheets)) - 1].serial)
            for i in range(0, len(sheets), SHEETS_PER_PDF)]


def _signature(question: Question) -> tuple[tuple[int, str], ...] | None:
    """Return what makes questions share a grid: the same codes and labels, in order."""
    if question.type != "choice" or not 2 <= len(question.options) <= GRID_MAX_OPTIONS:
        return None
    return tuple((o.code, o.label.vi) for o in question.options)


def sheet_blocks(questionnaire: Questionnaire) -> list[dict[str, Any]]:
    """Return the printed layout of a sheet: headings, grids and single questions, in order.

    Consecutive questions with the same options print as one grid, as on the Ministry's form:
    a row per question, the boxes in columns under a header with the option labels. A grid
    runs on across sections (the section's heading becomes a row of it) while the options stay
    the same; a question alone with its options prints them after its text, unless the
    questionnaire asks for a row (``display: row``), which prints as a grid of one row. The
    numbering is the questionnaire's, the same as on the typing page.
    """
    blocks: list[dict[str, Any]] = []
    for section in questionnaire.sections:
        heading: Section | None = section
        for question in section.questions:
            signature = _signature(question)
            last = blocks[-1] if blocks else None
            if (signature is not None and last is not None and last["kind"] == "grid"
                    and last["signature"] == signature):
                if heading is not None:
                    last["rows"].append({"section": heading})
                    heading = None
                last["rows"].append({"question": question})
                continue
            if heading is not None:
                blocks.append({"kind": "section", "section": heading})
                heading = None
            blocks.append({"kind": "grid" if signature else "question", "signature": signature,
                           "options": question.options, "rows": [{"question": question}],
                           "question": question})
        if heading is not None:
            blocks.append({"kind": "section", "section": heading})
    for block in blocks:
        if (block["kind"] == "grid" and len(block["rows"]) == 1
                and block["question"].display != "row"):
            block["kind"] = "question"
        alone: Question | None = block.get("question")
        block["short"] = alone is not None and alone.type == "choice" and (
            len(alone.text.vi) + sum(len(o.label.vi) + 5 for o in alone.options)
            <= SHORT_QUESTION)
    return blocks


def _qr_data_uri(url: str) -> str:
    # A small 1-bit PNG drawn without smoothing: WeasyPrint embeds it as one image, where an
    # SVG path is parsed and drawn again on every page.
    return "data:image/png;base64," + base64.b64encode(qr_png(url, box_size=4)).decode()


def write_sheets_pdf(batch: Batch, path: Path | str, *, base_url: str, part: int = 1) -> None:
    """Write one printable form per sheet of one part of the batch, as shown on screen.

    WeasyPrint lays out a page in about a quarter of a second, so the sheet is laid out once,
    without its serial, and each sheet's pages reuse those pages (one PDF form object each)
    under a small stamp: the serial and the QR code, laid out with the same page rules. A
    sheet of several pages gets a blank back page when its count is odd, so that duplex
    printing never shares a leaf between two sheets; a one-page sheet prints one page.
    """
    import pikepdf
    from weasyprint import HTML

    questionnaire = get_questionnaire(batch.questionnaire_id, batch.questionnaire_version)
    assert questionnaire is not None  # noqa: S101
    chosen = batch.sheets[(part - 1) * SHEETS_PER_PDF: part * SHEETS_PER_PDF]
    ward = batch.unit.ward
    context = {"batch": batch, "questionnaire": questionnaire, "unit": batch.unit,
               "organisation": ward.name if ward else "", "base_url": base_url,
               # QR codes a phone cannot open: each page says so in red (the stamps).
               "qr_loopback": is_loopback_url(base_url)}
    body = HTML(string=render_template("paper/sheets.html", mode="sheet",
                                       blocks=sheet_blocks(questionnaire), **context))
    with pikepdf.open(io.BytesIO(body.write_pdf())) as sheet:
        pages = len(sheet.pages)
        if pages > 1 and pages % 2 == 1:
            box = sheet.pages[0].mediabox
            sheet.add_blank_page(page_size=(float(box[2]), float(box[3])))
            pages += 1
        stamps = [{"serial": format_serial(s.serial),
                   "qr": _qr_data_uri(sheet_url(base_url, s.serial))} for s in chosen]
        html = render_template("paper/sheets.html", mode="stamps", stamps=stamps,
                               pages=pages, **context)
        with pikepdf.open(io.BytesIO(HTML(string=html).write_pdf())) as out:
            forms = [out.copy_foreign(page.as_form_xobject()) for page in sheet.pages]
            for i, page in enumerate(out.pages):
                page.add_underlay(forms[i % pages], None)
            out.save(str(path))


def _list_range(lists: Any, col: int, codes: list[str]) -> str:
    """Write a long code list to the hidden sheet and return its range."""
    lists.write_column(0, col + 1, [int(c) for c in codes])
    letter = xl_col_to_name(col + 1)
    return f"='Danh mục'!${letter}$1:${letter}${len(codes)}"


def write_template(questionnaire: Questionnaire, visible: Sequence[Unit],
                   path: Path | str, rows: int = 1000) -> None:
    """Write an XLSX in the contract §5 layout with drop-down lists of the valid codes."""
    scheme = scheme_of(questionnaire)
    columns = wide_columns(scheme, integrity=False)
    codebook = {entry["id"]: entry for entry in scheme.codebook}
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_urls": False})
    head = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    bold = book.add_format({"bold": True})
    # The data sheet first: import reads the sheet named "Dữ liệu".
    data = book.add_worksheet("Dữ liệu")
    data.freeze_panes(1, 0)
    data.write_row(0, 0, columns, head)
    data.set_column(0, 0, 12)
    data.set_column(1, 1, 18)
    data.set_column(2, 3, 10)
    data.set_column(4, len(columns) - 1, 9)
    # Lists live on a hidden sheet: an inline list may not exceed 255 characters in Excel.
    lists = book.add_worksheet("Danh mục")
    lists.hide()
    unit_codes = [u.code for u in visible]
    lists.write_column(0, 0, unit_codes or [""])
    # Each row carries its own id, so importing the same file twice stores nothing twice.
    for row in range(1, rows + 1):
        data.write_string(row, 0, str(uuid.uuid4()))
    for col, name in enumerate(columns):
        entry = codebook.get(name)
        options: dict[str, object] = {}
        if name == "unit" and unit_codes:
            options = {"validate": "list",
                       "source": f"='Danh mục'!$A$1:$A${len(unit_codes)}"}
        elif name == "channel":
            options = {"validate": "list", "source": ["paper", "import"]}
        elif name == "submitted_at":
            options = {"validate": "any", "input_title": "submitted_at",
                       "input_message": "Ngày giờ (YYYY-MM-DD HH:MM), giờ Việt Nam; để trống = "
                                        "lúc nhập."}
        elif entry is not None and entry["type"] == "choice":
            codes = [str(o["code"]) for o in entry["options"]]
            labels = "; ".join(f"{o['code']} = {o['label']}" for o in entry["options"])
            options = {"validate": "list", "source": codes if len(",".join(codes)) < 250
                       else _list_range(lists, col, codes), "input_title": name[:32],
                       "input_message": labels[:255], "error_title": "Mã không hợp lệ",
                       "error_message": f"Chọn một mã: {', '.join(codes)}"[:255]}
        if options:
            data.data_validation(1, col, rows, col, options)
        if entry is not None:
            data.write_comment(0, col, entry["text"][:1000])
    guide = book.add_worksheet("Hướng dẫn")
    guide.set_column(0, 0, 100)
    lines = [
        (f"Mẫu nhập phiếu: {questionnaire.title.vi} ({questionnaire.id}, phiên bản "
         f"{questionnaire.version})", bold),
        ("Mỗi dòng của trang “Dữ liệu” là một phiếu. Ghi mã số của câu trả lời (chọn trong danh "
         "sách thả xuống); để trống câu không trả lời.", wrap),
        ("Cột unit: mã tổ dân phố (có thể để trống nếu chọn đơn vị khi nhập tệp). Cột channel: "
         "paper cho phiếu giấy. response_id và submitted_at có thể để trống.", wrap),
        ("Nhập tệp tại trang “Nhập tệp” hoặc bằng lệnh: flask --app wsgi import TỆP.xlsx "
         f"--questionnaire {questionnaire.id} --channel paper. Có một dòng sai thì không dòng "
         "nào được nhập và mọi lỗi được liệt kê theo dòng và cột.", wrap),
        ("Trang “Mã hóa” liệt kê mọi câu hỏi và mã của từng câu trả lời.", wrap),
    ]
    for i, (text, fmt) in enumerate(lines):
        guide.write(i, 0, text, fmt)
    codes = book.add_worksheet("Mã hóa")
    codes.set_column(0, 0, 12)
    codes.set_column(1, 1, 70)
    codes.set_column(2, 2, 8)
    codes.set_column(3, 3, 40)
    codes.write_row(0, 0, ["Câu", "Nội dung", "Mã", "Câu trả lời"], head)
    row = 1
    for entry in scheme.codebook:
        for option in entry["options"] or [None]:
            codes.write(row, 0, entry["id"])
            codes.write(row, 1, entry["text"], wrap)
            if option is not None:
                codes.write_number(row, 2, option["code"])
                codes.write(row, 3, option["label"])
            row += 1
    book.close()
