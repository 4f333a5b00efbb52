"""Cases opened from responses: the rule, due days, contacts, handling and retention."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from survey.config import ConfigError
from survey.extensions import db
from survey.models import AuditLog, Case, CaseContact, Response, Unit, User
from survey.services import cases
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import delete_response, save_response
from tests.conftest import make_app

LOW = {f"q{i}": 4 for i in range(15, 34)} | {"q20": 2}
FINE = {f"q{i}": 4 for i in range(15, 34)}


def store(unit: Unit, answers: dict[str, Any], *, at: datetime | None = None,
          contact: cases.Contact | None = None, questionnaire: str = "sipas-dichvu",
          **options: Any) -> Response:
    q = get_questionnaire(questionnaire)
    assert q is not None
    stored = save_response(q, unit, "qr", uuid.uuid4(), answers, submitted_at=at,
                           contact=contact, **options)
    db.session.commit()
    return stored.response


def case_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0)


def test_low_rating_or_suggestion_opens_a_case_and_a_plain_response_does_not(
        app: Flask, counter: Unit) -> None:
    store(counter, FINE)
    store(counter, FINE | {"y_kien": "Không có ý kiến"})
    store(counter, FINE | {"y_kien": "  ok  "})
    assert case_count() == 0
    low = store(counter, LOW)
    suggestion = store(counter, FINE | {"y_kien": "Cần thêm ghế chờ ở tầng 1"})
    both = store(counter, LOW | {"y_kien": "Chờ quá lâu"})
    by_response = {c.response_pk: c for c in db.session.scalars(sa.select(Case))}
    assert by_response[low.id].reasons == "low_rating"
    assert by_response[suggestion.id].reasons == "suggestion"
    assert by_response[both.id].reasons == "low_rating suggestion"
    case = by_response[both.id]
    assert case.status == "new"
    assert case.receipt == both.receipt
    assert case.unit_id == counter.id == case.handling_unit_id


def test_a_retry_opens_no_second_case(app: Flask, counter: Unit) -> None:
    q = get_questionnaire("sipas-dichvu")
    assert q is not None
    rid = uuid.uuid4()
    first = save_response(q, counter, "qr", rid, LOW)
    db.session.commit()
    again = save_response(q, counter, "qr", rid, LOW)
    db.session.commit()
    assert first.created
    assert not again.created
    assert case_count() == 1


def test_the_rule_is_a_setting(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(CASE_RULE=["suggestion"])
    with app.app_context():
        from survey.services import units

        ward = units.create_unit("P", "Phường", "ward", actor="test")
        unit = units.create_unit("Q", "Quầy", "counter", parent=ward, actor="test")
        db.session.commit()
        store(unit, LOW)
        assert case_count() == 0
        store(unit, FINE | {"y_kien": "Thêm chỗ để xe"})
        assert case_count() == 1


def test_imports_of_past_data_open_no_case(app: Flask, counter: Unit) -> None:
    store(counter, LOW, open_case=False)
    assert case_count() == 0


def test_papi_answers_open_a_case_only_for_a_suggestion(app: Flask, counter: Unit) -> None:
    q = get_questionnaire("papi-phuong")
    assert q is not None
    lowest = {question.id: min(question.options, key=lambda o: o.score or 0).code
              for question in q.scored_questions}
    store(counter, lowest, questionnaire="papi-phuong")
    assert case_count() == 0


def test_due_day_skips_tet_and_weekends(app: Flask, counter: Unit) -> None:
    # Friday 13 February 2026, 16:00 in Vietnam; Tết holidays run 14-22 February.
    response = store(counter, LOW, at=datetime(2026, 2, 13, 9, 0, tzinfo=UTC))
    case = cases.case_of_response(response.id)
    assert case is not None
    # Working days after the Friday: 23, 24, 25, 26, 27 Feb, 2, 3, 4, 5, 6 March.
    assert case.due == date(2026, 3, 6)


def test_the_wards_own_days_move_the_due_day(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(CASE_DUE_DAYS=2, CASE_DAYS_OFF="2026-06-02",
                      CASE_DAYS_WORKED="06/06/2026")
    with app.app_context():
        # Monday 1 June: Tuesday is off, Saturday 6 is worked.
        assert cases.due_day(datetime(2026, 6, 1, 3, tzinfo=UTC)) == date(2026, 6, 4)
        assert cases.due_day(datetime(2026, 6, 4, 3, tzinfo=UTC)) == date(2026, 6, 6)


@pytest.mark.parametrize(("settings", "words"), [
    ({"CASE_RULE": "suggestion complaint"}, "CASE_RULE"),
    ({"CASE_DAYS_OFF": "2026-02-30"}, "CASE_DAYS_OFF"),
    ({"CASE_DAYS_OFF": "2026-06-06", "CASE_DAYS_WORKED": "2026-06-06"}, "both"),
    ({"CASE_DUE_DAYS": 0}, "CASE_DUE_DAYS"),
    ({"CASE_TARGET": 120}, "CASE_TARGET"),
])
def test_case_settings_that_cannot_work_stop_the_boot(
        database_url: str, settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        make_app(database_url, **settings)


@pytest.mark.parametrize(("typed", "kind", "kept"), [
    ("0912 345 678", "phone", "0912345678"),
    ("+84 912.345.678", "phone", "0912345678"),
    ("84912345678", "phone", "0912345678"),
    ("(0225) 3842-123", "phone", "02253842123"),
    ("Nguyen.An@Gmail.COM", "email", "Nguyen.An@gmail.com"),
])
def test_contacts_are_read_as_citizens_type_them(app: Flask, typed: str, kind: str,
                                                 kept: str) -> None:
    assert cases.parse_contact(typed) == cases.Contact(kind, kept)


@pytest.mark.parametrize("typed", ["12345", "09123456789012", "abc", "an@", "@gmail.com",
                                   "an@gmail", "0912-345-67x"])
def test_contacts_that_are_neither_phone_nor_email_are_refused(app: Flask, typed: str) -> None:
    with pytest.raises(cases.CaseError):
        cases.parse_contact(typed)
    assert cases.parse_contact("   ") is None


def test_the_contact_is_kept_apart_and_goes_with_the_case(app: Flask, counter: Unit) -> None:
    response = store(counter, LOW, contact=cases.Contact("phone", "0912345678"))
    case = cases.case_of_response(response.id)
    assert case is not None
    assert case.contact is not None
    assert case.contact.value == "0912345678"
    assert all("0912345678" not in str(a.value) for a in response.answers)
    # Without a case there is nothing to answer: the contact is not kept.
    store(counter, FINE, contact=cases.Contact("phone", "0987654321"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseContact)) == 1
    # Deleting the response deletes its case and the contact.
    delete_response(db.session.get(Response, response.id))  # type: ignore[arg-type]
    db.session.commit()
    assert case_count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseContact)) == 0


def test_handling_a_case_is_audited_and_keeps_the_first_reply_time(
        app: Flask, counter: Unit, make_user: Callable[..., User]) -> None:
    staff = make_user("canbo", "staff")
    other = make_user("canbo2", "staff")
    case = cases.case_of_response(store(counter, LOW).id)
    assert case is not None
    cases.assign(case, staff, other)
    assert case.status == "in_progress"
    assert case.assignee_id == other.id
    cases.add_note(case, other, "Đã gọi điện cho bộ phận một cửa")
    cases.reply(case, other, "Phường đã bố trí thêm ghế chờ.", publish=True)
    db.session.commit()
    first = case.answered_at
    assert case.status == "answered"
    assert first is not None
    assert case.published
    cases.reply(case, other, "Phường đã bố trí thêm 10 ghế chờ.", status="closed")
    db.session.commit()
    assert case.answered_at == first
    assert case.status == "closed"
    assert case.closed_at
    assert not case.published
    cases.set_status(case, staff, "in_progress")
    assert case.closed_at is None
    assert case.answered_at == first
    with pytest.raises(cases.CaseError):
        cases.reply(case, staff, "   ")
    db.session.commit()
    actions = db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.target == f"case:{case.receipt}").order_by(AuditLog.id)).all()
    assert actions == ["case.assign", "case.note", "case.reply", "case.reply", "case.status"]


def test_a_leader_handles_only_own_groups_cases(
        app: Flask, make_unit: Callable[..., Unit], make_user: Callable[..., User]) -> None:
    group1, group2 = make_unit("TO-1", kind="group"), make_unit("TO-2", kind="group")
    leader = make_user("totruong1", "leader", [group1])
    admin = make_user("quantri", "admin")
    own = cases.case_of_response(store(group1, LOW).id)
    other = cases.case_of_response(store(group2, LOW).id)
    assert own is not None
    assert other is not None
    assert cases.can_handle(leader, own)
    assert not cases.can_handle(leader, other)
    seen = db.session.scalars(sa.select(Case.id).where(cases.visible_condition(leader))).all()
    assert seen == [own.id]
    with pytest.raises(cases.CaseError):
        cases.assign(other, admin, leader)
    with pytest.raises(cases.CaseError):
        cases.bulk_assign([own, other], leader, leader)
    cases.assign(own, admin, leader)
    assert cases.sees_contact(leader, own)
    assert not cases.sees_contact(leader, other)
    assert cases.sees_contact(admin, other)


def test_the_citizen_rates_a_reply_once(app: Flask, counter: Unit,
                                        make_user: Callable[..., User]) -> None:
    staff = make_user("canbo", "staff")
    case = cases.case_of_response(store(counter, LOW).id)
    assert case is not None
    assert not cases.rate(case, True)  # nothing to rate yet
    cases.reply(case, staff, "Đã xử lý.")
    assert cases.rate(case, False)
    assert not cases.rate(case, True)
    assert case.citizen_satisfied is False


def test_contacts_are_deleted_a_set_time_after_the_case_closes(
        app: Flask, counter: Unit, make_user: Callable[..., User]) -> None:
    staff = make_user("canbo", "staff")
    old, recent, still_open = (
        cases.case_of_response(store(counter, LOW, contact=cases.Contact(
            "phone", f"091234567{i}")).id) for i in range(3))
    assert old
    assert recent
    assert still_open
    for case in (old, recent):
        cases.reply(case, staff, "Đã xử lý.", status="closed")
    db.session.commit()
    now = old.closed_at
    assert now is not None
    old.closed_at = now - timedelta(days=31)
    still_open.opened_at = now - timedelta(days=400)
    db.session.commit()
    assert cases.purge_contacts(now) == 1
    db.session.commit()
    left = db.session.scalars(sa.select(CaseContact.case_id).order_by(CaseContact.case_id)).all()
    assert left == sorted([recent.id, still_open.id])
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "case.contact_purge"))
    assert entry is not None
    assert entry.details == {"count": 1}
    assert "091234567" not in str(entry.details)
