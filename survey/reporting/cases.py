"""Handling figures of cases for a summary's filters, and the API's list of cases.

The cases counted for a summary are those opened by the responses that pass its filters
(contract §9): a case is joined to its response, and the response must satisfy
``exports.response_conditions``, so a leader's scope, the units, channels and Vietnam days
of the filters all apply, and an excluded response's case counts nowhere. The counting itself
is analysis.cases (one definition for the summary JSON, the dashboard, the XLSX workbook and
the PDF report); here are only the queries, the grouping by unit and period, the target, and
the JSON of the API (``survey.services.case_api``). No query here reads the citizen's contact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from analysis.cases import CaseRecord, HandlingFigures, handling_figures, summary_block
from analysis.vietnam import VIETNAM

from ..models import Case, Response, Unit, utcnow
from .db import Db
from .exports import response_conditions
from .filters import Filters

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


def records(session: Db, filters: Filters) -> list[CaseRecord]:
    """Return the cases opened by the responses that pass ``filters``, as CaseRecords.

    ``unit`` of each record is the code of the unit the response came from.
    """
    return [CaseRecord(opened_at=opened, due=due, status=status, answered_at=answered,
                       unit=code, citizen_satisfied=satisfied)
            for opened, due, status, answered, satisfied, code
            in session.execute(_record_query(filters))]


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


def figures(session: Db, filters: Filters, target: float, *,
            as_of: datetime | None = None) -> CaseFigures:
    """Return the handling figures of the cases of ``filters``, taken at ``as_of`` (now).

    ``target`` is the goal of both Decision 766 ratios, in % (setting ``CASE_TARGET``).
    """
    as_of = as_of or utcnow()
    found = records(session, filters)
    result = CaseFigures(handling_figures(found, as_of=as_of), as_of, target)
    result.by_unit = _grouped(found, lambda r: r.unit or "", as_of)
    result.by_month = _grouped(found, month_of, as_of)
    result.by_quarter = _grouped(found, quarter_of, as_of)
    if result.by_unit:
        result.units = dict(session.execute(
            sa.select(Unit.code, Unit.name).where(Unit.code.in_(list(result.by_unit)))).all())
    return result


def summary_cases(session: Db, filters: Filters, *, as_of: datetime | None = None
                  ) -> dict[str, int | float | None]:
    """Return the ``"cases"`` block of the summary JSON for ``filters`` (contract §9)."""
    return summary_block(handling_figures(records(session, filters), as_of=as_of or utcnow()))
