"""The cases API's list and JSON (contract §9): ``GET /api/v1/cases`` and one case.

Never the citizen's contact. The handling figures are ``survey.reporting.cases``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from analysis.cases import STATUSES
from analysis.vietnam import VIETNAM

from ..extensions import db
from ..models import Answer, Case, Unit, User, subtree_ids
from ..reporting.filters import N_, FilterError, parse_day
from . import cases as case_service
from . import units as unit_service


@dataclass(frozen=True)
class CaseQuery:
    """What ``GET /api/v1/cases`` asks for: statuses, units, and Vietnam days of opening."""

    statuses: tuple[str, ...] = ()
    units: tuple[Unit, ...] = ()
    date_from: date | None = None
    date_to: date | None = None


def parse_case_query(statuses: Iterable[str], unit_codes: Iterable[str],
                     date_from: str | None, date_to: str | None, user: User) -> CaseQuery:
    """Check the API's query string; FilterError (400, or 403 for a unit not the caller's)."""
    chosen_statuses = tuple(dict.fromkeys(s.strip() for s in statuses if s.strip()))
    for status in chosen_statuses:
        if status not in STATUSES:
            raise FilterError(N_("Trạng thái không hợp lệ: %(status)s (cần một trong: "
                                 "%(known)s)."), status=status[:20], known=", ".join(STATUSES))
    chosen: list[Unit] = []
    for code in dict.fromkeys(c.strip() for c in unit_codes if c.strip()):
        unit = unit_service.get_unit(code)
        if unit is None:
            raise FilterError(N_("Không có đơn vị %(code)s."), code=code[:32])
        if not unit_service.can_see(user, unit):
            raise FilterError(N_("Tài khoản này không được xem đơn vị %(code)s."), 403,
                              code=unit.code)
        chosen.append(unit)
    start, end = parse_day(date_from, "from"), parse_day(date_to, "to")
    if start and end and start > end:
        raise FilterError(N_("Ngày bắt đầu phải trước ngày kết thúc."))
    return CaseQuery(chosen_statuses, tuple(chosen), start, end)


def _case_conditions(query: CaseQuery, user: User) -> list[Any]:
    conditions: list[Any] = [case_service.visible_condition(user)]
    if query.statuses:
        conditions.append(Case.status.in_(query.statuses))
    if query.units:
        ids = subtree_ids(db.session, tuple(u.id for u in query.units))
        conditions.append(sa.or_(Case.unit_id.in_(ids), Case.handling_unit_id.in_(ids)))
    if query.date_from:
        conditions.append(Case.opened_at >= datetime.combine(
            query.date_from, datetime.min.time(), VIETNAM))
    if query.date_to:
        conditions.append(Case.opened_at < datetime.combine(
            query.date_to + timedelta(days=1), datetime.min.time(), VIETNAM))
    return conditions


def _iso(moment: datetime | None) -> str | None:
    """Write a moment in Vietnam time, to the second: ``2026-03-02T09:15:00+07:00``."""
    return None if moment is None else moment.astimezone(VIETNAM).replace(
        microsecond=0).isoformat()


def suggestions_of(response_pks: Iterable[int]) -> dict[int, str]:
    """Return each response's suggestion (the ``CASE_SUGGESTION_QUESTIONS`` answers)."""
    pks = list(response_pks)
    questions = list(current_app.config["CASE_SUGGESTION_QUESTIONS"])
    found: dict[int, list[str]] = {}
    for start in range(0, len(pks), 500):
        for pk, text in db.session.execute(
                sa.select(Answer.response_pk, Answer.text_value)
                .where(Answer.response_pk.in_(pks[start:start + 500]),
                       Answer.question_id.in_(questions), Answer.text_value.is_not(None))
                .order_by(Answer.response_pk, Answer.question_id)):
            found.setdefault(pk, []).append(text or "")
    return {pk: "\n".join(texts) for pk, texts in found.items()}


def case_json(case: Case, unit_code: str, suggestion: str | None) -> dict[str, Any]:
    """Return one case as the API shows it (contract §9): never the citizen's contact."""
    return {
        "receipt": case.receipt,
        "unit": unit_code,
        "opened_at": _iso(case.opened_at),
        "due": case.due.isoformat(),
        "status": case.status,
        "reasons": case.reasons.split() if case.reasons else [],
        "suggestion": suggestion,
        "reply": case.reply,
        "answered_at": _iso(case.answered_at),
    }


def case_list(query: CaseQuery, user: User) -> list[dict[str, Any]]:
    """Return the cases ``user`` may see that match ``query``, oldest first, as JSON."""
    rows = db.session.execute(
        sa.select(Case, Unit.code).join(Unit, Unit.id == Case.unit_id)
        .where(*_case_conditions(query, user)).order_by(Case.opened_at, Case.id)).all()
    texts = suggestions_of(case.response_pk for case, _code in rows)
    return [case_json(case, code, texts.get(case.response_pk)) for case, code in rows]


def one_case_json(case: Case) -> dict[str, Any]:
    """Return a single case as the API shows it."""
    code = db.session.scalar(sa.select(Unit.code).where(Unit.id == case.unit_id)) or ""
    return case_json(case, code, suggestions_of([case.response_pk]).get(case.response_pk))
