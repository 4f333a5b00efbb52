"""The ward's administrative report (báo cáo) as DOCX, laid out as Nghị định 30/2020/NĐ-CP asks.

The report module fills an :class:`AdminReport`; :func:`write_docx` turns it into the bytes of a
Word document an officer opens, completes where a :class:`Placeholder` asks, signs and files. The
layout follows Phụ lục I of Nghị định 30/2020/NĐ-CP (thể thức và kỹ thuật trình bày văn bản hành
chính):

* A4 portrait; margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm (the decree allows
  20–25, 20–25, 30–35 and 15–20 mm); Times New Roman (Unicode, TCVN 6909:2001), black.
* Two borderless columns at the top: on the left the upper authority (upright caps) over the
  issuer (bold caps) with a short line under it (1/3 to 1/2 of the name), then "Số: 12/BC-UBND"
  centred under it; on the right the Quốc hiệu (bold caps, 12 pt) over the Tiêu ngữ (bold, 13 pt)
  with a line as long as it, then the place and date in italics, on the same line as "Số:".
  The day takes a leading zero below 10, the month only for 1 and 2 ("ngày 05 tháng 01",
  "ngày 02 tháng 3"); a document number below 10 also takes one ("Số: 05/BC-UBND").
* The kind of document ("BÁO CÁO", bold caps) and the trích yếu (bold) centred, a short line
  under them.
* Body text 14 pt, justified, first line indented 1 cm, 6 pt between paragraphs, line spacing
  1.2 (the decree: at least single, at most 1.5 lines).
* At the end two borderless columns: "Nơi nhận:" (bold italic 12 pt) and its lines (11 pt) on
  the left; on the right the signature block: the authority to sign ("TM. ỦY BAN NHÂN DÂN") and
  the signer's title in bold caps, room for the signature and the seal, the name in bold.
* Page numbers centred in the top margin, from the second page on (a PAGE field; the first page
  has a header of its own, left empty).

Pure Python and python-docx: nothing here imports Flask or the rest of the application.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Row
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Length, Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

__all__ = [
    "AdminReport",
    "Block",
    "Paragraph",
    "Placeholder",
    "Section",
    "Signature",
    "Table",
    "format_date_line",
    "format_number_line",
    "issuer_lines",
    "write_docx",
]

# --- The data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of body text; a newline in ``text`` is a line break within it."""

    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Table:
    """A bordered table with a bold header row (repeated on each page), in 12 pt.

    ``widths_cm`` gives each column's width (scaled down to the text width when wider);
    without it the columns share the text width equally. Columns whose index is in
    ``numeric`` are right-aligned. ``caption`` (optional) is set centred above the table.
    A row shorter than ``columns`` is padded with empty cells.
    """

    columns: list[str]
    rows: list[list[str]]
    widths_cm: list[float] | None = None
    numeric: set[int] = field(default_factory=set)
    caption: str = ""


@dataclass(frozen=True)
class Placeholder:
    """A place for the officer's own text: a grey italic hint in brackets, then an empty line.

    ``hint`` is e.g. "Đơn vị điền: nêu những tồn tại, hạn chế"; brackets are added unless the
    hint already has them.
    """

    hint: str


Block = Paragraph | Table | Placeholder


@dataclass(frozen=True)
class Section:
    """A part of the report under a bold heading numbered by the caller ("I. KẾT QUẢ ...").

    Headings are set as given (the caller writes the caps of a top-level heading); a heading
    three levels down ("1.1. ...", "a) ...") is bold italic. Empty ``heading``: no heading line.
    """

    heading: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Signature:
    """The signature block: authority to sign, the signer's title and name.

    With ``deputy`` the deputy signs for the head ("ký thay"): under the authority come
    "KT. CHỦ TỊCH" and "PHÓ CHỦ TỊCH". An empty ``name`` leaves the line for the officer.
    """

    authority: str = "TM. ỦY BAN NHÂN DÂN"
    title: str = "CHỦ TỊCH"
    name: str = ""
    deputy: bool = False

    def title_lines(self) -> list[str]:
        """Return the lines of the block above the room for the signature."""
        lines = [self.authority] if self.authority.strip() else []
        if self.deputy:
            lines += [f"KT. {self.title}", f"PHÓ {self.title}"]
        elif self.title.strip():
            lines.append(self.title)
        return lines


@dataclass(frozen=True, kw_only=True)
class AdminReport:
    """Everything the báo cáo says, in the order the decree lays it out.

    ``issuer`` is the issuing body's full name; it is set on two lines, breaking after
    "ỦY BAN NHÂN DÂN" (or where the caller puts a newline). ``number`` empty leaves
    "Số:      /BC-UBND" for the clerk to fill in. ``basis`` lines (căn cứ) are italic
    paragraphs, as given (the caller ends them with ";" and "."); ``intro`` follows them as a
    plain paragraph ("UBND phường báo cáo kết quả như sau:"). ``recipients`` are the lines under
    "Nơi nhận:", as given ("- UBND thành phố;" ... "- Lưu: VT, VHXH."); a line without the
    leading dash gets one. Empty lists leave their part out.
    """

    upper_authority: str
    issuer: str
    place: str
    issued_on: date
    title: str
    number: str = ""
    symbol: str = "BC-UBND"
    kind: str = "BÁO CÁO"
    basis: list[str] = field(default_factory=list)
    intro: str = ""
    sections: list[Section] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signature: Signature = field(default_factory=Signature)


# --- Layout constants -----------------------------------------------------------------------

FONT = "Times New Roman"
LANGUAGE = "vi-VN"

PAGE_WIDTH = Mm(210)
PAGE_HEIGHT = Mm(297)
MARGIN_TOP = Mm(20)
MARGIN_BOTTOM = Mm(20)
MARGIN_LEFT = Mm(30)
MARGIN_RIGHT = Mm(15)
HEADER_DISTANCE = Mm(10)
TEXT_WIDTH_CM = (210 - 30 - 15) / 10  # 16.5 cm

# The two borderless columns of the top and of the sign-off: the right one must hold the
# Quốc hiệu in bold 12 pt caps (8.8 cm in Times New Roman), the left one the upper authority.
LEFT_COL_CM = 7.0
RIGHT_COL_CM = TEXT_WIDTH_CM - LEFT_COL_CM

SIZE_AUTHORITY = 13  # upper authority and issuer (12–13)
SIZE_NATIONAL = 12  # Quốc hiệu (12–13)
SIZE_MOTTO = 13  # Tiêu ngữ (13–14)
SIZE_NUMBER = 13  # "Số: ..." (13)
SIZE_DATE = 14  # place and date (13–14)
SIZE_TITLE = 14  # kind and trích yếu (13–14)
SIZE_BODY = 14  # body text (13–14)
SIZE_TABLE = 12
SIZE_RECIPIENTS_LABEL = 12  # "Nơi nhận:" (12)
SIZE_RECIPIENTS = 11  # its lines (11)
SIZE_SIGNATURE = 14  # authority, title, name (13–14)
SIZE_PAGE_NUMBER = 14  # (13–14)

FIRST_LINE_INDENT = Cm(1)
PARAGRAPH_SPACING = Pt(6)
LINE_SPACING = 1.2
SIGNATURE_ROOM = Pt(84)  # about 3 cm for the signature and the seal
HINT_COLOR = RGBColor(0x7F, 0x7F, 0x7F)

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
RECIPIENTS_LABEL = "Nơi nhận:"

# --- Text -----------------------------------------------------------------------------------

# Characters XML 1.0 cannot hold (lxml refuses them): C0 controls but tab, newline, CR.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Return ``text`` in NFC with Windows/Mac line ends made newlines and no XML-illegal chars."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _NOT_XML.sub("", text))


def _upper(text: str) -> str:
    return unicodedata.normalize("NFC", _clean(text).upper())


def format_date_line(place: str, day: date) -> str:
    """Return "Trần Liễu, ngày 05 tháng 01 năm 2026" as Phụ lục I writes the date.

    A day below 10 and the months 1 and 2 take a leading zero; months 3 to 12 do not.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{_clean(place).strip()}, ngày {day.day:02d} tháng {month} năm {day.year}"


def format_number_line(number: str, symbol: str) -> str:
    """Return "Số: 12/BC-UBND", "Số: 05/BC-UBND", or "Số:      /BC-UBND" with no number yet."""
    number = _clean(number).strip()
    if number.isdigit() and int(number) < 10:
        number = f"{int(number):02d}"
    return f"Số: {number or ' ' * 5}/{_clean(symbol).strip()}"


def issuer_lines(issuer: str) -> list[str]:
    """Return the issuer's lines: "ỦY BAN NHÂN DÂN" over the ward, or as the caller broke it."""
    text = _upper(issuer).strip()
    if "\n" in text:
        return [line.strip() for line in text.split("\n") if line.strip()]
    head = "ỦY BAN NHÂN DÂN"
    for variant in (head, "UỶ BAN NHÂN DÂN"):
        if text.startswith(variant + " "):
            return [variant, text[len(variant):].strip()]
    return [text] if text else []


# Advance widths (1/1000 em) of Times New Roman, regular and bold, for the base letters
# (the marks of Vietnamese letters do not change the width); used only to size the short lines
# under the issuer, the Tiêu ngữ and the trích yếu.
_WIDTH_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;-/()%"
_WIDTHS = {
    False: (
        722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722,
        667, 556, 611, 722, 722, 944, 722, 722, 611, 444, 500, 444, 500, 444, 333, 500, 500,
        278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500,
        444, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 250, 250, 250, 278, 278, 333,
        278, 333, 333, 833,
    ),
    True: (
        722, 667, 722, 722, 667, 611, 778, 778, 389, 500, 778, 667, 944, 722, 778, 611, 778,
        722, 556, 667, 722, 722, 1000, 722, 722, 667, 500, 556, 444, 556, 444, 333, 500, 556,
        278, 333, 556, 278, 833, 556, 500, 556, 556, 444, 389, 333, 556, 500, 722, 500, 500,
        444, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 250, 250, 250, 333, 333, 333,
        278, 333, 333, 1000,
    ),
}


_WIDTH_TABLES = {
    bold: dict(zip(_WIDTH_CHARS, widths, strict=True)) for bold, widths in _WIDTHS.items()
}


def _text_width_cm(text: str, size_pt: float, *, bold: bool) -> float:
    """Estimate the printed width of one line of ``text`` in Times New Roman."""
    widths = _WIDTH_TABLES[bold]
    total = 0
    for char in text:
        base = unicodedata.normalize("NFD", char.replace("Đ", "D").replace("đ", "d"))[:1]
        total += widths.get(base, 556)
    return total / 1000 * size_pt / 72 * 2.54


# --- XML helpers ----------------------------------------------------------------------------

_PPR_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)


def _set_fonts(rpr: BaseOxmlElement) -> None:
    """Set Times New Roman for every script of a w:rPr, dropping theme fonts that would win."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), FONT)


def _style_run(
    run: Run, size: float, *, bold: bool = False, italic: bool = False,
    color: RGBColor | None = None,
) -> None:
    _set_fonts(run._r.get_or_add_rPr())
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    if color is not None:
        run.font.color.rgb = color


def _add_text(run: Run, text: str) -> None:
    """Put ``text`` in ``run`` (newlines become line breaks), keeping every space."""
    run.text = text
    for t in run._r.iter(qn("w:t")):
        t.set(qn("xml:space"), "preserve")


def _paragraph_mark_size(paragraph: DocxParagraph, size: float) -> None:
    """Size the paragraph mark, which sets the height of an empty paragraph."""
    ppr = paragraph._p.get_or_add_pPr()
    rpr = ppr.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        ppr.insert_element_before(rpr, "w:sectPr", "w:pPrChange")
    _set_fonts(rpr)
    for tag in ("w:sz", "w:szCs"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(round(size * 2)))
        rpr.append(el)


def _bottom_border(paragraph: DocxParagraph) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"),
                       ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    ppr.insert_element_before(border, *_PPR_AFTER_PBDR)


def _outline_level(paragraph: DocxParagraph, level: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    ppr.get_or_add_outlineLvl().set(qn("w:val"), str(min(level, 8)))


def _no_borders(table: DocxTable) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.insert_element_before(
        borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
        "w:tblDescription", "w:tblPrChange",
    )


def _cell_margins(table: DocxTable, left_right_cm: float) -> None:
    tbl_pr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(Cm(left_right_cm).twips)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.insert_element_before(
        margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange",
    )


def _fixed_widths(table: DocxTable, widths_cm: Sequence[float]) -> None:
    """Give a table fixed column widths, which Word and LibreOffice both keep."""
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tbl_pr.insert_element_before(
            width, "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
            "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
            "w:tblPrChange",
        )
    width.set(qn("w:w"), str(round(Cm(sum(widths_cm)).twips)))
    width.set(qn("w:type"), "dxa")
    for column, cm in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(cm)
    for row in table.rows:
        for cell, cm in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(cm)


def _row_flag(row_tr: CT_Row, tag: str) -> None:
    row_tr.get_or_add_trPr().append(OxmlElement(tag))


def _page_field(paragraph: DocxParagraph, size: float) -> None:
    """Append a PAGE field (shown as the page's number) to ``paragraph``."""
    def part(kind: str) -> None:
        run = paragraph.add_run()
        _style_run(run, size)
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    part("begin")
    run = paragraph.add_run()
    _style_run(run, size)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    part("separate")
    run = paragraph.add_run()
    _style_run(run, size)
    _add_text(run, "2")
    part("end")


# --- Paragraphs -----------------------------------------------------------------------------


def _para(
    container: DocxDocument | _Cell,
    text: str = "",
    *,
    size: float = SIZE_BODY,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
    indent: bool = False,
    before: Length | int = 0,
    line: float = 1.0,
    color: RGBColor | None = None,
    keep_next: bool = False,
    reuse: bool = False,
) -> DocxParagraph:
    """Add a paragraph of one run; ``reuse`` fills a new cell's first, empty paragraph."""
    fresh = isinstance(container, _Cell) and len(container.paragraphs) == 1 and (
        container.paragraphs[0]._p.pPr is None
    )
    paragraph = container.paragraphs[0] if reuse and fresh else container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before = before
    fmt.space_after = 0
    fmt.line_spacing = line
    fmt.first_line_indent = FIRST_LINE_INDENT if indent else None
    if keep_next:
        fmt.keep_with_next = True
    _paragraph_mark_size(paragraph, size)
    if text:
        run = paragraph.add_run()
        _style_run(run, size, bold=bold, italic=italic, color=color)
        _add_text(run, text)
    return paragraph


def _body(
    doc: DocxDocument, text: str, *, bold: bool = False, italic: bool = False,
    color: RGBColor | None = None, keep_next: bool = False,
) -> DocxParagraph:
    return _para(
        doc, _clean(text), size=SIZE_BODY, bold=bold, italic=italic,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, before=PARAGRAPH_SPACING,
        line=LINE_SPACING, color=color, keep_next=keep_next,
    )


def _short_line(
    container: DocxDocument | _Cell, line_cm: float, box_cm: float, *, before: Length | int = 0,
) -> DocxParagraph:
    """Add a centred horizontal rule ``line_cm`` long in a box ``box_cm`` wide."""
    paragraph = _para(container, size=1, before=before)
    side = max(0.0, (box_cm - line_cm) / 2)
    paragraph.paragraph_format.left_indent = Cm(side)
    paragraph.paragraph_format.right_indent = Cm(side)
    _bottom_border(paragraph)
    return paragraph


# --- The parts of the report ----------------------------------------------------------------


def _layout_table(doc: DocxDocument, rows: int) -> DocxTable:
    table = doc.add_table(rows=rows, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _cell_margins(table, 0.0)
    _fixed_widths(table, (LEFT_COL_CM, RIGHT_COL_CM))
    for row in table.rows:
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    return table


def _heading_block(doc: DocxDocument, report: AdminReport) -> None:
    table = _layout_table(doc, rows=2)
    left, right = table.rows[0].cells

    upper = _upper(report.upper_authority).strip()
    issuer = issuer_lines(report.issuer)
    if upper:
        _para(left, upper, size=SIZE_AUTHORITY, reuse=True)
    for line in issuer:
        _para(left, line, size=SIZE_AUTHORITY, bold=True, reuse=True)
    if issuer:
        longest = max(_text_width_cm(line, SIZE_AUTHORITY, bold=True) for line in issuer)
        _short_line(left, min(longest, LEFT_COL_CM) * 0.4, LEFT_COL_CM, before=Pt(1))

    _para(right, NATIONAL_NAME, size=SIZE_NATIONAL, bold=True, reuse=True)
    _para(right, MOTTO, size=SIZE_MOTTO, bold=True)
    _short_line(right, _text_width_cm(MOTTO, SIZE_MOTTO, bold=True), RIGHT_COL_CM,
                before=Pt(1))

    number_cell, date_cell = table.rows[1].cells
    _para(number_cell, format_number_line(report.number, report.symbol), size=SIZE_NUMBER,
          before=Pt(6), reuse=True)
    _para(date_cell, format_date_line(report.place, report.issued_on), size=SIZE_DATE,
          italic=True, before=Pt(6), reuse=True)


def _title_block(doc: DocxDocument, report: AdminReport) -> None:
    kind = _upper(report.kind).strip()
    title = _clean(report.title).strip()
    if kind:
        _para(doc, kind, size=SIZE_TITLE, bold=True, before=Pt(24), keep_next=True)
    if title:
        _para(doc, title, size=SIZE_TITLE, bold=True, before=0 if kind else Pt(24),
              keep_next=True)
    if kind or title:
        longest = max(
            _text_width_cm(line, SIZE_TITLE, bold=True) for line in (title or kind).split("\n")
        )
        _short_line(doc, min(longest, TEXT_WIDTH_CM) / 3, TEXT_WIDTH_CM, before=Pt(4))
        _para(doc, size=6)


def _data_table(doc: DocxDocument, spec: Table) -> None:
    columns = [_clean(c) for c in spec.columns]
    rows = [[_clean(cell) for cell in row] for row in spec.rows]
    count = max([len(columns), *(len(row) for row in rows)])
    if count == 0:
        return
    if spec.widths_cm is not None and len(spec.widths_cm) != count:
        raise ValueError(f"widths_cm has {len(spec.widths_cm)} widths for {count} columns")
    widths = list(spec.widths_cm) if spec.widths_cm else [TEXT_WIDTH_CM / count] * count
    if sum(widths) > TEXT_WIDTH_CM:
        widths = [w * TEXT_WIDTH_CM / sum(widths) for w in widths]

    if spec.caption.strip():
        _para(doc, _clean(spec.caption).strip(), size=SIZE_BODY - 1, bold=True,
              before=PARAGRAPH_SPACING, keep_next=True)
    header = 1 if columns else 0
    table = doc.add_table(rows=len(rows) + header, cols=count, style="Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fixed_widths(table, widths)
    if header:
        _row_flag(table.rows[0]._tr, "w:tblHeader")
        for cell, text in zip(table.rows[0].cells, columns + [""] * count, strict=False):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            _para(cell, text, size=SIZE_TABLE, bold=True, before=Pt(2), reuse=True)
    for row, values in zip(table.rows[header:], rows, strict=True):
        _row_flag(row._tr, "w:cantSplit")
        for index, (cell, text) in enumerate(zip(row.cells, values + [""] * count,
                                                  strict=False)):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            align = WD_ALIGN_PARAGRAPH.RIGHT if index in spec.numeric else WD_ALIGN_PARAGRAPH.LEFT
            _para(cell, text, size=SIZE_TABLE, align=align, before=Pt(2), reuse=True)
    for row in table.rows:
        for cell in row.cells:
            cell.paragraphs[-1].paragraph_format.space_after = Pt(2)
    _para(doc, size=6)  # room between the table and the text after it


def _placeholder(doc: DocxDocument, spec: Placeholder) -> None:
    hint = _clean(spec.hint).strip()
    if not (hint.startswith("[") and hint.endswith("]")):
        hint = f"[{hint}]"
    _body(doc, hint, italic=True, color=HINT_COLOR)
    _body(doc, "")


def _blocks(doc: DocxDocument, blocks: Iterable[Block]) -> None:
    for block in blocks:
        if isinstance(block, Paragraph):
            _body(doc, block.text, bold=block.bold, italic=block.italic)
        elif isinstance(block, Table):
            _data_table(doc, block)
        elif isinstance(block, Placeholder):
            _placeholder(doc, block)
        else:  # pragma: no cover - the type says it cannot happen
            raise TypeError(f"not a block of a report: {block!r}")


def _section(doc: DocxDocument, section: Section, depth: int) -> None:
    heading = _clean(section.heading).strip()
    if heading:
        paragraph = _body(doc, heading, bold=True, italic=depth >= 2, keep_next=True)
        _outline_level(paragraph, depth)
    _blocks(doc, section.blocks)
    for sub in section.subsections:
        _section(doc, sub, depth + 1)


def _sign_off(doc: DocxDocument, report: AdminReport) -> None:
    table = _layout_table(doc, rows=1)
    _row_flag(table.rows[0]._tr, "w:cantSplit")
    left, right = table.rows[0].cells

    recipients = [_clean(r).strip() for r in report.recipients if _clean(r).strip()]
    if recipients:
        _para(left, RECIPIENTS_LABEL, size=SIZE_RECIPIENTS_LABEL, bold=True, italic=True,
              align=WD_ALIGN_PARAGRAPH.LEFT, before=Pt(12), reuse=True)
        for line in recipients:
            text = line if line.startswith(("-", "–")) else f"- {line}"
            _para(left, text, size=SIZE_RECIPIENTS, align=WD_ALIGN_PARAGRAPH.LEFT, reuse=True)

    sig = report.signature
    lines = [_upper(line).strip() for line in sig.title_lines()]
    for index, line in enumerate(lines):
        _para(right, line, size=SIZE_SIGNATURE, bold=True, before=Pt(12) if index == 0 else 0,
              reuse=True)
    _para(right, _clean(sig.name).strip(), size=SIZE_SIGNATURE, bold=True,
          before=SIGNATURE_ROOM, reuse=True)


def _page_setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = PAGE_WIDTH
    section.page_height = PAGE_HEIGHT
    section.top_margin = MARGIN_TOP
    section.bottom_margin = MARGIN_BOTTOM
    section.left_margin = MARGIN_LEFT
    section.right_margin = MARGIN_RIGHT
    section.header_distance = HEADER_DISTANCE
    section.footer_distance = HEADER_DISTANCE
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False  # an empty header of its own
    header = section.header
    header.is_linked_to_previous = False
    number = header.paragraphs[0]
    number.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph_mark_size(number, SIZE_PAGE_NUMBER)
    _page_field(number, SIZE_PAGE_NUMBER)


def _defaults(doc: DocxDocument) -> None:
    """Make Times New Roman 14 pt, Vietnamese, single-spaced the document's defaults."""
    styles = doc.styles.element
    rpr = styles.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))
    if rpr is not None:
        _set_fonts(rpr)
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is not None:
                el.set(qn("w:val"), str(SIZE_BODY * 2))
        lang = rpr.find(qn("w:lang"))
        if lang is not None:
            for key in ("w:val", "w:eastAsia"):
                lang.set(qn(key), LANGUAGE)
    spacing = styles.find(
        "/".join(qn(t) for t in ("w:docDefaults", "w:pPrDefault", "w:pPr", "w:spacing"))
    )
    if spacing is not None:
        spacing.set(qn("w:after"), "0")
        spacing.set(qn("w:line"), "240")
    normal = doc.styles["Normal"]
    _set_fonts(normal.element.get_or_add_rPr())
    normal.font.size = Pt(SIZE_BODY)


def _properties(doc: DocxDocument, report: AdminReport) -> None:
    props = doc.core_properties
    issuer = " ".join(issuer_lines(report.issuer))
    kind = _clean(report.kind).strip()
    props.title = " ".join(_clean(report.title).split())
    props.subject = kind[:1].upper() + kind[1:].lower()
    props.author = issuer
    props.last_modified_by = issuer
    props.language = LANGUAGE
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.revision = 1
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    props.created = now
    props.modified = now


def write_docx(report: AdminReport) -> bytes:
    """Return the DOCX bytes of ``report`` laid out as Nghị định 30/2020/NĐ-CP, Phụ lục I."""
    doc = Document()
    _defaults(doc)
    _page_setup(doc)
    # The template's body starts with no paragraph; the heading table comes first.
    _heading_block(doc, report)
    _title_block(doc, report)
    for line in report.basis:
        if _clean(line).strip():
            _body(doc, _clean(line).strip(), italic=True)
    if _clean(report.intro).strip():
        _body(doc, _clean(report.intro).strip())
    for section in report.sections:
        _section(doc, section, 0)
    _sign_off(doc, report)
    _para(doc, size=1)  # a document ends with a paragraph, not a table
    _properties(doc, report)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
