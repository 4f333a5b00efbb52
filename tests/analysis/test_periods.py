"""Reporting periods: codes, Vietnamese and English labels, relative names, tiling of a year."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.breakdown import month_of, quarter_of
from analysis.periods import (
    KINDS,
    MAX_YEAR,
    MIN_YEAR,
    RELATIVE_NAMES,
    Period,
    PeriodError,
    parse_period,
    period_containing,
    period_of,
    relative_period,
)
from tests.conftest import examples

DAY = timedelta(days=1)

days_in_range = st.dates(date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31))
periods = st.builds(period_containing, st.sampled_from(KINDS), days_in_range)


@pytest.mark.parametrize(("code", "label", "label_en"), [
    ("2025-10", "Tháng 10/2025", "October 2025"),
    ("2025-03", "Tháng 3/2025", "March 2025"),
    ("2025-Q1", "Quý I/2025", "Q1 2025"),
    ("2025-Q2", "Quý II/2025", "Q2 2025"),
    ("2025-Q3", "Quý III/2025", "Q3 2025"),
    ("2025-Q4", "Quý IV/2025", "Q4 2025"),
    ("2025-H1", "6 tháng đầu năm 2025", "First half of 2025"),
    ("2025-H2", "6 tháng cuối năm 2025", "Second half of 2025"),
    ("2025", "Năm 2025", "2025"),
])
def test_each_kind_of_period_has_its_code_and_labels(code: str, label: str,
                                                     label_en: str) -> None:
    period = parse_period(code)
    assert period.code == code
    assert str(period) == code
    assert period.label == label
    assert period.label_en == label_en


def test_parsing_gives_the_kind_year_and_number() -> None:
    assert parse_period("2025") == Period("year", 2025, 1)
    assert parse_period("2025-H2") == Period("half", 2025, 2)
    assert parse_period("2025-Q4") == Period("quarter", 2025, 4)
    assert parse_period("2025-01") == Period("month", 2025, 1)
    assert parse_period("2025-12") == Period("month", 2025, 12)


def test_spaces_around_and_a_lower_case_letter_are_accepted() -> None:
    assert parse_period("  2025-q4\n") == Period("quarter", 2025, 4)
    assert parse_period("\t2025-h1 ") == Period("half", 2025, 1)
    assert parse_period("2025-q4").code == "2025-Q4"


def test_the_years_2000_and_2100_are_accepted_and_those_outside_are_not() -> None:
    assert parse_period("2000-01").start == date(2000, 1, 1)
    assert parse_period("2100-Q4").end == date(2100, 12, 31)
    for text in ("1999", "1999-12", "2101-Q1", "0000", "9999-H1"):
        with pytest.raises(PeriodError, match="Năm phải từ 2000 đến 2100") as caught:
            parse_period(text)
        assert f"“{text}”" in str(caught.value)


@pytest.mark.parametrize("text", [
    "2025-Q5", "2025-Q0", "2025-H3", "2025-H0", "2025-13", "2025-00", "2025-1", "2025-001",
    "25-Q1", "20250", "2025-", "2025-Q", "2025Q4", "2025 Q4", "2025-Q4-01", "2025-10-01",
    "Q4-2025", "10/2025", "2025-X1", "２０２５", "2025-Q４", "٢٠٢٥", "last-month", "Quý IV/2025",
])
def test_anything_but_the_contract_forms_is_refused_with_a_vietnamese_message(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    message = str(caught.value)
    assert message.startswith(f"Kỳ báo cáo không hợp lệ: “{text}”.")
    assert caught.value.text == text


def test_the_message_is_the_one_of_the_contract() -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period("2025-Q5")
    assert str(caught.value) == ("Kỳ báo cáo không hợp lệ: “2025-Q5”. Viết theo dạng 2025, "
                                 "2025-H1, 2025-Q4 hoặc 2025-10.")
    assert isinstance(caught.value, ValueError)


def test_an_empty_text_asks_for_a_period_and_a_long_one_is_shortened() -> None:
    for text in ("", "   \n"):
        with pytest.raises(PeriodError, match="^Chưa nhập kỳ báo cáo"):
            parse_period(text)
    with pytest.raises(PeriodError) as caught:
        parse_period("x" * 1000)
    assert "“" + "x" * 40 + "…”" in str(caught.value)
    assert len(str(caught.value)) < 200


def test_a_bad_period_built_directly_raises_value_error() -> None:
    for kind, year, number in [("quarter", 2025, 5), ("half", 2025, 0), ("month", 2025, 13),
                               ("year", 2025, 2), ("week", 2025, 1), ("year", 0, 1)]:
        with pytest.raises(ValueError, match="."):
            Period(kind, year, number)  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "start", "end"), [
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
    ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
    ("2000-02", date(2000, 2, 1), date(2000, 2, 29)),  # divisible by 400: leap
    ("2100-02", date(2100, 2, 1), date(2100, 2, 28)),  # divisible by 100 only: not leap
    ("2025-04", date(2025, 4, 1), date(2025, 4, 30)),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31)),
    ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
    ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30)),
    ("2025-H1", date(2025, 1, 1), date(2025, 6, 30)),
    ("2025-H2", date(2025, 7, 1), date(2025, 12, 31)),
    ("2024", date(2024, 1, 1), date(2024, 12, 31)),
])
def test_a_period_starts_on_its_first_day_and_ends_on_its_last(code: str, start: date,
                                                               end: date) -> None:
    period = parse_period(code)
    assert (period.start, period.end) == (start, end)
    assert period.contains(start)
    assert period.contains(end)
    assert not period.contains(start - DAY)
    assert not period.contains(end + DAY)


def test_the_months_of_a_period_are_listed_in_order() -> None:
    assert parse_period("2025-Q4").months() == [(2025, 10), (2025, 11), (2025, 12)]
    assert parse_period("2025-H1").months() == [(2025, m) for m in range(1, 7)]
    assert parse_period("2025").months() == [(2025, m) for m in range(1, 13)]
    assert parse_period("2025-07").months() == [(2025, 7)]


@pytest.mark.parametrize(("code", "previous", "last_year"), [
    ("2025-Q1", "2024-Q4", "2024-Q1"),
    ("2025-Q4", "2025-Q3", "2024-Q4"),
    ("2025-01", "2024-12", "2024-01"),
    ("2025-10", "2025-09", "2024-10"),
    ("2025-H1", "2024-H2", "2024-H1"),
    ("2025-H2", "2025-H1", "2024-H2"),
    ("2025", "2024", "2024"),
])
def test_the_previous_period_and_the_same_one_last_year_cross_the_new_year(
        code: str, previous: str, last_year: str) -> None:
    period = parse_period(code)
    assert period.previous() == parse_period(previous)
    assert period.same_period_last_year() == parse_period(last_year)
    assert period.previous().next() == period


def test_periods_order_by_start_then_by_end() -> None:
    codes = ["2025", "2024-Q4", "2025-H1", "2025-01", "2025-Q1", "2024-12", "2025-02"]
    assert [p.code for p in sorted(map(parse_period, codes))] == [
        "2024-Q4", "2024-12", "2025-01", "2025-Q1", "2025-H1", "2025", "2025-02"]
    assert parse_period("2024-Q4") < parse_period("2025-01")
    assert parse_period("2025-01") <= parse_period("2025-01")
    assert parse_period("2025") > parse_period("2025-H1")
    assert max(parse_period("2025-Q2"), parse_period("2025-Q1")).code == "2025-Q2"


def test_relative_names_early_in_january_reach_back_into_the_year_before() -> None:
    today = date(2026, 1, 5)
    expected = {
        "this-month": "2026-01", "last-month": "2025-12",
        "this-quarter": "2026-Q1", "last-quarter": "2025-Q4",
        "this-half": "2026-H1", "last-half": "2025-H2",
        "this-year": "2026", "last-year": "2025",
    }
    assert {name: relative_period(name, today).code for name in RELATIVE_NAMES} == expected


def test_relative_names_on_the_first_day_of_the_second_half() -> None:
    today = date(2026, 7, 1)
    expected = {
        "this-month": "2026-07", "last-month": "2026-06",
        "this-quarter": "2026-Q3", "last-quarter": "2026-Q2",
        "this-half": "2026-H2", "last-half": "2026-H1",
        "this-year": "2026", "last-year": "2025",
    }
    assert {name: relative_period(name, today).code for name in RELATIVE_NAMES} == expected


def test_an_unknown_relative_name_is_refused_with_the_accepted_names() -> None:
    with pytest.raises(PeriodError) as caught:
        relative_period("next-week", date(2026, 1, 5))
    message = str(caught.value)
    assert message.startswith("Tên kỳ không hợp lệ: “next-week”.")
    for name in RELATIVE_NAMES:
        assert name in message
    assert relative_period(" Last-Quarter ", date(2026, 1, 5)).code == "2025-Q4"


def test_period_of_takes_a_relative_name_or_a_code() -> None:
    today = date(2026, 1, 5)
    assert period_of("last-quarter", today) == Period("quarter", 2025, 4)
    assert period_of(" 2025-q2 ", today) == Period("quarter", 2025, 2)
    assert period_of("2025", today) == Period("year", 2025)


def test_period_of_explains_both_forms_unless_the_text_looks_like_a_code() -> None:
    today = date(2026, 1, 5)
    with pytest.raises(PeriodError) as caught:
        period_of("tháng trước", today)
    message = str(caught.value)
    assert message.startswith("Kỳ báo cáo không hợp lệ: “tháng trước”. Viết theo dạng 2025")
    assert "last-month" in message
    with pytest.raises(PeriodError, match="Năm phải từ 2000 đến 2100"):
        period_of("1999-Q1", today)
    with pytest.raises(PeriodError, match="^Kỳ báo cáo không hợp lệ: “2025-Q5”. Viết"):
        period_of("2025-Q5", today)
    with pytest.raises(PeriodError, match="^Chưa nhập kỳ báo cáo"):
        period_of(" ", today)


def test_period_containing_a_day_agrees_with_month_of_and_quarter_of() -> None:
    day = date(2025, 11, 30)
    assert period_containing("month", day).code == month_of(day) == "2025-11"
    assert period_containing("quarter", day).code == quarter_of(day) == "2025-Q4"
    assert period_containing("half", day).code == "2025-H2"
    assert period_containing("year", day).code == "2025"
    with pytest.raises(ValueError, match="week"):
        period_containing("week", day)


@settings(max_examples=examples(300), deadline=None)
@given(period=periods)
def test_a_period_reads_back_from_its_code(period: Period) -> None:
    assert parse_period(period.code) == period
    assert parse_period(period.code.lower()) == period


@settings(max_examples=examples(300), deadline=None)
@given(period=periods)
def test_the_previous_period_ends_the_day_before_a_period_starts(period: Period) -> None:
    previous = period.previous()
    assert previous.kind == period.kind
    assert previous.end + DAY == period.start
    assert previous < period
    last_year = period.same_period_last_year()
    assert (last_year.kind, last_year.year, last_year.number) == (
        period.kind, period.year - 1, period.number)


@settings(max_examples=examples(200), deadline=None)
@given(kind=st.sampled_from(KINDS), day=days_in_range)
def test_the_periods_of_a_kind_tile_the_year_without_gaps_or_overlaps(kind: str,
                                                                     day: date) -> None:
    first = period_containing(kind, date(day.year, 1, 1))
    tiles = [first]
    while tiles[-1].next().year == day.year:
        tiles.append(tiles[-1].next())
    assert len(tiles) == first.count_per_year
    assert tiles[0].start == date(day.year, 1, 1)
    assert tiles[-1].end == date(day.year, 12, 31)
    for before, after in zip(tiles, tiles[1:], strict=False):
        assert before.end + DAY == after.start
    assert [m for tile in tiles for m in tile.months()] == [(day.year, m) for m in range(1, 13)]
    assert [tile for tile in tiles if tile.contains(day)] == [period_containing(kind, day)]


@settings(max_examples=examples(300), deadline=None)
@given(text=st.text())
def test_parsing_any_text_gives_a_period_or_a_period_error(text: str) -> None:
    message = ""
    try:
        period = parse_period(text)
    except PeriodError as error:
        message = str(error)
    else:
        assert period.code == text.strip().upper()
    assert unicodedata.is_normalized("NFC", message)


@settings(max_examples=examples(200), deadline=None)
@given(text=st.text(alphabet="0123456789-HhQq ", max_size=12))
def test_parsing_code_like_text_gives_a_period_or_a_period_error(text: str) -> None:
    try:
        period = parse_period(text)
    except PeriodError:
        return
    assert period.code == text.strip().upper()


@settings(max_examples=examples(300), deadline=None)
@given(period=periods)
def test_every_label_is_nfc(period: Period) -> None:
    assert unicodedata.is_normalized("NFC", period.label)
    assert unicodedata.is_normalized("NFC", period.label_en)
    assert period.label_en.isascii()
