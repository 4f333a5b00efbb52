"""The cases API (contract §9): who may read and answer, filters, the JSON, refusals, audit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, Case, Response, Unit, User
from survey.services import accounts, cases
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import login

LOW = {f"q{i}": 4 for i in range(15, 34)} | {"q20": 2}
FINE = {f"q{i}": 4 for i in range(15, 34)}
FIELDS = {"receipt", "unit", "opened_at", "due", "status", "reasons", "suggestion", "reply",
          "answered_at"}


def store(unit: Unit, answers: dict[str, Any], *, at: datetime | None = None,
          contact: cases.Contact | None = None) -> Response:
    """Store a sipas-dichvu response (opening its case by the rule); return it."""
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    stored = save_response(questionnaire, unit, "qr", uuid.uuid4(), answers, submitted_at=at,
                           contact=contact)
    db.session.commit()
    return stored.response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two_units(make_unit: Callable[..., Unit]) -> tuple[Unit, Unit]:
    return make_unit("Q1", "Quầy 1"), make_unit("Q2", "Quầy 2")


@pytest.fixture
def tokens(make_user: Callable[..., User], two_units: tuple[Unit, Unit]) -> dict[str, str]:
    """API tokens of an admin, a staff member and the leader of Q1."""
    made = {}
    for name, role, own in (("quantri", "admin", []), ("canbo", "staff", []),
                            ("totruong", "leader", [two_units[0]])):
        user = make_user(name, role, own)
        made[name] = accounts.create_token(user, f"cổng PAKN {name}", actor="test")
    db.session.commit()
    return made


def test_the_list_needs_a_session_or_a_valid_token(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    store(two_units[0], LOW)
    anonymous = client.get("/api/v1/cases")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["status"] == 401
    assert client.get("/api/v1/cases", headers=bearer("sk_wrong")).status_code == 401
    by_token = client.get("/api/v1/cases", headers=bearer(tokens["canbo"]))
    assert by_token.status_code == 200
    assert len(by_token.get_json()) == 1
    assert login(client, "canbo").status_code == 302
    by_session = client.get("/api/v1/cases")
    assert by_session.status_code == 200
    assert by_session.get_json() == by_token.get_json()


def test_the_list_shows_the_contract_fields_and_never_the_contact(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    q1 = two_units[0]
    # 23:30 in Vietnam on 2 March 2026 (16:30 UTC).
    opened = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    response = store(q1, LOW | {"y_kien": "Phải chờ quá lâu ở quầy"}, at=opened,
                     contact=cases.Contact("phone", "0912345678"))
    store(q1, FINE)  # no case
    body = client.get("/api/v1/cases", headers=bearer(tokens["quantri"]))
    assert body.status_code == 200
    assert "0912345678" not in body.get_data(as_text=True)
    [item] = body.get_json()
    assert set(item) == FIELDS
    case = cases.find_by_receipt(response.receipt)
    assert case is not None
    assert item == {
        "receipt": response.receipt, "unit": "Q1", "opened_at": "2026-03-02T23:30:00+07:00",
        "due": case.due.isoformat(), "status": "new", "reasons": ["low_rating", "suggestion"],
        "suggestion": "Phải chờ quá lâu ở quầy", "reply": None, "answered_at": None}
    only_low = store(q1, LOW)
    found = {i["receipt"]: i for i in client.get(
        "/api/v1/cases", headers=bearer(tokens["quantri"])).get_json()}
    assert found[only_low.receipt]["reasons"] == ["low_rating"]
    assert found[only_low.receipt]["suggestion"] is None


def test_a_leader_sees_own_units_only_and_is_told_which_unit_is_not_theirs(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    q1, q2 = two_units
    own = store(q1, LOW)
    other = store(q2, LOW)
    leader = client.get("/api/v1/cases", headers=bearer(tokens["totruong"])).get_json()
    assert [i["receipt"] for i in leader] == [own.receipt]
    refused = client.get("/api/v1/cases?unit=Q2", headers=bearer(tokens["totruong"]))
    assert refused.status_code == 403
    assert "Q2" in refused.get_json()["error"]
    unknown = client.get("/api/v1/cases?unit=KHONGCO", headers=bearer(tokens["quantri"]))
    assert unknown.status_code == 400
    assert "KHONGCO" in unknown.get_json()["error"]
    everything = client.get("/api/v1/cases", headers=bearer(tokens["canbo"])).get_json()
    assert {i["receipt"] for i in everything} == {own.receipt, other.receipt}
    chosen = client.get("/api/v1/cases?unit=Q2&unit=Q1", headers=bearer(tokens["canbo"]))
    assert {i["receipt"] for i in chosen.get_json()} == {own.receipt, other.receipt}
    just_q2 = client.get("/api/v1/cases?unit=Q2", headers=bearer(tokens["canbo"])).get_json()
    assert [i["receipt"] for i in just_q2] == [other.receipt]
    # A case of another unit assigned to the leader is theirs to handle, and listed.
    case = cases.find_by_receipt(other.receipt)
    leader_user = accounts.get_user("totruong")
    assert case is not None
    assert leader_user is not None
    case.assignee = leader_user
    db.session.commit()
    leader = client.get("/api/v1/cases", headers=bearer(tokens["totruong"])).get_json()
    assert {i["receipt"] for i in leader} == {own.receipt, other.receipt}


def test_filters_by_status_and_vietnam_days_of_opening(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    q1 = two_units[0]
    late_evening = store(q1, LOW, at=datetime(2026, 3, 2, 16, 30, tzinfo=UTC))  # 2/3 23:30
    after_midnight = store(q1, LOW, at=datetime(2026, 3, 2, 17, 30, tzinfo=UTC))  # 3/3 00:30
    early = store(q1, LOW, at=datetime(2026, 2, 1, 3, 0, tzinfo=UTC))
    admin = accounts.get_user("quantri")
    assert admin is not None
    answered = cases.find_by_receipt(early.receipt)
    assert answered is not None
    cases.reply(answered, admin, "Phường đã kiểm tra và trả lời.")
    db.session.commit()
    headers = bearer(tokens["quantri"])

    def receipts(query: str) -> list[str]:
        response = client.get(f"/api/v1/cases?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [i["receipt"] for i in response.get_json()]

    assert receipts("from=2026-03-02&to=2026-03-02") == [late_evening.receipt]
    assert receipts("from=2026-03-03") == [after_midnight.receipt]
    assert receipts("to=2026-03-01") == [early.receipt]
    assert receipts("status=answered") == [early.receipt]
    assert receipts("status=new") == [late_evening.receipt, after_midnight.receipt]
    assert receipts("status=new&status=answered") == [early.receipt, late_evening.receipt,
                                                       after_midnight.receipt]
    assert receipts("status=closed") == []
    for query, status, words in (("status=done", 400, "done"),
                                 ("from=2026-02-30", 400, "2026-02-30"),
                                 ("from=2026-03-05&to=2026-03-01", 400, "trước"),
                                 ("from=hôm qua", 400, "YYYY-MM-DD")):
        response = client.get(f"/api/v1/cases?{query}", headers=headers)
        assert response.status_code == status, query
        assert words in response.get_json()["error"], query


def test_a_reply_through_the_api_answers_the_case_and_is_audited(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    response = store(two_units[0], LOW | {"y_kien": "Thiếu ghế chờ"},
                     contact=cases.Contact("email", "dan@example.vn"))
    case = cases.find_by_receipt(response.receipt)
    assert case is not None
    case.published = True  # staff allowed it on /ket-qua; an API reply keeps that
    db.session.commit()
    typed = response.receipt.replace("-", "").lower()  # as a portal may pass it
    before = datetime.now(UTC)
    answer = client.post(f"/api/v1/cases/{typed}/reply", headers=bearer(tokens["totruong"]),
                         json={"text": "  Phường đã kê thêm ghế chờ.  ", "status": "answered"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == FIELDS
    assert "dan@example.vn" not in answer.get_data(as_text=True)
    assert body["status"] == "answered"
    assert body["reply"] == "Phường đã kê thêm ghế chờ."
    answered_at = datetime.fromisoformat(body["answered_at"])
    assert before - timedelta(seconds=1) <= answered_at <= datetime.now(UTC)
    db.session.expire_all()
    case = cases.find_by_receipt(response.receipt)
    assert case is not None
    assert (case.status, case.reply, case.published) == ("answered",
                                                         "Phường đã kê thêm ghế chờ.", True)
    first_answer = case.answered_at
    entry = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "case.reply", AuditLog.target == f"case:{case.receipt}")).one()
    assert entry.actor == "totruong"
    assert entry.details["status"] == ["new", "answered"]
    # Closing with a corrected reply keeps the first answer's time and is audited again.
    closed = client.post(f"/api/v1/cases/{response.receipt}/reply",
                         headers=bearer(tokens["canbo"]),
                         json={"text": "Phường đã kê thêm 10 ghế chờ.", "status": "closed"})
    assert closed.status_code == 200
    db.session.expire_all()
    case = cases.find_by_receipt(response.receipt)
    assert case is not None
    assert case.status == "closed"
    assert case.closed_at is not None
    assert case.answered_at == first_answer
    listed = client.get("/api/v1/cases", headers=bearer(tokens["canbo"])).get_json()
    assert listed[0]["reply"] == "Phường đã kê thêm 10 ghế chờ."
    assert listed[0]["status"] == "closed"
    actors = db.session.scalars(sa.select(AuditLog.actor).where(
        AuditLog.action == "case.reply").order_by(AuditLog.id)).all()
    assert actors == ["totruong", "canbo"]


def test_a_reply_is_refused_clearly_and_changes_nothing(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    other = store(two_units[1], LOW)
    url = f"/api/v1/cases/{other.receipt}/reply"
    good = {"text": "Đã xử lý.", "status": "answered"}
    assert client.post(url, json=good).status_code == 401
    assert client.post(url, json=good, headers=bearer("sk_wrong")).status_code == 401
    # A login session may read but not write: the API takes no cookie for a change.
    assert login(client, "canbo").status_code == 302
    session_only = client.post(url, json=good)
    assert session_only.status_code == 401
    assert "Bearer" in session_only.get_json()["error"]
    unknown = client.post("/api/v1/cases/ZZZZ-ZZZZ/reply", json=good,
                          headers=bearer(tokens["canbo"]))
    assert unknown.status_code == 404
    assert "ZZZZ-ZZZZ" in unknown.get_json()["error"]
    outside = client.post(url, json=good, headers=bearer(tokens["totruong"]))
    assert outside.status_code == 403
    assert other.receipt in outside.get_json()["error"]
    headers = bearer(tokens["canbo"])
    for kwargs, words in (
            ({"data": "{not json", "content_type": "application/json"}, "JSON"),
            ({"data": "text=xin chao", "content_type": "application/x-www-form-urlencoded"},
             "JSON"),
            ({"json": ["Đã xử lý."]}, "JSON"),
            ({"json": {"text": "   ", "status": "answered"}}, "text"),
            ({"json": {"status": "answered"}}, "text"),
            ({"json": {"text": 5, "status": "answered"}}, "text"),
            ({"json": {"text": "Đã xử lý.", "status": "new"}}, "status"),
            ({"json": {"text": "x" * (cases.REPLY_MAX + 1), "status": "closed"}}, "4000")):
        refused = client.post(url, headers=headers, **kwargs)
        assert refused.status_code == 400, kwargs
        assert words in refused.get_json()["error"], (kwargs, refused.get_json())
    db.session.expire_all()
    case = cases.find_by_receipt(other.receipt)
    assert case is not None
    assert (case.status, case.reply, case.answered_at) == ("new", None, None)
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "case.reply"))
    # "status" left out means answered.
    assert client.post(url, headers=headers, json={"text": "Đã xử lý."}).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(Case.status).where(
        Case.receipt == other.receipt)) == "answered"


def test_the_list_is_empty_not_an_error_without_cases(
        app: Flask, client: FlaskClient, two_units: tuple[Unit, Unit],
        tokens: dict[str, str]) -> None:
    response = client.get(f"/api/v1/cases?from={date(2026, 1, 1).isoformat()}",
                          headers=bearer(tokens["totruong"]))
    assert response.status_code == 200
    assert response.get_json() == []
