"""Handling figures of cases (contract §9, Decision 766) in the summary JSON, the dashboard,
the workbook and the PDF report; the citizen's contact in none of the exports; the demo's cases.

The figures are checked against a recomputation written here from the API's case list
(``GET /api/v1/cases``), not through analysis.cases.
"""

from __future__ import annotations

import html
import io
import json
import re
import statistics
import subprocess
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.formatting import number, percent
from analysis.vietnam import VIETNAM
from survey.extensions import db
from survey.models import AuditLog, Case, CaseContact, CaseNote, Response, Unit, User
from survey.reporting.filters import Filters
from survey.services import accounts, cases, demo, integrity
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import delete_response, save_response
from tests.conftest import examples, login, require_program, summary_of

QID = "sipas-dichvu"
VIETNAM = VIETNAM
LOW = {f"q{i}": 4 for i in range(15, 34)} | {"q20": 2}
SHEET = "Phản ánh, kiến nghị"


def store(unit: Unit, answers: dict[str, Any], *, at: datetime | None = None,
          contact: cases.Contact | None = None) -> Response:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    stored = save_response(questionnaire, unit, "qr", uuid.uuid4(), answers, submitted_at=at,
                           contact=contact)
    db.session.commit()
    return stored.response


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def vietnam_today() -> date:
    return datetime.now(VIETNAM).date()


# --- the recomputation, from the API's list only ---------------------------------------------


def recompute(items: list[dict[str, Any]], verdicts: dict[str, bool | None],
              today: date) -> dict[str, Any]:
    """Count the handling figures from the API's case list (and the citizens' verdicts).

    Days are read from the ISO times as the API writes them (Vietnam time), so that a reply
    at 00:30 on the day after the due day is late.
    """
    opened = len(items)
    answered = on_time = overdue = unhappy = 0
    days = []
    for item in items:
        due = date.fromisoformat(item["due"])
        late = waiting = False
        if item["answered_at"] is not None:
            answered += 1
            replied = datetime.fromisoformat(item["answered_at"]).astimezone(VIETNAM).date()
            began = datetime.fromisoformat(item["opened_at"]).astimezone(VIETNAM).date()
            days.append((replied - began).days)
            if replied <= due:
                on_time += 1
            else:
                late = True
        elif item["status"] != "closed" and today > due:
            overdue += 1
            waiting = True
        if late or waiting or verdicts.get(item["receipt"]) is False:
            unhappy += 1
    return {"opened": opened, "answered": answered, "answered_on_time": on_time,
            "overdue": overdue,
            "median_days": float(statistics.median(days)) if days else None,
            "on_time_rate": 100 * on_time / opened if opened else None,
            "satisfaction_rate": 100 * (opened - unhappy) / opened if opened else None}


BLOCK_KEYS = ("opened", "answered", "answered_on_time", "overdue", "median_days")


def dashboard_block(page: str) -> str:
    start = page.index('id="xu-ly-pakn"')
    end = page.index("<h2", start)
    return page[start:end]


def dashboard_kpis(page: str) -> dict[str, str]:
    """Return the block's KPI values by their label, as shown."""
    return {html.unescape(label): html.unescape(value) for label, value in re.findall(
        r"<span>([^<]+)</span><b>([^<]+)</b>", dashboard_block(page))}


def dashboard_unit_rows(page: str) -> dict[str, list[str]]:
    """Return the figures of the block's table by unit code (the "Cộng" row too).

    The cells after the code and the unit's name: opened, answered, on time, overdue, median
    days, the two ratios.
    """
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>|<tr class=\"group\">(.*?)</tr>",
                          dashboard_block(page), flags=re.S):
        text = row[0] or row[1]
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", text, flags=re.S)]
        if cells:
            rows[cells[0]] = cells[2:]
    return rows


def shown(figures: dict[str, Any]) -> dict[str, str]:
    """What the dashboard should show for a recomputation."""
    return {
        "Tiếp nhận": number(figures["opened"], 0),
        "Đã trả lời": number(figures["answered"], 0),
        "Quá hạn chưa trả lời": number(figures["overdue"], 0),
        "Thời gian trả lời": (number(figures["median_days"], 1)
                              if figures["median_days"] is not None else "—"),
        "Tỷ lệ xử lý đúng hạn": percent(figures["on_time_rate"]),
        "Tỷ lệ hài lòng về xử lý": percent(figures["satisfaction_rate"]),
    }


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
    assert SHEET in book.sheetnames
    return list(book[SHEET].iter_rows(values_only=True))


def check_sheet_row(row: tuple[Any, ...], figures: dict[str, Any]) -> None:
    assert list(row[2:6]) == [figures["opened"], figures["answered"],
                              figures["answered_on_time"], figures["overdue"]]
    assert row[6] == figures["median_days"]
    for cell, key in ((row[7], "on_time_rate"), (row[8], "satisfaction_rate")):
        expected = figures[key]
        assert (cell is None) if expected is None else cell == pytest.approx(expected / 100)


# --- the property ----------------------------------------------------------------------------

case_specs = st.lists(st.fixed_dictionaries({
    "unit": st.sampled_from(["Q1", "Q2"]),
    "days_ago": st.integers(0, 40),
    # Minutes after midnight UTC: 16:00-18:00 UTC is around midnight in Vietnam.
    "minute": st.sampled_from([60, 600, 16 * 60 + 50, 17 * 60 + 10, 23 * 60]),
    # The due day: near today (overdue or not), or some days after the opening.
    "due": st.one_of(st.tuples(st.just("today"), st.integers(-2, 1)),
                     st.tuples(st.just("opened"), st.integers(-1, 15))),
    "status": st.sampled_from(["new", "in_progress", "answered", "closed"]),
    # The reply: days from the due day, and the minute of that Vietnam day (00:30 ... 23:30).
    "answer": st.one_of(st.none(), st.tuples(st.integers(-3, 2),
                                             st.sampled_from([30, 12 * 60, 23 * 60 + 30]))),
    "verdict": st.sampled_from([None, True, False]),
}), max_size=10)


def _make_cases(specs: list[dict[str, Any]], made: dict[str, Unit], now: datetime
                ) -> dict[str, bool | None]:
    """Store one response per spec (opening its case), then set the case as the spec says.

    Returns the citizen's verdict per receipt.
    """
    verdicts = {}
    today = now.astimezone(VIETNAM).date()
    for spec in specs:
        day = now.date() - timedelta(days=spec["days_ago"])
        opened = min(datetime.combine(day, time(), UTC) + timedelta(minutes=spec["minute"]),
                     now - timedelta(minutes=1))
        response = store(made[spec["unit"]], LOW, at=opened)
        case = cases.find_by_receipt(response.receipt)
        assert case is not None
        base, shift = spec["due"]
        case.due = (today if base == "today" else opened.astimezone(VIETNAM).date()) \
            + timedelta(days=shift)
        answer = spec["answer"]
        if spec["status"] == "answered" and answer is None:
            answer = (0, 12 * 60)
        if answer is not None:
            local = datetime.combine(case.due + timedelta(days=answer[0]), time(),
                                     VIETNAM) + timedelta(minutes=answer[1])
            case.answered_at = min(max(local.astimezone(UTC), opened), now)
            case.reply = "Phường đã xem xét và trả lời Ông/Bà."
            case.citizen_satisfied = spec["verdict"]
            verdicts[case.receipt] = spec["verdict"]
        case.status = spec["status"]
        if case.status == "closed":
            case.closed_at = now
    db.session.commit()
    return verdicts


@settings(max_examples=examples(8), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=case_specs, choice=st.sampled_from(["all", "unit", "days"]))
def test_handling_figures_equal_a_recomputation_from_the_case_list(
        app: Flask, client: FlaskClient, make_unit: Callable[..., Unit],
        make_user: Callable[..., User], specs: list[dict[str, Any]], choice: str) -> None:
    """The summary JSON's "cases", the dashboard's block and the workbook's sheet all agree
    with what anyone counts from the API's list of cases."""
    made = {code: units_get_or_make(make_unit, code) for code in ("Q1", "Q2")}
    if accounts.get_user("quantri") is None:
        make_user("quantri", "admin")
        assert login(client, "quantri").status_code == 302
    for response in db.session.scalars(sa.select(Response)).all():
        delete_response(response)  # the last example's; their cases go with them
    db.session.commit()
    now = datetime.now(UTC)
    verdicts = _make_cases(specs, made, now)
    today = vietnam_today()
    query: dict[str, Any] = {}
    filters = Filters(QID)
    if choice == "unit":
        query, filters = {"unit": "Q1"}, Filters(QID, units=(made["Q1"],))
    elif choice == "days":
        start, end = today - timedelta(days=20), today - timedelta(days=3)
        query = {"from": start.isoformat(), "to": end.isoformat()}
        filters = Filters(QID, date_from=start, date_to=end)
    listed = client.get("/api/v1/cases", query_string=query)
    assert listed.status_code == 200
    items = listed.get_json()
    if choice != "days":
        assert len(items) == sum(1 for s in specs if choice == "all" or s["unit"] == "Q1")
    expected = recompute(items, verdicts, today)
    block = {k: expected[k] for k in BLOCK_KEYS}
    # The summary JSON, from the service and from the API.
    summary = summary_of(filters)
    assert summary is not None
    assert summary["cases"] == block
    api = client.get("/api/v1/summary", query_string={"questionnaire": QID, **query})
    assert api.get_json()["cases"] == block
    # The dashboard: the block's figures, and each unit's row.
    page = client.get("/staff/", query_string={"questionnaire": QID, **query})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    if not items:
        assert "Chưa có phản ánh, kiến nghị nào" in dashboard_block(text)
    else:
        kpis = dashboard_kpis(text)
        assert {k: kpis[k] for k in shown(expected)} == shown(expected)
        rows = dashboard_unit_rows(text)
        for code in {i["unit"] for i in items}:
            mine = recompute([i for i in items if i["unit"] == code], verdicts, today)
            assert rows[code][:4] == [str(mine["opened"]), str(mine["answered"]),
                                      str(mine["answered_on_time"]), str(mine["overdue"])]
            assert rows[code][5:7] == [percent(mine["on_time_rate"]),
                                       percent(mine["satisfaction_rate"])]
    # The workbook the dashboard hands out: overall, by unit, by month.
    workbook = client.get("/staff/export.xlsx", query_string={"questionnaire": QID, **query})
    assert workbook.status_code == 200
    rows_x = sheet_rows(workbook.data)
    workbook.close()  # the temporary file is deleted on close
    assert rows_x[0][:2] == ("Theo", "Phạm vi")
    assert rows_x[1][:2] == ("Toàn bộ", "Toàn bộ")
    check_sheet_row(rows_x[1], expected)
    by_label = {str(r[1]): r for r in rows_x[2:] if r[0] in ("Đơn vị", "Tháng")}
    assert len(by_label) == len({i["unit"] for i in items}) + len(
        {i["opened_at"][:7] for i in items})
    for code in {i["unit"] for i in items}:
        label = next(k for k in by_label if k.startswith(f"{code} – "))
        check_sheet_row(by_label[label], recompute(
            [i for i in items if i["unit"] == code], verdicts, today))
    for month in {i["opened_at"][:7] for i in items}:
        check_sheet_row(by_label[month], recompute(
            [i for i in items if i["opened_at"][:7] == month], verdicts, today))


def units_get_or_make(make_unit: Callable[..., Unit], code: str) -> Unit:
    from survey.services import units

    return units.get_unit(code) or make_unit(code, f"Quầy {code}")


def test_a_reply_at_half_past_midnight_after_the_due_day_is_late(
        app: Flask, make_unit: Callable[..., Unit], admin_client: FlaskClient) -> None:
    unit = make_unit("Q1")
    response = store(unit, LOW, at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    case = cases.find_by_receipt(response.receipt)
    assert case is not None
    # 00:30 in Vietnam on the day after the due day is still the due day in UTC.
    case.answered_at = datetime.combine(case.due, time(17, 30), UTC)
    case.reply, case.status = "Đã trả lời.", "answered"
    db.session.commit()
    [item] = admin_client.get("/api/v1/cases").get_json()
    assert item["answered_at"].startswith((case.due + timedelta(days=1)).isoformat())
    block = summary_of(Filters(QID))["cases"]  # type: ignore[index]
    assert (block["answered"], block["answered_on_time"]) == (1, 0)
    assert block == {k: v for k, v in recompute([item], {}, vietnam_today()).items()
                     if k in BLOCK_KEYS}


def test_cases_of_excluded_responses_and_other_questionnaires_count_nowhere(
        app: Flask, make_unit: Callable[..., Unit]) -> None:
    unit = make_unit("Q1")
    kept = store(unit, LOW)
    out = store(unit, LOW)
    integrity.set_excluded([out], True, "phiếu thử", "test")
    mau = get_questionnaire("mau-02")
    assert mau is not None
    save_response(mau, unit, "qr", uuid.uuid4(), {"y_kien": "Cần thêm chỗ để xe"})
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 3
    summary = summary_of(Filters(QID))
    assert summary is not None
    assert summary["cases"]["opened"] == 1
    assert summary_of(Filters("mau-02"))["cases"]["opened"] == 1  # type: ignore[index]
    assert kept.receipt


def test_a_leader_s_dashboard_counts_own_units_only(
        app: Flask, client: FlaskClient, make_unit: Callable[..., Unit],
        make_user: Callable[..., User]) -> None:
    q1, q2 = make_unit("Q1"), make_unit("Q2")
    for _ in range(2):
        store(q1, LOW)
    for _ in range(3):
        store(q2, LOW)
    make_user("totruong", "leader", [q1])
    assert login(client, "totruong").status_code == 302
    page = client.get(f"/staff/?questionnaire={QID}").get_data(as_text=True)
    assert dashboard_kpis(page)["Tiếp nhận"] == "2"
    rows = dashboard_unit_rows(page)
    assert set(rows) == {"Q1"}
    assert client.get(f"/staff/?questionnaire={QID}&unit=Q2").status_code == 403


def test_the_dashboard_says_when_there_is_no_case_and_the_target_in_force(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(CASE_TARGET=95)
    with app.app_context():
        from survey.services import units

        ward = units.create_unit("P", "Phường", "ward", actor="test")
        unit = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
        accounts.create_user("quantri", "correct horse battery", "admin", actor="test")
        db.session.commit()
        client = app.test_client()
        assert login(client, "quantri").status_code == 302
        empty = client.get(f"/staff/?questionnaire={QID}").get_data(as_text=True)
        assert "Chưa có phản ánh, kiến nghị nào" in dashboard_block(empty)
        for _ in range(20):
            store(unit, LOW)
        page = client.get(f"/staff/?questionnaire={QID}").get_data(as_text=True)
        block = dashboard_block(page)
        assert "Mục tiêu 95 %" in html.unescape(block).replace("\u00a0", " ")
        # Nothing is due yet: 0 answered on time of 20 is 0 % on time, yet all satisfied.
        assert dashboard_kpis(page)["Tỷ lệ xử lý đúng hạn"] == percent(0.0)
        assert dashboard_kpis(page)["Tỷ lệ hài lòng về xử lý"] == percent(100.0)


def test_the_pdf_report_has_a_section_on_cases(
        app: Flask, make_unit: Callable[..., Unit], tmp_path: Path) -> None:
    pdftotext = require_program("pdftotext")
    unit = make_unit("Q1")
    admin = accounts.create_user("quantri", "correct horse battery", "admin", actor="test")
    first = store(unit, LOW)
    store(unit, LOW | {"y_kien": "Phòng chờ nóng"})
    case = cases.find_by_receipt(first.receipt)
    assert case is not None
    cases.reply(case, admin, "Phường đã lắp thêm quạt.")
    db.session.commit()
    out = tmp_path / "r.pdf"
    result = run(app, "export", "--questionnaire", QID, "--format", "pdf", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = subprocess.run([pdftotext, "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    plain = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True,
                           check=True).stdout
    words = re.sub(r"\s+", " ", plain)  # the boxes wrap their labels
    assert "8. Xử lý phản ánh, kiến nghị" in words
    assert "Tỷ lệ xử lý đúng hạn" in words
    assert "Quyết định 766/QĐ-TTg" in words
    section = text[text.index("Xử lý phản ánh, kiến nghị"):]
    assert re.search(r"Q1 – Quầy Q1\s+2\s+1\s+1\s+0\s+0,0\s+50,0\s*%\s+100,0\s*%", section), \
        section[:1500]


def test_flask_cases_purge_deletes_old_contacts_and_prints_the_count(
        app: Flask, make_unit: Callable[..., Unit]) -> None:
    unit = make_unit("Q1")
    admin = accounts.create_user("quantri", "correct horse battery", "admin", actor="test")
    old = store(unit, LOW, contact=cases.Contact("phone", "0912345678"))
    recent = store(unit, LOW, contact=cases.Contact("email", "dan@example.vn"))
    for response, days in ((old, 31), (recent, 3)):
        case = cases.find_by_receipt(response.receipt)
        assert case is not None
        cases.reply(case, admin, "Đã xử lý.", status="closed")
        case.closed_at = datetime.now(UTC) - timedelta(days=days)
    db.session.commit()
    result = run(app, "cases", "purge")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("contacts deleted: 1")
    assert db.session.scalars(sa.select(CaseContact.value)).all() == ["dan@example.vn"]
    assert run(app, "cases", "purge").output.startswith("contacts deleted: 0")


def test_flask_cases_overdue_lists_cases_waiting_past_their_due_day(
        app: Flask, make_unit: Callable[..., Unit]) -> None:
    unit = make_unit("Q1")
    late = store(unit, LOW, at=datetime.now(UTC) - timedelta(days=40))
    store(unit, LOW)  # due in ten working days
    result = run(app, "cases", "overdue")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "overdue: 1"
    assert lines[0].startswith(f"{late.receipt}\tQ1\tdue ")
    assert run(app, "cases", "overdue", "--unit", "NOPE").exit_code != 0


# --- the contact leaves through no export ------------------------------------------------------

PHONE_FORMS = ("0912345678", "0912 345 678", "0912.345.678", "091 234 5678", "+84912345678",
               "+84 912 345 678", "84912345678", "912345678")
EMAIL = "nguyen.thi.lan@example.vn"


def assert_no_contact(name: str, text: str) -> None:
    lowered = text.lower()
    for form in PHONE_FORMS:
        assert form not in text, f"{form!r} in {name}"
    assert "912345678" not in re.sub(r"\D", "", text), f"the phone's digits in {name}"
    assert EMAIL not in lowered, f"the e-mail in {name}"
    assert "nguyen.thi.lan" not in lowered, f"the e-mail's name in {name}"


def xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(part).decode("utf-8", "replace")
                         for part in archive.namelist())


def pdf_text(pdftotext: str, content: bytes, where: Path) -> str:
    where.write_bytes(content)
    return subprocess.run([pdftotext, str(where), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_contact_appears_in_no_export(
        app: Flask, client: FlaskClient, make_unit: Callable[..., Unit],
        make_user: Callable[..., User], tmp_path: Path) -> None:
    pdftotext = require_program("pdftotext")
    unit = make_unit("Q1")
    admin = make_user("quantri", "admin")
    by_phone = store(unit, LOW | {"y_kien": "Chờ lâu quá, nên thêm quầy"},
                     contact=cases.parse_contact("+84 912 345 678"))
    store(unit, LOW | {"y_kien": "Cần chỗ để xe có mái che"},
          contact=cases.parse_contact(f"  {EMAIL} "))
    case = cases.find_by_receipt(by_phone.receipt)
    assert case is not None
    cases.reply(case, admin, "Phường đã mở thêm một quầy vào buổi sáng.", publish=True)
    db.session.commit()
    # The contacts are stored (else this test would prove nothing) ...
    assert sorted(db.session.scalars(sa.select(CaseContact.value))) == [
        "0912345678", EMAIL]
    outputs: dict[str, str] = {}
    # ... and leave through no command ...
    for fmt in ("json", "csv", "xlsx", "pdf"):
        out = tmp_path / f"cli.{fmt}"
        result = run(app, "export", "--questionnaire", QID, "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        content = out.read_bytes()
        outputs[f"cli {fmt}"] = (xlsx_text(content) if fmt == "xlsx" else
                                 pdf_text(pdftotext, content, tmp_path / "x.pdf")
                                 if fmt == "pdf" else content.decode("utf-8"))
    labelled = tmp_path / "labels.xlsx"
    assert run(app, "export", "--questionnaire", QID, "--format", "xlsx", "--labels",
               "--out", str(labelled)).exit_code == 0
    outputs["cli xlsx --labels"] = xlsx_text(labelled.read_bytes())
    # ... no download of the staff pages ...
    assert login(client, "quantri").status_code == 302
    for path in ("export.json", "export.csv", "export.xlsx", "export.xlsx?labels=1",
                 "export.pdf", "suggestions.csv"):
        joiner = "&" if "?" in path else "?"
        response = client.get(f"/staff/{path}{joiner}questionnaire={QID}")
        assert response.status_code == 200, path
        content = response.data
        response.close()
        outputs[f"staff {path}"] = (xlsx_text(content) if ".xlsx" in path else
                                    pdf_text(pdftotext, content, tmp_path / "y.pdf")
                                    if path.endswith("pdf") else content.decode("utf-8"))
    # ... and no API.
    me = accounts.get_user("quantri")  # the commands above ended the test's session
    assert me is not None
    token = accounts.create_token(me, "cổng PAKN", actor="test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for path in (f"/api/v1/summary?questionnaire={QID}", "/api/v1/cases"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        # As sent (JSON escapes) and as read.
        outputs[path] = response.get_data(as_text=True) + json.dumps(
            response.get_json(), ensure_ascii=False)
    reply = client.post(f"/api/v1/cases/{by_phone.receipt}/reply", headers=headers,
                        json={"text": "Đã mở thêm quầy.", "status": "closed"})
    assert reply.status_code == 200
    outputs["api reply"] = reply.get_data(as_text=True) + json.dumps(
        reply.get_json(), ensure_ascii=False)
    for name, text in outputs.items():
        if "json" not in name and "summary" not in name:  # these hold no citizen's text
            # The export did cover the response that left the phone number.
            assert "Chờ lâu quá, nên thêm quầy" in re.sub(r"\s+", " ", text), name
        assert_no_contact(name, text)
    # The summary's block counted both cases, so the exports did cover them.
    assert json.loads(outputs["cli json"])["cases"]["opened"] == 2


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_sample_opens_cases_handled_in_a_realistic_mix_and_remove_takes_them(
        app: Flask) -> None:
    result = run(app, "init-db", "--demo")
    assert result.exit_code == 0, result.output
    all_cases = db.session.scalars(sa.select(Case)).all()
    sample = demo.sample_count()
    assert 0.2 * sample < len(all_cases) < 0.7 * sample
    statuses = {c.status for c in all_cases}
    assert {"in_progress", "answered", "closed"} <= statuses
    answered = [c for c in all_cases if c.answered_at is not None]
    on_time = [c for c in answered
               if c.answered_at is not None and c.answered_at.astimezone(VIETNAM).date() <= c.due]
    assert len(on_time) > len(answered) / 2
    assert len(on_time) < len(answered)  # some replies came late
    today = vietnam_today()
    assert any(cases.is_overdue(c, today) for c in all_cases)
    assert any(c.assignee is not None for c in all_cases)
    published = [c for c in all_cases if c.published]
    assert 0 < len(published) < len(answered) / 3
    assert all(c.reply in demo.REPLIES.values() for c in published)
    assert any(c.citizen_satisfied is True for c in all_cases)
    assert any(c.citizen_satisfied is False for c in all_cases)
    assert all(c.answered_at is None or c.answered_at >= c.opened_at for c in all_cases)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote))
    block = summary_of(Filters(QID))["cases"]  # type: ignore[index]
    assert block["opened"] > 20
    assert block["median_days"] is not None
    # The case's history is in the audit log.
    history = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.target == f"case:{answered[0].receipt}")).all()
    assert {e.action for e in history} >= {"case.reply"}
    removed = run(app, "demo", "remove")
    assert removed.exit_code == 0, removed.output
    for table in (Case, CaseNote, CaseContact):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(table)) == 0
