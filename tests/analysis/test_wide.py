"""The wide raw-data file (contract §5) and the summary recomputed from it."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis.scoring import Counts, summarize
from analysis.wide import (
    BASE_COLUMNS,
    answers_of_row,
    cell_day,
    read_wide_csv,
    recompute_summary,
    wide_columns,
)
from tests.analysis.schemes import SIPAS_DICHVU
from tests.analysis.test_scoring_sipas import EXAMPLE_COUNTS

# SIPAS_EXAMPLE as an exported file: BOM, empty cells, text with a comma and quotes; missing
# question columns are allowed (not answered). Vietnam days of submitted_at:
#   r1 2025-03-31 (no offset: already Vietnam time)   r2 2025-04-01 (18:30 UTC = 01:30 +07)
#   r3 2025-04-02                                      r4 2025-03-15
CSV = (
    "\ufeffresponse_id,submitted_at,unit,channel,q15,q16,q19,q23,y_kien,gioi_tinh\n"
    'r1,2025-03-31T23:30:00,QT01,qr,5,4,2,3,"Tốt, nhưng ""chờ lâu""",1\n'
    "r2,2025-03-31T18:30:00+00:00,QT01,paper,3,,4,4,,\n"
    "r3,2025-04-02T09:00:00+07:00,QT02,qr,4,1,5,,,2\n"
    'r4,2025-03-15T08:00:00Z,QT02,kiosk,,,,,"Ý kiến, ""khác""",\n'
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return read_wide_csv(io.BytesIO(CSV.encode("utf-8")))


def test_wide_columns_follow_the_codebook() -> None:
    columns = wide_columns(SIPAS_DICHVU)
    assert tuple(columns[:4]) == BASE_COLUMNS == ("response_id", "submitted_at", "unit",
                                                  "channel")
    assert columns[4:6] == ["flags", "excluded"]  # contract §8
    assert columns[6:] == [c["id"] for c in SIPAS_DICHVU.codebook]
    assert columns[6:9] == ["linh_vuc", "q15", "q16"]
    template = wide_columns(SIPAS_DICHVU, integrity=False)
    assert template[4:] == columns[6:]


def test_read_wide_csv_keeps_text(frame: pd.DataFrame, tmp_path: Path) -> None:
    assert list(frame.columns)[0] == "response_id"  # the BOM is not part of the header
    row = frame.to_dict("records")[0]
    assert row["q15"] == "5"
    assert row["y_kien"] == 'Tốt, nhưng "chờ lâu"'
    assert frame.to_dict("records")[1]["q16"] == ""
    path = tmp_path / "export.csv"
    path.write_bytes(CSV.encode("utf-8"))
    assert read_wide_csv(path).equals(frame)
    assert read_wide_csv(str(path)).equals(frame)
    assert read_wide_csv(io.StringIO(CSV)).equals(frame)  # already decoded, BOM and all
    assert read_wide_csv(io.BytesIO(CSV[1:].encode("utf-8"))).equals(frame)  # without BOM


def test_answers_of_row() -> None:
    row = {"response_id": "r1", "q15": " 5 ", "q16": "", "y_kien": "Tốt, nhưng", "gioi_tinh": "1",
           "unknown": "x"}
    assert answers_of_row(SIPAS_DICHVU, row) == {"q15": 5, "y_kien": "Tốt, nhưng",
                                                 "gioi_tinh": 1}
    # Spreadsheet cells: numbers as floats, empty cells as NaN.
    assert answers_of_row(SIPAS_DICHVU, {"q15": 4.0, "q16": float("nan")}) == {"q15": 4}
    with pytest.raises(ValueError, match="column q15"):
        answers_of_row(SIPAS_DICHVU, {"q15": "Hài lòng"})


def test_recompute_equals_the_hand_made_counts(frame: pd.DataFrame) -> None:
    assert recompute_summary(SIPAS_DICHVU, frame) == summarize(SIPAS_DICHVU, EXAMPLE_COUNTS)


def test_recompute_filters_by_vietnam_day(frame: pd.DataFrame) -> None:
    april = recompute_summary(SIPAS_DICHVU, frame, {"from": "2025-04-01", "to": "2025-04-30"})
    # r2 (q15=3, q19=4, q23=4) and r3 (q15=4, q16=1, q19=5):
    # E1 = mean(q15 1/2 -> 50, q16 0/1 -> 0) = 25; E2 = q19 2/2 = 100; E3 = q23 1/1 = 100.
    # Index = (25 + 100 + 100) / 3 = 75.
    assert april["n_responses"] == 2
    assert [g["value"] for g in april["groups"]] == [25.0, 100.0, 100.0, None, None]
    assert april["index"]["value"] == 75.0
    assert april["filters"] == {"from": "2025-04-01", "to": "2025-04-30", "units": [],
                                "channels": []}
    # r1 was sent at 23:30 Vietnam time on 31 March: it belongs to March, with r4.
    march = recompute_summary(SIPAS_DICHVU, frame, {"to": date(2025, 3, 31)})
    assert march["n_responses"] == 2
    assert march["filters"]["to"] == "2025-03-31"
    one_day = recompute_summary(SIPAS_DICHVU, frame, {"from": "2025-04-01", "to": "2025-04-01"})
    assert one_day["n_responses"] == 1


def test_recompute_filters_by_unit_and_channel(frame: pd.DataFrame) -> None:
    qt02 = recompute_summary(SIPAS_DICHVU, frame, {"units": ["QT02"]})
    assert qt02["n_responses"] == 2  # r3, r4
    qt02_counts = Counts(2, {("q15", 4): 1, ("q16", 1): 1, ("q19", 5): 1, ("gioi_tinh", 2): 1},
                         {"E1": 1, "E2": 1}, 1, 75_000, 75_000**2)
    assert qt02 == summarize(SIPAS_DICHVU, qt02_counts, {"units": ["QT02"]})
    assert recompute_summary(SIPAS_DICHVU, frame,
                             {"channels": ["qr", "kiosk"]})["n_responses"] == 3
    assert recompute_summary(SIPAS_DICHVU, frame,
                             {"units": ["QT01"], "channels": ["kiosk"]})["n_responses"] == 0


def test_recompute_passes_the_aggregation_on(frame: pd.DataFrame) -> None:
    pooled = recompute_summary(SIPAS_DICHVU, frame, aggregation="pooled")
    # E1 pooled: (2 + 1) satisfied of (3 + 2) answers = 60 (mean of items: 175/3).
    assert pooled["groups"][0]["value"] == 60.0


def test_recompute_reports_the_row_of_a_bad_cell(frame: pd.DataFrame) -> None:
    bad = frame.copy()
    bad.loc[2, "q19"] = "năm"
    with pytest.raises(ValueError, match=r"row 4, column q19"):
        recompute_summary(SIPAS_DICHVU, bad)
    bad = frame.copy()
    bad.loc[0, "submitted_at"] = "31/03/2025"
    with pytest.raises(ValueError, match=r"row 2, column submitted_at"):
        recompute_summary(SIPAS_DICHVU, bad, {"from": "2025-01-01"})


def test_vietnam_day() -> None:
    assert cell_day("2025-03-31T17:00:00+00:00") == date(2025, 4, 1)
    assert cell_day("2025-03-31T16:59:59Z") == date(2025, 3, 31)
    assert cell_day("2025-03-31 23:59") == date(2025, 3, 31)
    assert cell_day(pd.Timestamp("2025-03-31 18:00", tz="UTC")) == date(2025, 4, 1)
    assert cell_day("") is None


@pytest.mark.parametrize("cell", [1, 1.0, "1", " 1 ", True])
def test_an_excluded_row_counts_only_as_excluded_however_the_cell_is_typed(
        frame: pd.DataFrame, cell: object) -> None:
    """A workbook gives 1.0 (or True) where the CSV has "1": the row is excluded all the same."""
    marked = frame.copy()
    marked["excluded"] = pd.Series([cell, 0, 0.0, None], dtype=object)
    summary = recompute_summary(SIPAS_DICHVU, marked)
    assert (summary["n_responses"], summary["n_excluded"]) == (3, 1)
    assert summary == recompute_summary(SIPAS_DICHVU, frame.drop(index=0)) | {"n_excluded": 1}
