"""The staff audit log page: readable actions and details, filters, pages, bad filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, Unit
from survey.services import audit, units


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
    second = admin_client.get("/staff/audit?actor=an&page=2").get_data(as_text=True)
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


def test_detail_values_read_as_text() -> None:
    assert audit.value_text(None) == "—"
    assert audit.value_text(["Q1", "Q2", "Q3"]) == "Q1, Q2, Q3"
    assert audit.value_text({"q15": [4, 2]}) == "q15: 4 → 2"
    assert audit.value_text(12) == "12"
    assert audit.target_label("batch 12") == "đợt 12"
    assert audit.action_label("something.new") == "something.new"
