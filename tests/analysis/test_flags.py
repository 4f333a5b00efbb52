"""The flag rules as pure functions: opening hours, runs in time, straightlining, enterers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from analysis.flags import (
    DEFAULT_OPENING_HOURS,
    OpeningHours,
    ScoreSums,
    burst_threshold,
    dense_runs,
    enterer_outliers,
    off_hours,
    straightline,
)

MONDAY = datetime(2026, 3, 2)  # a Monday


def test_default_hours_are_office_hours_and_saturday_morning() -> None:
    hours = OpeningHours.parse(DEFAULT_OPENING_HOURS)
    assert hours.is_open(MONDAY.replace(hour=7))
    assert hours.is_open(MONDAY.replace(hour=17, minute=29))
    assert not hours.is_open(MONDAY.replace(hour=17, minute=30))
    assert not hours.is_open(MONDAY.replace(hour=6, minute=59))
    saturday, sunday = MONDAY + timedelta(days=5), MONDAY + timedelta(days=6)
    assert hours.is_open(saturday.replace(hour=11, minute=59))
    assert not hours.is_open(saturday.replace(hour=12))
    assert not hours.is_open(sunday.replace(hour=10))
    assert hours.describe() == DEFAULT_OPENING_HOURS
    assert hours.minutes_open(0) == 630
    assert hours.minutes_open(6) == 0


def test_hours_with_a_lunch_break_and_single_days() -> None:
    hours = OpeningHours.parse("T2-T6 07:30-11:30 13h30-17h00; t7 7h30-11:30; CN 08:00-10:00")
    assert hours.is_open(MONDAY.replace(hour=10))
    assert not hours.is_open(MONDAY.replace(hour=12))  # lunch
    assert hours.is_open(MONDAY.replace(hour=14))
    assert hours.is_open((MONDAY + timedelta(days=6)).replace(hour=9))
    assert hours.describe() == "T2-T6 07:30-11:30 13:30-17:00; T7 07:30-11:30; CN 08:00-10:00"
    assert OpeningHours.parse(hours.describe()) == hours
    always = OpeningHours.parse("")
    assert always.is_open(MONDAY.replace(hour=3))


@pytest.mark.parametrize("text", ["thứ hai 7:00-17:00", "T2-T6", "T6-T2 07:00-17:00",
                                  "T2 17:00-07:00", "T2 07:60-08:00", "T8 07:00-08:00",
                                  "T2-T6 07:00-25:00"])
def test_unreadable_hours_name_the_part(text: str) -> None:
    with pytest.raises(ValueError, match=text.split(";")[0][:4]):
        OpeningHours.parse(text)


def test_off_hours_includes_public_holidays() -> None:
    hours = OpeningHours.parse(DEFAULT_OPENING_HOURS)
    national_day = datetime(2026, 9, 2, 10, 0)  # a Wednesday
    assert not off_hours(national_day, hours)
    assert off_hours(national_day, hours, {date(2026, 9, 2): "Quốc khánh"})
    assert off_hours(MONDAY.replace(hour=21), hours, {})


def test_straightline_needs_every_item_the_same() -> None:
    assert straightline([5] * 19, 19)
    assert not straightline([5] * 18 + [4], 19)
    assert not straightline([5] * 18, 19)  # one item left blank or "không áp dụng"
    assert not straightline([4] * 4, 4)  # too few items to say anything
    assert straightline([4] * 4, 4, min_items=4)


def _times(*minutes: float) -> list[datetime]:
    return [MONDAY + timedelta(minutes=m) for m in minutes]


def test_dense_runs_find_every_member_of_a_busy_window() -> None:
    times = _times(0, 60, 120, 121, 121.5, 122, 125, 200, 300)
    # Five within 10 minutes: 120-125; nothing else.
    assert dense_runs(times, timedelta(minutes=10), 5) == [(2, 7)]
    assert dense_runs(times, timedelta(minutes=10), 6) == []
    # Windows that overlap merge into one run.
    assert dense_runs(_times(0, 5, 10, 15, 20), timedelta(minutes=5), 2) == [(0, 5)]
    assert dense_runs([], timedelta(minutes=5), 2) == []
    assert dense_runs(_times(0, 30), timedelta(minutes=5), 1) == [(0, 2)]
    with pytest.raises(ValueError, match="min_count"):
        dense_runs(times, timedelta(minutes=5), 0)


def test_burst_threshold_follows_the_usual_rate() -> None:
    assert burst_threshold(0.0, 5, 10) == 10
    assert burst_threshold(0.3, 5, 10) == 10
    assert burst_threshold(4.2, 5, 10) == 21


def _sums(scores: list[float]) -> ScoreSums:
    return ScoreSums(len(scores), sum(scores), sum(s * s for s in scores))


def test_enterer_far_from_the_others_is_found() -> None:
    honest = [60.0, 80.0, 100.0, 70.0, 90.0, 75.0, 85.0, 65.0, 95.0, 80.0, 70.0, 90.0]
    found = enterer_outliers({1: _sums(honest), 2: _sums(honest[::-1]),
                              3: _sums([100.0] * 15)})
    assert set(found) == {3}
    gap = found[3]
    assert (gap.n, gap.mean, gap.others_n) == (15, 100.0, 24)
    assert gap.others_mean == pytest.approx(80.0)
    assert gap.z > 3.29
    # The odd one does not make the honest ones look odd, although it pulls their mean.
    low = [10.0, 20.0] * 8
    assert set(enterer_outliers({1: _sums(honest), 2: _sums(honest), 3: _sums(low)})) == {3}
    # Two people who disagree: nobody can say which is odd, unless citizens' own answers
    # (never flagged) side with one of them.
    assert enterer_outliers({1: _sums(honest), 3: _sums(low)}) == {}
    assert set(enterer_outliers({1: _sums(honest), 3: _sums(low)},
                                reference=_sums(honest * 2))) == {3}
    # Too few sheets to say anything; or a gap too small to matter.
    assert enterer_outliers({1: _sums(honest), 2: _sums(honest),
                             3: _sums([100.0] * 9)}) == {}
    assert enterer_outliers({1: _sums(honest), 2: _sums(honest),
                             3: _sums([90.0] * 15)}) == {}
