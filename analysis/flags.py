"""Rules that flag responses which may not be what they seem (contract §8).

Counter staff filling in forms themselves, or a group entering invented sheets, is the known way
to game a satisfaction index. Nothing here decides: a flag marks responses for a person to look
at, with the evidence, and only staff exclude. The rules are pure functions of times, answer
patterns and scores, so that they can be tested (and re-run on an export) without a database.

* ``straightline``: every scored item answered, at least ``min_items`` of them, with the same
  option.
* ``same_answers``: at least ``min_count`` responses with the same full answer pattern from one
  link (unit and questionnaire) within ``window`` minutes: all of them.
* ``burst``: a link receiving at least ``threshold`` responses within ``window`` minutes, where
  the threshold is ``max(minimum, factor × the link's usual number in such a window)``; the usual
  number comes from the link's own responses of the previous 28 days.
* ``off_hours``: a response through a link (QR code, kiosk) submitted outside its unit's opening
  hours, or on a public holiday.
* ``enterer_pattern``: paper responses typed in by one account whose mean respondent score is
  far from that of the others (other enterers' sheets and citizens' own responses of the same
  questionnaire): a difference of at least ``gap`` points and a z statistic of at least ``z``,
  both sides with at least ``min_n`` responses, the others from at least two sources.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

FLAG_CODES: tuple[str, ...] = ("burst", "same_answers", "straightline", "off_hours",
                               "enterer_pattern")

# --- opening hours ---------------------------------------------------------------------------

DAY_NAMES = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
"""Vietnamese day names, Monday first (thứ Hai … Chủ nhật), as weekday() numbers them."""

DEFAULT_OPENING_HOURS = "T2-T6 07:00-17:30; T7 07:00-12:00"
"""Vietnamese office hours (Monday to Friday, and Saturday morning, when one-stop counters
open), widened by half an hour each side: a citizen often answers just before or after."""

_PART = re.compile(r"^(T[2-7]|CN)(?:\s*-\s*(T[2-7]|CN))?((?:\s+\d{1,2}[:h]\d{2}\s*-\s*"
                   r"\d{1,2}[:h]\d{2})+)$", re.IGNORECASE)
_SPAN = re.compile(r"(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})")


@dataclass(frozen=True)
class OpeningHours:
    """When a unit is open: minutes from midnight, per weekday (0 = Monday)."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Read hours written as ``T2-T6 07:00-11:30 13:30-17:00; T7 07:00-11:30``.

        Days are T2 … T7 and CN (a range or one day), each followed by one or more spans;
        parts are separated by ``;``. An empty text means always open. Raises ValueError with
        the part that cannot be read.
        """
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        text = text.strip()
        if not text:
            return cls(tuple(((0, 24 * 60),) for _ in range(7)))
        for part in filter(None, (p.strip() for p in text.split(";"))):
            match = _PART.match(part)
            if match is None:
                raise ValueError(part)
            first = DAY_NAMES.index(match.group(1).upper())
            last = DAY_NAMES.index((match.group(2) or match.group(1)).upper())
            if last < first:
                raise ValueError(part)
            for h1, m1, h2, m2 in _SPAN.findall(match.group(3)):
                start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
                if not (int(m1) < 60 and int(m2) < 60 and 0 <= start < end <= 24 * 60):
                    raise ValueError(part)
                for day in range(first, last + 1):
                    days[day].append((start, end))
        return cls(tuple(tuple(sorted(spans)) for spans in days))

    def is_open(self, local: datetime) -> bool:
        """Whether a local (Vietnam) time falls within the hours."""
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[local.weekday()])

    def minutes_open(self, weekday: int) -> int:
        """Minutes open on a weekday (0 = Monday)."""
        return sum(end - start for start, end in self.days[weekday])

    def describe(self) -> str:
        """Return the hours in the form ``parse`` reads, days with equal hours joined."""
        parts: list[str] = []
        day = 0
        while day < 7:
            spans = self.days[day]
            last = day
            while last + 1 < 7 and self.days[last + 1] == spans:
                last += 1
            if spans:
                name = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
                times = " ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
                                 for s, e in spans)
                parts.append(f"{name} {times}")
            day = last + 1
        return "; ".join(parts)


def off_hours(local: datetime, hours: OpeningHours, holidays: Mapping[date, str] | None = None
              ) -> bool:
    """Whether a local time falls outside the opening hours or on a public holiday."""
    return not hours.is_open(local) or (holidays is not None and local.date() in holidays)


# --- one response ----------------------------------------------------------------------------

def straightline(codes: Sequence[int], scored_items: int, min_items: int = 5) -> bool:
    """Whether every one of ``scored_items`` (at least ``min_items``) got the same option.

    ``codes`` are the option codes the response gave to scored items (the counted answers).
    """
    return (scored_items >= min_items and len(codes) == scored_items
            and len(set(codes)) == 1)


# --- many responses in time ------------------------------------------------------------------

def dense_runs(times: Sequence[datetime], window: timedelta, min_count: int
               ) -> list[tuple[int, int]]:
    """Return the runs ``[i, j)`` of sorted ``times`` where ``min_count`` fall within ``window``.

    A time belongs to a run when some window of that length holding at least ``min_count``
    times contains it; overlapping or touching windows merge into one run.
    """
    if min_count < 1:
        raise ValueError("min_count must be at least 1")
    marked = [False] * len(times)
    j = 0
    for i in range(len(times)):
        j = max(j, i)
        while j < len(times) and times[j] - times[i] <= window:
            j += 1
        if j - i >= min_count:
            for k in range(i, j):
                marked[k] = True
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for k, flag in enumerate([*marked, False]):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            runs.append((start, k))
            start = None
    return runs


def burst_threshold(usual_per_window: float, factor: float, minimum: int) -> int:
    """Return how many responses in one window make a burst for a link with that usual rate."""
    return max(minimum, math.ceil(factor * usual_per_window))


# --- enterers of paper sheets ----------------------------------------------------------------

@dataclass(frozen=True)
class ScoreSums:
    """Respondent scores of a set of responses: count, sum and sum of squares (any unit)."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    def variance(self) -> float:
        """Sample variance (0 for fewer than two)."""
        if self.n < 2:
            return 0.0
        return max(self.squares - self.total * self.total / self.n, 0.0) / (self.n - 1)


@dataclass(frozen=True)
class EntererGap:
    """Why one enterer's sheets stand out from the others' (the evidence of the flag)."""

    n: int
    mean: float
    others_n: int
    others_mean: float
    z: float


def enterer_outliers(by_enterer: Mapping[int, ScoreSums], *,
                     reference: ScoreSums | None = None, min_n: int = 10, gap: float = 20.0,
                     z: float = 3.29, min_sources: int = 2) -> dict[int, EntererGap]:
    """Return the enterers whose sheets' mean score is far from everyone else's.

    The others are the other enterers' sheets and ``reference`` (responses nobody typed in:
    citizens' own, through a link), which is never flagged. Welch's z statistic for the
    difference of two means, ``(m1 − m2) / √(s1²/n1 + s2²/n2)``, with a floor on each variance
    (1 point on the score's scale) so that identical invented sheets do not divide by zero.

    One odd enterer pulls the others' mean towards theirs, so the most extreme enterer is
    judged first and, when flagged, left out of the others for the rest. An enterer is
    flagged when both sides have ``min_n`` sheets, the others come from at least
    ``min_sources`` sources (two people who disagree cannot say which of them is odd), the
    means differ by ``gap`` or more and |z| ≥ ``z`` (3.29: two-sided 0.1 %).
    """
    sources: dict[int | None, ScoreSums] = {e: s for e, s in by_enterer.items() if s.n}
    if reference is not None and reference.n:
        sources[None] = reference
    found: dict[int, EntererGap] = {}
    while True:
        best: tuple[float, int, EntererGap] | None = None
        for enterer, own in sources.items():
            others = [s for e, s in sources.items() if e != enterer]
            if enterer is None or own.n < min_n or len(others) < min_sources:
                continue
            rest = ScoreSums(sum(s.n for s in others), sum(s.total for s in others),
                             sum(s.squares for s in others))
            if rest.n < min_n:
                continue
            diff = own.mean - rest.mean
            spread = math.sqrt(max(own.variance(), 1.0) / own.n
                               + max(rest.variance(), 1.0) / rest.n)
            statistic = diff / spread
            if abs(diff) >= gap and abs(statistic) >= z and (
                    best is None or abs(statistic) > best[0]):
                best = (abs(statistic), enterer,
                        EntererGap(own.n, own.mean, rest.n, rest.mean, statistic))
        if best is None:
            return found
        found[best[1]] = best[2]
        del sources[best[1]]
