"""Cases (phản ánh, kiến nghị): opening, handling, the citizen's lookup and contacts.

A response opens a case when it carries a suggestion or a scored answer of 1-2 (the rule is
the setting ``CASE_RULE``); staff can open one from any response. A case is due
``CASE_DUE_DAYS`` working days after it was opened (analysis.workdays: weekends, Vietnam's
public holidays, and the ward's own days in ``CASE_DAYS_OFF`` / ``CASE_DAYS_WORKED``).

Every change by staff is written to the audit log with target ``case:<receipt>``: that is the
case's history. The citizen's contact (phone or e-mail) lives in its own table, is shown only
to the case's handlers (its assignee and admins), never leaves through an export or the API,
and is deleted ``CASE_CONTACT_DAYS`` days after the case is closed (:func:`purge_contacts`).
Functions here change the session; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from analysis.cases import CaseRecord
from analysis.workdays import WorkCalendar, parse_days
from questionnaires import Questionnaire

from ..extensions import db
from ..labels import REASON_LABELS, STATUS_LABELS  # noqa: F401 (cases.STATUS_LABELS)
from ..models import Case, CaseContact, CaseNote, Response, Unit, User, utcnow
from . import audit
from .text import clean_text, fold_text, receipt_query

OPEN_STATUSES = ("new", "in_progress")
REPLY_MAX = 4000
NOTE_MAX = 4000

# What a citizen writes when they have nothing to say; such a text opens no case.
_NOTHING = frozenset({
    "", "khong", "ko", "k", "kg", "khong co", "khong co y kien", "khong y kien", "ko co",
    "khong co gi", "khong gop y", "khong co gop y", "het", "none", "no", "n/a", "na", "ok",
    "tot", "binh thuong",
})


class CaseError(ValueError):
    """A change to a case that cannot be made; the message is for the person making it."""


# --- Settings ------------------------------------------------------------------------------


@cache
def _calendar(off: str, worked: str) -> WorkCalendar:
    return WorkCalendar(extra_off=parse_days(off), extra_work=parse_days(worked))


def work_calendar() -> WorkCalendar:
    """Return the ward's working-day calendar from the settings."""
    config = current_app.config
    return _calendar(str(config.get("CASE_DAYS_OFF") or ""),
                     str(config.get("CASE_DAYS_WORKED") or ""))


def due_day(opened_at: datetime) -> date:
    """Return the last day for an on-time reply to a case opened at ``opened_at``."""
    return work_calendar().add_working_days(opened_at, int(current_app.config["CASE_DUE_DAYS"]))


# --- Opening -------------------------------------------------------------------------------


def is_suggestion(text: str) -> bool:
    """Whether a free text says something (not "không", "không có ý kiến", "ok" ...)."""
    folded = re.sub(r"[^\w/ ]+", " ", fold_text(text)).split()
    return " ".join(folded) not in _NOTHING and len("".join(folded)) >= 2


def reasons_for(questionnaire: Questionnaire, answers: Mapping[str, int | str]) -> list[str]:
    """Return why these answers call for a case (``low_rating``, ``suggestion``), sorted.

    A suggestion is a text answer to one of ``CASE_SUGGESTION_QUESTIONS`` that says something;
    a low rating is a scored answer of a satisfaction (SIPAS) questionnaire whose score is at
    most ``CASE_LOW_SCORE`` (1 and 2 on the five-level scale).
    """
    config = current_app.config
    reasons = []
    suggestion_ids = set(config["CASE_SUGGESTION_QUESTIONS"])
    if any(isinstance(value, str) and qid in suggestion_ids and is_suggestion(value)
           for qid, value in answers.items()):
        reasons.append("suggestion")
    if questionnaire.index == "sipas":
        for qid, value in answers.items():
            question = questionnaire.question(qid)
            if question is None or not question.scored or not isinstance(value, int):
                continue
            option = question.option(value)
            if option is not None and option.score is not None \
                    and option.score <= config["CASE_LOW_SCORE"]:
                reasons.append("low_rating")
                break
    return sorted(reasons)


def rule_opens(reasons: Iterable[str]) -> bool:
    """Whether the setting ``CASE_RULE`` opens a case for these reasons."""
    return bool(set(reasons) & set(current_app.config["CASE_RULE"]))


@dataclass(frozen=True)
class Contact:
    """A phone number (``0912345678``) or an e-mail address a citizen left for the reply."""

    kind: str
    value: str


_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


def parse_contact(text: str) -> Contact | None:
    """Read a phone number or an e-mail address as a citizen types it; None when blank.

    Phones may carry spaces, dots, dashes or brackets and start with +84 or 84; they are kept
    as ten or eleven digits starting with 0. Raises CaseError (Vietnamese) for anything else.
    """
    value = clean_text(text or "").strip()
    if not value:
        return None
    if "@" in value:
        local, _sep, domain = value.rpartition("@")
        address = f"{local}@{domain.lower()}"
        if len(address) > 254 or not _EMAIL.match(address):
            raise CaseError(_("Địa chỉ thư điện tử chưa đúng, ví dụ: ten@gmail.com."))
        return Contact("email", address)
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0\d{9,10}", digits):
        raise CaseError(_("Số điện thoại chưa đúng: cần 10 chữ số, bắt đầu bằng 0, ví dụ "
                          "0912 345 678."))
    return Contact("phone", digits)


def open_case(response_pk: int, receipt: str, unit_id: int, opened_at: datetime,
              reasons: Iterable[str], *, opened_by: User | None = None,
              contact: Contact | None = None) -> Case:
    """Create the case of a response (the caller has checked that it has none)."""
    case = Case(response_pk=response_pk, receipt=receipt, unit_id=unit_id,
                handling_unit_id=unit_id, reasons=" ".join(sorted(set(reasons))),
                status="new", opened_at=opened_at, due=due_day(opened_at),
                opened_by=opened_by.username if opened_by else None)
    if contact is not None:
        case.contact = CaseContact(kind=contact.kind, value=contact.value)
    db.session.add(case)
    db.session.flush()
    return case


def open_for_new_response(response_pk: int, receipt: str, unit_id: int, submitted_at: datetime,
                          questionnaire: Questionnaire, answers: Mapping[str, int | str],
                          contact: Contact | None = None) -> Case | None:
    """Open a case for a response just stored, when the rule says so; else None.

    A contact without a case to answer is not kept (there is nothing to reply to).
    """
    reasons = reasons_for(questionnaire, answers)
    if not rule_opens(reasons):
        return None
    return open_case(response_pk, receipt, unit_id, submitted_at, reasons, contact=contact)


def open_by_staff(response: Response, user: User) -> Case:
    """Open a case for any response by hand (or return the one it has); due from now."""
    existing = case_of_response(response.id)
    if existing is not None:
        return existing
    from .questionnaires import get_questionnaire

    questionnaire = get_questionnaire(response.questionnaire_id, response.questionnaire_version)
    answers = {a.question_id: a.value for a in response.answers if a.value is not None}
    reasons = reasons_for(questionnaire, answers) if questionnaire else []
    case = open_case(response.id, response.receipt, response.unit_id, utcnow(), reasons,
                     opened_by=user)
    _record(user, "case.open", case, reasons=case.reasons or "-")
    return case


def case_of_response(response_pk: int) -> Case | None:
    """Return the case opened from a response, or None."""
    return db.session.scalar(sa.select(Case).where(Case.response_pk == response_pk))


def find_by_receipt(text: str) -> Case | None:
    """Return the case of a receipt as a citizen or staff type it (any case, dash optional)."""
    receipt = receipt_query(text or "")
    if receipt is None:
        return None
    return db.session.scalar(sa.select(Case).where(Case.receipt == receipt)
                             .order_by(Case.id).limit(1))


# --- Who may do what -----------------------------------------------------------------------


def _unit_ids(user: User) -> tuple[int, ...]:
    """Return the units a limited account sees (a ward's, or a leader's own)."""
    return user.scope_ids() or ()


def _may_handle(user: User, unit_ids: set[int | None], ward_id: int | None) -> bool:
    """Whether ``user`` may be given a case of these units (of the ward ``ward_id``).

    The city reads only; admins and staff of every ward or of the case's ward may; a leader
    of one of its units may.
    """
    if user.reads_only:
        return False
    if user.sees_all_units:
        return True
    if user.is_office:
        return user.ward_id is not None and user.ward_id == ward_id
    return bool(unit_ids & {u.id for u in user.units})


def _ward_id(*units: Unit | None) -> int | None:
    for unit in units:
        ward = unit.ward if unit is not None else None
        if ward is not None:
            return ward.id
    return None


def visible_condition(user: User) -> sa.ColumnElement[bool]:
    """Return the condition selecting the cases ``user`` may see and handle.

    Admins and staff: every case. A leader: the cases of their own groups, and any case
    assigned to them.
    """
    if user.sees_all_units:
        return sa.true()
    ids = list(_unit_ids(user))
    return sa.or_(Case.unit_id.in_(ids), Case.handling_unit_id.in_(ids),
                  Case.assignee_id == user.id)


def can_handle(user: User, case: Case) -> bool:
    """Whether ``user`` may see and change ``case``."""
    if user.sees_all_units or case.assignee_id == user.id:
        return True
    ids = set(_unit_ids(user))
    return case.unit_id in ids or case.handling_unit_id in ids


def sees_contact(user: User, case: Case) -> bool:
    """Whether ``user`` may read the citizen's contact: the case's assignee, or an admin."""
    return user.is_admin or (case.assignee_id is not None and case.assignee_id == user.id)


def assignable_users(case: Case | None = None) -> list[User]:
    """Return the active accounts a case can be given to (leaders: of its units only)."""
    users = db.session.scalars(sa.select(User).where(User.active.is_(True))
                               .order_by(User.username)).all()
    if case is None:
        return [u for u in users if not u.reads_only]
    units = {case.unit_id, case.handling_unit_id}
    ward_id = _ward_id(case.handling_unit, case.unit)
    return [u for u in users if _may_handle(u, units, ward_id)]


# --- Changes -------------------------------------------------------------------------------


def _record(user: User | str, action: str, case: Case, **details: object) -> None:
    audit.record(user, action, f"case:{case.receipt}", **details)


def assign(case: Case, user: User, assignee: User | None, handling_unit: Unit | None = None
           ) -> None:
    """Give a case to ``assignee`` (None: nobody), optionally to another handling unit.

    A new case given to someone is in progress from then on.
    """
    if assignee is not None and not assignee.active:
        raise CaseError(_("Tài khoản %(name)s đã bị khóa.", name=assignee.username))
    handler = handling_unit or case.handling_unit or case.unit
    if assignee is not None and not _may_handle(assignee, {case.unit_id, handler.id},
                                                _ward_id(handler, case.unit)):
        if assignee.role == "leader":
            raise CaseError(_("Tổ trưởng %(name)s chỉ xử lý hồ sơ của tổ mình.",
                              name=assignee.username))
        raise CaseError(_("Tài khoản %(name)s không xử lý được hồ sơ của phường này.",
                          name=assignee.username))
    changes: dict[str, object] = {}
    if (case.assignee_id or None) != (assignee.id if assignee else None):
        changes["assignee"] = [case.assignee.username if case.assignee else None,
                               assignee.username if assignee else None]
        case.assignee = assignee
    if handling_unit is not None and handling_unit.id != case.handling_unit_id:
        old = case.handling_unit.code if case.handling_unit else None
        changes["handling_unit"] = [old, handling_unit.code]
        case.handling_unit = handling_unit
    if not changes:
        return
    if case.status == "new" and case.assignee is not None:
        case.status = "in_progress"
        changes["status"] = ["new", "in_progress"]
    _record(user, "case.assign", case, **changes)


def bulk_assign(cases: Iterable[Case], user: User, assignee: User | None) -> int:
    """Give several cases to one account; return how many changed. All or nothing."""
    changed = 0
    for case in cases:
        if not can_handle(user, case):
            raise CaseError(_("Ông/Bà không được giao hồ sơ %(receipt)s.", receipt=case.receipt))
        before = case.assignee  # the relationship: assignee_id changes only at the flush
        assign(case, user, assignee)
        changed += case.assignee is not before
    return changed


def reply(case: Case, user: User, text: str, *, status: str = "answered",
          publish: bool = False) -> None:
    """Give (or correct) the public reply the citizen reads on /tra-cuu.

    ``status`` is ``answered`` or ``closed``; the first reply sets ``answered_at``, which the
    handling figures count from. ``publish`` lets the reply (with the suggestion) appear on
    the public results page.
    """
    text = clean_text(text or "").strip()
    if not text:
        raise CaseError(_("Xin nhập nội dung trả lời."))
    if len(text) > REPLY_MAX:
        raise CaseError(_("Câu trả lời dài quá %(n)s ký tự.", n=REPLY_MAX))
    if status not in ("answered", "closed"):
        raise CaseError(_("Trạng thái không hợp lệ."))
    now = utcnow()
    changes: dict[str, object] = {}
    if text != (case.reply or ""):
        changes["reply"] = text
        case.reply = text
    if case.answered_at is None:
        case.answered_at = now
    if case.status != status:
        changes["status"] = [case.status, status]
        case.status = status
        case.closed_at = now if status == "closed" else None
    if bool(case.published) != publish:
        changes["published"] = publish
        case.published = publish
    if changes:
        _record(user, "case.reply", case, **changes)


def set_status(case: Case, user: User, status: str) -> None:
    """Move a case to another status: close it, reopen it, or mark it in progress.

    Only a case with a reply can be ``answered``; closing one without a reply is allowed (a
    case outside the ward's competence, say) and counts as not handled on time. Reopening
    keeps the reply and its time.
    """
    if status not in STATUS_LABELS:
        raise CaseError(_("Trạng thái không hợp lệ."))
    if status == case.status:
        return
    if status == "answered" and case.answered_at is None:
        raise CaseError(_("Hồ sơ chưa có câu trả lời."))
    _record(user, "case.status", case, status=[case.status, status])
    case.status = status
    case.closed_at = utcnow() if status == "closed" else None


def add_note(case: Case, user: User, text: str) -> CaseNote:
    """Add an internal note (seen by staff only)."""
    text = clean_text(text or "").strip()
    if not text:
        raise CaseError(_("Xin nhập ghi chú."))
    if len(text) > NOTE_MAX:
        raise CaseError(_("Ghi chú dài quá %(n)s ký tự.", n=NOTE_MAX))
    note = CaseNote(case=case, author=user.username, text=text)
    db.session.add(note)
    _record(user, "case.note", case, note=text)
    return note


def rate(case: Case, satisfied: bool) -> bool:
    """Record the citizen's verdict on the reply, once; return False when it cannot be given."""
    if case.answered_at is None or case.reply is None or case.citizen_satisfied is not None:
        return False
    case.citizen_satisfied = satisfied
    case.rated_at = utcnow()
    _record("citizen", "case.rate", case, satisfied=satisfied)
    return True


def purge_contacts(now: datetime | None = None) -> int:
    """Delete the contacts of cases closed more than ``CASE_CONTACT_DAYS`` days ago.

    Returns how many were deleted; the audit log notes the count, never the contacts.
    """
    now = now or utcnow()
    limit = now - timedelta(days=int(current_app.config["CASE_CONTACT_DAYS"]))
    old = sa.select(Case.id).where(Case.status == "closed", Case.closed_at <= limit)
    result = db.session.execute(
        sa.delete(CaseContact).where(CaseContact.case_id.in_(old))
        .execution_options(synchronize_session=False))
    deleted = getattr(result, "rowcount", 0) or 0
    if deleted:
        audit.record("system", "case.contact_purge", "cases", count=deleted)
    return int(deleted)


# --- Reading -------------------------------------------------------------------------------


def record_of(case: Case, unit_code: str | None = None) -> CaseRecord:
    """Return what analysis.cases counts of a case."""
    return CaseRecord(opened_at=case.opened_at, due=case.due, status=case.status,
                      answered_at=case.answered_at, unit=unit_code,
                      citizen_satisfied=case.citizen_satisfied)


def is_overdue(case: Case, today: date | None = None) -> bool:
    """Whether a case still waits for a reply past its due day (analysis.cases's rule)."""
    from analysis.workdays import local_day

    today = today or local_day(utcnow())
    return case.answered_at is None and case.status != "closed" and today > case.due


def overdue_condition(today: date) -> sa.ColumnElement[bool]:
    """Return the SQL condition of :func:`is_overdue` for the day ``today``."""
    return sa.and_(Case.answered_at.is_(None), Case.status != "closed", Case.due < today)


def header_counts(user: User) -> tuple[int, int]:
    """Return (open, overdue) cases ``user`` handles, for the staff header."""
    from analysis.workdays import local_day

    today = local_day(utcnow())
    row = db.session.execute(
        sa.select(sa.func.count(sa.case((Case.status.in_(OPEN_STATUSES), 1))),
                  sa.func.count(sa.case((overdue_condition(today), 1))))
        .where(visible_condition(user))).one()
    return int(row[0]), int(row[1])
