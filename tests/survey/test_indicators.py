"""Service indicators (chỉ tiêu phục vụ hành chính công): storing, ratios, import, the page."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook

from survey.config import ConfigError
from survey.extensions import db
from survey.models import AuditLog, ServiceIndicator, Unit, User
from survey.services import indicators
from survey.services.indicators import Figures, Month
from tests.conftest import login, make_app
from tests.survey.test_language import english_in

JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)
GOOD = {"received": 100, "resolved": 90, "on_time": 88, "late_apology": 2, "online": 70,
        "paid_online": 40, "postal": 20, "digitised": 85}
HEADER = ["Tháng", "Đơn vị", "Lĩnh vực", "Tiếp nhận", "Đã giải quyết", "Đúng hạn",
          "Trễ hạn có thư xin lỗi", "Trực tuyến toàn trình", "Thanh toán trực tuyến",
          "Bưu chính công ích", "Số hóa"]


@pytest.fixture
def counters(make_unit: Callable[..., Unit]) -> tuple[Unit, Unit]:
    return (make_unit("HCC-TPHT", "Quầy Tư pháp - Hộ tịch"),
            make_unit("HCC-DDXD", "Quầy Đất đai - Xây dựng"))


def ward() -> Unit:
    found = db.session.scalar(sa.select(Unit).where(Unit.kind == "ward"))
    assert found is not None
    return found


def stored_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ServiceIndicator)) or 0


def save(unit: Unit, month: Month, field: int = 0, **changes: int) -> ServiceIndicator:
    row = indicators.save_month(unit, month.year, month.month, field, GOOD | changes, "test")
    db.session.commit()
    return row


def xlsx(*rows: list[Any], header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER if header is None else header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row_of(unit: str, month: str = "03/2026", field: Any = None, **changes: Any) -> list[Any]:
    figures = GOOD | changes
    return [month, unit, field, *(figures[name] for name in indicators.COLUMNS
                                  if name in figures)]


def upload(client: FlaskClient, data: bytes, name: str = "chi-tieu.xlsx") -> Any:
    return client.post("/staff/indicators/import?thang=2026-03",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def text_of(html: str) -> str:
    """The page's text with tags removed and spaces collapsed (for phrases across tags)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&nbsp;", " ").split())


# --- Storing and reading ------------------------------------------------------------------


def test_a_month_is_saved_read_back_and_audited(app: Flask,
                                                counters: tuple[Unit, Unit]) -> None:
    tpht, _ddxd = counters
    save(tpht, MAR)
    found = indicators.figures_for([tpht], MAR, MAR)
    assert found == {(tpht.id, MAR): Figures(**GOOD)}
    row = db.session.scalars(sa.select(ServiceIndicator)).one()
    assert (row.year, row.month, row.field, row.recorded_by) == (2026, 3, 0, "test")
    assert row.updated_at.tzinfo is not None
    entry = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "indicator.save")).one()
    assert entry.target == "HCC-TPHT 03/2026"
    assert entry.details["on_time"] == [None, 88]

    save(tpht, MAR)  # the same figures: nothing changes, nothing is audited
    save(tpht, MAR, on_time=85)  # one count changed: the row is replaced, the change audited
    assert stored_count() == 1
    assert indicators.figures_for([tpht], MAR, MAR)[(tpht.id, MAR)].on_time == 85
    entries = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "indicator.save").order_by(AuditLog.id)).all()
    assert len(entries) == 2
    assert entries[1].details == {"on_time": [88, 85]}
    assert indicators.figures_for([tpht], JAN, FEB) == {}


def test_save_month_refuses_what_cannot_be_and_stores_nothing(
        app: Flask, counters: tuple[Unit, Unit], make_unit: Callable[..., Unit]) -> None:
    tpht, _ddxd = counters
    cases: list[tuple[Unit, Month, int, dict[str, int], str, str]] = [
        (tpht, MAR, 0, {"on_time": 120, "resolved": 100}, "on_time",
         "120 lớn hơn số đã giải quyết (100)"),
        (tpht, MAR, 0, {"late_apology": 5}, "late_apology",
         "5 lớn hơn số hồ sơ trễ hạn (đã giải quyết trừ đúng hạn: 2)"),
        (tpht, MAR, 0, {"digitised": 101}, "digitised", "101 lớn hơn số tiếp nhận (100)"),
        (tpht, MAR, 0, {"postal": -1}, "postal", "“-1” không phải số nguyên không âm"),
        (tpht, MAR, 42, {}, "field", "“42” không phải mã lĩnh vực"),
        (tpht, Month.current().shift(1), 0, {}, "month", "chưa đến"),
        (make_unit("TDP-1", "Tổ dân phố số 1", "group"), MAR, 0, {}, "unit",
         "TDP-1 không phải quầy của Trung tâm Phục vụ hành chính công hay phường"),
    ]
    for unit, month, field, changes, what, reason in cases:
        with pytest.raises(indicators.IndicatorError) as caught:
            indicators.save_month(unit, month.year, month.month, field, GOOD | changes, "test")
        assert any(w == what and reason in why for w, why in caught.value.problems), (
            what, caught.value.problems)
    # resolved may exceed received: dossiers of earlier months are resolved too
    save(tpht, MAR, received=10, resolved=50, on_time=50, late_apology=0, online=10,
         paid_online=10, postal=10, digitised=10)
    assert stored_count() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "indicator.save")) == 1


def test_ratios_come_from_sums_never_from_averaged_percentages(
        app: Flask, counters: tuple[Unit, Unit]) -> None:
    tpht, ddxd = counters
    # A small counter all on time, a large one at half: the ward is at 60/110, not 75 %.
    save(tpht, FEB, received=10, resolved=10, on_time=10, late_apology=0, online=1,
         paid_online=0, postal=0, digitised=10)
    save(ddxd, FEB, received=100, resolved=100, on_time=50, late_apology=25, online=10,
         paid_online=5, postal=5, digitised=50)
    per_unit = indicators.figures_for([ward(), tpht, ddxd], JAN, MAR)
    by_month = indicators.overall([ward(), tpht, ddxd], per_unit)
    assert set(by_month) == {FEB}
    ratios = indicators.ratios(by_month[FEB])
    assert (ratios["on_time"].numerator, ratios["on_time"].denominator) == (60, 110)
    assert ratios["on_time"].value == pytest.approx(100 * 60 / 110)
    assert ratios["online"].value == pytest.approx(10.0)
    assert ratios["digitised"].value == pytest.approx(100 * 60 / 110)
    assert ratios["apology"].value == pytest.approx(50.0)  # 25 letters for 50 late
    assert indicators.ratios(Figures())["on_time"].value is None  # nothing to divide by

    # Fields: a total (field 0) wins over the detail; without one, the fields add up.
    save(tpht, MAR, 1, received=4, resolved=4, on_time=4, late_apology=0, online=4,
         paid_online=0, postal=0, digitised=4)
    save(tpht, MAR, 2, received=6, resolved=5, on_time=3, late_apology=2, online=0,
         paid_online=0, postal=0, digitised=6)
    assert indicators.figures_for([tpht], MAR, MAR)[(tpht.id, MAR)].received == 10
    entry = indicators.month_entries([tpht], MAR)[tpht.id]
    assert (entry.whole, entry.fields, entry.figures.on_time) == (False, 2, 7)
    save(tpht, MAR)
    assert indicators.figures_for([tpht], MAR, MAR)[(tpht.id, MAR)] == Figures(**GOOD)
    # The ward's own row stands for the ward: its counters are not added on top.
    save(ward(), FEB, received=200, resolved=180, on_time=171, late_apology=9, online=90,
         paid_online=50, postal=40, digitised=170)
    by_month = indicators.overall([ward(), tpht, ddxd],
                                  indicators.figures_for([ward(), tpht, ddxd], JAN, MAR))
    assert by_month[FEB].received == 200
    assert by_month[MAR] == Figures(**GOOD)
    months = indicators.total(by_month.values())
    assert months.resolved == 180 + 90


def test_targets_come_from_the_settings_and_are_checked(
        app: Flask, database_url: str) -> None:
    assert indicators.targets(app.config) == {
        "on_time": 95.0, "online": 80.0, "paid_online": None, "postal": 50.0,
        "digitised": 80.0, "apology": 100.0}
    assert indicators.met(95.0, 95.0) is True
    assert indicators.met(94.99, 95.0) is False
    assert indicators.met(None, 95.0) is None
    assert indicators.met(50.0, None) is None
    other = make_app(database_url, INDICATOR_TARGET_ONLINE="", INDICATOR_TARGET_POSTAL="85",
                     INDICATOR_TARGET_PAID_ONLINE=30)
    assert indicators.targets(other.config)["online"] is None
    assert indicators.targets(other.config)["postal"] == 85.0
    assert indicators.targets(other.config)["paid_online"] == 30.0
    for bad in ("cao", 101, -5, True):
        with pytest.raises(ConfigError, match="SURVEY_INDICATOR_TARGET_ON_TIME"):
            make_app(database_url, INDICATOR_TARGET_ON_TIME=bad)


# --- The schema's own guard -------------------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"received": -1, "online": 0, "paid_online": 0, "postal": 0, "digitised": 0},
    {"on_time": 91},  # more on time than resolved
    {"late_apology": 3},  # more letters than dossiers resolved late (2)
    {"online": 101}, {"paid_online": 101}, {"postal": 101}, {"digitised": 101},
    {"month": 13}, {"year": 1999}, {"field": -1},
])
def test_check_constraints_refuse_bad_rows(app: Flask, counters: tuple[Unit, Unit],
                                           changes: dict[str, int]) -> None:
    values: dict[str, Any] = {"unit_id": counters[0].id, "year": 2026, "month": 3, "field": 0,
                              "recorded_by": "test", **GOOD, **changes}
    db.session.add(ServiceIndicator(**values))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert stored_count() == 0


def test_one_row_per_unit_month_and_field(app: Flask, counters: tuple[Unit, Unit]) -> None:
    save(counters[0], MAR)
    db.session.add(ServiceIndicator(unit_id=counters[0].id, year=2026, month=3, field=0,
                                    recorded_by="test", **GOOD))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    save(counters[0], MAR, 1)  # another field of the same month is another row
    assert stored_count() == 2


# --- Import -----------------------------------------------------------------------------------


def test_import_stores_every_row_or_none(app: Flask, admin_client: FlaskClient,
                                         counters: tuple[Unit, Unit]) -> None:
    good = xlsx(row_of("HCC-TPHT"), row_of("hcc-ddxd", "02/2026", 3),
                row_of("PHUONG", "3/2026"))
    response = upload(admin_client, good)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/indicators?thang=2026-03")
    assert stored_count() == 3
    entry = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "indicator.import")).one()
    assert entry.details["added"] == 3
    assert entry.details["file"] == "chi-tieu.xlsx"

    # Rows 2-6 good (one replaces stored figures), row 7 and others bad: nothing stored.
    bad = xlsx(row_of("HCC-TPHT", received=111),
               row_of("HCC-DDXD"), row_of("HCC-DDXD", "01/2026"), row_of("PHUONG", "01/2026"),
               row_of("HCC-TPHT", "01/2026"),
               row_of("HCC-DDXD", "02/2026", resolved=100, on_time=120),
               row_of("HCC-KHONG", "13/2026", field=42, postal="", online=101),
               row_of("HCC-DDXD", "12/2025", online=101, late_apology=3),
               row_of("HCC-TPHT"),
               [None] * len(HEADER),  # an empty row is no row
               row_of("TDP-9", "tháng 3", received="nhiều", digitised=-2))
    response = upload(admin_client, bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    expected = [
        "Dòng 7, cột “Đúng hạn”: 120 lớn hơn số đã giải quyết (100).",
        "Dòng 8, cột “Tháng”: “13/2026” không phải tháng dạng MM/YYYY",
        "Dòng 8, cột “Đơn vị”: không có đơn vị “HCC-KHONG”.",
        "Dòng 8, cột “Lĩnh vực”: “42” không phải mã lĩnh vực (mã hợp lệ: 1, 2, 3, 4, 5, 6, 7, "
        "9; để trống là mọi lĩnh vực).",
        "Dòng 8, cột “Bưu chính công ích”: để trống; ghi 0 nếu không có hồ sơ nào.",
        "Dòng 8, cột “Trực tuyến toàn trình”: 101 lớn hơn số tiếp nhận (100).",
        "Dòng 9, cột “Trễ hạn có thư xin lỗi”: 3 lớn hơn số hồ sơ trễ hạn (đã giải quyết trừ "
        "đúng hạn: 2).",
        "Dòng 9, cột “Trực tuyến toàn trình”: 101 lớn hơn số tiếp nhận (100).",
        "Dòng 10, cột “Đơn vị”: đơn vị, tháng và lĩnh vực trùng với dòng 2.",
        "Dòng 12, cột “Tháng”: “tháng 3” không phải tháng dạng MM/YYYY",
        "Dòng 12, cột “Đơn vị”: không có đơn vị “TDP-9”.",
        "Dòng 12, cột “Tiếp nhận”: “nhiều” không phải số nguyên không âm.",
        "Dòng 12, cột “Số hóa”: “-2” không phải số nguyên không âm.",
    ]
    for message in expected:
        assert message in html, message
    assert "Không nhập dòng nào: tệp có 13 lỗi." in html
    assert stored_count() == 3
    assert indicators.figures_for(counters, MAR, MAR)[(counters[0].id, MAR)].received == 100
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "indicator.import")) == 1

    # The same file again changes nothing; a changed one replaces the stored figures.
    assert upload(admin_client, good).status_code == 302
    assert upload(admin_client, xlsx(row_of("HCC-TPHT", received=111))).status_code == 302
    assert stored_count() == 3
    assert indicators.figures_for(counters, MAR, MAR)[(counters[0].id, MAR)].received == 111
    last = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "indicator.import").order_by(AuditLog.id.desc())).first()
    assert last is not None
    assert last.details["previous"] == {"HCC-TPHT 03/2026": {"received": 100}}


def test_import_reads_dates_numbers_as_text_and_header_variants(
        app: Flask, counters: tuple[Unit, Unit]) -> None:
    from datetime import datetime

    header = [h.upper() if i % 2 else h for i, h in enumerate(HEADER) if h != "Lĩnh vực"]
    figures = [GOOD[name] for name in indicators.COLUMNS if name in GOOD]
    data = xlsx([datetime(2026, 2, 1), "HCC-TPHT", *figures],
                ["2026-01", " hcc-ddxd ", *[str(v) for v in figures]],
                ["03/2026", "HCC-TPHT", *[float(v) for v in figures]], header=header)
    result = indicators.import_xlsx(io.BytesIO(data), "test", filename="t.xlsx")
    assert result.ok, result.errors
    assert (result.added, result.months) == (3, (JAN, FEB, MAR))


@pytest.mark.parametrize(("content", "message"), [
    (b"Thang,Don vi\n03/2026,HCC-TPHT\n", "tệp không phải bảng tính XLSX hoặc đã hỏng"),
    (b"PK\x03\x04 not really a zip", "tệp không phải bảng tính XLSX hoặc đã hỏng"),
    ("empty", "Trang tính trống: cần dòng tiêu đề"),
    ("header", "Tệp không có dòng số liệu nào dưới dòng tiêu đề."),
    ("columns", "Dòng 1 (dòng tiêu đề): cột “Ghi chú” không có trong mẫu"),
    ("bomb", "Tệp quá lớn"),
    (b"PK" + b"\0" * (indicators.MAX_FILE_BYTES + 10), "Tệp quá lớn"),
])
def test_unreadable_files_get_one_message_and_store_nothing(
        app: Flask, admin_client: FlaskClient, counters: tuple[Unit, Unit],
        content: bytes | str, message: str) -> None:
    if content == "empty":
        data = xlsx(header=[])
    elif content == "header":
        data = xlsx()
    elif content == "columns":
        data = xlsx(row_of("HCC-TPHT"), header=[*HEADER[:3], "Ghi chú", *HEADER[4:]])
    elif content == "bomb":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", b"<Types/>")
            archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (300 * 1024 * 1024))
        data = buffer.getvalue()
    else:
        assert isinstance(content, bytes)
        data = content
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # Werkzeug's spooled test file
        response = upload(admin_client, data, "so-lieu.xlsx")
        status, html = response.status_code, response.get_data(as_text=True)
        response.close()
        del response
        gc.collect()
    assert status == 400
    assert message in html
    assert "Traceback" not in html
    assert stored_count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action.like("indicator.%"))) == 0


def test_no_file_chosen_is_said_in_vietnamese(app: Flask, admin_client: FlaskClient) -> None:
    response = admin_client.post("/staff/indicators/import", data={},
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Chọn tệp XLSX cần nhập." in response.get_data(as_text=True)


def test_the_template_has_the_header_and_an_example_that_imports(
        app: Flask, admin_client: FlaskClient, counters: tuple[Unit, Unit]) -> None:
    response = admin_client.get("/staff/indicators/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "mau-chi-tieu-phuc-vu.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert len(rows) == 2
    assert rows[1][1] in ("HCC-DDXD", "HCC-TPHT")
    assert upload(admin_client, response.data).status_code == 302
    assert stored_count() == 1


# --- The page -----------------------------------------------------------------------------------


def test_leaders_get_403_and_no_link(app: Flask, client: FlaskClient,
                                     counters: tuple[Unit, Unit],
                                     make_user: Callable[..., User],
                                     make_unit: Callable[..., Unit]) -> None:
    make_user("totruong1", "leader", [make_unit("TDP-1", "Tổ dân phố số 1", "group")])
    assert login(client, "totruong1").status_code == 302
    assert client.get("/staff/indicators").status_code == 403
    assert client.post("/staff/indicators?thang=2026-03",
                       data={f"u{counters[0].id}_received": "5"}).status_code == 403
    assert upload(client, xlsx(row_of("HCC-TPHT"))).status_code == 403
    assert client.get("/staff/indicators/template.xlsx").status_code == 403
    assert "/staff/indicators" not in client.get("/staff/units").get_data(as_text=True)
    assert stored_count() == 0


def test_staff_see_the_link_and_the_page(app: Flask, client: FlaskClient,
                                         counters: tuple[Unit, Unit],
                                         make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    assert login(client, "canbo").status_code == 302
    assert 'href="/staff/indicators">Chỉ tiêu phục vụ</a>' in client.get(
        "/staff/units").get_data(as_text=True)
    response = client.get("/staff/indicators")
    assert response.status_code == 200
    assert "<h1>Chỉ tiêu phục vụ hành chính công</h1>" in response.get_data(as_text=True)


def test_the_page_marks_each_ratio_met_or_not_in_words(
        app: Flask, admin_client: FlaskClient, counters: tuple[Unit, Unit]) -> None:
    # On time 96 % (target 95: met), online 50 % (target 80: not met), paid online has no
    # target, postal 50 % (target 50: met exactly), digitised 79.99... (not met though it
    # would round to 80,0), apology 2 of 4 late (target 100: not met).
    save(counters[0], MAR, received=10_000, resolved=100, on_time=96, late_apology=2,
         online=5_000, paid_online=1_000, postal=5_000, digitised=7_999)
    html = admin_client.get("/staff/indicators?thang=2026-03").get_data(as_text=True)
    month = html.split('<section class="kpis"')[1].split("</section>")[0]
    tiles = {label: (kind.strip(), text_of(rest)) for kind, label, rest in re.findall(
        r'<div class="kpi([^"]*)"><span>(.*?)</span>(.*?)</div>', month, re.S)}
    assert tiles["Giải quyết đúng hạn"] == (
        "met", "96,0 % Chỉ tiêu ≥ 95 %: đạt 96/100 trên số hồ sơ đã giải quyết")
    assert tiles["Nộp trực tuyến toàn trình"][0] == "not-met"
    assert "50,0 % Chỉ tiêu ≥ 80 %: chưa đạt" in tiles["Nộp trực tuyến toàn trình"][1]
    assert tiles["Thanh toán trực tuyến"] == (
        "", "10,0 % Chưa đặt chỉ tiêu 1.000/10.000 trên số hồ sơ tiếp nhận")
    assert "50,0 % Chỉ tiêu ≥ 50 %: đạt" in tiles["Qua bưu chính công ích"][1]
    assert "79,9 % Chỉ tiêu ≥ 80 %: chưa đạt" in tiles["Số hóa hồ sơ, kết quả"][1]
    assert tiles["Trễ hạn có thư xin lỗi"] == (
        "not-met", "50,0 % Chỉ tiêu ≥ 100 %: chưa đạt 2/4 trên số hồ sơ giải quyết trễ hạn")
    # The 12 months to March hold only March: the same ratios.
    period = html.split('<section class="kpis"')[2].split("</section>")[0]
    assert "96,0 % Chỉ tiêu ≥ 95 %: đạt" in text_of(period)
    # the month-by-month table: March has figures, February none
    months = html.split('class="indicator-months"')[1]
    march = text_of(months.split("</tr>")[1])
    assert march.startswith("03/2026 96,0 % đạt 96/100 50,0 % chưa đạt 5.000/10.000")
    assert 'class="tag met"' in months
    assert 'class="tag not-met"' in months
    assert "02/2026 Chưa có số liệu" in text_of(months)
    assert english_in(html, data=["HCC-TPHT", "HCC-DDXD", "PHUONG", "quantri"]) == []


def test_typed_figures_are_saved_all_or_nothing(app: Flask, admin_client: FlaskClient,
                                                counters: tuple[Unit, Unit]) -> None:
    tpht, ddxd = counters

    def boxes(unit: Unit, **changes: Any) -> dict[str, str]:
        return {f"u{unit.id}_{name}": str(value) for name, value in (GOOD | changes).items()}

    page = admin_client.get("/staff/indicators?thang=2026-03").get_data(as_text=True)
    assert f'name="u{tpht.id}_on_time"' in page
    bad = boxes(tpht) | boxes(ddxd, on_time=95) | {f"u{ward().id}_received": "7"}
    response = admin_client.post("/staff/indicators?thang=2026-03", data=bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "95 lớn hơn số đã giải quyết (90)" in html
    assert "để trống; ghi 0 nếu không có hồ sơ nào" in html  # the ward's other boxes
    assert "Chưa lưu gì: 8 ô cần sửa" in html
    assert 'aria-invalid="true"' in html
    assert 'value="95"' in html  # what was typed is kept
    assert stored_count() == 0

    response = admin_client.post("/staff/indicators?thang=2026-03",
                                 data=boxes(tpht) | boxes(ddxd, on_time=80))
    assert response.status_code == 302
    assert stored_count() == 2
    assert indicators.figures_for([ddxd], MAR, MAR)[(ddxd.id, MAR)].on_time == 80
    # Sent again unchanged: nothing saved, nothing audited.
    admin_client.post("/staff/indicators?thang=2026-03", data=boxes(tpht) | boxes(ddxd, on_time=80))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "indicator.save")) == 2
    # A stored unit cannot be emptied from the page.
    response = admin_client.post("/staff/indicators?thang=2026-03", data=boxes(ddxd))
    assert response.status_code == 400
    assert "Số liệu đã lưu không xóa được ở đây" in response.get_data(as_text=True)


def test_a_month_that_cannot_be_shown_falls_back_with_a_message(
        app: Flask, admin_client: FlaskClient) -> None:
    future = Month.current().shift(2)
    html = admin_client.get(f"/staff/indicators?thang={future.iso}").get_data(as_text=True)
    assert f"tháng {future} chưa đến" in html
    html = admin_client.get("/staff/indicators?thang=abc").get_data(as_text=True)
    assert "Không đọc được tháng “abc”" in html
    response = admin_client.post(f"/staff/indicators?thang={future.iso}", data={})
    assert response.status_code == 400


def test_the_audit_log_names_the_actions_and_the_counts(
        app: Flask, admin_client: FlaskClient, counters: tuple[Unit, Unit]) -> None:
    save(counters[0], MAR)
    save(counters[0], MAR, on_time=85)
    assert upload(admin_client, xlsx(row_of("HCC-TPHT", received=111))).status_code == 302
    html = text_of(admin_client.get("/staff/audit").get_data(as_text=True))
    assert "Lưu số liệu chỉ tiêu phục vụ" in html
    assert "Đúng hạn 88 → 85" in html
    assert "Nhập số liệu chỉ tiêu phục vụ từ tệp" in html
    assert "Số liệu cũ đã thay HCC-TPHT 03/2026: Tiếp nhận: 100" in html
