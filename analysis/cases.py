"""Handling figures of cases (phản ánh, kiến nghị): contract §9 and Decision 766/QĐ-TTg.

A case is opened from a response (a suggestion or a low rating), has a due day, and gets a
public reply. This module counts, from plain :class:`CaseRecord` values, how they were handled:
the ``"cases"`` block of the summary JSON (contract §9) and the two ratios of the "Mức độ hài
lòng" group of Decision 766/QĐ-TTg (domain.md §5.2).

Every day is a **Vietnam calendar day** (UTC+7, :data:`analysis.vietnam.VIETNAM`): a case opened
at 23:30 in Vietnam (16:30 UTC) was opened on that Vietnam day, and a reply given at 00:30 on
the day after the due day is late even though it is still the due day in UTC.

Definitions (``as_of`` is the moment the figures are taken, usually now):

``opened``
    Every case given.
``answered``
    Cases with a public reply (``answered_at`` set), whatever their status now.
``answered_on_time``
    Answered cases whose reply's Vietnam day is on or before ``due``: a reply on the due day
    is on time, one on the day after is late. Late replies are ``answered - answered_on_time``.
``overdue``
    Cases still waiting for a reply past their due day: no reply, status not ``closed``, and
    ``as_of``'s Vietnam day after ``due``. A case whose reply came late is *not* counted here
    (it is in ``answered``, not in ``answered_on_time``), so ``overdue`` is a to-do count that
    falls to 0 once every case is answered; the ratios below still count late replies against
    the ward. A case closed without a reply is not waiting, so it is never overdue.
``median_days``
    Median, over answered cases, of the Vietnam calendar days from opening to reply (0 when
    answered the day it was opened); a float (2.5 for an even count); None without answers.
``on_time_rate``
    Decision 766's *tỷ lệ phản ánh, kiến nghị xử lý đúng hạn*: 100 × ``answered_on_time`` /
    ``opened``. A case closed without a reply has no handling moment, so it is not on time; a
    caller that holds such cases outside the ward's competence leaves them out beforehand.
``satisfaction_rate``
    Decision 766's *tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị*: 100 × (``opened`` − the
    cases that the citizen marked unsatisfied, or that were answered late, or that are
    overdue) / ``opened``, each case subtracted once. It is default-positive: a case counts as
    satisfied unless one of those happened (an open case not yet due, or one whose citizen
    said nothing, counts as satisfied).

Both ratios are unrounded percentages, None when no case was opened.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TypedDict, TypeVar

from .vietnam import VIETNAM

STATUSES = ("new", "in_progress", "answered", "closed")
"""Contract §9: the statuses of a case."""


class HandlingFigures(TypedDict):
    """The figures of :func:`handling_figures`; the first five are contract §9's ``"cases"``."""

    opened: int
    answered: int
    answered_on_time: int
    overdue: int
    median_days: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None


SUMMARY_KEYS = ("opened", "answered", "answered_on_time", "overdue", "median_days")
"""The keys of the summary JSON's ``"cases"`` block (contract §9), in order."""


def _aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time is ambiguous (UTC from the database, or Vietnam time typed by someone):
        # guessing would move cases across midnight, so the caller must say.
        raise ValueError(f"{name} must carry a time zone: {moment.isoformat()}")


@dataclass(frozen=True)
class CaseRecord:
    """One case as far as its handling figures go.

    ``opened_at`` and ``answered_at`` are time-zone-aware moments; ``answered_at`` is when the
    public reply was first given (None for a case without one, including one closed without a
    reply). ``due`` is the last Vietnam calendar day for an on-time reply. ``unit`` is the
    unit's code, for :func:`figures_by`; ``citizen_satisfied`` is the citizen's verdict on the
    handling, None when they gave none. Raises ValueError for an unknown status, a naive
    time, a reply before the opening, or status ``answered`` without a reply.
    """

    opened_at: datetime
    due: date
    status: str
    answered_at: datetime | None
    unit: str | None = None
    citizen_satisfied: bool | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown case status {self.status!r}; expected one of {STATUSES}")
        if isinstance(self.due, datetime):
            raise ValueError("due is a calendar day (date), not a moment")
        _aware("opened_at", self.opened_at)
        if self.answered_at is None:
            if self.status == "answered":
                raise ValueError("a case with status 'answered' needs answered_at")
            return
        _aware("answered_at", self.answered_at)
        if self.answered_at < self.opened_at:
            raise ValueError("answered_at is before opened_at")


def _day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def handling_figures(cases: Iterable[CaseRecord], *, as_of: datetime,
                     tz: tzinfo = VIETNAM) -> HandlingFigures:
    """Return the handling figures of ``cases`` as they stand at ``as_of`` (module docstring).

    ``as_of`` must be time-zone-aware; ``tz`` gives the calendar days (Vietnam by default).
    """
    _aware("as_of", as_of)
    today = _day(as_of, tz)
    opened = answered = on_time = overdue = not_satisfied = 0
    days: list[int] = []
    for case in cases:
        opened += 1
        late = waiting_past_due = False
        if case.answered_at is not None:
            answered += 1
            reply_day = _day(case.answered_at, tz)
            days.append((reply_day - _day(case.opened_at, tz)).days)
            if reply_day <= case.due:
                on_time += 1
            else:
                late = True
        elif case.status != "closed" and today > case.due:
            overdue += 1
            waiting_past_due = True
        if late or waiting_past_due or case.citizen_satisfied is False:
            not_satisfied += 1
    return {
        "opened": opened,
        "answered": answered,
        "answered_on_time": on_time,
        "overdue": overdue,
        "median_days": float(statistics.median(days)) if days else None,
        "on_time_rate": 100 * on_time / opened if opened else None,
        "satisfaction_rate": 100 * (opened - not_satisfied) / opened if opened else None,
    }


def summary_block(figures: HandlingFigures) -> dict[str, int | float | None]:
    """Return the contract §9 ``"cases"`` block of the summary JSON: its five keys only."""
    return {key: figures[key] for key in SUMMARY_KEYS}  # type: ignore[literal-required]


K = TypeVar("K", bound=Hashable)


def figures_by(cases: Iterable[CaseRecord], key: Callable[[CaseRecord], K], *,
               as_of: datetime, tz: tzinfo = VIETNAM) -> dict[K, HandlingFigures]:
    """Return :func:`handling_figures` per value of ``key`` (e.g. ``lambda c: c.unit``).

    Only values that some case has appear; they come in the order of their first case.
    """
    groups: dict[K, list[CaseRecord]] = {}
    for case in cases:
        groups.setdefault(key(case), []).append(case)
    return {k: handling_figures(group, as_of=as_of, tz=tz) for k, group in groups.items()}
