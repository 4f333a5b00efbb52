"""Bad input, fuzzed with hypothesis: import files, query parameters, login.

Whatever arrives: never a 5xx, a clear message, and nothing invalid stored. (The citizen's form
is fuzzed in test_public.py, odd URLs in test_security.py.) The number of examples is bounded
so that CI stays quick; raise it locally with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from survey.extensions import db
from survey.models import Response, User
from survey.services import rollups, units
from survey.services.questionnaires import get_questionnaire
from tests.conftest import Outcomes, examples, login

QID = "sipas-dichvu"
FUZZ = settings(max_examples=examples(40), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_cell = st.one_of(_text, st.sampled_from(
    ["4", "5", "0", "6", "-1", "4.0", " 4 ", "=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
     "\t=1", "Q1", "T1", "QUAY-1", "qr", "paper", "2026-02-30", "2026-01-15T08:00:00+07:00",
     "", "null", "None", "Tốt lắm", "Tô\u0301t", "x" * 3000]))
_columns = st.lists(st.sampled_from(
    ["unit", "channel", "submitted_at", "response_id", "q15", "q16", "q33", "y_kien",
     "linh_vuc", "gioi_tinh", "q99", "", "Q15", "unit ", "q15"]), min_size=1, max_size=6)


def count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0)


def assert_stored_is_valid() -> None:
    """Every stored answer is one the questionnaire allows; rollups match a rebuild."""
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    for response in db.session.scalars(sa.select(Response)):
        for answer in response.answers:
            question = questionnaire.question(answer.question_id)
            assert question is not None
            if answer.option_code is not None:
                assert answer.option_code in {o.code for o in question.options}
            else:
                assert answer.text_value
                assert answer.text_value == answer.text_value.strip()
    assert rollups.in_step()


@pytest.fixture
def staff(app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    ward = units.create_unit("P", "Phường", "ward", actor="test")
    for code in ("Q1", "T1"):
        units.create_unit(code, f"Đơn vị {code}", "counter", parent=ward, actor="test")
    db.session.commit()
    make_user("canbo", "admin")
    assert login(client, "canbo").status_code == 302
    return client


def upload(client: FlaskClient, name: str, content: bytes, unit: str = "Q1") -> Any:
    return client.post("/staff/import", data={
        "questionnaire": QID, "channel": "paper", "unit": unit,
        "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def check_upload(client: FlaskClient, name: str, content: bytes, unit: str = "Q1") -> int:
    before = count()
    response = upload(client, name, content, unit)
    html = response.get_data(as_text=True)
    with contextlib.suppress(InvalidArgument):  # outside a hypothesis test: no statistics
        event(f"HTTP {response.status_code}")
    assert response.status_code in (302, 400, 413), (response.status_code, html[:300])
    if response.status_code == 302:
        assert "Đã nhập" in client.get(response.headers["Location"]).get_data(as_text=True)
        assert_stored_is_valid()
    else:
        assert count() == before, "a refused file stored something"
        assert "Traceback" not in html
        if response.status_code == 400:
            assert ("Không nhập phiếu nào" in html or "Chỉ nhận tệp" in html
                    or "class=\"errors\"" in html), html[:500]
    return response.status_code


def _valid_cell(question: Any, column: str) -> st.SearchStrategy[str]:
    """What a well-filled column holds (blank included: paper comes back incomplete)."""
    if column == "response_id":
        return st.one_of(st.just(""), st.builds(lambda: str(uuid.uuid4())))
    if column == "submitted_at":
        return st.sampled_from(["", "2026-01-15T08:00:00+07:00", "2026-03-02 14:30",
                                "2025-12-31T23:59:59Z"])
    if column == "unit":
        return st.sampled_from(["Q1", "T1"])
    if column == "channel":
        return st.sampled_from(["", "paper", "import"])
    if question.type == "choice":
        return st.one_of(st.just(""), st.sampled_from([str(o.code) for o in question.options]))
    return st.one_of(st.just(""), _text.filter(lambda t: "\x00" not in t))


@st.composite
def _import_files(draw: st.DrawFn) -> tuple[bytes, str, tuple[int, int]]:
    """A CSV import as a ward would make it, then, in three files of five, one to three faults.

    Returns (content, what was done: "clean" or the list of faults, (fewest, most) rows a
    clean file stores).
    """
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    known = ["response_id", "submitted_at", "unit", "channel",
             *(q.id for q in questionnaire.questions)]
    columns = draw(st.lists(st.sampled_from(known), min_size=1, max_size=8, unique=True))
    rows = [[draw(_valid_cell(questionnaire.question(c), c)) for c in columns]
            for _ in range(draw(st.integers(1, 4)))]
    encoding, delimiter, faults = "utf-8", ",", []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        fault = draw(st.sampled_from(["code", "cell", "column", "encoding", "delimiter",
                                      "ragged"]))
        faults.append(fault)
        row = draw(st.sampled_from(rows))
        if fault in ("code", "cell") and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(
                st.sampled_from(["9", "x", "0", "-1", "1.5", "٣"]) if fault == "code"
                else _cell)
        elif fault == "column":
            columns.append(draw(_columns)[0])
            for row in rows:
                row.append(draw(_cell))
        elif fault == "encoding":
            encoding = draw(st.sampled_from(["utf-8-sig", "utf-16", "cp1258", "latin-1"]))
        elif fault == "delimiter":
            delimiter = draw(st.sampled_from([";", "\t"]))
        elif fault == "ragged" and row:
            row.pop()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    # A clean file stores every row with a code in it, and no more rows than it has.
    coded = sum(1 for row in rows if any(
        value.isdigit() and (q := questionnaire.question(c)) is not None and q.type == "choice"
        for c, value in zip(columns, row, strict=False)))
    return (buffer.getvalue().encode(encoding, errors="replace"), ",".join(faults) or "clean",
            (coded, len(rows)))


def test_fuzzed_csv_imports_never_fail(staff: FlaskClient) -> None:
    """Mostly good files with some faults: stores them whole or refuses them whole."""
    outcomes = Outcomes()

    @FUZZ
    @given(upload_file=_import_files())
    def check(upload_file: tuple[bytes, str, tuple[int, int]]) -> None:
        content, faults, (fewest, most) = upload_file
        before = count()
        status = check_upload(staff, "phieu.csv", content)
        outcomes.add("stored" if status == 302 else "refused")
        if faults == "clean":
            assert status == 302, content[:500]
            assert fewest <= count() - before <= most, content[:500]  # not a row lost

    check()
    outcomes.require_share("stored", 0.3)
    outcomes.require_share("refused", 0.1)


def _good_csv() -> bytes:
    return ("response_id,unit,q15,q16,y_kien\n"
            f"{uuid.uuid4()},Q1,4,5,Tốt\n{uuid.uuid4()},T1,2,,Chờ lâu\n").encode()


@FUZZ
@given(content=st.one_of(st.binary(max_size=2000), st.builds(
    lambda edits, tail: _flip(_good_csv(), edits) + tail,
    st.lists(st.tuples(st.integers(0, 200), st.binary(min_size=1, max_size=3)), max_size=3),
    st.binary(max_size=40))),
    name=st.sampled_from(["phieu.csv", "phieu.xlsx", "phieu.CSV", "phieu", "phieu.csv.exe",
                          "../../phieu.csv", "phiếu.xlsx", ""]))
def test_fuzzed_binary_uploads_never_fail(staff: FlaskClient, content: bytes, name: str) -> None:
    """Random bytes, and good files with a few bytes changed, under odd names."""
    check_upload(staff, name, content)


def _flip(content: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    data = bytearray(content)
    for at, new in edits:
        at %= len(data)
        data[at:at + len(new)] = new
    return bytes(data)


def _xlsx_members(rows: list[tuple[str, int, int | None, str]]) -> dict[str, bytes]:
    """The parts of a valid workbook holding ``rows``, written by openpyxl."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Dữ liệu"
    sheet.append(["unit", "q15", "q16", "y_kien"])
    for row in rows:
        sheet.append(list(row))
    for line in sheet.iter_rows():
        for cell in line:  # a text that looks like a formula, kept as text
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


_xlsx_rows = st.lists(st.tuples(st.sampled_from(["Q1", "T1"]), st.integers(1, 5),
                                st.one_of(st.none(), st.integers(1, 5)),
                                st.sampled_from(["", "Tốt", "Chờ lâu", "=1+1"])),
                      min_size=1, max_size=3)


def test_fuzzed_xlsx_archives_never_fail(staff: FlaskClient) -> None:
    """A real workbook with some of its parts dropped or replaced by anything."""
    outcomes = Outcomes()

    @FUZZ
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        outcomes.add("stored" if _xlsx_example(staff, data) == 302 else "refused")

    check()
    outcomes.require_share("stored", 0.2)
    outcomes.require_share("refused", 0.1)


def _xlsx_example(staff: FlaskClient, data: st.DataObject) -> int:
    good = _xlsx_members(data.draw(_xlsx_rows))
    members = dict(good)
    size = data.draw(st.sampled_from([0, 0, 1, 2, 3]))  # two workbooks in five left whole
    parts = sorted(name for name in members if not name.startswith("docProps/"))
    for name in data.draw(st.lists(st.sampled_from(parts), min_size=min(size, 1),
                                   max_size=size, unique=True)):
        if data.draw(st.booleans()):
            del members[name]
        else:
            members[name] = data.draw(st.one_of(
                st.binary(max_size=300),
                st.builds(_flip, st.just(members[name]),
                          st.lists(st.tuples(st.integers(0, 5000), st.binary(min_size=1,
                                                                              max_size=4)),
                                   min_size=1, max_size=3))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    status = check_upload(staff, "phieu.xlsx", buffer.getvalue())
    if members == good:
        assert status == 302
    return status


def test_a_workbook_with_a_crafted_style_part_is_refused(staff: FlaskClient) -> None:
    """Found by CI's fuzzing: openpyxl raises TypeError on an attribute its class does not
    take (a 500 before); the file is refused with a message."""
    broken = b'<fills count="1"><fill><gradientFill patternType="solid"/></fill></fills>'
    members = _xlsx_members([("Q1", 4, 5, "Tốt")])
    styles = members["xl/styles.xml"]
    start, end = styles.index(b"<fills"), styles.index(b"</fills>") + len(b"</fills>")
    members["xl/styles.xml"] = styles[:start] + broken + styles[end:]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    assert check_upload(staff, "phieu.xlsx", buffer.getvalue()) == 400


def test_a_workbook_whose_sheet_list_openpyxl_warns_about_is_refused(
        staff: FlaskClient) -> None:
    """Found by CI's fuzzing: a damaged namespace in xl/workbook.xml makes openpyxl warn
    ("invalid specification") and skip the sheet; the warning is a refusal, not a 500."""
    members = _xlsx_members([("Q1", 1, None, "")])
    book = members["xl/workbook.xml"]
    members["xl/workbook.xml"] = book.replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        b"http!//schemas.openxmlformats.org/officeDocument/2006/relationships", 1)
    assert members["xl/workbook.xml"] != book
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    assert check_upload(staff, "phieu.xlsx", buffer.getvalue()) == 400


def test_a_zip_bomb_is_refused(staff: FlaskClient) -> None:
    """A small file that would unpack to gigabytes stores nothing and says why."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (300 * 1024 * 1024))
    assert len(buffer.getvalue()) < 2 * 1024 * 1024
    assert check_upload(staff, "bom.xlsx", buffer.getvalue()) == 400


def test_a_huge_upload_is_refused_with_a_message(staff: FlaskClient) -> None:
    import gc
    import warnings

    content = b"unit,q15\n" + b"Q1,4\n" * (21 * 1024 * 1024 // 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # Werkzeug's spooled test file
        response = upload(staff, "lon.csv", content)
        status, html = response.status_code, response.get_data(as_text=True)
        response.close()
        del response
        gc.collect()
    assert status == 413
    assert "Nội dung gửi lên quá lớn." in html
    assert count() == 0


def test_formulas_in_an_import_are_stored_as_text_and_exported_harmless(
        staff: FlaskClient) -> None:
    content = (b"q15,y_kien\n4,=HYPERLINK(\"http://x\")\n5,+1+2\n3,@SUM(A1)\n"
               b"4,-2+3\n")
    assert check_upload(staff, "phieu.csv", content) == 302
    texts = set(db.session.scalars(sa.text("SELECT text_value FROM answer "
                                           "WHERE text_value IS NOT NULL")))
    assert texts == {'=HYPERLINK("http://x")', "+1+2", "@SUM(A1)", "-2+3"}
    response = staff.get("/staff/export.csv", query_string={"questionnaire": QID})
    exported = response.get_data(as_text=True)
    response.close()
    assert "'=HYPERLINK" in exported
    for row in csv.reader(io.StringIO(exported.lstrip("\ufeff"))):
        for value in row:
            assert not value.startswith(("=", "+", "@", "-2")), value


_param = st.one_of(_text, st.sampled_from(
    ["2026-01-01", "2026-02-30", "0000-01-01", "9999-12-31", "2026-1-1", "Q1", "T1", "qr",
     "paper", "sipas-dichvu", "papi-phuong", "../etc", "%00", "1e9", "-1", "NaN",
     "x" * 500]))
_names = st.sampled_from(["questionnaire", "from", "to", "unit", "channel", "page", "group",
                          "by", "aggregation", "lang", "q", "format"])


@FUZZ
@given(params=st.lists(st.tuples(_names, _param), max_size=6), path=st.sampled_from(
    ["/staff/", "/staff/export.csv", "/staff/export.json", "/staff/export.xlsx",
     "/staff/suggestions", "/staff/suggestions.csv", "/staff/follow-up",
     "/staff/charts/index.png", "/staff/charts/monthly.png", "/api/v1/summary",
     "/staff/progress", "/staff/units", "/staff/users", "/", "/login"]))
def test_fuzzed_query_parameters_never_fail(staff: FlaskClient, params: list[tuple[str, str]],
                                            path: str) -> None:
    before = count()
    response = staff.get(path, query_string=params)
    assert response.status_code < 500, (path, params, response.status_code)
    assert response.status_code in (200, 302, 400, 404), (path, params, response.status_code)
    body = response.get_data()
    assert b"Traceback" not in body
    if response.status_code in (400, 404) and response.mimetype == "text/html":
        page = body.decode()
        # The error page, saying what was wrong in a sentence, not a bare status.
        # (in English when the parameters ask for it)
        assert (f"Mã lỗi {response.status_code}" in page
                or f"Error code {response.status_code}" in page), page[:300]
        message = re.search(r"</h1>\s*<p>([^<]+)</p>", page)
        assert message, page[:500]
        assert len(message.group(1).strip()) > 10
    response.close()
    assert count() == before


@FUZZ
@given(username=_text, password=st.one_of(_text, st.text(max_size=2000)),
       extra=st.dictionaries(st.sampled_from(["next", "remember", "csrf_token", "x"]), _text,
                             max_size=2))
def test_fuzzed_logins_never_fail_and_never_let_in(app: Flask, client: FlaskClient,
                                                   make_user: Callable[..., User],
                                                   username: str, password: str,
                                                   extra: dict[str, str]) -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        make_user("canbo", "staff")
    response = client.post("/login", data={"username": username, "password": password,
                                            **extra})
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 401), (response.status_code, html[:300])
    assert "Traceback" not in html
    assert client.get("/staff/").status_code == 302  # still not logged in
