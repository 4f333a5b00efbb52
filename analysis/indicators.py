"""The plan's service indicators as numbers: months, dossier counts, ratios, targets.

Pure: no database, no web. ``survey/services/indicators.py`` stores and checks the figures;
``survey/reporting`` shows them beside satisfaction. Ratios come from summed counts, never
from averaged percentages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from .vietnam import VIETNAM

INDICATOR_FIGURES = ("received", "resolved", "on_time", "late_apology", "online", "paid_online",
                     "postal", "digitised")
"""The monthly counts of dossiers (hồ sơ) a row holds, in the order forms and files show them."""
RATIOS = ("on_time", "online", "paid_online", "postal", "digitised", "apology")
"""The ratios, each a share of dossiers (see :func:`ratios`)."""


# --- Months and figures ---------------------------------------------------------------------


_MONTH_TEXT = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{4})$")
_MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, shown "03/2026" as Vietnamese reports write it."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise ValueError(f"no such month: {self.month}/{self.year}")

    @classmethod
    def of(cls, day: date) -> Month:
        """Return the month of a day."""
        return cls(day.year, day.month)

    @classmethod
    def current(cls) -> Month:
        """Return this month in Vietnam."""
        return cls.of(datetime.now(VIETNAM).date())

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read "03/2026" (also "3/2026", "03-2026") or "2026-03"; ValueError otherwise."""
        text = text.strip()
        found = _MONTH_TEXT.match(text)
        if found:
            return cls(int(found.group(2)), int(found.group(1)))
        found = _MONTH_ISO.match(text)
        if found:
            return cls(int(found.group(1)), int(found.group(2)))
        raise ValueError(f"not a month: {text[:20]!r}")

    @property
    def index(self) -> int:
        """Months since the start of year 0: consecutive months differ by one."""
        return self.year * 12 + self.month - 1

    def shift(self, months: int) -> Month:
        """Return the month ``months`` later (earlier when negative)."""
        index = self.index + months
        return Month(index // 12, index % 12 + 1)

    @property
    def iso(self) -> str:
        """Return "2026-03", as an ``<input type="month">`` holds it."""
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.month:02d}/{self.year:04d}"


@dataclass(frozen=True)
class Figures:
    """One month's counts of dossiers (of a unit, or a sum of several)."""

    received: int = 0
    resolved: int = 0
    on_time: int = 0
    late_apology: int = 0
    online: int = 0
    paid_online: int = 0
    postal: int = 0
    digitised: int = 0

    @classmethod
    def of(cls, row: Any) -> Figures:
        """Return the counts a stored row holds."""
        return cls(**{name: getattr(row, name) for name in INDICATOR_FIGURES})

    def as_dict(self) -> dict[str, int]:
        """Return the counts by name."""
        return asdict(self)

    @property
    def late(self) -> int:
        """Dossiers resolved late."""
        return self.resolved - self.on_time

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{name: getattr(self, name) + getattr(other, name)
                          for name in INDICATOR_FIGURES})


assert tuple(f.name for f in fields(Figures)) == INDICATOR_FIGURES  # noqa: S101  (one list)
NOTHING = Figures()


def total(figures: Iterable[Figures]) -> Figures:
    """Return the sum of several units' or months' figures."""
    result = NOTHING
    for item in figures:
        result = result + item
    return result


@dataclass(frozen=True)
class Ratio:
    """A share of dossiers: ``numerator`` of ``denominator``, as a percentage."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """Return the percentage, or None when there is nothing to divide by."""
        if self.denominator <= 0:
            return None
        return 100 * self.numerator / self.denominator


def ratios(figures: Figures) -> dict[str, Ratio]:
    """Return every ratio of :data:`RATIOS` from (summed) figures."""
    return {
        "on_time": Ratio(figures.on_time, figures.resolved),
        "online": Ratio(figures.online, figures.received),
        "paid_online": Ratio(figures.paid_online, figures.received),
        "postal": Ratio(figures.postal, figures.received),
        "digitised": Ratio(figures.digitised, figures.received),
        "apology": Ratio(figures.late_apology, figures.late),
    }


def targets(config: Mapping[str, Any]) -> dict[str, float | None]:
    """Return the target (%) of each ratio from the settings, None where none is set."""
    found: dict[str, float | None] = {}
    for name in RATIOS:
        value = config.get(f"INDICATOR_TARGET_{name.upper()}")
        found[name] = (None if value is None or isinstance(value, bool)
                       or not isinstance(value, int | float) else float(value))
    return found


def met(value: float | None, target: float | None) -> bool | None:
    """Return whether a ratio reaches its target; None without a value or a target."""
    if value is None or target is None:
        return None
    return value >= target


def floor_tenth(value: float | None) -> float | None:
    """Return a ratio rounded down to a tenth, as it is shown: 94.96 % reads "94,9 %".

    Rounded half up it would read "95,0 %" beside "chưa đạt" for a target of 95; a ratio
    shown is never more than the ratio.
    """
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_FLOOR))
