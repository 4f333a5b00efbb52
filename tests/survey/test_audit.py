"""The staff audit log page: readable actions and details, filters, pages, bad filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, Response, Sheet, Unit
from survey.reporting.filters import Filters
from survey.services import accounts, audit, integrity, paper, units
from tests.conftest import PASSWORD


def _entry(actor: str, action: str, target: str, at: datetime, **details: object) -> None:
    entry = audit.record(actor, action, target, **details)
    entry.at = at


@pytest.fixture
def log(app: Flask, ward: Unit) -> None:
    """Entries of three people over three days (Vietnam time), and one unit renamed."""
    group = units.create_unit("TDP-3", "Tổ dân phố số 3", "group", parent=ward, actor="an")
    db.session.commit()
    units.update_unit(group, name="Tổ dân phố số 3 (mới)", active=False, parent=ward,
                      actor="binh")
    db.session.execute(sa.update(AuditLog).values(at=datetime(2026, 3, 1, 3, tzinfo=UTC)))
    # 23:30 on 1 March in Vietnam is still 1 March there, though 2 March never began in UTC
    _entry("an", "export.csv", "sipas-dichvu", datetime(2026, 3, 1, 16, 30, tzinfo=UTC),
           units=["Q1"], channels=[], **{"from": "2026-01-01", "to": None})
    _entry("chi", "response.exclude", "K7QF-3MZD", datetime(2026, 3, 2, 2, tzinfo=UTC),
           receipts=["K7QF-3MZD"], reason="Phiếu thử của cán bộ")
    _entry("chi", "batch.create", "batch 4", datetime(2026, 3, 3, 2, tzinfo=UTC),
           unit="TDP-3", sheets=50, double_entry=True, leader=None)
    db.session.commit()


def test_audit_log_names_actions_and_shows_details_as_text(admin_client: FlaskClient,
                                                           log: None) -> None:
    html = admin_client.get("/staff/audit").get_data(as_text=True)
    for label in ("Tạo đơn vị", "Sửa đơn vị", "Tải dữ liệu thô (CSV)",
                  "Loại phiếu khỏi kết quả", "Giao đợt phiếu in", "Đăng nhập"):
        assert label in html, label
    # The rename as "old → new", in Vietnamese letters, not JSON escapes.
    assert "<dt>Tên</dt><dd>Tổ dân phố số 3 → Tổ dân phố số 3 (mới)</dd>" in html
    assert "<dt>Đang hoạt động</dt><dd>có → không</dd>" in html
    assert "<dt>Lý do</dt><dd>Phiếu thử của cán bộ</dd>" in html
    assert "<dt>Nhập kép</dt><dd>có</dd>" in html
    assert "đợt 4" in html
    assert "\\u" not in html
    assert ">unit.update<" not in html
    assert "{&#34;" not in html


def _listed(client: FlaskClient, query: str) -> list[str]:
    response = client.get(f"/staff/audit?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    return [a for a in audit.ACTIONS if f"· {audit.action_label(a)}" in html]


def test_audit_log_filters_by_person_action_and_vietnam_days(admin_client: FlaskClient,
                                                             log: None) -> None:
    assert set(_listed(admin_client, "actor=chi")) == {"batch.create", "response.exclude"}
    assert _listed(admin_client, "action=unit.update") == ["unit.update"]
    # Days are Vietnam calendar days, both ends included.
    # (the admin's account and login of the fixtures were moved to 1 March too)
    assert set(_listed(admin_client, "from=2026-03-01&to=2026-03-01")) == {
        "unit.create", "unit.update", "export.csv", "user.create", "auth.login"}
    assert set(_listed(admin_client, "from=2026-03-02&to=2026-03-03")) == {
        "response.exclude", "batch.create"}
    assert _listed(admin_client, "actor=an&action=export.csv&from=2026-03-01") == [
        "export.csv"]
    assert _listed(admin_client, "actor=ai-do") == []


def test_audit_log_pages_through_many_entries(admin_client: FlaskClient, app: Flask) -> None:
    for i in range(audit.PAGE_SIZE + 5):
        audit.record("an", "unit.update", f"U{i:03d}", name=str(i))
    db.session.commit()
    first = admin_client.get("/staff/audit?actor=an").get_data(as_text=True)
    # The next page starts after the last entry of this one (read by key, no OFFSET).
    link = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert link is not None
    second = admin_client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Trang 2 / 2" in second
    assert 'rel="next"' not in second
    assert "U104" in first
    assert "U004" not in first
    assert "U004" in second
    assert "U104" not in second
    assert f"{audit.PAGE_SIZE + 5} thao tác" in first
    assert "page=2" in first
    assert "actor=an" in first  # the next page keeps the filter
    assert second.count('<li class="card">') == 5


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-13-45", "Từ ngày không hợp lệ: “2026-13-45”"),
    ("to=hom-qua", "Đến ngày không hợp lệ: “hom-qua”"),
    ("from=1999-01-01", "Từ ngày không hợp lệ"),
    ("from=2026-03-05&to=2026-03-01", "“Từ ngày” phải trước hoặc bằng “Đến ngày”."),
    ("action=xoa.het", "Không có thao tác “xoa.het”."),
    ("page=abc", "Số trang không hợp lệ: “abc”."),
    ("page=0", "Số trang không hợp lệ"),
    ("page=²", "Số trang không hợp lệ"),  # "²".isdigit() is true (a 500, issue 15)
    ("from=" + "9" * 5000, "Từ ngày không hợp lệ"),
])
def test_audit_log_bad_filters_get_a_message_not_an_error(admin_client: FlaskClient,
                                                          log: None, query: str,
                                                          message: str) -> None:
    response = admin_client.get(f"/staff/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert '<form method="get"' in html  # the filters stay there to correct


def test_audit_log_is_for_admins_only(client: FlaskClient, make_user: object) -> None:
    from tests.conftest import login

    make_user("canbo", "staff")  # type: ignore[operator]
    login(client, "canbo")
    assert client.get("/staff/audit?actor=an").status_code == 403


def test_detail_values_read_as_text(app: Flask) -> None:
    assert audit.value_text(None) == "—"
    assert audit.value_text(["Q1", "Q2", "Q3"]) == "Q1, Q2, Q3"
    assert audit.value_text(["Q1", "Q2"]) == "Q1, Q2"  # two items are a list, not a change
    assert audit.value_text(["qr", "paper"], audit.VALUE_LABELS["channels"]) == \
        "Mã QR, Phiếu giấy"
    # A response edited (its response unknown here): the question as the questionnaire
    # numbers it, the change as old → new.
    assert audit.detail_lines({"changes": {"q15": [4, 2]}}, "response.edit", "ZZZZ-ZZZZ") == [
        ("Thay đổi", "Câu 15: 4 → 2")]
    assert audit.value_text(12) == "12"
    assert audit.target_label("batch 12") == "đợt 12"
    assert audit.action_label("something.new") == "something.new"


def _lines(action: str) -> list[dict[str, str]]:
    """The details of each entry of ``action``, as the audit page words them, oldest first."""
    entries = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)
                                 .order_by(AuditLog.id))
    return [dict(audit.detail_lines(e.details, e.action, e.target)) for e in entries]


def test_audit_details_say_what_happened(admin_client: FlaskClient, ward: Unit) -> None:
    """Lists are lists, only changes read old → new, codes and question ids are named."""
    one = units.create_unit("TO-01", "Tổ 1", "group", parent=ward, actor="an")
    two = units.create_unit("TO-02", "Tổ 2", "group", parent=ward, actor="an")
    leader = accounts.create_user("totruong", PASSWORD, "leader", [one, two], actor="an")
    helper = accounts.create_user("thuky", PASSWORD, "leader", [one], actor="an")
    admin = accounts.get_user("quantri")
    assert admin is not None
    accounts.update_user(helper, role="leader", units=[one, two], active=True, actor=admin)
    batch = paper.create_batch("sipas-dichvu", one, 2, leader=leader, double_entry=True,
                               actor="an")
    first, second = sorted(batch.sheets, key=lambda sheet: sheet.serial)
    typed = {f"q{i}": "4" for i in range(15, 34)}
    paper.enter_sheet(first, typed, leader)
    paper.enter_sheet(first, typed | {"q15": "5"}, helper)
    paper.reconcile(first, {"q15": "5"}, leader)
    paper.enter_sheet(second, typed, leader)
    paper.enter_sheet(second, typed, helper)
    db.session.commit()
    stored = db.session.scalars(sa.select(Response).order_by(Response.id)).all()
    paper.edit_response(stored[0], typed | {"q15": "2", "q16": "3"}, admin)
    integrity.set_excluded(stored, True, "Phiếu thử", admin)
    stats_filters = Filters("sipas-dichvu", channels=("qr", "paper"))
    audit.record(admin, "export.csv", "sipas-dichvu", **stats_filters.echo())
    db.session.commit()

    assert _lines("user.create")[1] == {"Vai trò": "Tổ trưởng", "Đơn vị": "TO-01, TO-02"}
    assert _lines("user.update") == [{"Đơn vị": "TO-01 → TO-01, TO-02"}]
    assert [e["Loại"] for e in _lines("unit.create")] == ["Phường", "Tổ dân phố", "Tổ dân phố"]
    receipts = ", ".join(r.receipt for r in stored)
    assert _lines("response.exclude") == [{"Mã phiếu": receipts, "Lý do": "Phiếu thử"}]
    assert _lines("export.csv")[0]["Kênh"] == "Phiếu giấy, Mã QR"
    serial = paper.format_serial(first.serial)
    assert _lines("sheet.reconcile") == [
        {"Các câu đối chiếu (lần 1, lần 2, chọn)": "Câu 15: 4, 5, 5"}]
    assert _lines("response.edit")[0]["Thay đổi"] == "Câu 15: 5 → 2; Câu 16: 4 → 3"

    html = admin_client.get("/staff/audit").get_data(as_text=True)
    assert "<dt>Đơn vị</dt><dd>TO-01, TO-02</dd>" in html
    assert "<dt>Đơn vị</dt><dd>TO-01 → TO-01, TO-02</dd>" in html
    assert f"<dt>Mã phiếu</dt><dd>{receipts}</dd>" in html
    assert "<dt>Thay đổi</dt><dd>Câu 15: 5 → 2; Câu 16: 4 → 3</dd>" in html
    assert f"{serial}</span>" in html
    for raw in ("TO-01 → TO-02", "leader", "group", "qr", "q15"):
        assert f">{raw}<" not in html, raw
        assert f": {raw}" not in html, raw


def test_old_entries_still_read_well(app: Flask, ward: Unit) -> None:
    """Entries stored before: a response since removed, a sheet unknown, an odd value."""
    audit.record("an", "response.edit", "GONE-GONE", changes={"q15": [4, 2]},
                 at="2026-03-01T00:00:00+00:00")
    audit.record("an", "sheet.reconcile", "999999", fields={"q21": [1, 2, 2],
                                                            "not_a_question": [1, 2, 2]})
    audit.record("an", "unit.update", "TO-09", parent=[None, "PHUONG"], hours=["", None])
    db.session.commit()
    assert _lines("response.edit")[0] == {"Thay đổi": "Câu 15: 4 → 2",
                                          "Lúc": "01/03/2026 07:00:00"}
    assert _lines("sheet.reconcile")[0]["Các câu đối chiếu (lần 1, lần 2, chọn)"] == \
        "Câu 21: 1, 2, 2; not_a_question: 1, 2, 2"
    assert _lines("unit.update")[0] == {"Thuộc": "— → PHUONG",
                                       "Giờ làm việc": "không giới hạn → theo mặc định"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sheet)) == 0
