"""Cells per day, month and quarter, and small-cell suppression."""

from __future__ import annotations

from datetime import date

import pytest

from analysis.breakdown import MIN_CELL, merge, month_of, quarter_of, summarize_cells
from analysis.scoring import Counts, counts_of, summarize
from tests.analysis.schemes import SIPAS_DICHVU, SIPAS_ITEMS

SATISFIED = dict.fromkeys(SIPAS_ITEMS, 5)
UNSATISFIED = dict.fromkeys(SIPAS_ITEMS, 2)


def cell(n_satisfied: int, n_unsatisfied: int) -> Counts:
    return counts_of(SIPAS_DICHVU, [SATISFIED] * n_satisfied + [UNSATISFIED] * n_unsatisfied)


def test_month_and_quarter_of_a_day() -> None:
    assert month_of("2025-03-14") == "2025-03"
    assert month_of(date(2025, 12, 1)) == "2025-12"
    assert [quarter_of(d) for d in ("2025-01-01", "2025-03-31", "2025-04-01", "2025-12-31")] \
        == ["2025-Q1", "2025-Q1", "2025-Q2", "2025-Q4"]
    with pytest.raises(ValueError, match="format"):
        month_of("14/03/2025")


def test_merge_days_into_months() -> None:
    days = {"2025-01-02": cell(3, 1), "2025-02-01": cell(6, 0), "2025-01-15": cell(2, 1)}
    months = merge(days, month_of)
    assert set(months) == {"2025-01", "2025-02"}
    assert months["2025-01"] == cell(5, 2)
    assert months["2025-02"] == days["2025-02-01"]


def test_small_cells_are_suppressed() -> None:
    assert MIN_CELL == 5
    cells = {"2025-02": cell(6, 0), "2025-01": cell(3, 1)}
    rows = summarize_cells(SIPAS_DICHVU, cells)
    assert [r["key"] for r in rows] == ["2025-01", "2025-02"]  # sorted
    small, big = rows
    # 4 responses < 5: every value hidden, n still shown.
    assert small == {"key": "2025-01", "n": 4, "suppressed": True, "index": None, "ci95": None,
                     "groups": {"E1": None, "E2": None, "E3": None, "E4": None, "E5": None}}
    # 6 responses, all satisfied: every value 100; the interval does not collapse to a point
    # although every score is equal (Wilson for 6 of 6).
    assert big["suppressed"] is False
    assert big["n"] == 6
    assert big["index"] == 100.0
    assert big["ci95"] == pytest.approx([100 * 6 / (6 + 1.959963984540054**2), 100.0])
    assert big["groups"] == dict.fromkeys(["E1", "E2", "E3", "E4", "E5"], 100.0)


def test_cell_values_equal_the_summary_of_the_cell() -> None:
    # 5 responses (not suppressed at the threshold): 3 satisfied, 2 not -> every rate 60.
    counts = cell(3, 2)
    (row,) = summarize_cells(SIPAS_DICHVU, {("QT01", "qr"): counts})
    summary = summarize(SIPAS_DICHVU, counts)
    assert row["key"] == ("QT01", "qr")
    assert row["index"] == summary["index"]["value"] == 60.0
    assert row["ci95"] == summary["index"]["ci95"]
    assert row["groups"] == {g["id"]: g["value"] for g in summary["groups"]}
    # A stricter threshold suppresses it.
    assert summarize_cells(SIPAS_DICHVU, {"x": counts}, min_n=6)[0]["suppressed"] is True


def test_keys_of_mixed_types_still_sort() -> None:
    """Keys that cannot be compared (None beside codes) still come in one stable order,
    whatever order the cells arrived in."""
    keys = [None, "QT02", "QT01", ("QT01", "qr")]
    for arrival in (keys, keys[::-1], keys[1:] + keys[:1]):
        rows = summarize_cells(SIPAS_DICHVU, {k: Counts() for k in arrival})
        assert [r["key"] for r in rows] == ["QT01", "QT02", ("QT01", "qr"), None]
    # Keys of one type sort naturally.
    rows = summarize_cells(SIPAS_DICHVU, {"2025-10": Counts(), "2025-02": Counts()})
    assert [r["key"] for r in rows] == ["2025-02", "2025-10"]
