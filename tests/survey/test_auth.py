"""Staff login: one message for every failure, throttling, safe redirects, logout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, User
from tests.conftest import PASSWORD, login

FAILED = "Tên đăng nhập hoặc mật khẩu không đúng."


def test_login_page_renders(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert "Đăng nhập cho cán bộ" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_login_succeeds_and_is_audited(client: FlaskClient,
                                       make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    response = login(client, "canbo")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.actor == "canbo"))
    assert "auth.login" in list(actions)
    user = db.session.scalars(sa.select(User).where(User.username == "canbo")).one()
    assert user.last_login_at is not None


def test_username_is_case_insensitive(client: FlaskClient,
                                      make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    assert login(client, "  CanBo ").status_code == 302


@pytest.mark.parametrize(("username", "password"), [
    ("canbo", "wrong password"),
    ("nobody", PASSWORD),
    ("", ""),
    ("canbo", ""),
    ("x" * 500, "y" * 500),
    ("canbo", "y" * 300),
    ("", PASSWORD),
])
def test_every_failed_login_gets_the_same_answer(client: FlaskClient,
                                                 make_user: Callable[..., User],
                                                 username: str, password: str) -> None:
    make_user("canbo", "staff")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert FAILED in html
    assert html.count('class="errors"') == 1
    assert client.get("/staff/").status_code == 302


def test_wrong_user_and_wrong_password_look_identical(client: FlaskClient,
                                                      make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    a = client.post("/login", data={"username": "canbo", "password": "wrong password"})
    b = client.post("/login", data={"username": "khongco", "password": "wrong password"})
    assert a.status_code == b.status_code == 401
    def page(response: object) -> str:
        return response.get_data(as_text=True).replace("khongco", "canbo")  # type: ignore[attr-defined]

    assert page(a) == page(b)


def test_disabled_account_cannot_log_in(client: FlaskClient,
                                        make_user: Callable[..., User]) -> None:
    user = make_user("canbo", "staff")
    user.active = False
    db.session.commit()
    response = login(client, "canbo")
    assert response.status_code == 401
    assert FAILED in response.get_data(as_text=True)


def test_disabling_an_account_ends_its_session(client: FlaskClient,
                                               make_user: Callable[..., User]) -> None:
    user = make_user("canbo", "staff")
    assert login(client, "canbo").status_code == 302
    user.active = False
    db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_login_redirects_only_to_local_pages(client: FlaskClient,
                                             make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    data = {"username": "canbo", "password": PASSWORD}
    # A backslash reads as a slash to browsers; a CR or LF would split the Location header
    # (a 500, issue 15) or inject one.
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)",
                   "/\\evil.example/x", "/%5Cevil.example", "/staff/%0d%0aSet-Cookie:%20x=1",
                   "/staff/%0aX-Evil:%201", "/staff/%00"):
        response = client.post(f"/login?next={target}", data=data)
        assert response.status_code == 302, target
        assert response.headers["Location"].endswith("/staff/"), target
        assert not any(c.startswith("x=") for c in response.headers.getlist("Set-Cookie"))
        assert "X-Evil" not in response.headers
        client.post("/logout")
    response = client.post("/login?next=/staff/units", data=data)
    assert response.headers["Location"].endswith("/staff/units")


def test_staff_page_sends_to_login_with_next(client: FlaskClient) -> None:
    response = client.get("/staff/units")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_logout_is_a_post_and_ends_the_session(client: FlaskClient,
                                               make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    login(client, "canbo")
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302


def test_failed_logins_are_throttled(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_USER="3 per 5 minutes",
                      RATELIMIT_LOGIN="100 per minute")
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("canbo", PASSWORD, "staff", actor="test")
        db.session.commit()
    client = app.test_client()
    for _ in range(3):
        response = client.post("/login", data={"username": "canbo", "password": "wrong one!"})
        assert response.status_code == 401
    blocked = client.post("/login", data={"username": "canbo", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in blocked.get_data(as_text=True)
    # Another account from the same client is not locked by these failures.
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("canbo2", PASSWORD, "staff", actor="test")
        db.session.commit()
    assert client.post("/login", data={"username": "canbo2", "password": PASSWORD}
                       ).status_code == 302


def test_guesses_from_many_addresses_stop_at_the_account_wide_limit(
        app_factory: Callable[..., Flask]) -> None:
    """8 addresses × 6 guesses each reached 48 tries at one account with no 429 (issue 15):
    failures at one account count together, whatever the address."""
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_ACCOUNT="20 per 10 minutes",
                      RATELIMIT_LOGIN_USER="6 per 5 minutes", RATELIMIT_LOGIN="100 per minute")
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("quantri", PASSWORD, "admin", actor="test")
        accounts.create_user("canbo", PASSWORD, "staff", actor="test")
        db.session.commit()
    # The real user logged in from their own browser before.
    own = app.test_client()
    assert own.post("/login", data={"username": "quantri", "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 302
    own.post("/logout")
    client = app.test_client()
    statuses = []
    for address in range(8):
        for _ in range(6):
            statuses.append(client.post(
                "/login", data={"username": "quantri", "password": "not the password"},
                environ_base={"REMOTE_ADDR": f"203.0.113.{address + 1}"}).status_code)
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    # A browser that never logged in to it waits (at most the window), with the message;
    blocked = app.test_client().post("/login", data={"username": "quantri",
                                                     "password": PASSWORD},
                                     environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert blocked.status_code == 429
    assert "Đăng nhập sai quá nhiều lần. Xin đợi vài phút rồi thử lại." in blocked.get_data(
        as_text=True)
    # the real user's own browser is not locked out by guesses from elsewhere; a forged
    # cookie does not pass for it; other accounts are not held back.
    assert own.post("/login", data={"username": "quantri", "password": PASSWORD},
                    environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 302
    forged = app.test_client()
    forged.set_cookie("survey_known", own.get_cookie("survey_known").value[:-2] + "xx")
    assert forged.post("/login", data={"username": "quantri", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 429
    assert client.post("/login", data={"username": "canbo", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "203.0.113.1"}).status_code == 302


def test_guesses_of_the_current_password_are_throttled(
        app_factory: Callable[..., Flask]) -> None:
    """The account page checked the current password without any limit (issue 15)."""
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_CHECK="3 per 5 minutes")
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("canbo", PASSWORD, "staff", actor="test")
        db.session.commit()
    client = app.test_client()
    assert client.post("/login", data={"username": "canbo", "password": PASSWORD}
                       ).status_code == 302
    new = "mùa thu lá vàng rơi"
    # A weak new password with the right current one is not a guess: not counted.
    weak = client.post("/staff/account", data={"current": PASSWORD, "new": "1234567890",
                                               "confirm": "1234567890"})
    assert weak.status_code == 400
    assert "Mật khẩu này quá dễ đoán" in weak.get_data(as_text=True)
    for _ in range(3):
        wrong = client.post("/staff/account", data={"current": "a wrong guess", "new": new,
                                                    "confirm": new})
        assert wrong.status_code == 400
        assert "Mật khẩu hiện tại không đúng." in wrong.get_data(as_text=True)
    stopped = client.post("/staff/account", data={"current": PASSWORD, "new": new,
                                                  "confirm": new})
    assert stopped.status_code == 429
    with app.app_context():
        from survey.services import accounts

        user = accounts.get_user("canbo")
        assert user is not None
        assert user.check_password(PASSWORD)


@pytest.mark.parametrize("password", [
    "1234567890", "aaaaaaaaaa", " " * 10, "0987654321", "qwertyuiop", "password123",
    "matkhau123", "abcdefghij", "canbo12345", "iloveyou12"])
def test_passwords_guessed_first_are_refused(app: Flask, password: str) -> None:
    from survey.services import accounts

    with pytest.raises(accounts.AccountError, match="dễ đoán|easy to remember") as info:
        accounts.create_user("canbo", password, "staff", actor="test")
    assert info.value.field == "password"
    db.session.rollback()
    assert accounts.get_user("canbo") is None


@pytest.mark.parametrize("password", [
    "mùa thu lá vàng rơi", "correct horse battery", "tranlieu-2026-quantri", "x7#kQ9!mLp",
    "một câu rất dài mà người cán bộ phường vẫn nhớ được vì nó kể chuyện ngày đầu đi làm"])
def test_passwords_hard_to_guess_are_accepted_whatever_their_characters(
        app: Flask, password: str) -> None:
    from survey.services import accounts

    assert accounts.create_user("canbo", password, "staff", actor="test").check_password(
        password)


def test_successful_logins_do_not_count_towards_the_limit(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_USER="2 per 5 minutes")
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("canbo", PASSWORD, "staff", actor="test")
        db.session.commit()
    client = app.test_client()
    for _ in range(4):
        assert client.post("/login", data={"username": "canbo", "password": PASSWORD}
                           ).status_code == 302
        client.post("/logout")


def test_a_password_change_ends_other_logins(app: Flask, make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    make_user("quantri", "admin")
    leader_browser, admin_browser = app.test_client(), app.test_client()
    login(leader_browser, "canbo")
    login(admin_browser, "quantri")
    assert leader_browser.get("/staff/").status_code == 200
    user = db.session.scalars(sa.select(User).where(User.username == "canbo")).one()
    response = admin_browser.post(f"/staff/users/{user.id}", data={
        "role": "staff", "active": "y", "password": "mot-mat-khau-moi"})
    assert response.status_code == 302
    assert leader_browser.get("/staff/").status_code == 302
    assert admin_browser.get("/staff/").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(app: Flask,
                                                    make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    browser = app.test_client()
    login(browser, "canbo")
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/staff/").status_code == 200
    browser.post("/logout")
    assert thief.get("/staff/").status_code == 302


def test_a_forged_login_id_is_refused(app: Flask, make_user: Callable[..., User]) -> None:
    from flask.sessions import SecureCookieSessionInterface

    user = make_user("canbo", "staff")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    for login_id in (str(user.id), f"{user.id}:wrong", "x:y", f"{'9' * 30}:abc", ""):
        browser = app.test_client()
        browser.set_cookie("session", serializer.dumps({"_user_id": login_id, "_fresh": True}))
        assert browser.get("/staff/").status_code == 302, login_id
