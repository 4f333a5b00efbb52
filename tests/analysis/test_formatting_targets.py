"""Vietnamese number formatting and targets."""

from __future__ import annotations

import math

import pytest

from analysis.formatting import interval, number, percent
from analysis.intervals import verdict
from analysis.targets import DEFAULT_TARGETS, target_for


@pytest.mark.parametrize(("value", "digits", "text"), [
    (84.2, 1, "84,2"),
    (1234.5, 1, "1.234,5"),
    (1234567.891, 2, "1.234.567,89"),
    (1234.5, 0, "1.235"),
    (84.25, 1, "84,3"),  # half up, as by hand (Python's round() would give 84.2)
    (0.05, 1, "0,1"),
    (-0.04, 1, "0,0"),  # no "-0,0"
    (-1234.56, 1, "-1.234,6"),
    (100, 1, "100,0"),
    (66.66666666666667, 1, "66,7"),
])
def test_number(value: float, digits: int, text: str) -> None:
    assert number(value, digits) == text


def test_percent() -> None:
    assert percent(84.2) == "84,2\u00a0%"
    assert percent(84.16) == "84,2\u00a0%"
    assert percent(80, 0) == "80\u00a0%"
    assert percent(None) == "—"
    assert percent(math.nan) == "—"


def test_missing_values_show_a_dash() -> None:
    assert number(None) == "—"
    assert number(math.inf) == "—"
    assert interval(None) == "—"


def test_interval() -> None:
    assert interval([80.123, 88.25]) == "80,1–88,3"
    assert interval([49.01624715366418, 94.33178485456247], 2) == "49,02–94,33"


def test_target_for_a_questionnaire() -> None:
    assert DEFAULT_TARGETS["sipas"] == 80.0
    assert "papi" not in DEFAULT_TARGETS
    assert target_for("sipas-dichvu", "sipas") == 80.0
    assert target_for("sipas-dichvu", "sipas", {"sipas-dichvu": 85}) == 85.0
    assert target_for("mau-02", "sipas", {"sipas-dichvu": 85}) == 80.0
    assert target_for("mau-02", "sipas", {"sipas": 90}) == 90.0
    assert target_for("papi-phuong", "papi") is None


def test_verdict_has_three_values() -> None:
    """Contract §8: met only when the whole interval reaches the target."""
    assert verdict([80.0, 90.0], 80.0) == "met"
    assert verdict([79.99, 90.0], 80.0) == "undecided"
    assert verdict([34.2, 100.0], 80.0) == "undecided"  # two responses, both satisfied
    assert verdict([60.0, 79.99], 80.0) == "not_met"
    assert verdict(None, 80.0) is None
    assert verdict([60.0, 79.0], None) is None
