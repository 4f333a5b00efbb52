"""Staff pages: login everywhere, roles and leaders' units enforced, QR codes, posters."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, Batch, FlagGroup, Response, SurveyLink, Unit, User
from survey.services import units
from tests.conftest import login, require, sipas_answers


def _example_args(app: Flask) -> dict[str, str]:
    """Real values for every URL variable, so that each route is reached, not 404'd."""
    with app.app_context():
        link = db.session.scalars(sa.select(SurveyLink)).first()
        user = db.session.scalars(sa.select(User)).first()
        assert link is not None
        assert user is not None
        from survey.services import paper

        batch = db.session.scalars(sa.select(Batch)).first()
        if batch is None:
            batch = paper.create_batch("sipas-dichvu", link.unit, 1, leader=None,
                                       double_entry=False, actor="test")
            db.session.commit()
        group = db.session.scalars(sa.select(FlagGroup)).first()
        if group is None:  # a flagged response, for the flags pages
            from datetime import UTC, datetime

            from survey.services import integrity
            from survey.services.questionnaires import get_questionnaire
            from survey.services.submissions import save_response

            questionnaire = get_questionnaire("sipas-dichvu")
            assert questionnaire is not None
            save_response(questionnaire, link.unit, "qr", uuid.uuid4(), {"q15": 4},
                          link=link, submitted_at=datetime(2026, 3, 1, 20, tzinfo=UTC))
            integrity.scan()
            db.session.commit()
            group = db.session.scalars(sa.select(FlagGroup)).one()
        from survey.models import Case

        receipt = db.session.scalars(sa.select(Case.receipt)).first()
        if receipt is None:  # a case (a low rating opens one), for the case pages
            from survey.services.questionnaires import get_questionnaire
            from survey.services.submissions import save_response

            questionnaire = get_questionnaire("sipas-dichvu")
            assert questionnaire is not None
            receipt = save_response(questionnaire, link.unit, "qr", uuid.uuid4(), {"q20": 1},
                                    link=link).response.receipt
            db.session.commit()
        from survey.models import ApiToken
        from survey.services import accounts

        token = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == user.id,
                                                               ApiToken.revoked.is_(False)))
        if token is None:  # a token of the account walking the routes, for its revoke route
            accounts.create_token(user, "thử", actor="test")
            db.session.commit()
            token = db.session.scalar(sa.select(sa.func.max(ApiToken.id)))
        return {"token_id": str(token), "link": link.code, "unit": link.unit.code,
                "user_id": str(user.id),
                "kind": "groups", "fmt": "json", "batch_id": str(batch.id),
                "serial": paper.format_serial(batch.sheets[0].serial),
                "group_id": str(group.id), "receipt": receipt}


def staff_rules(app: Flask) -> list[tuple[str, str]]:
    """Every (method, url) under /staff/, built from the URL map."""
    values = _example_args(app)
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        urls = [rule.rule]
        for name in rule.arguments:
            if name == "code":
                choices = [values["unit" if rule.rule.startswith("/staff/units") else "link"]]
            else:
                # Every download format and chart, not just one of them.
                choices = {"fmt": ["json", "csv", "xlsx", "pdf"],
                           "kind": ["groups", "trend"]}.get(name, [values[name]])
            urls = [re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
                    for url in urls for value in choices]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.extend((method, url) for url in urls)
    return found


def test_every_staff_route_requires_login(app: Flask, client: FlaskClient, link_code: str,
                                          make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    rules = staff_rules(app)
    assert len(rules) >= 15
    for method, url in rules:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"], (method, url)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action.like("link.%"), AuditLog.actor != "test")) == 0


def test_every_staff_route_works_for_an_admin(app: Flask, admin_client: FlaskClient,
                                              link_code: str) -> None:
    """Every GET under /staff/ answers an admin with what its URL promises: a staff page with
    its own heading, or a file of the right kind; never an error page."""
    signatures = {"image/png": b"\x89PNG\r\n", "application/pdf": b"%PDF-",
                  "image/svg+xml": b"<?xml"}
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    seen: set[str] = set()
    for method, url in staff_rules(app):
        if method != "GET":
            continue
        response = admin_client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        if response.status_code == 302:
            # A page that does not apply to the sheet's state (reconcile an untyped sheet)
            # sends the officer where it does, and that page opens.
            target = response.headers["Location"]
            assert "/staff/" in target, (url, target)
            assert admin_client.get(target).status_code == 200, (url, target)
            continue
        assert response.status_code == 200, url
        kind = response.mimetype
        seen.add(kind)
        if kind == "text/html":
            html = response.get_data(as_text=True)
            heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
            assert heading, url
            assert heading.group(1).strip(), url
            assert "Mã lỗi" not in html, url  # not the error page
            if url.endswith("/poster"):  # a printable page of its own: the QR and its link
                assert 'class="qr"' in html, url
                assert "/s/" in html, url
            else:
                assert "quantri" in html, url  # the staff layout, logged in
        elif kind == "application/json":
            assert isinstance(response.get_json(), dict), url
        elif kind == "text/csv":
            assert response.get_data(as_text=True).lstrip("\ufeff").split("\r\n")[0], url
        elif kind == xlsx:
            assert response.data.startswith(b"PK\x03\x04"), url
        else:
            assert kind in signatures, (url, kind)
            assert response.data.startswith(signatures[kind]), url
        response.close()  # downloads are files that closing removes
    assert {"text/html", "image/png", "application/pdf", "text/csv", xlsx} <= seen


@pytest.fixture
def leader_setup(app: Flask, make_unit: Callable[..., Unit],
                 make_user: Callable[..., User]) -> tuple[Unit, Unit]:
    own = make_unit("TDP-01", "Tổ dân phố số 1", kind="group")
    other = make_unit("TDP-02", "Tổ dân phố số 2", kind="group")
    for unit in (own, other):
        units.ensure_link(unit, "sipas-dichvu", actor="test")
    db.session.commit()
    make_user("totruong1", "leader", [own])
    return own, other


def test_leader_sees_only_own_units(client: FlaskClient, leader_setup: tuple[Unit, Unit]) -> None:
    own, other = leader_setup
    login(client, "totruong1")
    for page in ("/staff/", "/staff/units"):
        html = client.get(page).get_data(as_text=True)
        assert "TDP-01" in html
        assert "TDP-02" not in html
        assert "PHUONG" not in html
    assert client.get("/staff/units/TDP-01").status_code == 200
    own_link = units.link_for(own, "sipas-dichvu")
    other_link = units.link_for(other, "sipas-dichvu")
    assert own_link is not None
    assert other_link is not None
    for suffix in ("qr.png", "qr.svg", "poster"):
        assert client.get(f"/staff/links/{own_link.code}/{suffix}").status_code == 200
        assert client.get(f"/staff/links/{other_link.code}/{suffix}").status_code == 403
    assert client.get("/staff/units/TDP-02").status_code == 403
    assert client.get("/staff/units/PHUONG").status_code == 403


def test_leader_cannot_change_anything(client: FlaskClient,
                                       leader_setup: tuple[Unit, Unit]) -> None:
    own, other = leader_setup
    login(client, "totruong1")
    own_link = units.link_for(own, "sipas-dichvu")
    other_link = units.link_for(other, "sipas-dichvu")
    assert own_link is not None
    assert other_link is not None
    attempts = [
        ("/staff/units", {"code": "NEW", "name": "Mới", "kind": "group"}),
        ("/staff/units/TDP-01", {"name": "Đổi tên", "active": "y"}),
        ("/staff/units/TDP-02", {"name": "Đổi tên", "active": "y"}),
        ("/staff/units/TDP-01/links", {"link-questionnaire": "mau-02"}),
        (f"/staff/links/{own_link.code}/toggle", {}),
        (f"/staff/links/{other_link.code}/toggle", {}),
        ("/staff/users", {"username": "moi", "role": "admin", "password": "x" * 12}),
    ]
    for url, data in attempts:
        assert client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert units.get_unit("NEW") is None
    assert own.name == "Tổ dân phố số 1"
    assert units.link_for(own, "mau-02") is None
    assert own_link.active
    assert other_link.active
    assert db.session.scalar(sa.select(User).where(User.username == "moi")) is None


def test_staff_cannot_manage_accounts(client: FlaskClient,
                                      make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    login(client, "canbo")
    assert client.get("/staff/users").status_code == 403
    assert client.get("/staff/audit").status_code == 403
    assert client.get("/staff/units").status_code == 200


def test_admin_creates_unit_and_link(admin_client: FlaskClient, ward: Unit) -> None:
    response = admin_client.post("/staff/units", data={
        "code": "tdp-04", "name": "  Tổ dân phố   số 4 ", "kind": "group", "parent": "PHUONG"})
    assert response.status_code == 302
    unit = units.get_unit("TDP-04")
    assert unit is not None
    assert (unit.name, unit.kind, unit.parent_id) == ("Tổ dân phố số 4", "group", ward.id)
    page = admin_client.get("/staff/units/TDP-04").get_data(as_text=True)
    assert "Đơn vị chưa có đường dẫn khảo sát." in page
    response = admin_client.post("/staff/units/TDP-04/links",
                                 data={"link-questionnaire": "sipas-dichvu"})
    assert response.status_code == 302
    link = units.link_for(unit, "sipas-dichvu")
    assert link is not None
    page = admin_client.get("/staff/units/TDP-04").get_data(as_text=True)
    assert f"http://survey.test/s/{link.code}" in page
    actions = list(db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.actor == "quantri")))
    assert "unit.create" in actions
    assert "link.create" in actions


@pytest.mark.parametrize(("data", "message"), [
    ({"code": "bad code!", "name": "X", "kind": "group"}, "Chỉ dùng chữ không dấu"),
    ({"code": "PHUONG", "name": "Trùng", "kind": "group"}, "Đã có đơn vị mã PHUONG."),
    ({"code": "OK1", "name": "", "kind": "group"}, "Xin điền ô này."),
    ({"code": "OK2", "name": "X", "kind": "planet"}, "Lựa chọn không hợp lệ."),
])
def test_bad_unit_is_refused_with_a_message(admin_client: FlaskClient, ward: Unit,
                                            data: dict[str, str], message: str) -> None:
    response = admin_client.post("/staff/units", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Unit))
    assert count == 1


def test_unknown_objects_are_404(admin_client: FlaskClient) -> None:
    for url in ("/staff/units/NOPE", "/staff/links/nope99/qr.png", "/staff/links/nope99/poster",
                "/staff/users/99999"):
        assert admin_client.get(url).status_code == 404, url


def test_closing_a_link_closes_the_form(admin_client: FlaskClient, link_code: str) -> None:
    assert admin_client.post(f"/staff/links/{link_code}/toggle",
                             data={"confirm": "1"}).status_code == 302
    assert admin_client.get(f"/s/{link_code}").status_code == 410
    assert admin_client.post(f"/staff/links/{link_code}/toggle").status_code == 302
    assert admin_client.get(f"/s/{link_code}").status_code == 200


def test_unit_edit_keeps_the_code(admin_client: FlaskClient, counter: Unit) -> None:
    response = admin_client.post("/staff/units/QUAY-1", data={
        "name": "Quầy Hộ tịch", "parent": "PHUONG", "active": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (counter.code, counter.name, counter.active) == ("QUAY-1", "Quầy Hộ tịch", True)
    admin_client.post("/staff/units/QUAY-1", data={"name": "Quầy Hộ tịch", "parent": ""})
    db.session.expire_all()
    assert counter.active is False
    assert counter.parent_id is None


def test_qr_downloads_hold_the_link(admin_client: FlaskClient, link_code: str) -> None:
    png = admin_client.get(f"/staff/links/{link_code}/qr.png")
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    assert "attachment" in png.headers["Content-Disposition"]
    svg = admin_client.get(f"/staff/links/{link_code}/qr.svg")
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data
    zbarimg = shutil.which("zbarimg")
    require(zbarimg, "zbarimg (zbar-tools) is not installed")
    assert zbarimg is not None
    decoded = subprocess.run([zbarimg, "-q", "--raw", "-"], input=png.data, capture_output=True,
                             check=True).stdout.decode().strip()
    assert decoded == f"http://survey.test/s/{link_code}"


def test_poster_has_everything_a_counter_needs(admin_client: FlaskClient,
                                               link_code: str) -> None:
    html = admin_client.get(f"/staff/links/{link_code}/poster").get_data(as_text=True)
    assert "PHƯỜNG THỬ NGHIỆM" in html
    assert "Quầy Tư pháp - Hộ tịch" in html
    assert "Quét mã QR để góp ý" in html
    assert f"survey.test/s/{link_code}" in html
    assert f"/staff/links/{link_code}/qr.svg?inline=1" in html
    assert "size:A5" in Path("static/css/poster.css").read_text(encoding="utf-8")


def test_counts_on_the_units_page(app: Flask, admin_client: FlaskClient, link_code: str) -> None:
    for _ in range(3):  # three citizens, three phones
        assert app.test_client().post(f"/s/{link_code}", data=sipas_answers()).status_code == 200
    html = admin_client.get("/staff/units").get_data(as_text=True)
    assert re.search(r"QUAY-1</a></td>\s*<td>[^<]*</td>\s*<td class=\"wide\">[^<]*</td>\s*"
                     r"<td class=\"num\">3</td>", html)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 3


def test_admin_manages_accounts(admin_client: FlaskClient, counter: Unit) -> None:
    response = admin_client.post("/staff/users", data={
        "username": "totruong", "role": "leader", "password": "mat-khau-dai-1"})
    assert response.status_code == 400
    assert "Tổ trưởng cần được giao ít nhất một đơn vị." in response.get_data(as_text=True)
    response = admin_client.post("/staff/users", data={
        "username": "totruong", "role": "leader", "units": ["QUAY-1"],
        "password": "mat-khau-dai-1"})
    assert response.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.username == "totruong")).one()
    assert [u.code for u in user.units] == ["QUAY-1"]
    response = admin_client.post(f"/staff/users/{user.id}", data={
        "role": "staff", "active": "y", "password": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (user.role, user.units) == ("staff", [])
    me = db.session.scalars(sa.select(User).where(User.username == "quantri")).one()
    response = admin_client.post(f"/staff/users/{me.id}", data={"role": "staff", "active": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert me.role == "admin"


def test_password_change(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    login(client, "canbo")
    bad = client.post("/staff/account", data={"current": "wrong", "new": "mot-mat-khau-moi",
                                              "confirm": "mot-mat-khau-moi"})
    assert bad.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in bad.get_data(as_text=True)
    short = client.post("/staff/account", data={"current": "correct horse battery",
                                                "new": "ngan", "confirm": "ngan"})
    assert short.status_code == 400
    ok = client.post("/staff/account", data={"current": "correct horse battery",
                                              "new": "mot-mat-khau-moi",
                                              "confirm": "mot-mat-khau-moi"})
    assert ok.status_code == 302
    client.post("/logout")
    assert login(client, "canbo", "mot-mat-khau-moi").status_code == 302


def test_audit_page_lists_actions(admin_client: FlaskClient, link_code: str) -> None:
    admin_client.post(f"/staff/links/{link_code}/toggle", data={"confirm": "1"})
    html = admin_client.get("/staff/audit").get_data(as_text=True)
    assert "Đóng đường dẫn khảo sát" in html
    assert "Đăng nhập" in html


def test_png_is_a_real_image(admin_client: FlaskClient, link_code: str) -> None:
    from PIL import Image

    png = admin_client.get(f"/staff/links/{link_code}/qr.png").data
    image = Image.open(io.BytesIO(png))
    assert image.size[0] == image.size[1] >= 250
