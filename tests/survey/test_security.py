"""Headers, cookies, CSRF on every POST, the secret key, and no 500 anywhere."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from survey.config import ConfigError, _instance_secret
from survey.extensions import db
from survey.models import AuditLog, Response, Unit, User
from survey.services import units
from tests.conftest import PASSWORD, csrf_token_from, make_app, seed_link, sipas_answers


def test_security_headers_on_every_page(client, link_code: str) -> None:  # type: ignore[no-untyped-def]
    for url in ("/", f"/s/{link_code}", "/login", "/healthz", "/nope"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_inline_stylesheet_matches_its_csp_hash(client, link_code: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/s/{link_code}")
    html = response.get_data(as_text=True)
    match = re.search(r"<style>(.*?)</style>", html, re.S)
    assert match
    digest = base64.b64encode(hashlib.sha256(match.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]
    assert "style=" not in html
    assert "<script" not in html


def test_session_cookie_flags(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(BASE_URL="https://khaosat.example.vn")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("canbo", PASSWORD, "staff", actor="test")
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": "canbo", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_base_url_keeps_login_possible(app: Flask) -> None:
    """On plain http (a ward's LAN) a browser would drop a Secure cookie: login must work."""
    from survey.services import accounts

    accounts.create_user("canbo", PASSWORD, "staff", actor="test")
    db.session.commit()
    browser = app.test_client()
    response = browser.post("/login", data={"username": "canbo", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
    page = browser.get("/staff/")
    assert page.status_code == 200  # the session came back: still logged in
    assert "canbo" in page.get_data(as_text=True)


def _fill(url: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
    return url


def test_every_post_route_refuses_a_missing_csrf_token(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from survey.services import accounts

        ward = units.create_unit("P", "Phường", "ward", actor="test")
        unit = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
        link = units.ensure_link(unit, "sipas-dichvu", actor="test")
        admin = accounts.create_user("quantri", PASSWORD, "admin", actor="test")
        from survey.services import paper

        batch = paper.create_batch("sipas-dichvu", unit, 1, leader=None, double_entry=False,
                                   actor="test")
        db.session.commit()
        values = {"code": link.code, "user_id": str(admin.id), "batch_id": str(batch.id),
                  "serial": paper.format_serial(batch.sheets[0].serial), "group_id": "1",
                  "token_id": "1"}
        unit_code = unit.code
        audit_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post("/login", data={"username": "quantri", "password": PASSWORD}
                       ).status_code == 400
    assert client.post("/login", data={"username": "quantri", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())]
    assert len(posts) >= 9
    for rule in posts:
        url = rule.rule
        if url.startswith("/staff/units/"):
            url = _fill(url, {"code": unit_code})
        url = _fill(url, values)
        # What the route would take with a token: the citizen's form gets a complete answer set.
        data = (sipas_answers() if rule.endpoint == "public.survey"
                else {"name": "x", "code": "NEW", "kind": "group"})
        response = client.post(url, data=data)
        # The API's one write takes a token, never the session cookie: 401 before any CSRF.
        assert response.status_code == (401 if url.startswith("/api/") else 400), url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 2
        after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
        assert after == audit_before + 1  # the login above, nothing else


def test_public_form_with_expired_token_keeps_answers(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    code = seed_link(app)
    client = app.test_client()
    html = client.get(f"/s/{code}").get_data(as_text=True)
    token = csrf_token_from(html)
    response_id = re.search(r'name="response_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    data = sipas_answers(response_id=response_id, q_q19=1)
    refused = client.post(f"/s/{code}", data=dict(data, csrf_token="expired-or-forged"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Câu trả lời của Ông/Bà vẫn còn" in page
    assert re.search(r'name="q_q19" value="1" checked', page)
    new_token = csrf_token_from(page)
    accepted = client.post(f"/s/{code}", data=dict(data, csrf_token=new_token))
    assert accepted.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    other = app.test_client()  # another browser: its session has no token
    assert other.post(f"/s/{code}", data=dict(sipas_answers(), csrf_token=token)
                      ).status_code == 400


@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
def test_citizen_form_refuses_a_complete_answer_set_without_its_own_token(
        app_factory: Callable[..., Flask], token: str) -> None:
    """The token alone decides: every answer is valid, so a 400 can only come from the token."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    code = seed_link(app)
    citizen, other = app.test_client(), app.test_client()
    html = citizen.get(f"/s/{code}").get_data(as_text=True)
    own = csrf_token_from(html)
    response_id = re.search(r'name="response_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    data = sipas_answers(response_id=response_id)
    if token == "wrong":
        data["csrf_token"] = own[:-4] + ("AAAA" if not own.endswith("AAAA") else "BBBB")
    elif token == "another session's":
        data["csrf_token"] = csrf_token_from(other.get(f"/s/{code}").get_data(as_text=True))
    refused = citizen.post(f"/s/{code}", data=data)
    assert refused.status_code == 400
    assert "Trang đã mở quá lâu" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    # The same answers with the citizen's own token are stored: nothing else was wrong.
    accepted = citizen.post(f"/s/{code}", data=dict(data, csrf_token=own))
    assert accepted.status_code == 200
    assert "Mã phiếu" in accepted.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = _instance_secret(tmp_path / "instance")
    second = _instance_secret(tmp_path / "instance")
    assert first == second
    assert len(first) == 64
    mode = stat.S_IMODE((tmp_path / "instance" / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(("overrides", "message"), [
    ({"SECRET_KEY": "short"}, "SURVEY_SECRET_KEY"),
    ({"BASE_URL": "ftp://x"}, "SURVEY_BASE_URL"),
    ({"PROXY_COUNT": -1}, "SURVEY_PROXY_COUNT"),
])
def test_bad_configuration_fails_at_boot(tmp_path: Path, overrides: dict[str, object],
                                         message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_app(f"sqlite:///{tmp_path / 'x.db'}", **overrides)


def test_no_route_answers_500_to_odd_requests(app: Flask, admin_client, link_code: str,  # type: ignore[no-untyped-def]
                                              make_user: Callable[..., User]) -> None:
    odd = ["/s/", "/s/%00", "/s/" + "é" * 40, "/staff/units/%ff", "/staff/users/abc",
           "/staff/links/../../etc/passwd", "/login?next=%0d%0aSet-Cookie:x", "/?lang=<script>",
           "/staff/links/" + "a" * 5000 + "/poster", "/staff/users/99999999999999999999999",
           "/staff/users/-1", "/staff/users/2147483648"]
    for url in odd:
        for method in ("GET", "POST"):
            response = admin_client.open(url, method=method, data={"x": "\x00\ud800".encode(
                "utf-8", "surrogatepass")})
            assert response.status_code < 500, (method, url, response.status_code)


def test_files_are_refused_where_none_is_expected(app: Flask, admin_client,  # type: ignore[no-untyped-def]
                                                  link_code: str) -> None:
    import io

    for url, field in [("/login", "username"), ("/staff/units", "name"),
                       ("/staff/account", "current"), (f"/s/{link_code}", "q_y_kien"),
                       ("/staff/units/QUAY-1", "name")]:
        response = admin_client.post(url, data={field: (io.BytesIO(b"x"), "x.txt")},
                                     content_type="multipart/form-data")
        assert response.status_code == 400, url
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_oversized_post_is_refused(client, link_code: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/s/{link_code}", data={"q_y_kien": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Nội dung gửi lên quá lớn." in response.get_data(as_text=True)
