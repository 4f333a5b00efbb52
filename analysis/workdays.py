"""Working days for due dates: weekends, Vietnam's public holidays and the days the ward moves.

A case's due date is counted in working days (ngày làm việc). Which days are working days
depends on four things, checked in this order by :meth:`WorkCalendar.is_working_day`:

1. ``extra_work``: days the ward works although they would be off, for example a Saturday worked
   in exchange for a day off (ngày làm bù). Always working days.
2. ``extra_off``: days the ward does not work although they would be working days, for example
   a weekday given off in exchange (ngày nghỉ bù, hoán đổi) or a local closure. Never working.
3. Public holidays: by default Vietnam's, from the ``holidays`` package (days off of the Labour
   Code, the observed days when a holiday falls on a weekend, and the exchanged days off the
   government announced). Never working days.
4. The weekend: Saturday and Sunday by default (``weekend=(5, 6)``, ``date.weekday()`` numbers).

With the default public holidays, the Saturdays the package knows were worked in exchange for a
day off (Saturday 26 April 2025 for Friday 2 May 2025, Saturday 22 August 2026 for Monday
31 August 2026, ...) are working days too, checked between 3 and 4: the package lists the day
off but not the Saturday worked for it. Passing ``public_holidays`` explicitly replaces both;
then list the Saturdays worked in ``extra_work``.

Counting (:meth:`WorkCalendar.add_working_days`): a case opened on a day that is not a working
day counts as opened on the next working day (the *adjusted start*), and is due on the n-th
working day after the adjusted start, so ``n = 0`` gives the adjusted start itself. The day a
case is opened never counts towards n, whatever the time of day. Pure functions and no Flask, so
that a report or a cron job can count the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from .vietnam import VIETNAM

WEEKEND: tuple[int, ...] = (5, 6)
"""Saturday and Sunday (``date.weekday()`` numbers, 0 = Monday)."""

_DAY = timedelta(days=1)


@cache
def vietnam_public_holidays(year: int) -> frozenset[date]:
    """Vietnam's public days off in a year, from the ``holidays`` package (cached per year)."""
    import holidays  # here, not at the top: only a due date needs the package

    return frozenset(holidays.country_holidays("VN", years=year))


@cache
def vietnam_exchanged_working_days() -> frozenset[date]:
    """Return the Saturdays worked in exchange for a day off that the ``holidays`` package knows.

    The package gives the day off as a holiday (``Ngày nghỉ (thay cho ngày …)``) and keeps the
    day worked for it only in its table of special holidays: rows ``(month, day, worked month,
    worked day[, worked year])`` per year. That table is not a documented interface, so a
    package that no longer has it gives no days (tests/analysis/test_workdays.py notices).
    """
    try:
        from holidays.countries.vietnam import VietnamStaticHolidays
        table: dict[int, Any] = VietnamStaticHolidays.special_public_holidays
    except (ImportError, AttributeError):  # pragma: no cover -- another version of the package
        return frozenset()
    days: set[date] = set()
    for year, rows in table.items():
        for row in rows if isinstance(rows[0], tuple) else (rows,):  # one row, or a tuple of rows
            if len(row) >= 4:
                days.add(date(row[4] if len(row) > 4 else year, row[2], row[3]))
    return frozenset(days)


def local_day(when: date | datetime) -> date:
    """Return the day of a date or a time: an aware time in Vietnam, a naive one as given."""
    if isinstance(when, datetime):
        if when.tzinfo is not None:
            when = when.astimezone(VIETNAM)
        return when.date()
    return when


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days (module docstring for the order of the rules).

    ``public_holidays`` None means Vietnam's from the ``holidays`` package, looked up per year
    as needed, plus the Saturdays the package records as worked in exchange. A date in both
    ``extra_off`` and ``extra_work`` is a mistake and raises ValueError, as does a weekend with
    a number outside 0-6 or covering the whole week.
    """

    extra_off: frozenset[date] = field(default_factory=frozenset)
    extra_work: frozenset[date] = field(default_factory=frozenset)
    weekend: tuple[int, ...] = WEEKEND
    public_holidays: frozenset[date] | None = None

    def __post_init__(self) -> None:
        # Accept any collection of dates (a set, a list, the package's dict) and keep frozensets,
        # so that the calendar stays hashable and cannot change under a computed due date.
        object.__setattr__(self, "extra_off", frozenset(map(local_day, self.extra_off)))
        object.__setattr__(self, "extra_work", frozenset(map(local_day, self.extra_work)))
        object.__setattr__(self, "weekend", tuple(sorted(set(self.weekend))))
        if self.public_holidays is not None:
            object.__setattr__(self, "public_holidays",
                               frozenset(map(local_day, self.public_holidays)))
        both = self.extra_off & self.extra_work
        if both:
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"days both off and worked: {days}")
        if any(not 0 <= day <= 6 for day in self.weekend):
            raise ValueError(f"weekend days are 0 (Monday) to 6 (Sunday), got {self.weekend}")
        if len(self.weekend) == 7:
            raise ValueError("a weekend of the whole week leaves no working day")

    def is_holiday(self, day: date) -> bool:
        """Whether a day is a public holiday of this calendar (not counting ``extra_off``)."""
        if self.public_holidays is not None:
            return day in self.public_holidays
        return day in vietnam_public_holidays(day.year)

    def is_working_day(self, day: date | datetime) -> bool:
        """Whether a day (a time: its day, in Vietnam if aware) is a working day."""
        day = local_day(day)
        if day in self.extra_work:
            return True
        if day in self.extra_off or self.is_holiday(day):
            return False
        if self.public_holidays is None and day in vietnam_exchanged_working_days():
            return True
        return day.weekday() not in self.weekend

    def next_working_day(self, day: date | datetime) -> date:
        """Return the day if it is a working day, else the first working day after it."""
        day = local_day(day)
        while not self.is_working_day(day):
            day += _DAY
        return day

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """Return the due date of a case opened on ``start`` with ``n`` working days to settle.

        The adjusted start is ``start``'s day if it is a working day, else the next working day
        (a case received on a Sunday or a holiday counts as received on the next working day).
        The result is the n-th working day after the adjusted start: ``n = 0`` gives the
        adjusted start; a case opened on a Monday with ``n = 1`` is due on Tuesday, and one
        opened on the Saturday or Sunday before is due on that Tuesday too. The result is always
        a working day, and ``working_days_between(adjusted start, result) == n``. ``n`` must
        not be negative (ValueError).
        """
        if n < 0:
            raise ValueError(f"the number of working days must not be negative, got {n}")
        day = self.next_working_day(start)
        for _ in range(n):
            day = self.next_working_day(day + _DAY)
        return day

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Count the working days after ``a`` up to and including ``b``.

        ``a`` itself never counts, so the same day gives 0 and a Friday to the next Monday
        gives 1 on an ordinary week. When ``b`` is before ``a`` the result is minus the count
        from ``b`` to ``a`` (antisymmetric): for a due date and today, a positive number is how
        many working days a case is late, zero or negative that it is not.
        """
        first, last = local_day(a), local_day(b)
        if last < first:
            return -self.working_days_between(last, first)
        count = 0
        day = first + _DAY
        while day <= last:
            count += self.is_working_day(day)
            day += _DAY
        return count


_SEPARATORS = re.compile(r"[,;\s]+")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_VIETNAMESE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


class DayParseError(ValueError):
    """A part of a list of days that is not a date; ``part`` is that text, as written."""

    def __init__(self, part: str) -> None:
        super().__init__(f"not a date (YYYY-MM-DD or DD/MM/YYYY): {part!r}")
        self.part = part


def parse_days(text: str) -> frozenset[date]:
    """Read a setting such as ``2026-04-25, 2026-05-02`` into a set of dates.

    Dates are ISO (``2026-04-25``) or written the Vietnamese way, day first (``25/04/2026``,
    ``25.4.2026``); they are separated by commas, semicolons, spaces or new lines. An empty text
    gives no days. Raises :class:`DayParseError` (a ValueError) naming the first part that is
    not a date, including an impossible one such as ``2026-02-30``.
    """
    days: set[date] = set()
    for part in filter(None, _SEPARATORS.split(text.strip())):
        iso, vietnamese = _ISO.match(part), _VIETNAMESE.match(part)
        if iso is not None:
            year, month, day = (int(g) for g in iso.groups())
        elif vietnamese is not None:
            day, month, year = (int(g) for g in vietnamese.groups())
        else:
            raise DayParseError(part)
        try:
            days.add(date(year, month, day))
        except ValueError:
            raise DayParseError(part) from None
    return frozenset(days)


def describe_days(days: Collection[date]) -> str:
    """Write days in the form :func:`parse_days` reads, sorted (``2026-04-25, 2026-05-02``)."""
    return ", ".join(d.isoformat() for d in sorted(days))
