"""PAPI-style formulas of contract §6.2, checked against arithmetic done by hand.

The inline questionnaire (tests/analysis/schemes.py) has D1 with k = 2 sub-dimensions
(D1a: p1, p2; D1b: p3) and D2 with k = 3 (D2a: p4; D2b: p5; D2c: p6, p7). Scores: "Có" 1,
"Không" 0, "Tốt" 1, "Trung bình" 0.5, "Kém" 0; "Không biết" (code 9) is null.
"""

from __future__ import annotations

import pytest

from analysis.scoring import (
    Counts,
    counted_groups,
    counts_of,
    respondent_score,
    summarize,
    wilson_interval,
)
from tests.analysis.schemes import PAPI, PAPI_BEST, PAPI_WORST

#        p1  p2  p3  p4   p5  p6  p7
# R1:    1   1   0   0.5  1   1   0       (codes 1 1 2 2 1 1 3)
# R2:    0   –   1   1    –   0   0.5     (codes 2 9 1 1 9 2 2; "–" = không biết)
# R3:    1   0.5 –   1    1   .   1       (codes 1 2 9 1 1 blank 1)
RESPONSES: list[dict[str, int | str]] = [
    {"p1": 1, "p2": 1, "p3": 2, "p4": 2, "p5": 1, "p6": 1, "p7": 3, "gioi_tinh": 1},
    {"p1": 2, "p2": 9, "p3": 1, "p4": 1, "p5": 9, "p6": 2, "p7": 2, "gop_y": "Cần công khai"},
    {"p1": 1, "p2": 2, "p3": 9, "p4": 1, "p5": 1, "p7": 1},
]


def sub(summary: dict, sid: str) -> dict:
    return next(s for g in summary["groups"] for s in g["subgroups"] if s["id"] == sid)


def item(summary: dict, qid: str) -> dict:
    return next(i for g in summary["groups"] for s in g["subgroups"] for i in s["items"]
                if i["id"] == qid)


def test_item_means_leave_out_null_scores_and_blanks() -> None:
    s = summarize(PAPI, counts_of(PAPI, RESPONSES))
    # p1: 1, 0, 1 -> n 3, mean 2/3.   p2: 1, 0.5 (R2 không biết) -> n 2, mean 0.75.
    # p3: 0, 1 -> n 2, mean 0.5.     p4: 0.5, 1, 1 -> n 3, mean 2.5/3.
    # p5: 1, 1 -> n 2, mean 1.       p6: 1, 0 (R3 blank) -> n 2, mean 0.5.
    # p7: 0, 0.5, 1 -> n 3, mean 0.5.
    expected = {"p1": (3, 2 / 3), "p2": (2, 0.75), "p3": (2, 0.5), "p4": (3, 2.5 / 3),
                "p5": (2, 1.0), "p6": (2, 0.5), "p7": (3, 0.5)}
    for qid, (n, mean) in expected.items():
        assert item(s, qid)["n"] == n
        assert item(s, qid)["mean"] == pytest.approx(mean)
        # PAPI items carry n and mean only.
        assert (item(s, qid)["satisfied"], item(s, qid)["rate"],
                item(s, qid)["rate_ci95"]) == (None, None, None)


def test_subgroups_groups_and_index_by_hand() -> None:
    s = summarize(PAPI, counts_of(PAPI, RESPONSES))
    # D1a: x = (2/3 + 0.75) / 2 = 17/24;  value = (1 + 9 · 17/24) / 2 = 7.375 / 2 = 3.6875
    # D1b: x = 0.5;                       value = (1 + 4.5) / 2 = 2.75
    # D1 = 3.6875 + 2.75 = 6.4375
    assert sub(s, "D1a")["value"] == pytest.approx(3.6875)
    assert sub(s, "D1b")["value"] == pytest.approx(2.75)
    # D2a: x = 5/6 -> (1 + 7.5) / 3 = 8.5/3;  D2b: x = 1 -> 10/3;
    # D2c: x = (0.5 + 0.5) / 2 = 0.5 -> 5.5/3;  D2 = (8.5 + 10 + 5.5) / 3 = 8
    assert sub(s, "D2a")["value"] == pytest.approx(8.5 / 3)
    assert sub(s, "D2b")["value"] == pytest.approx(10 / 3)
    assert sub(s, "D2c")["value"] == pytest.approx(5.5 / 3)
    d1, d2 = s["groups"]
    assert d1["value"] == pytest.approx(6.4375)
    assert d2["value"] == pytest.approx(8.0)
    # Index = 6.4375 + 8 = 14.4375 (range 2-20 with two dimensions).
    assert s["index"]["value"] == pytest.approx(14.4375)
    # Only R1 has a valid answer in every sub-dimension (R2 lacks D2b, R3 lacks D1b): one
    # respondent score, so a wide interval around the index, never a point.
    low, high = s["index"]["ci95"]
    assert 2.0 <= low < s["index"]["value"] < high <= 20.0
    assert high - low > 9  # half the range and more


def test_papi_shape_items_sit_in_subgroups() -> None:
    s = summarize(PAPI, counts_of(PAPI, RESPONSES))
    d1 = s["groups"][0]
    assert list(d1) == ["id", "label", "value", "n", "subgroups", "items"]
    assert d1["items"] == []
    assert list(d1["subgroups"][0]) == ["id", "label", "value", "n", "items"]
    assert [i["id"] for i in d1["subgroups"][0]["items"]] == ["p1", "p2"]
    assert s["questionnaire"] == {"id": "papi-thu", "version": 1, "index": "papi"}


def test_group_and_subgroup_n() -> None:
    counts = counts_of(PAPI, RESPONSES)
    # D1a: all three (p1); D1b: R1, R2 (R3 không biết); D2a: all three; D2b: R1, R3;
    # D2c: all three (R3 through p7).
    assert counts.groups == {"D1": 3, "D1a": 3, "D1b": 2, "D2": 3, "D2a": 3, "D2b": 2,
                             "D2c": 3}
    s = summarize(PAPI, counts)
    assert [(x["id"], x["n"]) for x in s["groups"][1]["subgroups"]] == [
        ("D2a", 3), ("D2b", 2), ("D2c", 3)]
    assert counted_groups(PAPI, RESPONSES[1]) == {"D1", "D1a", "D1b", "D2", "D2a", "D2c"}


def test_respondent_scores() -> None:
    r1, r2, r3 = RESPONSES
    # R1: D1a mean(1, 1) = 1 -> 10/2 = 5;  D1b 0 -> 1/2;  D2a 0.5 -> 5.5/3;  D2b 1 -> 10/3;
    #     D2c mean(1, 0) = 0.5 -> 5.5/3.  Sum = 5.5 + 21/3 = 12.5.
    assert respondent_score(PAPI, r1) == pytest.approx(12.5)
    # R2 has no valid answer in D2b (không biết); R3 none in D1b.
    assert respondent_score(PAPI, r2) is None
    assert respondent_score(PAPI, r3) is None
    assert counts_of(PAPI, RESPONSES).score_n == 1


def test_a_subgroup_without_data_makes_its_group_and_the_index_null() -> None:
    # R2 alone: D2b has only "không biết".
    s = summarize(PAPI, counts_of(PAPI, [RESPONSES[1]]))
    assert sub(s, "D2b")["value"] is None
    assert sub(s, "D2b")["n"] == 0
    assert item(s, "p5") == {"id": "p5", "n": 0, "satisfied": None, "rate": None,
                             "rate_ci95": None, "mean": None}
    d1, d2 = s["groups"]
    # D1 still has a value: D1a x = 0 (p2 không biết, left out) -> 0.5; D1b x = 1 -> 5.
    assert d1["value"] == pytest.approx(5.5)
    # D2a and D2c have values, but one missing sub-dimension makes D2 null, and the index.
    assert sub(s, "D2a")["value"] == pytest.approx(10 / 3)
    assert d2["value"] is None
    assert s["index"] == {"value": None, "ci95": None}


def test_index_ci_is_clipped_to_the_papi_range() -> None:
    # Best and worst respondent: every item mean 0.5, every sub-dimension (1 + 4.5) / k, each
    # dimension 5.5, index 11. Scores 20 and 2, the ends of the range [2, 20] (2 dimensions):
    # on [0, 1] they are 1 and 0, so the interval is Wilson's for 1 of 2 mapped onto [2, 20].
    counts = counts_of(PAPI, [PAPI_BEST, PAPI_WORST])
    assert (counts.score_n, counts.score_sum, counts.score_sqsum) == (2, 22_000, 404_000_000)
    s = summarize(PAPI, counts)
    assert s["index"]["value"] == pytest.approx(11.0)
    low, high = wilson_interval(1, 2) or [0.0, 0.0]
    assert s["index"]["ci95"] == pytest.approx([2 + 18 * low / 100, 2 + 18 * high / 100])


def test_index_ci_inside_the_range() -> None:
    # Scores 12 and 14 (synthetic sums), index 11: on [0, 1] p = 0.5, SS = 0.0061728,
    # c = 0.25, v = 0.1280864, n_eff = 3.90361; Wilson(0.5, 3.90361) on [2, 20].
    counts = counts_of(PAPI, [PAPI_BEST, PAPI_WORST])
    counts = Counts(counts.n_responses, counts.options, counts.groups, 2, 26_000,
                    12_000**2 + 14_000**2)
    low, high = summarize(PAPI, counts)["index"]["ci95"]
    assert (low, high) == pytest.approx((4.661626, 17.338374), abs=1e-6)


def test_pooled_papi_weighs_every_answer_alike() -> None:
    # D2c: p6 mean 0.5 (n 2), p7 mean 0.5 (n 3) -> the same; D1a differs:
    # mean of items x = (2/3 + 0.75) / 2 = 17/24; pooled x = (1 + 0 + 1 + 1 + 0.5) / 5 = 0.7
    # -> (1 + 6.3) / 2 = 3.65.
    s = summarize(PAPI, counts_of(PAPI, RESPONSES), aggregation="pooled")
    assert sub(s, "D1a")["value"] == pytest.approx(3.65)
    assert sub(s, "D2c")["value"] == pytest.approx(5.5 / 3)
