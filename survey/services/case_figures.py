"""Handling figures of cases for a summary's filters, and the API's list of cases.

The cases counted for a summary are those opened by the responses that pass its filters
(contract §9): a case is joined to its response, and the response must satisfy
``exports.response_conditions``, so a leader's scope, the units, channels and Vietnam days
of the filters all apply, and an excluded response's case counts nowhere. The counting itself
is analysis.cases (one definition for the summary JSON, the dashboard, the XLSX workbook and
the PDF report); here are only the queries, the grouping by unit and period, the target, and
the JSON of the API. No query here reads the citizen's contact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from analysis.cases import (
    STATUSES,
    CaseRecord,
    HandlingFigures,
    handling_figures,
    summary_block,
)

from ..extensions import db
from ..models import Answer, Case, Response, Unit, User, utcnow
from . import cases as case_service
from . import units as unit_service
from .exports import response_conditions
from .reports import FilterError, parse_day
from .stats import VIETNAM, Filters

# --- Figures of a summary --------------------------------------------------------------------


def _record_query(filters: Filters
                  ) -> sa.Select[datetime, date, str, datetime | None, bool | None, str]:
    """Select what analysis.cases counts of the cases opened by the filtered responses."""
    return (sa.select(Case.opened_at, Case.due, Case.status, Case.answered_at,
                      Case.citizen_satisfied, Unit.code)
            .join(Response, Response.id == Case.response_pk)
            .join(Unit, Unit.id == Case.unit_id)
            .where(*response_conditions(filters))
            .order_by(Case.opened_at, Case.id))


def records(filters: Filters) -> list[CaseRecord]:
    """Return the cases opened by the responses that pass ``filters``, as CaseRecords.

    ``unit`` of each record is the code of the unit the response came from.
    """
    return [CaseRecord(opened_at=opened, due=due, status=status, answered_at=answered,
                       unit=code, citizen_satisfied=satisfied)
            for opened, due, status, answered, satisfied, code
            in db.session.execute(_record_query(filters))]


def target() -> float:
    """Return the target for both Decision 766 ratios, in % (setting ``CASE_TARGET``)."""
    return float(current_app.config["CASE_TARGET"])


def verdict(rate: float | None, goal: float) -> str | None:
    """Return ``met`` when a ratio reaches the target, ``not_met`` below it, None without cases.

    The ratios are counts, not estimates from a sample, so there is no interval and no
    "undecided": a ward with 99 of 100 cases on time has not met a 100 % target.
    """
    if rate is None:
        return None
    return "met" if rate >= goal else "not_met"


@dataclass
class CaseFigures:
    """The handling figures of a summary's cases: overall, by unit, by month and by quarter.

    ``as_of`` is the moment they were taken (``overdue`` depends on it); ``units`` gives the
    name of each unit code in ``by_unit``.
    """

    overall: HandlingFigures
    as_of: datetime
    target: float
    by_unit: dict[str, HandlingFigures] = field(default_factory=dict)
    by_month: dict[str, HandlingFigures] = field(default_factory=dict)
    by_quarter: dict[str, HandlingFigures] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    @property
    def block(self) -> dict[str, int | float | None]:
        """Return the summary JSON's ``"cases"`` block (contract §9)."""
        return summary_block(self.overall)

    @property
    def as_of_text(self) -> str:
        """Return when the figures were taken, in Vietnam time: ``09:15 02/03/2026``."""
        return self.as_of.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")

    def verdict_of(self, rate: float | None) -> str | None:
        """Return a ratio's verdict against the target (``met``, ``not_met``, None)."""
        return verdict(rate, self.target)

    def unit_label(self, code: str) -> str:
        """Return "CODE – name" of a unit in ``by_unit``."""
        name = self.units.get(code)
        return f"{code} – {name}" if name else code


def month_of(record: CaseRecord) -> str:
    """Return the Vietnam month ``YYYY-MM`` a case was opened in."""
    return record.opened_at.astimezone(VIETNAM).strftime("%Y-%m")


def quarter_of(record: CaseRecord) -> str:
    """Return the Vietnam quarter ``YYYY-Qn`` a case was opened in."""
    day = record.opened_at.astimezone(VIETNAM).date()
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def _grouped(found: Sequence[CaseRecord], key: Callable[[CaseRecord], str], as_of: datetime
             ) -> dict[str, HandlingFigures]:
    groups: dict[str, list[CaseRecord]] = {}
    for record in found:
        groups.setdefault(key(record), []).append(record)
    return {k: handling_figures(groups[k], as_of=as_of) for k in sorted(groups)}


def figures(filters: Filters, *, as_of: datetime | None = None) -> CaseFigures:
    """Return the handling figures of the cases of ``filters``, taken at ``as_of`` (now)."""
    as_of = as_of or utcnow()
    found = records(filters)
    result = CaseFigures(handling_figures(found, as_of=as_of), as_of, target())
    result.by_unit = _grouped(found, lambda r: r.unit or "", as_of)
    result.by_month = _grouped(found, month_of, as_of)
    result.by_quarter = _grouped(found, quarter_of, as_of)
    if result.by_unit:
        result.units = dict(db.session.execute(
            sa.select(Unit.code, Unit.name).where(Unit.code.in_(list(result.by_unit)))).all())
    return result


def summary_cases(filters: Filters, *, as_of: datetime | None = None
                  ) -> dict[str, int | float | None]:
    """Return the ``"cases"`` block of the summary JSON for ``filters`` (contract §9)."""
    return summary_block(handling_figures(records(filters), as_of=as_of or utcnow()))


# --- The API's list (contract §9) -------------------------------------------------------------


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
            raise FilterError(_("Trạng thái không hợp lệ: %(status)s (cần một trong: "
                                "%(known)s).", status=status[:20], known=", ".join(STATUSES)))
    chosen: list[Unit] = []
    for code in dict.fromkeys(c.strip() for c in unit_codes if c.strip()):
        unit = unit_service.get_unit(code)
        if unit is None:
            raise FilterError(_("Không có đơn vị %(code)s.", code=code[:32]))
        if not unit_service.can_see(user, unit):
            raise FilterError(_("Tài khoản này không được xem đơn vị %(code)s.", code=unit.code),
                              403)
        chosen.append(unit)
    start, end = parse_day(date_from, _("bắt đầu")), parse_day(date_to, _("kết thúc"))
    if start and end and start > end:
        raise FilterError(_("Ngày bắt đầu phải trước ngày kết thúc."))
    return CaseQuery(chosen_statuses, tuple(chosen), start, end)


def _case_conditions(query: CaseQuery, user: User) -> list[Any]:
    conditions: list[Any] = [case_service.visible_condition(user)]
    if query.statuses:
        conditions.append(Case.status.in_(query.statuses))
    if query.units:
        ids = [u.id for u in query.units]
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
