"""Handling figures of cases (analysis/cases.py): contract §9 and Decision 766/QĐ-TTg ratios."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cases import (
    SUMMARY_KEYS,
    CaseRecord,
    figures_by,
    handling_figures,
    summary_block,
)
from tests.conftest import Outcomes, examples

VN = timezone(timedelta(hours=7))  # written out here, not taken from analysis


def vn(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2025, Vietnam time."""
    return datetime(2025, 3, day, hour, minute, tzinfo=VN)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2025, UTC."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


# 00:30 on 10 March in Vietnam, still 9 March in UTC.
AS_OF = utc(9, 17, 30)

# A: answered on its due day: on time, 4 days.
A = CaseRecord(vn(1, 9), date(2025, 3, 5), "answered", vn(5, 17), "P1", True)
# B: opened 23:30 Vietnam (16:30 UTC) on 1 March; replied 00:30 on 6 March in Vietnam (still
# 5 March in UTC): late, 5 days; unsatisfied too, yet subtracted once from the satisfied.
B = CaseRecord(utc(1, 16, 30), date(2025, 3, 5), "answered", utc(5, 17, 30), "P1", False)
# C: opened 00:30 on 2 March in Vietnam (1 March UTC), replied 23:59 on its due day in Vietnam:
# on time, 2 days (3 UTC days); the citizen was not satisfied.
C = CaseRecord(utc(1, 17, 30), date(2025, 3, 4), "closed", utc(4, 16, 59), "P2", False)
# D: no reply, due 9 March; as_of is 10 March in Vietnam: overdue (not yet in UTC).
D = CaseRecord(vn(3, 8), date(2025, 3, 9), "in_progress", None, "P2")
# E: no reply, due today (10 March): not overdue.
E = CaseRecord(vn(8, 8), date(2025, 3, 10), "new", None)
# F: closed without a reply long past its due day: not answered, not overdue.
F = CaseRecord(vn(2, 8), date(2025, 3, 4), "closed", None)
CASES = [A, B, C, D, E, F]


def test_handling_figures_by_hand() -> None:
    figures = handling_figures(iter(CASES), as_of=AS_OF)  # any iterable, read once
    assert figures == {
        "opened": 6,
        "answered": 3,            # A, B, C (F was closed without a reply)
        "answered_on_time": 2,    # A on its due day, C at 23:59 on its due day
        "overdue": 1,             # D only: B was answered (late), E is due today, F is closed
        "median_days": 4.0,       # of 4 (A), 5 (B), 2 (C)
        "on_time_rate": pytest.approx(100 * 2 / 6),
        "satisfaction_rate": 50.0,  # 6 minus B (late, unsatisfied), C (unsatisfied), D (overdue)
    }
    assert isinstance(figures["median_days"], float)


def test_summary_block_is_contract_9s_five_keys() -> None:
    block = summary_block(handling_figures(CASES, as_of=AS_OF))
    assert tuple(block) == SUMMARY_KEYS == (
        "opened", "answered", "answered_on_time", "overdue", "median_days")
    assert json.loads(json.dumps(block)) == {
        "opened": 6, "answered": 3, "answered_on_time": 2, "overdue": 1, "median_days": 4.0}


def test_the_day_after_the_due_day_is_late_and_the_due_day_is_not() -> None:
    on_due_day = CaseRecord(vn(1, 10), date(2025, 3, 3), "answered", vn(3, 23, 59))
    next_day = CaseRecord(vn(1, 10), date(2025, 3, 3), "answered", vn(4, 0, 0))
    assert handling_figures([on_due_day], as_of=vn(20, 0))["answered_on_time"] == 1
    late = handling_figures([next_day], as_of=vn(20, 0))
    assert (late["answered"], late["answered_on_time"], late["overdue"]) == (1, 0, 0)
    assert late["on_time_rate"] == late["satisfaction_rate"] == 0.0
    waiting = CaseRecord(vn(1, 10), date(2025, 3, 3), "new", None)
    assert handling_figures([waiting], as_of=vn(3, 23, 59))["overdue"] == 0
    assert handling_figures([waiting], as_of=vn(4, 0, 0))["overdue"] == 1


def test_median_of_an_even_count_is_halfway_and_same_day_is_zero() -> None:
    same_day = CaseRecord(vn(1, 8), date(2025, 3, 9), "answered", vn(1, 20))
    three = CaseRecord(vn(1, 8), date(2025, 3, 9), "closed", vn(4, 7))
    assert handling_figures([same_day], as_of=vn(20, 0))["median_days"] == 0.0
    assert handling_figures([same_day, three], as_of=vn(20, 0))["median_days"] == 1.5


def test_tz_gives_the_calendar_days() -> None:
    # In UTC, B's reply falls on its due day and D is not yet overdue.
    figures = handling_figures(CASES, as_of=AS_OF, tz=UTC)
    assert (figures["answered_on_time"], figures["overdue"]) == (3, 0)
    assert figures["median_days"] == 4.0  # A 4, B 4, C 3


def test_no_cases_gives_zeros_and_none() -> None:
    assert handling_figures([], as_of=AS_OF) == {
        "opened": 0, "answered": 0, "answered_on_time": 0, "overdue": 0, "median_days": None,
        "on_time_rate": None, "satisfaction_rate": None}
    assert figures_by([], lambda c: c.unit, as_of=AS_OF) == {}


def test_default_positive_satisfaction_counts_silent_and_open_cases_as_satisfied() -> None:
    silent = [E, F, CaseRecord(vn(1, 9), date(2025, 3, 5), "answered", vn(2, 9))]
    figures = handling_figures(silent, as_of=AS_OF)
    assert figures["satisfaction_rate"] == 100.0
    assert figures["on_time_rate"] == pytest.approx(100 / 3)  # E and F have no timely reply


def test_figures_by_unit() -> None:
    by_unit = figures_by(CASES, lambda c: c.unit, as_of=AS_OF)
    assert list(by_unit) == ["P1", "P2", None]  # order of first appearance
    assert by_unit["P1"] == handling_figures([A, B], as_of=AS_OF)
    assert (by_unit["P1"]["answered_on_time"], by_unit["P1"]["median_days"]) == (1, 4.5)
    assert by_unit["P2"]["overdue"] == 1
    assert by_unit["P2"]["satisfaction_rate"] == 0.0  # C unsatisfied, D overdue
    assert by_unit[None] == {
        "opened": 2, "answered": 0, "answered_on_time": 0, "overdue": 0, "median_days": None,
        "on_time_rate": 0.0, "satisfaction_rate": 100.0}


@pytest.mark.parametrize(("fields", "message"), [
    ({"status": "done"}, "unknown case status"),
    ({"opened_at": datetime(2025, 3, 1, 9)}, "opened_at must carry a time zone"),
    ({"answered_at": datetime(2025, 3, 2, 9)}, "answered_at must carry a time zone"),
    ({"answered_at": vn(1, 8)}, "before opened_at"),
    ({"answered_at": None}, "needs answered_at"),
    ({"due": datetime(2025, 3, 5, tzinfo=VN)}, "calendar day"),
])
def test_a_case_record_refuses_what_it_cannot_count(fields: dict, message: str) -> None:
    good: dict[str, Any] = {"opened_at": vn(1, 9), "due": date(2025, 3, 5), "status": "answered",
            "answered_at": vn(2, 9)}
    CaseRecord(**good)
    with pytest.raises(ValueError, match=message):
        CaseRecord(**{**good, **fields})


def test_as_of_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="as_of must carry a time zone"):
        handling_figures(CASES, as_of=datetime(2025, 3, 10, 9))


def test_analysis_cases_imports_without_the_web_stack_or_pandas() -> None:
    code = ("import json, sys\nimport analysis.cases\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    loaded = {m.split(".")[0] for m in json.loads(result.stdout)}
    assert loaded & {"flask", "sqlalchemy", "survey", "pandas", "matplotlib"} == set()


# --- property: the figures agree with a straightforward recomputation ---------------------

BASE = datetime(2025, 1, 1, tzinfo=UTC)
ZONES = (UTC, VN, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9)))


DAY = 60 * 24  # minutes
KINDS = ("on time", "late", "overdue", "not due", "closed", "any")


@st.composite
def case_of_kind(draw: st.DrawFn, as_of: datetime, kind: str) -> CaseRecord:
    """A case opened in the 12 days before ``as_of``, shaped to be of ``kind``.

    The shaping only makes every kind frequent; the test classifies cases from the
    definitions, never from ``kind``. Replies and due days often fall on the edge.
    """
    today = vietnam_day(as_of)
    earliest = DAY if kind in ("late", "overdue") else 0  # those need a day to pass
    opened = as_of - timedelta(minutes=draw(st.integers(earliest, 12 * DAY)))
    opened_day = vietnam_day(opened)
    answered = None
    if kind in ("on time", "late") or (kind == "any" and draw(st.booleans())):
        span = int((as_of - opened).total_seconds() // 60)
        answered = opened + timedelta(minutes=draw(st.integers(earliest, span)))
        status = draw(st.sampled_from(["answered", "closed", "in_progress"]))
    else:
        status = draw(st.sampled_from(["closed"] if kind == "closed" else ["new", "in_progress"]
                                      if kind != "any" else ["new", "in_progress", "closed"]))
    if kind == "on time" and answered is not None:
        due = vietnam_day(answered) + timedelta(days=draw(st.integers(0, 3)))
    elif kind == "late" and answered is not None:
        gap = (vietnam_day(answered) - opened_day).days
        due = opened_day + timedelta(days=draw(st.integers(0, gap - 1)))
    elif kind == "overdue":
        due = opened_day + timedelta(days=draw(st.integers(0, (today - opened_day).days - 1)))
    elif kind == "not due":
        due = max(opened_day, today) + timedelta(days=draw(st.integers(0, 5)))
    else:
        due = opened_day + timedelta(days=draw(st.integers(0, 10)))
    # Each moment is written in a random offset: the same instant, whatever the offset.
    return CaseRecord(
        opened.astimezone(draw(st.sampled_from(ZONES))), due, status,
        None if answered is None else answered.astimezone(draw(st.sampled_from(ZONES))),
        draw(st.sampled_from(["P1", "P2", None])), draw(st.sampled_from([True, False, None])))


@st.composite
def case_lists(draw: st.DrawFn) -> tuple[datetime, list[CaseRecord]]:
    """An as_of and cases; most lists hold one case of each kind among random others."""
    as_of = BASE + timedelta(minutes=draw(st.integers(0, 30 * DAY)))
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=20))
    if draw(st.integers(0, 4)):  # four times in five
        kinds = [*KINDS, *kinds]
    cases = [draw(case_of_kind(as_of, kind)) for kind in kinds]
    return as_of.astimezone(draw(st.sampled_from(ZONES))), draw(st.permutations(cases))


def vietnam_day(moment: datetime) -> date:
    """Vietnam's day by arithmetic: UTC plus seven hours (no daylight saving since 1975)."""
    return (moment.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=7)).date()


def recompute(cases: list[CaseRecord], as_of: datetime) -> dict:
    today = vietnam_day(as_of)
    answered = [c for c in cases if c.answered_at is not None]
    on_time = [c for c in answered if c.answered_at and vietnam_day(c.answered_at) <= c.due]
    late = [c for c in answered if c not in on_time]
    overdue = [c for c in cases
               if c.answered_at is None and c.status != "closed" and today > c.due]
    unsatisfied = [c for c in cases if c.citizen_satisfied is False]
    days = sorted((vietnam_day(c.answered_at) - vietnam_day(c.opened_at)).days
                  for c in answered if c.answered_at)
    if not days:
        median = None
    elif len(days) % 2:
        median = float(days[len(days) // 2])
    else:
        median = (days[len(days) // 2 - 1] + days[len(days) // 2]) / 2
    bad = {id(c) for c in late + overdue + unsatisfied}
    n = len(cases)
    return {"opened": n, "answered": len(answered), "answered_on_time": len(on_time),
            "overdue": len(overdue), "median_days": median,
            "on_time_rate": len(on_time) / n * 100 if n else None,
            "satisfaction_rate": (n - len(bad)) / n * 100 if n else None}


def same(left: dict, right: dict) -> bool:
    return left.keys() == right.keys() and all(
        left[k] == right[k] or (left[k] is not None and right[k] is not None
                                and math.isclose(left[k], right[k]))
        for k in left)


def test_handling_figures_match_a_straightforward_recomputation() -> None:
    outcomes = Outcomes()

    @settings(max_examples=examples(150), deadline=None)
    @given(drawn=case_lists())
    def check(drawn: tuple[datetime, list[CaseRecord]]) -> None:
        as_of, cases = drawn
        expected = recompute(cases, as_of)
        figures = handling_figures(cases, as_of=as_of)
        assert same(dict(figures), expected), (figures, expected)
        by_unit = figures_by(cases, lambda c: c.unit, as_of=as_of)
        for unit, part in by_unit.items():
            assert same(dict(part), recompute([c for c in cases if c.unit == unit], as_of))
        for count in ("opened", "answered", "answered_on_time", "overdue"):
            assert sum(part[count] for part in by_unit.values()) == figures[count]
        kinds = {
            "on time" if expected_on_time else "late"
            for c in cases if c.answered_at is not None
            for expected_on_time in [vietnam_day(c.answered_at) <= c.due]
        } | {"overdue" if vietnam_day(as_of) > c.due else "not due"
             for c in cases if c.answered_at is None and c.status != "closed"}
        outcomes.add("all four kinds" if len(kinds) == 4 else "fewer kinds")

    check()
    outcomes.require_share("all four kinds", 0.5)
