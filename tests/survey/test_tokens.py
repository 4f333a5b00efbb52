"""API tokens are named, listed and revoked on the account page and by the command line; a
password reset or a disabled account revokes them (issue 15: they survived both)."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import ApiToken, AuditLog, User
from survey.services import accounts
from tests.conftest import csrf_token_from, login

API = "/api/v1/summary?questionnaire=sipas-dichvu"


def reads(client: FlaskClient, token: str) -> int:
    """Return 200 if the API lets the token in, else its status (401)."""
    status = client.get(API, headers={"Authorization": f"Bearer {token}"}).status_code
    return 200 if status != 401 else status


def test_an_account_makes_names_lists_and_revokes_its_own_tokens(
        client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("canbo", "staff")
    login(client, "canbo")
    page = client.get("/staff/account").get_data(as_text=True)
    assert "Tài khoản chưa có mã nào." in page
    made = client.post("/staff/account/tokens", data={
        "csrf_token": csrf_token_from(page), "name": "Bảng tin thành phố"})
    assert made.status_code == 200
    html = made.get_data(as_text=True)
    assert "mã chỉ hiện một lần này" in html
    token = re.search(r'<code class="token">(sk_[\w-]+)</code>', html)
    assert token is not None
    assert "Set-Cookie" not in made.headers or token.group(1) not in made.headers["Set-Cookie"]
    other = client.post("/staff/account/tokens", data={
        "csrf_token": csrf_token_from(html), "name": "Thử"})
    assert other.status_code == 200
    assert reads(client, token.group(1)) == 200
    listed = client.get("/staff/account").get_data(as_text=True)
    assert "Bảng tin thành phố" in listed
    assert "Thử" in listed
    assert token.group(1) not in listed  # shown once only
    assert "chưa dùng" in listed  # "Thử" is not used yet
    first = db.session.scalars(sa.select(ApiToken).where(
        ApiToken.name == "Bảng tin thành phố")).one()
    done = client.post(f"/staff/account/tokens/{first.id}/revoke",
                       data={"csrf_token": csrf_token_from(listed)}, follow_redirects=True)
    assert "Đã thu hồi mã “Bảng tin thành phố”" in done.get_data(as_text=True)
    assert reads(client, token.group(1)) == 401
    entry = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "token.revoke")).one()
    assert (entry.actor, entry.details["name"]) == ("canbo", "Bảng tin thành phố")
    # A name is needed; a blank one is refused on the page.
    blank = client.post("/staff/account/tokens", data={
        "csrf_token": csrf_token_from(listed), "name": "   "})
    assert blank.status_code == 400


def test_nobody_revokes_another_accounts_token(
        client: FlaskClient, make_user: Callable[..., User]) -> None:
    owner = make_user("script", "staff")
    token = accounts.create_token(owner, "báo cáo", actor="test")
    db.session.commit()
    row = db.session.scalars(sa.select(ApiToken)).one()
    make_user("canbo", "admin")
    login(client, "canbo")
    page = client.get("/staff/account").get_data(as_text=True)
    refused = client.post(f"/staff/account/tokens/{row.id}/revoke",
                          data={"csrf_token": csrf_token_from(page)})
    assert refused.status_code == 404
    assert reads(client, token) == 200


def test_a_password_reset_and_a_disabled_account_revoke_every_token(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user("script", "staff")
    admin = make_user("quantri", "admin")
    tokens = [accounts.create_token(user, name, actor="test") for name in ("a", "b")]
    db.session.commit()
    assert [reads(client, t) for t in tokens] == [200, 200]
    accounts.set_password(user, "một mật khẩu mới khó đoán", actor=admin)
    db.session.commit()
    assert [reads(client, t) for t in tokens] == [401, 401]
    entry = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "token.revoke")).one()
    assert (entry.details["names"], entry.details["why"]) == (["b", "a"], "password")
    again = accounts.create_token(user, "c", actor="test")
    db.session.commit()
    assert reads(client, again) == 200
    accounts.update_user(user, role="staff", units=[], active=False, actor=admin)
    db.session.commit()
    user.active = True  # even back in use, the old token stays revoked
    db.session.commit()
    assert reads(client, again) == 401
    assert accounts.tokens_of(user) == []


def test_the_command_line_lists_and_revokes_tokens(app: Flask,
                                                   make_user: Callable[..., User]) -> None:
    user = make_user("script", "staff")
    first = accounts.create_token(user, "bảng tin", actor="test")
    accounts.create_token(user, "báo cáo", actor="test")
    db.session.commit()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["users", "tokens", "script"])
    assert listed.exit_code == 0, listed.output
    lines = [line.split("\t") for line in listed.output.splitlines()]
    assert [line[1] for line in lines] == ["báo cáo", "bảng tin"]
    assert all(line[3] == "-" for line in lines)
    token_id = next(line[0] for line in lines if line[1] == "bảng tin")
    done = runner.invoke(args=["users", "revoke-token", "script", token_id])
    assert done.exit_code == 0, done.output
    assert f"token {token_id} (bảng tin) of script revoked" in done.output
    assert accounts.user_for_token(first) is None
    for args, message in ((["users", "revoke-token", "script", token_id], "no token"),
                          (["users", "revoke-token", "script"], "give a token id or --all"),
                          (["users", "revoke-token", "nobody", "--all"], "unknown user"),
                          (["users", "revoke-token", "script", "x"], "is not a valid")):
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    every = runner.invoke(args=["users", "revoke-token", "script", "--all"])
    assert "1 token(s) of script revoked" in every.output
    assert runner.invoke(args=["users", "tokens", "script"]).output == ""
