"""Reporting periods: a year, a half, a quarter or a month, with their codes and labels.

A period is written (its *code*) ``2025``, ``2025-H1``/``2025-H2``, ``2025-Q1`` … ``2025-Q4`` or
``2025-10`` (month zero-padded), and labelled in Vietnamese ``Năm 2025``, ``6 tháng đầu năm
2025``/``6 tháng cuối năm 2025``, ``Quý IV/2025``, ``Tháng 10/2025`` (all text NFC).

:func:`parse_period` reads a code typed by a person (years 2000 to 2100 only) and raises only
:class:`PeriodError`, with a Vietnamese message naming the text; :func:`relative_period` turns
``last-quarter``, ``this-month``… into the period for a given day, and :func:`period_of`
accepts either. The month, quarter and year codes are those of :func:`analysis.breakdown.
month_of` and :func:`analysis.breakdown.quarter_of`. Pure functions and no Flask, so that a
report, a cron job or a notebook name periods the same way.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date
from functools import total_ordering
from typing import Literal, cast

Kind = Literal["year", "half", "quarter", "month"]

KINDS: tuple[Kind, ...] = ("year", "half", "quarter", "month")
"""The kinds of period, longest first."""

MIN_YEAR = 2000
MAX_YEAR = 2100
"""The years :func:`parse_period` accepts (a :class:`Period` itself takes any year)."""

_MONTHS_IN: dict[Kind, int] = {"year": 12, "half": 6, "quarter": 3, "month": 1}
_ROMAN = ("I", "II", "III", "IV")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")  # not locale-dependent

# ASCII digits only: ``\d`` would also take "２０２５" or "٢٠٢٥", which int() then reads.
_CODE = re.compile(r"([0-9]{4})(?:-(?:([HhQq])([0-9])|([0-9]{2})))?")

RELATIVE_NAMES: dict[str, tuple[Kind, int]] = {
    "this-month": ("month", 0),
    "last-month": ("month", 1),
    "this-quarter": ("quarter", 0),
    "last-quarter": ("quarter", 1),
    "this-half": ("half", 0),
    "last-half": ("half", 1),
    "this-year": ("year", 0),
    "last-year": ("year", 1),
}
"""Relative names: the kind of period, and how many periods back from the one of today."""

_FORMS = "Viết theo dạng 2025, 2025-H1, 2025-Q4 hoặc 2025-10"
_NAMES = ", ".join(RELATIVE_NAMES)
_SHOWN = 40  # characters of a bad text quoted in a message


class PeriodError(ValueError):
    """A text that is not a period; ``text`` is that text, as given. The message is Vietnamese."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


def _quoted(text: str) -> str:
    """Return a bad text for a message: NFC, cut to ``_SHOWN`` characters, in “quotes”."""
    text = unicodedata.normalize("NFC", text)
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "…"
    return f"“{text}”"


def _check_kind(kind: str) -> Kind:
    if kind not in _MONTHS_IN:
        raise ValueError(f"a period kind is one of {', '.join(KINDS)}, got {kind!r}")
    return cast(Kind, kind)


@total_ordering
@dataclass(frozen=True)
class Period:
    """One reporting period of a kind, a year and a number within the year.

    ``number`` is 1 for a year, 1-2 for a half, 1-4 for a quarter and 1-12 for a month.
    Periods order by start, then by end, so a month comes before the quarter that starts with
    it, and that quarter before its half and its year; no two periods have the same start and
    end, so the order agrees with ``==``. A bad kind, number or year raises ValueError.
    """

    kind: Kind
    year: int
    number: int = 1

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        if not 1 <= self.number <= self.count_per_year:
            raise ValueError(f"a {self.kind} is numbered 1 to {self.count_per_year}, "
                             f"got {self.number}")
        if not MINYEAR <= self.year <= MAXYEAR:
            raise ValueError(f"the year must be {MINYEAR} to {MAXYEAR}, got {self.year}")

    @property
    def count_per_year(self) -> int:
        """How many periods of this kind a year has (1, 2, 4 or 12)."""
        return 12 // _MONTHS_IN[self.kind]

    @property
    def first_month(self) -> int:
        return (self.number - 1) * _MONTHS_IN[self.kind] + 1

    @property
    def last_month(self) -> int:
        return self.number * _MONTHS_IN[self.kind]

    @property
    def code(self) -> str:
        """Return the code: ``2025``, ``2025-H2``, ``2025-Q4`` or ``2025-10``."""
        prefix = {"year": "", "half": "-H", "quarter": "-Q", "month": "-"}[self.kind]
        number = f"{self.number:02d}" if self.kind == "month" else str(self.number)
        return f"{self.year:04d}" + (prefix + number if self.kind != "year" else "")

    @property
    def start(self) -> date:
        """Return the first day."""
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """Return the last day (inclusive)."""
        return date(self.year, self.last_month, monthrange(self.year, self.last_month)[1])

    @property
    def label(self) -> str:
        """Return the Vietnamese label: ``Tháng 10/2025``, ``Quý IV/2025``, ``Năm 2025``."""
        if self.kind == "month":
            return f"Tháng {self.number}/{self.year}"
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.number - 1]}/{self.year}"
        if self.kind == "half":
            return f"6 tháng {'đầu' if self.number == 1 else 'cuối'} năm {self.year}"
        return f"Năm {self.year}"

    @property
    def label_en(self) -> str:
        """Return the English label: ``October 2025``, ``Q4 2025``, ``First half of 2025``."""
        if self.kind == "month":
            return f"{_MONTH_NAMES[self.number - 1]} {self.year}"
        if self.kind == "quarter":
            return f"Q{self.number} {self.year}"
        if self.kind == "half":
            return f"{'First' if self.number == 1 else 'Second'} half of {self.year}"
        return str(self.year)

    def shifted(self, steps: int) -> Period:
        """Return the period of the same kind ``steps`` periods later (earlier if negative)."""
        index = self.year * self.count_per_year + self.number - 1 + steps
        year, number = divmod(index, self.count_per_year)
        return Period(self.kind, year, number + 1)

    def previous(self) -> Period:
        """Return the period of the same kind just before: 2025-Q1 gives 2024-Q4."""
        return self.shifted(-1)

    def next(self) -> Period:
        """Return the period of the same kind just after: 2024-Q4 gives 2025-Q1."""
        return self.shifted(1)

    def same_period_last_year(self) -> Period:
        """Return the same period a year before: 2025-Q4 gives 2024-Q4."""
        return Period(self.kind, self.year - 1, self.number)

    def contains(self, day: date) -> bool:
        """Whether a day falls in the period (first and last day included)."""
        return self.start <= day <= self.end

    def months(self) -> list[tuple[int, int]]:
        """Return the months covered, as (year, month), in order."""
        return [(self.year, m) for m in range(self.first_month, self.last_month + 1)]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)

    def __str__(self) -> str:
        return self.code


def period_containing(kind: str, day: date) -> Period:
    """Return the period of a kind (``year``, ``half``, ``quarter``, ``month``) of a day.

    An unknown kind raises ValueError.
    """
    checked = _check_kind(kind)
    return Period(checked, day.year, (day.month - 1) // _MONTHS_IN[checked] + 1)


def _period_of_match(match: re.Match[str]) -> Period:
    year, letter, digit, month = match.groups()
    if month is not None:
        return Period("month", int(year), int(month))
    if letter is not None:
        return Period("half" if letter in "Hh" else "quarter", int(year), int(digit))
    return Period("year", int(year))


def parse_period(text: str) -> Period:
    """Read a period code: ``2025``, ``2025-H1``, ``2025-q4``, ``2025-10``.

    Spaces around the code are ignored; the letter may be lower case. Anything else, such as
    ``2025-Q5``, ``2025-13``, ``2025-1`` or a year before :data:`MIN_YEAR` or after
    :data:`MAX_YEAR`, raises :class:`PeriodError` (and nothing else does, whatever the text)
    with a Vietnamese message naming the text.
    """
    stripped = text.strip()
    if not stripped:
        raise PeriodError(f"Chưa nhập kỳ báo cáo. {_FORMS}.", text)
    bad = f"Kỳ báo cáo không hợp lệ: {_quoted(stripped)}."
    match = _CODE.fullmatch(stripped)
    if match is None:
        raise PeriodError(f"{bad} {_FORMS}.", text)
    if not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
        raise PeriodError(f"{bad} Năm phải từ {MIN_YEAR} đến {MAX_YEAR}.", text)
    try:
        return _period_of_match(match)
    except ValueError:  # a number out of range: 2025-Q5, 2025-H3, 2025-00, 2025-13
        raise PeriodError(f"{bad} {_FORMS}.", text) from None


def relative_period(name: str, today: date) -> Period:
    """Return the period a relative name means on ``today``.

    On 2026-01-05, ``last-quarter`` gives 2025-Q4 and ``this-month`` 2026-01. The names are
    those of :data:`RELATIVE_NAMES` (spaces around and case ignored); another name raises
    :class:`PeriodError` with a Vietnamese message listing them.
    """
    key = name.strip().lower()
    if key not in RELATIVE_NAMES:
        raise PeriodError(f"Tên kỳ không hợp lệ: {_quoted(name.strip())}. "
                          f"Dùng một trong: {_NAMES}.", name)
    kind, back = RELATIVE_NAMES[key]
    return period_containing(kind, today).shifted(-back)


def period_of(text: str, today: date) -> Period:
    """Return the period of a relative name (:func:`relative_period`) or a code.

    A text that is neither raises :class:`PeriodError`: the message of :func:`parse_period`
    for a text shaped like a code (``2025-Q5``, ``1999``), else one that gives both the code
    forms and the relative names.
    """
    stripped = text.strip()
    if stripped.lower() in RELATIVE_NAMES:
        return relative_period(stripped, today)
    if _CODE.fullmatch(stripped):
        return parse_period(stripped)
    if not stripped:
        raise PeriodError(f"Chưa nhập kỳ báo cáo. {_FORMS}, hoặc dùng một trong: {_NAMES}.",
                          text)
    raise PeriodError(f"Kỳ báo cáo không hợp lệ: {_quoted(stripped)}. {_FORMS}, "
                      f"hoặc dùng một trong: {_NAMES}.", text)
