"""Hostile and damaged import files (issue 15): each is refused quickly with a message that
names what is wrong, and nothing is stored; a file that loses a row never reports success.

"Quickly" is the issue's own line, "each file in under 2 s of work": measured here as the
process's CPU time (not the wall clock, which a busy machine stretches); the files below took
minutes to hours before.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from survey.extensions import db
from survey.models import Answer, Response, User
from survey.services import imports, units
from survey.services.questionnaires import get_questionnaire
from tests.conftest import examples, login

QID = "sipas-dichvu"
WORK_SECONDS = 2.0


@pytest.fixture
def staff(app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    ward = units.create_unit("P", "Phường", "ward", actor="test")
    units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
    db.session.commit()
    make_user("totruong", "admin")
    assert login(client, "totruong").status_code == 302
    return client


def stored() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0)


@contextmanager
def work_limit() -> Iterator[None]:
    started = time.process_time()
    yield
    spent = time.process_time() - started
    assert spent < WORK_SECONDS, f"{spent:.1f} s of work"


def refused(client: FlaskClient, name: str, content: bytes, *expected: str) -> str:
    """Upload a file; check it is refused with each expected text and nothing is stored."""
    before = stored()
    with work_limit():
        response = upload(client, name, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:500]
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    for words in expected:
        assert words in text, (words, text[:1500])
    assert stored() == before
    return text


def upload(client: FlaskClient, name: str, content: bytes) -> TestResponse:
    """Post a file to the import page (encoded in memory: the test client would spool a large
    one to a temporary file it never closes)."""
    boundary, body = encode_multipart(MultiDict([
        ("questionnaire", QID), ("channel", "paper"), ("unit", "Q1"),
        ("file", FileStorage(io.BytesIO(content), filename=name))]))
    return client.post("/staff/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def xlsx(rows: list[list[object]], patch: Callable[[str], str] | None = None) -> bytes:
    """A workbook of ``rows`` written by openpyxl, its sheet's XML changed by ``patch``."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if patch is None:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w",
                                                            zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = patch(data.decode()).encode()
            target.writestr(name, data)
    return out.getvalue()


# --- wide, tall, blank, bad rows ------------------------------------------------------------


def test_a_header_of_100000_columns_is_refused_at_once(staff: FlaskClient) -> None:
    content = ("q15," * 100_000 + "q16\n4\n").encode()
    refused(staff, "wide.csv", content, "dòng tiêu đề có 100001 cột, quá nhiều",
            "tối đa 1000 cột")


def test_rows_of_100000_cells_are_read_in_linear_time(staff: FlaskClient) -> None:
    content = ("unit,q15\n" + ("Q1,4" + ",x" * 100_000 + "\n") * 30).encode()
    refused(staff, "tall.csv", content, "Dòng 2", "nhiều ô hơn số cột của dòng tiêu đề")


def test_millions_of_blank_lines_stop_after_ten_thousand(staff: FlaskClient) -> None:
    content = b"unit,q15\nQ1,4\n" + b"\n" * 19_000_000 + b"Q1,5\n"
    refused(staff, "blank.csv", content, "200000 dòng trống liền nhau")
    content = b"unit,q15\nQ1,4\n" + b"\n" * 10_000 + b"Q1,5\n"
    refused(staff, "blank.csv", content, "Dòng 10003", "10000 dòng trống liền nhau")
    # At the end they are no rows: the file imports its one row, at once.
    with work_limit():
        response = upload(staff, "tail.csv", b"unit,q15\nQ1,4\n" + b"\r\n" * 9_000_000)
    assert response.status_code == 302
    assert stored() == 1


def test_checking_stops_at_the_error_cap_whatever_follows(staff: FlaskClient) -> None:
    """20 MB of bad rows: 200 errors, then nothing more is read or built."""
    line = "Q1,9,9,9,9,9,9,9,9,9,9\n"
    content = ("unit," + ",".join(f"q{i}" for i in range(15, 25)) + "\n").encode() + (
        line.encode() * (19_000_000 // len(line)))
    text = refused(staff, "bad.csv", content, "dừng kiểm tra sau 200 lỗi (ở dòng 22)")
    assert text.count("không có trong câu này") == 200


# --- XLSX that lies about its size, or holds formulas without values --------------------


def claim(xml: str) -> str:
    """Make a sheet claim every cell of a sheet: A1:XFD1048576."""
    return re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)


def far(xml: str) -> str:
    """Add a cell at the sheet's last row."""
    return xml.replace("</sheetData>", '<row r="1048576"><c r="B1048576"><v>4</v></c>'
                                       "</row></sheetData>")


def test_an_xlsx_claiming_the_whole_sheet_is_read_as_it_is(staff: FlaskClient) -> None:
    """<dimension ref="A1:XFD1048576"/> and a cell in the last row: 5 KB that the reader took
    for a million rows of 16,384 cells each (37 minutes). The claim is not trusted; the
    blank rows before the last one stop the import after 10,000."""
    content = xlsx([["unit", "q15", "q16"], ["Q1", 4, 5]], lambda xml: far(claim(xml)))
    assert len(content) < 10_000
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(content)).read(
        "xl/worksheets/sheet1.xml")
    refused(staff, "claim.xlsx", content, "200000 dòng trống liền nhau")
    content = xlsx([["unit", "q15", "q16"], ["Q1", 4, 9]], claim)
    refused(staff, "claim.xlsx", content, "Dòng 2", "mã “9” không có trong câu này")
    # The same claim on a good file imports its one row.
    good = xlsx([["unit", "q15", "q16"], ["Q1", 4, 5]], claim)
    with work_limit():
        response = upload(staff, "claim.xlsx", good)
    assert response.status_code == 302
    assert stored() == 1


def test_an_xlsx_with_a_row_at_the_bottom_of_the_sheet_is_refused(staff: FlaskClient) -> None:
    """A cell at row 1,048,576: a million blank rows before it, which stop after 10,000."""
    refused(staff, "far.xlsx", xlsx([["unit", "q15"], ["Q1", 4]], far),
            "200000 dòng trống liền nhau")


def test_blank_rows_at_the_end_of_a_sheet_are_no_rows(staff: FlaskClient) -> None:
    """Excel keeps formatted empty rows: 30,000 of them after the data import the data."""
    def formatted(xml: str) -> str:
        empty = "".join(f'<row r="{r}" s="1" customFormat="1"/>' for r in range(3, 30_003))
        return xml.replace("</sheetData>", empty + "</sheetData>")

    with work_limit():
        response = upload(staff, "tail.xlsx", xlsx([["unit", "q15"], ["Q1", 4]], formatted))
    assert response.status_code == 302
    assert stored() == 1


def test_an_xlsx_that_unpacks_to_far_more_than_its_size_is_refused(staff: FlaskClient) -> None:
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(xlsx([["unit", "q15"], ["Q1", 4]])))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.writestr("xl/padding.bin", b"\0" * 60_000_000)
    assert len(buffer.getvalue()) < 200_000
    refused(staff, "bomb.xlsx", buffer.getvalue(), "XLSX khi giải nén lớn hơn 16 MB")


def test_a_formula_without_a_value_is_an_error_naming_row_and_column(
        staff: FlaskClient) -> None:
    """openpyxl writes formulas without computed values: read as blank, the answer was lost
    without a word; now the row and the column are named."""
    content = xlsx([["unit", "q15", "q16"], ["Q1", 4, 5], ["Q1", "=2+2", 5]])
    refused(staff, "formula.xlsx", content, "Dòng 3", "q15",
            "ô có công thức nhưng không có giá trị đã tính")


def test_a_formula_with_its_computed_value_imports_the_value(app: Flask, staff: FlaskClient
                                                              ) -> None:
    """As Excel and LibreOffice save it: the formula and its last value ("" included)."""
    def computed(xml: str) -> str:
        xml = re.sub(r"<f>2\+2</f>(<v\s*/>|<v></v>)?", "<f>2+2</f><v>4</v>", xml)
        return re.sub(r'<c r="D2"[^>]*>.*?</c>',
                      '<c r="D2" t="str"><f>IF(A2="","",A2)</f><v></v></c>', xml)

    content = xlsx([["unit", "q15", "q16", "y_kien"], ["Q1", "=2+2", 5, "x"]], computed)
    assert b'<f>IF(A2="","",A2)</f><v></v>' in zipfile.ZipFile(io.BytesIO(content)).read(
        "xl/worksheets/sheet1.xml")
    assert b"<v>4</v>" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    response = upload(staff, "computed.xlsx", content)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Answer.option_code).where(
        Answer.question_id == "q15")) == 4


# --- a quote left open ------------------------------------------------------------------------


def test_an_unclosed_quote_is_an_error_not_a_swallowed_row(staff: FlaskClient) -> None:
    """A text whose closing quote is missing took every row after it into one comment, and
    the import reported success with rows lost."""
    content = ('unit,q15,y_kien\nQ1,4,Tốt\nQ1,5,"Chờ lâu\nQ1,3,Khá\nQ1,2,Chậm\n').encode()
    refused(staff, "quote.csv", content, "Dòng 3",
            "không đọc được tệp từ dòng này trở đi")


def test_the_command_line_names_the_row_of_an_unclosed_quote(app: Flask) -> None:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    ward = units.create_unit("P", "Phường", "ward", actor="test")
    unit = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
    db.session.commit()
    with pytest.raises(imports.ImportFailed) as info:
        imports.import_file("x.csv", questionnaire, default_unit=unit,
                            content=b'q15,y_kien\n4,"open\n5,b\n')
    assert info.value.errors[0].startswith("row 2, column -: the file cannot be read")
    db.session.rollback()
    assert stored() == 0


# --- all of these at once, in any mix -----------------------------------------------------


@st.composite
def hostile_files(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """A file with some hostile features: (name, content, whether it must be refused)."""
    xlsx_file = draw(st.booleans())
    width = draw(st.sampled_from([2, 3, 1001, 5000]))  # header columns
    bad = draw(st.sampled_from([0, 0, 1, 250]))  # rows with a wrong code
    blanks = draw(st.sampled_from([0, 5, 10_000, 30_000]))  # blank rows in a row
    long_rows = draw(st.sampled_from([0, 3000]))  # surplus cells on the good rows
    header = ["unit", "q15", "q16"][:width] + ["q17"] * max(0, width - 3)
    rows: list[list[object]] = [["Q1", 4, 5][:min(width, 3)] + [""] * long_rows]
    rows += [["Q1", 9, 5][:min(width, 3)]] * bad
    rows += [[]] * blanks + [["Q1", 3, 3][:min(width, 3)]]
    must_refuse = width > 3 or bad > 0 or blanks >= 10_000
    if xlsx_file:
        formula = draw(st.booleans())
        if formula:
            rows.append(["Q1", "=2+2", 5][:min(width, 3)])
        patch = draw(st.sampled_from([None, claim, far, lambda xml: far(claim(xml))]))
        # A cell at the sheet's last row puts a million blank rows before it.
        must_refuse = must_refuse or formula or (patch is not None and patch is not claim)
        return "hostile.xlsx", xlsx([header, *rows], patch), must_refuse
    quote = draw(st.booleans())
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    if quote:
        lines[1] += ',"khong dong ngoac'
    return "hostile.csv", ("\n".join(lines) + "\n").encode(), must_refuse or quote


@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(hostile=hostile_files())
def test_hostile_files_in_any_mix_are_refused_quickly_and_store_nothing(
        staff: FlaskClient, hostile: tuple[str, bytes, bool]) -> None:
    """Wide, tall, blank, sparse-claimed, mis-quoted and formula-only files, mixed: each takes
    under 2 s of work, and is refused with its reasons and nothing stored, or stored whole."""
    name, content, must_refuse = hostile
    before = stored()
    with work_limit():
        response = upload(staff, name, content)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert "Không nhập phiếu nào" in response.get_data(as_text=True)
        assert stored() == before
    else:
        assert not must_refuse, name
        db.session.execute(sa.delete(Response))  # the next example starts empty again
        db.session.commit()
    if must_refuse:
        assert response.status_code == 400
