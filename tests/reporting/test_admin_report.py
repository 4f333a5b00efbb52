"""The ward's báo cáo as DOCX, laid out as Nghị định 30/2020/NĐ-CP, Phụ lục I asks.

Each test writes a report, reads the DOCX back with python-docx and checks what the decree
fixes: the two columns of the heading, "Số:", the date line, the kind and trích yếu, the căn
cứ, the sections and tables, "Nơi nhận:" and the signature, fonts, margins, page numbers. One
test prints the sample through LibreOffice and reads the PDF's text.
"""

from __future__ import annotations

import io
import subprocess
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Length, Pt
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from survey.reporting.admin_report import (
    AdminReport,
    Paragraph,
    Placeholder,
    Section,
    Signature,
    Table,
    format_date_line,
    format_number_line,
    write_docx,
)
from tests.conftest import require_program
from tools.admin_report_sample import sample_report

BASIS = [
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác "
    "văn thư;",
    "Căn cứ kết quả khảo sát sự hài lòng Quý IV/2025.",
]
TITLE = "Kết quả khảo sát sự hài lòng của người dân, tổ chức Quý IV/2025"
ELEMENTS = Table(
    caption="Bảng 1. Mức độ hài lòng theo từng yếu tố",
    columns=["STT", "Yếu tố", "Hài lòng (%)"],
    rows=[["1", "Tiếp cận dịch vụ", "88,3"], ["2", "Thủ tục hành chính", "84,7"]],
    widths_cm=[1.5, 10.0, 4.0],
    numeric={2},
)


def report(**changes: object) -> AdminReport:
    base = AdminReport(
        upper_authority="UBND THÀNH PHỐ HẢI PHÒNG",
        issuer="ỦY BAN NHÂN DÂN PHƯỜNG TRẦN LIỄU",
        number="12",
        place="Trần Liễu",
        issued_on=date(2026, 1, 5),
        title=TITLE,
        basis=list(BASIS),
        intro="UBND phường báo cáo kết quả như sau:",
        sections=[
            Section(
                heading="I. KẾT QUẢ KHẢO SÁT",
                blocks=[Paragraph("Phường thu được 412 phiếu hợp lệ.")],
                subsections=[
                    Section(
                        heading="1. Chỉ số chung",
                        blocks=[ELEMENTS],
                        subsections=[Section(heading="a) Theo lĩnh vực",
                                             blocks=[Paragraph("Đất đai, hộ tịch.")])],
                    ),
                ],
            ),
            Section(heading="II. TỒN TẠI, HẠN CHẾ",
                    blocks=[Placeholder("Đơn vị điền: nêu những tồn tại, hạn chế")]),
        ],
        recipients=["- UBND thành phố;", "- Sở Nội vụ;", "- Lưu: VT, VHXH."],
        signature=Signature(authority="TM. ỦY BAN NHÂN DÂN", title="CHỦ TỊCH",
                            name="Nguyễn Văn A"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def read(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


def cell_lines(table: DocxTable, row: int, col: int) -> list[str]:
    return [p.text for p in table.cell(row, col).paragraphs if p.text]


def body_texts(doc: DocxDocument) -> list[str]:
    return [p.text for p in doc.paragraphs if p.text]


def paragraph(doc: DocxDocument, text: str) -> DocxParagraph:
    found = [p for p in doc.paragraphs if p.text == text]
    assert len(found) == 1, f"{text!r} found {len(found)} times"
    return found[0]


def all_text(doc: DocxDocument) -> str:
    return "\n".join(t.text or "" for t in doc.element.body.iter(qn("w:t")))


def test_the_heading_has_the_issuer_on_the_left_and_the_national_name_on_the_right() -> None:
    doc = read(write_docx(report()))
    head = doc.tables[0]
    assert cell_lines(head, 0, 0) == [
        "UBND THÀNH PHỐ HẢI PHÒNG", "ỦY BAN NHÂN DÂN", "PHƯỜNG TRẦN LIỄU"]
    assert cell_lines(head, 0, 1) == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    # Số and the date share a row, so they print on the same line.
    assert cell_lines(head, 1, 0) == ["Số: 12/BC-UBND"]
    assert cell_lines(head, 1, 1) == ["Trần Liễu, ngày 05 tháng 01 năm 2026"]

    upper, *issuer = [p for p in head.cell(0, 0).paragraphs if p.text]
    assert not upper.runs[0].bold
    assert upper.runs[0].font.size == Pt(13)
    assert all(p.runs[0].bold for p in issuer)
    national, motto = [p for p in head.cell(0, 1).paragraphs if p.text]
    assert national.runs[0].bold
    assert national.runs[0].font.size == Pt(12)
    assert motto.runs[0].bold
    assert motto.runs[0].font.size == Pt(13)
    date_line = head.cell(1, 1).paragraphs[0]
    assert date_line.runs[0].italic
    assert not date_line.runs[0].bold
    # A line under the issuer and under the motto: paragraphs with a bottom border only.
    for cell in (head.cell(0, 0), head.cell(0, 1)):
        rule = cell.paragraphs[-1]
        assert rule.text == ""
        assert rule._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None
    # Borderless.
    borders = head._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}


def test_a_blank_number_leaves_room_for_the_clerk_and_small_numbers_take_a_zero() -> None:
    assert format_number_line("", "BC-UBND") == "Số:      /BC-UBND"
    assert format_number_line("5", "BC-UBND") == "Số: 05/BC-UBND"
    assert format_number_line("12", "BC-UBND") == "Số: 12/BC-UBND"
    assert format_number_line("123", "KH-UBND") == "Số: 123/KH-UBND"
    doc = read(write_docx(report(number="")))
    assert cell_lines(doc.tables[0], 1, 0) == ["Số:      /BC-UBND"]


@pytest.mark.parametrize(("day", "line"), [
    (date(2026, 1, 5), "Trần Liễu, ngày 05 tháng 01 năm 2026"),
    (date(2026, 2, 28), "Trần Liễu, ngày 28 tháng 02 năm 2026"),
    (date(2026, 3, 2), "Trần Liễu, ngày 02 tháng 3 năm 2026"),
    (date(2025, 9, 10), "Trần Liễu, ngày 10 tháng 9 năm 2025"),
    (date(2025, 12, 31), "Trần Liễu, ngày 31 tháng 12 năm 2025"),
])
def test_the_day_below_ten_and_january_and_february_take_a_leading_zero(
    day: date, line: str,
) -> None:
    assert format_date_line("Trần Liễu", day) == line


def test_the_kind_and_title_then_the_basis_intro_and_sections_come_in_order() -> None:
    doc = read(write_docx(report()))
    assert body_texts(doc) == [
        "BÁO CÁO",
        TITLE,
        *BASIS,
        "UBND phường báo cáo kết quả như sau:",
        "I. KẾT QUẢ KHẢO SÁT",
        "Phường thu được 412 phiếu hợp lệ.",
        "1. Chỉ số chung",
        "Bảng 1. Mức độ hài lòng theo từng yếu tố",
        "a) Theo lĩnh vực",
        "Đất đai, hộ tịch.",
        "II. TỒN TẠI, HẠN CHẾ",
        "[Đơn vị điền: nêu những tồn tại, hạn chế]",
    ]
    for text in ("BÁO CÁO", TITLE):
        p = paragraph(doc, text)
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert p.runs[0].bold
    for text in BASIS:
        assert paragraph(doc, text).runs[0].italic
    intro = paragraph(doc, "UBND phường báo cáo kết quả như sau:")
    assert not intro.runs[0].italic
    assert not intro.runs[0].bold
    for heading in ("I. KẾT QUẢ KHẢO SÁT", "1. Chỉ số chung", "II. TỒN TẠI, HẠN CHẾ"):
        p = paragraph(doc, heading)
        assert p.runs[0].bold
        assert not p.runs[0].italic
        assert p.paragraph_format.keep_with_next
    assert paragraph(doc, "a) Theo lĩnh vực").runs[0].italic  # the third level
    body = paragraph(doc, "Phường thu được 412 phiếu hợp lệ.")
    fmt = body.paragraph_format
    assert body.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert fmt.first_line_indent is not None
    assert 1.0 <= fmt.first_line_indent.cm <= 1.27
    assert fmt.space_before == Pt(6)
    assert fmt.line_spacing is not None
    assert 1.0 <= float(fmt.line_spacing) <= 1.5
    assert body.runs[0].font.size == Pt(14)


def test_a_table_has_its_cells_a_bold_header_row_and_right_aligned_numbers() -> None:
    doc = read(write_docx(report()))
    table = doc.tables[1]
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["STT", "Yếu tố", "Hài lòng (%)"],
        ["1", "Tiếp cận dịch vụ", "88,3"],
        ["2", "Thủ tục hành chính", "84,7"],
    ]
    header = table.rows[0]
    assert all(c.paragraphs[0].runs[0].bold for c in header.cells)
    assert header._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None  # on each page
    first = table.rows[1].cells
    assert first[2].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert first[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert all(not c.paragraphs[0].runs[0].bold for c in first)
    assert first[1].paragraphs[0].runs[0].font.size == Pt(12)
    assert table.style is not None
    assert table.style.name == "Table Grid"
    assert [round(c.width.cm, 2) for c in table.columns] == [1.5, 10.0, 4.0]


def test_table_widths_are_shared_or_scaled_to_the_text_width() -> None:
    even = Table(columns=["A", "B", "C"], rows=[["1", "2", "3"]])
    wide = Table(columns=["A", "B"], rows=[], widths_cm=[20.0, 13.0])
    doc = read(write_docx(report(sections=[Section("I. X", blocks=[even, wide])])))
    assert [round(c.width.cm, 2) for c in doc.tables[1].columns] == [5.5, 5.5, 5.5]
    # 20 : 13 of the 16.5 cm text width.
    assert [round(c.width.cm, 2) for c in doc.tables[2].columns] == [10.0, 6.5]
    with pytest.raises(ValueError, match="widths_cm"):
        write_docx(report(sections=[Section("I. X", blocks=[
            Table(columns=["A", "B"], rows=[], widths_cm=[3.0])])]))


def test_a_placeholder_is_a_grey_italic_hint_followed_by_an_empty_line() -> None:
    doc = read(write_docx(report()))
    hint = paragraph(doc, "[Đơn vị điền: nêu những tồn tại, hạn chế]")
    assert hint.runs[0].italic
    assert str(hint.runs[0].font.color.rgb) == "7F7F7F"
    elements = [p._p for p in doc.paragraphs]
    after = doc.paragraphs[elements.index(hint._p) + 1]
    assert after.text == ""
    assert after.paragraph_format.first_line_indent is not None  # typed at the body's indent
    bracketed = read(write_docx(report(sections=[Section("", blocks=[Placeholder("[Ghi]")])])))
    assert "[Ghi]" in body_texts(bracketed)
    assert "[[Ghi]]" not in body_texts(bracketed)


def test_the_sign_off_has_the_recipients_on_the_left_and_the_signature_on_the_right() -> None:
    doc = read(write_docx(report()))
    sign_off = doc.tables[-1]
    assert cell_lines(sign_off, 0, 0) == [
        "Nơi nhận:", "- UBND thành phố;", "- Sở Nội vụ;", "- Lưu: VT, VHXH."]
    assert cell_lines(sign_off, 0, 1) == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn A"]
    label, *lines = [p for p in sign_off.cell(0, 0).paragraphs if p.text]
    assert label.runs[0].bold
    assert label.runs[0].italic
    assert label.runs[0].font.size == Pt(12)
    assert all(p.runs[0].font.size == Pt(11) and not p.runs[0].bold for p in lines)
    signature = [p for p in sign_off.cell(0, 1).paragraphs if p.text]
    assert all(p.runs[0].bold for p in signature)
    name = signature[-1]
    assert name.paragraph_format.space_before is not None
    assert name.paragraph_format.space_before.cm >= 2.5  # room for the signature and seal
    assert sign_off.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None

    deputy = read(write_docx(report(
        signature=Signature(name="Trần Thị B", deputy=True),
        recipients=["UBND thành phố;", "- Lưu: VT."],
    )))
    assert cell_lines(deputy.tables[-1], 0, 1) == [
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị B"]
    assert cell_lines(deputy.tables[-1], 0, 0) == [
        "Nơi nhận:", "- UBND thành phố;", "- Lưu: VT."]


def test_every_run_and_the_defaults_are_times_new_roman_for_every_script() -> None:
    doc = read(write_docx(report()))
    parts = [doc.element, doc.styles.element]
    section = doc.sections[0]
    parts += [section.header._element, section.first_page_header._element]
    checked = 0
    for part in parts:
        for rpr in part.iter(qn("w:rPr")):
            if rpr.getparent().tag not in (qn("w:r"), qn("w:rPrDefault")):
                continue
            fonts = rpr.find(qn("w:rFonts"))
            assert fonts is not None
            assert {fonts.get(qn(k)) for k in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")} == {
                "Times New Roman"}
            assert not any(k.endswith("Theme") or k.endswith("theme") for k in fonts.attrib)
            checked += 1
    assert checked > 30
    default = doc.styles.element.find(
        "/".join(qn(t) for t in ("w:docDefaults", "w:rPrDefault", "w:rPr", "w:lang")))
    assert default.get(qn("w:val")) == "vi-VN"
    assert doc.styles["Normal"].font.name == "Times New Roman"


def test_the_page_is_a4_portrait_with_the_decrees_margins_and_numbers_from_page_two() -> None:
    section = read(write_docx(report())).sections[0]
    def mm(length: Length | None) -> float:
        assert length is not None
        return round(length.mm, 1)  # stored in twips: 210 mm is 11906 twips, 210.01 mm

    assert (mm(section.page_width), mm(section.page_height)) == (210.0, 297.0)
    assert 20 <= mm(section.top_margin) <= 25
    assert 20 <= mm(section.bottom_margin) <= 25
    assert 30 <= mm(section.left_margin) <= 35
    assert 15 <= mm(section.right_margin) <= 20
    assert section.different_first_page_header_footer
    header = section.header
    assert not header.is_linked_to_previous
    number = header.paragraphs[0]
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    instructions = [t.text for t in number._p.iter(qn("w:instrText"))]
    assert [i.strip() for i in instructions] == ["PAGE"]
    first = section.first_page_header
    assert not first.is_linked_to_previous
    assert all(p.text == "" for p in first.paragraphs)
    assert not list(first._element.iter(qn("w:instrText")))


def test_the_core_properties_name_the_report_and_its_issuer_in_vietnamese() -> None:
    props = read(write_docx(report())).core_properties
    assert props.title == TITLE
    assert props.author == "ỦY BAN NHÂN DÂN PHƯỜNG TRẦN LIỄU"
    assert props.language == "vi-VN"
    assert props.subject == "Báo cáo"
    assert "python-docx" not in (props.comments or "")


def test_vietnamese_text_comes_back_exactly_and_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hường, phường Trần Liễu: ổn định")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    doc = read(write_docx(report(
        sections=[Section("I. ĐÁNH GIÁ", blocks=[Paragraph(decomposed)])],
        signature=Signature(name=decomposed),
    )))
    expected = "Nguyễn Thị Hường, phường Trần Liễu: ổn định"
    assert expected in body_texts(doc)
    assert expected in cell_lines(doc.tables[-1], 0, 1)
    text = all_text(doc)
    assert text == unicodedata.normalize("NFC", text)
    for line in (TITLE, *BASIS, "Trần Liễu, ngày 05 tháng 01 năm 2026", "PHƯỜNG TRẦN LIỄU"):
        assert line in text


def test_a_report_with_nothing_in_its_lists_is_still_a_document() -> None:
    bare = report(basis=[], intro="", sections=[], recipients=[],
                  signature=Signature(authority="", title="", name=""))
    doc = read(write_docx(bare))
    assert body_texts(doc) == ["BÁO CÁO", TITLE]
    assert "Nơi nhận:" not in all_text(doc)
    odd = report(
        upper_authority="", issuer="", title="Dòng một\nDòng hai",
        sections=[Section("", blocks=[
            Table(columns=[], rows=[]),
            Table(columns=["A"], rows=[["1", "2"], []]),
            Paragraph("ký tự \x00điều khiển\x0b bị bỏ\r\ndòng mới"),
        ], subsections=[Section("")])],
    )
    doc = read(write_docx(odd))
    assert [[c.text for c in row.cells] for row in doc.tables[1].rows] == [
        ["A", ""], ["1", "2"], ["", ""]]
    assert "ký tự điều khiển bị bỏ\ndòng mới" in body_texts(doc)
    assert "Dòng một\nDòng hai" in body_texts(doc)


def test_the_sample_prints_through_libreoffice_with_the_decrees_parts(tmp_path: Path) -> None:
    soffice = require_program("soffice")
    pdftotext = require_program("pdftotext")
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(write_docx(sample_report()))
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.exists()
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, timeout=60).stdout.decode()
    text = unicodedata.normalize("NFC", text)
    pages = text.split("\f")
    first = pages[0]
    for part in ("UBND THÀNH PHỐ HẢI PHÒNG", "ỦY BAN NHÂN DÂN", "PHƯỜNG TRẦN LIỄU",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "Số:", "/BC-UBND", "Trần Liễu, ngày 05 tháng 01 năm 2026", "BÁO CÁO",
                 "Kết quả khảo sát sự hài lòng của người dân, tổ chức Quý IV/2025"):
        assert part in first, part
    # Số and the date print on one line.
    assert any("Số:" in line and "Trần Liễu, ngày" in line for line in first.splitlines())
    assert "Tiếp cận dịch vụ" in text
    assert "Chuyển đổi số trong cung ứng dịch vụ" in text
    # The recipients and the signer share the last page; page numbers start on page two.
    last = [p for p in pages if p.strip()][-1]
    assert "Nơi nhận" in last
    assert "Nguyễn Văn A" in last
    assert "CHỦ TỊCH" in last
    assert len([p for p in pages if p.strip()]) >= 2
    assert pages[1].strip().splitlines()[0].strip() == "2"
    assert not first.strip().splitlines()[0].strip().isdigit()
