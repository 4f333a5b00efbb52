"""What the staff pages of cases read: the filtered list, a case's answers and its history.

The list is what a busy ward office works from: open cases first, the most urgent on top,
filtered by status, unit, lateness, assignee and a search that ignores diacritics. Everything
here reads; the changes are services/cases.py's. A leader's limits come from
``cases.visible_condition``, applied in every query here, never in a template.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from analysis.workdays import local_day
from questionnaires import Questionnaire

from ..extensions import db
from ..labels import REASON_LABELS, STATUS_LABELS
from ..models import Answer, AuditLog, Case, CaseContact, Response, Unit, User, subtree_ids, utcnow
from ..reporting import keyset
from . import audit, cases
from .questionnaires import get_questionnaire, question_name
from .text import clean_text, fold_text, receipt_query

PAGE_SIZE = 50
SEARCH_MAX = 100
EXCERPT_LENGTH = 140
ME, NOBODY = "me", "none"
SORTS = ("due", "new")


class CaseListError(ValueError):
    """A filter of the list cannot be read; the message (Vietnamese) says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to list, and in which order.

    ``assignee`` is ``""`` (anyone), ``"me"``, ``"none"`` (nobody) or an account's name;
    ``unit_ids`` match a case's unit or its handling unit.
    """

    statuses: tuple[str, ...] = ()
    unit_codes: tuple[str, ...] = ()
    unit_ids: tuple[int, ...] = ()
    overdue: bool = False
    assignee: str = ""
    assignee_id: int | None = None
    search: str = ""
    sort: str = "due"

    def query(self) -> dict[str, Any]:
        """Return the filter as query-string arguments (empty ones left out)."""
        args: dict[str, Any] = {"status": list(self.statuses), "unit": list(self.unit_codes),
                                "overdue": "1" if self.overdue else "",
                                "assignee": self.assignee, "q": self.search,
                                "sort": "" if self.sort == "due" else self.sort}
        return {k: v for k, v in args.items() if v}


def parse_filter(user: User, *, statuses: Sequence[str] = (), units: Sequence[str] = (),
                 overdue: str | None = None, assignee: str | None = None,
                 search: str | None = None, sort: str | None = None) -> CaseFilter:
    """Read the list's filters from a query string; CaseListError when one is wrong.

    A leader naming a unit outside their own gets status 403.
    """
    chosen = tuple(dict.fromkeys(s.strip() for s in statuses if s.strip()))
    for status in chosen:
        if status not in STATUS_LABELS:
            raise CaseListError(_("Không có trạng thái “%(status)s”.", status=status[:20]))
    codes = tuple(dict.fromkeys(u.strip().upper() for u in units if u.strip()))
    found = {u.code: u for u in db.session.scalars(sa.select(Unit).where(Unit.code.in_(codes)))}
    for code in codes:
        if code not in found:
            raise CaseListError(_("Không có đơn vị “%(code)s”.", code=code[:32]))
        if not user.sees_unit(found[code].id):
            raise CaseListError(_("Ông/Bà chỉ xem được hồ sơ của đơn vị mình; %(code)s không "
                                  "thuộc các đơn vị đó.", code=code), 403)
    who = (assignee or "").strip()[:64]
    assignee_id = None
    if who == ME:
        assignee_id = user.id
    elif who and who != NOBODY:
        account = db.session.scalar(sa.select(User).where(User.username == who))
        if account is None:
            raise CaseListError(_("Không có tài khoản “%(name)s”.", name=who))
        assignee_id = account.id
    return CaseFilter(statuses=chosen, unit_codes=codes,
                      unit_ids=subtree_ids(db.session, tuple(found[c].id for c in codes)),
                      overdue=overdue == "1",
                      assignee=who, assignee_id=assignee_id,
                      search=clean_text(search or "")[:SEARCH_MAX],
                      sort=sort if sort in SORTS else "due")


def today() -> date:
    """Return today's day in Vietnam, the day due dates are compared with."""
    return local_day(utcnow())


def _reply_matches(folded: str, user: User) -> sa.Select[Any]:
    """Return the ids of the cases ``user`` sees whose reply contains ``folded``.

    Replies are not stored folded, so they are folded here; a ward answers a few thousand
    cases a year, and only their ids and replies are read.
    """
    rows = db.session.execute(sa.select(Case.id, Case.reply).where(
        Case.reply.is_not(None), cases.visible_condition(user)))
    ids = [case_id for case_id, reply in rows if folded in fold_text(reply or "")]
    return sa.select(Case.id).where(Case.id.in_(ids))


def search_condition(search: str, user: User) -> sa.ColumnElement[bool] | None:
    """Return the condition of a search ignoring case and diacritics, or None when blank.

    It finds the text answers of the case's response (``Answer.text_folded``), the public
    reply, and a receipt typed in any case, with or without its dash.
    """
    folded = fold_text(clean_text(search))
    if not folded:
        return None
    found: list[sa.ColumnElement[bool]] = [
        sa.exists().where(Answer.response_pk == Case.response_pk,
                          Answer.text_folded.contains(folded, autoescape=True)),
        Case.id.in_(_reply_matches(folded, user)),
    ]
    receipt = receipt_query(search)
    if receipt is not None:
        found.append(Case.receipt == receipt)
    return sa.or_(*found)


def conditions(flt: CaseFilter, user: User, day: date) -> list[sa.ColumnElement[bool]]:
    """Return the SQL conditions of ``flt`` for ``user`` on the day ``day``."""
    where = [cases.visible_condition(user)]
    if flt.statuses:
        where.append(Case.status.in_(flt.statuses))
    if flt.unit_ids:
        where.append(sa.or_(Case.unit_id.in_(flt.unit_ids),
                            Case.handling_unit_id.in_(flt.unit_ids)))
    if flt.overdue:
        where.append(cases.overdue_condition(day))
    if flt.assignee == NOBODY:
        where.append(Case.assignee_id.is_(None))
    elif flt.assignee_id is not None:
        where.append(Case.assignee_id == flt.assignee_id)
    found = search_condition(flt.search, user)
    if found is not None:
        where.append(found)
    return where


def _rank() -> sa.ColumnElement[int]:
    """Open cases first, then the answered ones, then the closed ones."""
    return sa.case((Case.status.in_(cases.OPEN_STATUSES), 0), (Case.status == "answered", 1),
                   else_=2)


def _order(sort: str) -> keyset.Order:
    if sort == "new":
        return [(Case.opened_at, True), (Case.id, True)]
    # Open cases first, the nearest due day on top (so the overdue ones lead); then the
    # answered ones, then the closed ones.
    return [(_rank(), False), (Case.due, False), (Case.id, False)]


def _key_kinds(sort: str) -> list[type]:
    return [datetime, int] if sort == "new" else [int, date, int]


def is_key(text: str, sort: str) -> bool:
    """Return whether ``text`` is a place in the list sorted by ``sort`` (``case_key``)."""
    return keyset.parse(text, _key_kinds(sort)) is not None


def case_key(case: Case, sort: str) -> str:
    """Return a case's place in the list sorted by ``sort`` (where the next page starts)."""
    if sort == "new":
        return keyset.token(case.opened_at, case.id)
    rank = 0 if case.status in cases.OPEN_STATUSES else 1 if case.status == "answered" else 2
    return keyset.token(rank, case.due, case.id)


@dataclass(frozen=True)
class CaseRow:
    """One line of the list: a case with what the page shows beside it."""

    case: Case
    excerpt: str
    overdue: bool
    # Working days late (overdue) or left before the due day (open, not yet answered).
    late_days: int | None
    days_left: int | None
    # For an answered case: whether the reply came after the due day (analysis.cases's rule).
    answered_late: bool | None = None

    @property
    def reasons(self) -> list[tuple[str, str]]:
        """Return the reasons the case was opened: (code, what people call it)."""
        return [(r, str(REASON_LABELS.get(r, r))) for r in self.case.reasons.split()]


def reason_labels(reasons: str) -> list[str]:
    """Return the labels of a case's space-separated reasons (none: opened by staff)."""
    return [str(REASON_LABELS.get(r, r)) for r in reasons.split()]


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """Return the start of a text on one line, cut at a word with "…" when too long."""
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    cut = flat[:length].rsplit(" ", 1)[0] or flat[:length]
    return cut.rstrip(" ,.;:") + "…"


def _suggestion_texts(response_pks: Iterable[int]) -> dict[int, str]:
    """Return, per response, its text answers joined (the suggestion questions first)."""
    ids = list(set(response_pks))
    if not ids:
        return {}
    first = set(current_app.config["CASE_SUGGESTION_QUESTIONS"])
    rows = db.session.execute(
        sa.select(Answer.response_pk, Answer.question_id, Answer.text_value)
        .where(Answer.response_pk.in_(ids), Answer.text_value.is_not(None))
        .order_by(Answer.response_pk, Answer.question_id)).all()
    texts: dict[int, list[tuple[bool, str]]] = {}
    for pk, qid, text in rows:
        if text and text.strip():
            texts.setdefault(pk, []).append((qid not in first, text.strip()))
    return {pk: " · ".join(t for _k, t in sorted(found, key=lambda item: item[0]))
            for pk, found in texts.items()}


def row_of(case: Case, text: str, day: date) -> CaseRow:
    """Return the list line of a case: its excerpt and how late or early it is."""
    calendar = cases.work_calendar()
    late = cases.is_overdue(case, day)
    late_days = days_left = None
    if late:
        late_days = calendar.working_days_between(case.due, day)
    elif case.status in cases.OPEN_STATUSES and case.answered_at is None:
        days_left = calendar.working_days_between(day, case.due)
    answered_late = (local_day(case.answered_at) > case.due if case.answered_at is not None
                     else None)
    return CaseRow(case, excerpt(text), late, late_days, days_left, answered_late)


def search_cases(flt: CaseFilter, user: User, *, after: str = "",
                 page_size: int | None = None, day: date | None = None
                 ) -> tuple[list[CaseRow], int, str]:
    """Return a page of the cases ``user`` may see under ``flt``, the total, the next key.

    The next key is where the next page starts ("" on the last page).

    The page holds the cases after the one at ``after`` (``case_key``), read by key.
    """
    day = day or today()
    page_size = page_size or PAGE_SIZE
    where = conditions(flt, user, day)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(*where)) or 0
    order = _order(flt.sort)
    place = keyset.parse(after, _key_kinds(flt.sort))
    if place is not None:
        where.append(keyset.after(order, place))
    found = db.session.scalars(
        sa.select(Case).where(*where)
        .options(selectinload(Case.unit), selectinload(Case.handling_unit),
                 selectinload(Case.assignee))
        .order_by(*keyset.order_by(order)).limit(page_size + 1)).all()
    more = len(found) > page_size
    found = found[:page_size]
    texts = _suggestion_texts(c.response_pk for c in found)
    return ([row_of(c, texts.get(c.response_pk, ""), day) for c in found], int(total),
            case_key(found[-1], flt.sort) if more else "")


def cases_by_receipt(receipts: Iterable[str]) -> tuple[list[Case], list[str]]:
    """Return the cases of typed receipts, and the receipts that have no case."""
    wanted: dict[str, str] = {}
    for typed in receipts:
        receipt = receipt_query(typed)
        wanted[typed] = receipt or ""
    known = {c.receipt: c for c in db.session.scalars(sa.select(Case).where(
        Case.receipt.in_({r for r in wanted.values() if r})))}
    found = list({known[r].id: known[r] for r in wanted.values() if r in known}.values())
    missing = [typed for typed, r in wanted.items() if r not in known]
    return found, missing


def assignable_for(user: User, case: Case | None = None) -> list[User]:
    """Return the accounts ``user`` may give a case (or cases) to.

    Admins and staff: every active account that may handle it. A leader: the accounts that
    see every unit, and the leaders who share one of their units.
    """
    accounts = cases.assignable_users(case)
    if user.sees_all_units:
        return accounts
    mine = set(user.scope_ids() or ())
    return [a for a in accounts if a.sees_all_units or (a.ward_id is not None and a.ward_id in mine)
            or mine & {u.id for u in a.units}]


def handling_units(user: User, case: Case) -> list[Unit]:
    """Return the units ``user`` may make a case's handling unit (the current one kept)."""
    query = sa.select(Unit).where(Unit.active.is_(True)).order_by(Unit.kind != "ward",
                                                                   Unit.code)
    scope = user.scope_ids()
    if scope is not None:
        query = query.where(Unit.id.in_(scope))
    found = list(db.session.scalars(query))
    for unit in (case.handling_unit, case.unit):
        if unit is not None and unit not in found:
            found.insert(0, unit)
    return found


def response_by_receipt(text: str) -> Response | None:
    """Return the response of a receipt as staff type it, or None."""
    receipt = receipt_query(text or "")
    if receipt is None:
        return None
    return db.session.scalar(sa.select(Response).where(Response.receipt == receipt)
                             .order_by(Response.id).limit(1))


def case_receipts(receipts: Iterable[str]) -> dict[str, str]:
    """Return the status of the case of each of these receipts that has one.

    Other lists (suggestions, low ratings) link their responses to their cases with it.
    """
    wanted = {r for r in receipts if r}
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Case.receipt, Case.status).where(Case.receipt.in_(wanted))).all()
    return {row.receipt: row.status for row in rows}


def purge_due() -> int:
    """Delete the contacts past their retention (cases.purge_contacts) when there are any.

    Pages call this before they read cases. The check reads first, so that a page view
    starts no write (on SQLite, a writer waits for the one before it) unless there is
    something to delete; the caller commits when this returns more than 0.
    """
    limit = utcnow() - timedelta(days=int(current_app.config["CASE_CONTACT_DAYS"]))
    due = db.session.scalar(sa.select(sa.func.count()).select_from(CaseContact).join(
        Case, Case.id == CaseContact.case_id).where(Case.status == "closed",
                                                    Case.closed_at <= limit))
    return cases.purge_contacts() if due else 0


# --- One case ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerLine:
    """One answer of the citizen, as the case page shows it."""

    name: str
    question: str
    value: str
    low: bool = False


@dataclass
class CaseAnswers:
    """The response behind a case: the answers that matter first, then all of them."""

    questionnaire: Questionnaire | None
    low: list[AnswerLine] = field(default_factory=list)
    texts: list[AnswerLine] = field(default_factory=list)
    everything: list[AnswerLine] = field(default_factory=list)


def case_answers(case: Case, lang: str = "vi") -> CaseAnswers:
    """Return the citizen's answers: low ratings, free texts, and the whole response.

    A low rating is a scored answer at most ``CASE_LOW_SCORE`` of a satisfaction (SIPAS)
    questionnaire, the rule that opens a case.
    """
    response = case.response
    questionnaire = get_questionnaire(response.questionnaire_id, response.questionnaire_version)
    result = CaseAnswers(questionnaire)
    threshold = current_app.config["CASE_LOW_SCORE"]
    order = ({q.id: i for i, q in enumerate(questionnaire.questions)}
             if questionnaire is not None else {})
    answers = sorted(response.answers, key=lambda a: (order.get(a.question_id, len(order)),
                                                      a.question_id))
    for answer in answers:
        question = questionnaire.question(answer.question_id) if questionnaire else None
        name = question_name(questionnaire, answer.question_id)
        text = question.text.get(lang) if question is not None else answer.question_id
        low = False
        if answer.text_value is not None:
            value = answer.text_value
        else:
            option = question.option(answer.option_code) if question is not None \
                and answer.option_code is not None else None
            value = (f"{option.label.get(lang)} ({answer.option_code})" if option is not None
                     else str(answer.option_code))
            low = bool(questionnaire is not None and questionnaire.index == "sipas"
                       and question is not None and question.scored and option is not None
                       and option.score is not None and option.score <= threshold)
        line = AnswerLine(name, text, value, low)
        result.everything.append(line)
        if low:
            result.low.append(line)
        elif answer.text_value is not None and answer.text_value.strip():
            result.texts.append(line)
    return result


@dataclass(frozen=True)
class HistoryItem:
    """One event of a case's history: who, when, what, and the details."""

    at: datetime
    actor: str
    action: str
    label: str
    lines: list[tuple[str, str]]


def history(case: Case) -> list[HistoryItem]:
    """Return a case's history, oldest first: its audit entries, and its notes.

    A case opened by the rule has no entry of its own: its first item says so. A note
    without an entry (written by another tool) is shown too.
    """
    entries = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.target == f"case:{case.receipt}").order_by(AuditLog.at, AuditLog.id)).all()
    items: list[HistoryItem] = []
    if not any(e.action == "case.open" for e in entries):
        items.append(HistoryItem(case.opened_at, _("hệ thống"), "case.open",
                                 _("Tự mở hồ sơ từ phiếu của người dân"),
                                 [(audit.detail_label("reasons"),
                                   ", ".join(reason_labels(case.reasons)) or "—")]))
    logged = [str((e.details or {}).get("note", "")) for e in entries if e.action == "case.note"]
    for entry in entries:
        items.append(HistoryItem(entry.at, entry.actor, entry.action,
                                 audit.action_label(entry.action),
                                 audit.detail_lines(entry.details, entry.action, entry.target)))
    for note in case.notes:
        if note.text in logged:
            logged.remove(note.text)
            continue
        items.append(HistoryItem(note.at, note.author, "case.note",
                                 audit.action_label("case.note"),
                                 [(audit.detail_label("note"), note.text)]))
    return sorted(items, key=lambda item: item.at)
