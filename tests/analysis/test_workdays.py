"""Working days for due dates: Vietnam's holidays, moved days, weekends; fixed dates only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.workdays import (
    DayParseError,
    WorkCalendar,
    describe_days,
    parse_days,
    vietnam_exchanged_working_days,
    vietnam_public_holidays,
)

VN = WorkCalendar()

# Tết Bính Ngọ: the government's decision gives civil servants Saturday 14/02/2026 (27 tháng
# Chạp) to Sunday 22/02/2026 (mùng 6 tháng Giêng) off, nine days, of which Monday 16/02 (29
# Tết, the eve) to Friday 20/02 (mùng 4) are the five days off of the Labour Code; no working
# day is exchanged. The package lists exactly those five weekdays, so no extra_off is needed.
TET_2026 = {date(2026, 2, d) for d in range(16, 21)}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def test_the_package_knows_tet_and_the_other_holidays_of_2026() -> None:
    holidays = vietnam_public_holidays(2026)
    assert {d for d in holidays if d.month == 2} == TET_2026
    assert holidays == TET_2026 | {
        date(2026, 1, 1),
        date(2026, 4, 26), date(2026, 4, 27),  # Giỗ Tổ (10/3 âm lịch) on a Sunday, Monday off
        date(2026, 4, 30), date(2026, 5, 1),
        date(2026, 8, 31),  # off in exchange for Saturday 22/08 worked
        date(2026, 9, 1), date(2026, 9, 2),
        date(2026, 11, 24),  # Ngày Văn hóa Việt Nam, a day off from 2026
    }
    assert {date(2025, 4, 26), date(2026, 8, 22)} <= vietnam_exchanged_working_days()


def test_the_whole_tet_break_is_off_and_the_days_around_it_work() -> None:
    off = [d for d in days(date(2026, 2, 12), date(2026, 2, 24)) if not VN.is_working_day(d)]
    assert off == days(date(2026, 2, 14), date(2026, 2, 22))
    assert VN.is_working_day(date(2026, 2, 13))
    assert VN.is_working_day(date(2026, 2, 23))


def test_due_dates_across_tet_2026() -> None:
    # Friday 13/02 before the break: the next working day is Monday 23/02.
    assert VN.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # Thursday 12/02 + 3: Fri 13/02, Mon 23/02, Tue 24/02.
    assert VN.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    # Opened during Tết: counts as opened on Monday 23/02.
    assert VN.add_working_days(date(2026, 2, 17), 0) == date(2026, 2, 23)
    assert VN.add_working_days(date(2026, 2, 17), 1) == date(2026, 2, 24)
    assert VN.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert VN.working_days_between(date(2026, 2, 1), date(2026, 2, 28)) == 20 - 5


def test_a_weekend_is_skipped_and_a_sunday_opening_counts_from_monday() -> None:
    friday, saturday, sunday = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)
    monday, tuesday = date(2026, 3, 9), date(2026, 3, 10)
    assert VN.add_working_days(friday, 1) == monday
    assert VN.add_working_days(friday, 5) == date(2026, 3, 13)
    assert VN.add_working_days(friday, 0) == friday
    for opened in (saturday, sunday, monday):
        assert VN.add_working_days(opened, 0) == monday
        assert VN.add_working_days(opened, 1) == tuesday
    assert VN.next_working_day(sunday) == monday


def test_due_dates_across_30_april_and_1_may_2026() -> None:
    friday = date(2026, 4, 24)
    # Mon 27/04 (Giỗ Tổ observed) off: Tue 28, Wed 29; Thu 30/04 and Fri 01/05 off; Mon 04/05.
    assert VN.add_working_days(friday, 1) == date(2026, 4, 28)
    assert VN.add_working_days(friday, 3) == date(2026, 5, 4)
    assert VN.working_days_between(friday, date(2026, 5, 4)) == 3
    assert VN.add_working_days(date(2026, 4, 30), 0) == date(2026, 5, 4)


def test_due_dates_across_2_september_2026_with_the_exchanged_saturday() -> None:
    # Saturday 22/08 is worked for Monday 31/08 off; 01/09 and 02/09 are National Day.
    assert VN.is_working_day(date(2026, 8, 22))
    assert not VN.is_working_day(date(2026, 8, 23))
    assert VN.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert VN.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    assert VN.working_days_between(date(2026, 8, 21), date(2026, 9, 4)) == 1 + 5 + 2
    # 2025: Saturday 26/04 worked for Friday 02/05.
    assert VN.is_working_day(date(2025, 4, 26))
    assert not VN.is_working_day(date(2025, 5, 2))


def test_explicit_public_holidays_replace_the_package_and_its_exchanges() -> None:
    plain = WorkCalendar(public_holidays=frozenset())
    assert plain.is_working_day(date(2026, 2, 17))
    assert not plain.is_working_day(date(2026, 8, 22))
    own = WorkCalendar(public_holidays=frozenset({date(2026, 3, 9)}))
    assert own.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 10)
    assert own.is_holiday(date(2026, 3, 9))
    assert not own.is_holiday(date(2026, 2, 17))


def test_the_ward_adds_a_working_saturday_and_a_day_off() -> None:
    friday, saturday, monday = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 9)
    worked = WorkCalendar(extra_work=frozenset({saturday}))
    assert worked.add_working_days(friday, 1) == saturday
    assert worked.add_working_days(friday, 2) == monday
    assert worked.working_days_between(friday, monday) == 2
    rest = WorkCalendar(extra_off=frozenset({monday}))
    assert rest.add_working_days(friday, 1) == date(2026, 3, 10)
    assert rest.add_working_days(monday, 0) == date(2026, 3, 10)
    # An exchange in one calendar: the week still has five working days.
    swapped = WorkCalendar(extra_off=frozenset({monday}), extra_work=frozenset({saturday}))
    assert swapped.working_days_between(date(2026, 3, 1), date(2026, 3, 14)) == 10
    # The ward's word beats the package in both directions.
    assert WorkCalendar(extra_work=frozenset({date(2026, 2, 17)})).is_working_day(
        date(2026, 2, 17))
    assert not WorkCalendar(extra_off=frozenset({date(2026, 8, 22)})).is_working_day(
        date(2026, 8, 22))


def test_a_six_day_week() -> None:
    saturday_works = WorkCalendar(weekend=(6,))
    assert saturday_works.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 7)
    assert saturday_works.working_days_between(date(2026, 3, 1), date(2026, 3, 8)) == 6
    # Saturday 14/02/2026 is off for a five-day office only because it is a weekend day.
    assert saturday_works.is_working_day(date(2026, 2, 14))
    assert not saturday_works.is_working_day(date(2026, 2, 16))


def test_sixty_working_days_across_the_new_year() -> None:
    monday = date(2026, 11, 2)
    # Nov 03-30: 20 weekdays less Tue 24/11 = 19; December: 23 (42); January 2027: Fri 01/01
    # off, then 04-08, 11-15, 18-22 (57), 25, 26, 27 (60).
    assert VN.add_working_days(monday, 60) == date(2027, 1, 27)
    assert VN.working_days_between(monday, date(2027, 1, 27)) == 60
    assert WorkCalendar(public_holidays=frozenset()).add_working_days(monday, 60) == date(
        2027, 1, 25)  # twelve plain weeks


def test_working_days_between_is_antisymmetric_and_zero_on_the_same_day() -> None:
    friday, monday = date(2026, 3, 6), date(2026, 3, 9)
    assert VN.working_days_between(friday, friday) == 0
    assert VN.working_days_between(date(2026, 3, 7), date(2026, 3, 8)) == 0
    assert VN.working_days_between(friday, monday) == 1
    assert VN.working_days_between(monday, friday) == -1
    assert VN.working_days_between(date(2026, 3, 2), date(2026, 3, 6)) == 4


def test_a_time_counts_by_its_day_in_vietnam() -> None:
    # 18:00 UTC on Thursday 05/03 is 01:00 on Friday 06/03 in Vietnam.
    aware = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    assert VN.add_working_days(aware, 1) == date(2026, 3, 9)
    assert VN.add_working_days(aware.replace(tzinfo=None), 1) == date(2026, 3, 6)
    assert not VN.is_working_day(datetime(2026, 2, 17, 9, 0))
    # 17:30 UTC on Sunday 22/02 (the last day of the Tết break) is Monday 00:30 in Vietnam.
    assert VN.is_working_day(datetime(2026, 2, 22, 17, 30, tzinfo=UTC))
    assert not VN.is_working_day(datetime(2026, 2, 22, 17, 30))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        VN.add_working_days(date(2026, 3, 6), -1)
    with pytest.raises(ValueError, match="2026-03-09"):
        WorkCalendar(extra_off=frozenset({date(2026, 3, 9)}),
                     extra_work=frozenset({date(2026, 3, 9)}))
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        WorkCalendar(weekend=(5, 7))
    with pytest.raises(ValueError, match="no working day"):
        WorkCalendar(weekend=tuple(range(7)))


def test_parse_days_reads_iso_and_vietnamese_dates() -> None:
    assert parse_days("2026-04-25, 2026-05-02") == {date(2026, 4, 25), date(2026, 5, 2)}
    assert parse_days(" 25/04/2026;2.5.2026\n2026-4-25 ") == {date(2026, 4, 25),
                                                              date(2026, 5, 2)}
    assert parse_days("") == frozenset()
    assert parse_days("  ,; ") == frozenset()
    text = describe_days({date(2026, 5, 2), date(2026, 4, 25)})
    assert text == "2026-04-25, 2026-05-02"
    assert parse_days(text) == {date(2026, 4, 25), date(2026, 5, 2)}


@pytest.mark.parametrize(("text", "part"), [
    ("2026-04-25, 2026-13-01", "2026-13-01"),
    ("2026-02-30", "2026-02-30"),
    ("25/4/2026; abc", "abc"),
    ("2026/04/25", "2026/04/25"),
    ("04-25-2026", "04-25-2026"),
    ("31/04/2026", "31/04/2026"),
])
def test_parse_days_names_the_bad_part(text: str, part: str) -> None:
    with pytest.raises(DayParseError) as caught:
        parse_days(text)
    assert caught.value.part == part
    assert repr(part) in str(caught.value)
    assert isinstance(caught.value, ValueError)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """Vietnam's calendar with up to 8 random days off and 4 random Saturdays worked."""
    year_2026 = st.dates(date(2026, 1, 1), date(2026, 12, 31))
    extra_off = draw(st.frozensets(year_2026, max_size=8))
    saturdays = year_2026.filter(lambda d: d.weekday() == 5 and d not in extra_off)
    return WorkCalendar(extra_off=extra_off,
                        extra_work=draw(st.frozensets(saturdays, max_size=4)),
                        weekend=draw(st.sampled_from([(5, 6), (6,)])))


@settings(max_examples=150, deadline=None)
@given(calendar=calendars(), start=st.dates(date(2025, 10, 1), date(2027, 3, 31)),
       n=st.integers(0, 40))
def test_a_due_date_is_the_nth_working_day_after_the_adjusted_start(
        calendar: WorkCalendar, start: date, n: int) -> None:
    due = calendar.add_working_days(start, n)
    adjusted = calendar.next_working_day(start)
    assert calendar.is_working_day(due)
    assert calendar.is_working_day(adjusted)
    assert start <= adjusted <= due
    assert not any(calendar.is_working_day(d) for d in days(start, adjusted)[:-1])
    between = [d for d in days(adjusted, due)[1:] if calendar.is_working_day(d)]
    assert len(between) == n
    assert calendar.working_days_between(adjusted, due) == n
    # From the day itself, the adjusted start counts when the case was opened on a day off.
    assert calendar.working_days_between(start, due) == n + (adjusted != start)
    assert calendar.working_days_between(due, adjusted) == -n
    assert calendar.add_working_days(start, n + 1) > due
    if n:
        assert calendar.add_working_days(start, n - 1) < due
