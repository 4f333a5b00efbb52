"""SIPAS formulas of contract §6.1, each checked against arithmetic done by hand."""

from __future__ import annotations

import pytest

from analysis.scoring import (
    Z95,
    Counts,
    counted,
    counted_groups,
    counts_of,
    respondent_score,
    respondent_score_milli,
    summarize,
    wilson_interval,
)
from tests.analysis.schemes import SIPAS_DICHVU, SIPAS_EXAMPLE, SIPAS_ITEMS, SIPAS_KCYK

# The Counts of SIPAS_EXAMPLE, tallied by hand.
EXAMPLE_COUNTS = Counts(
    n_responses=4,
    options={("q15", 5): 1, ("q15", 3): 1, ("q15", 4): 1,
             ("q16", 4): 1, ("q16", 1): 1,
             ("q19", 2): 1, ("q19", 4): 1, ("q19", 5): 1,
             ("q23", 3): 1, ("q23", 4): 1,
             ("gioi_tinh", 1): 1, ("gioi_tinh", 2): 1},
    # E1: R1, R2, R3 answered q15; E2: R1, R2, R3 (q19); E3: R1, R2 (q23).
    groups={"E1": 3, "E2": 3, "E3": 2},
    # Respondent scores (see test_respondent_scores_of_the_example): 33.333, 66.667, 75.000.
    score_n=3,
    score_sum=33333 + 66667 + 75000,
    score_sqsum=33333**2 + 66667**2 + 75000**2,
)


def item(summary: dict, qid: str) -> dict:
    return next(i for g in summary["groups"] for i in g["items"] if i["id"] == qid)


def group(summary: dict, gid: str) -> dict:
    return next(g for g in summary["groups"] if g["id"] == gid)


def test_counts_of_the_example_match_the_hand_tally() -> None:
    # Blank ("" for q16 in R2) and absent answers are not counted; the text answers neither.
    assert counts_of(SIPAS_DICHVU, SIPAS_EXAMPLE) == EXAMPLE_COUNTS


def test_respondent_scores_of_the_example() -> None:
    r1, r2, r3, r4 = SIPAS_EXAMPLE
    # R1: E1 2 of 2 satisfied (5, 4) -> 1; E2 q19=2 -> 0; E3 q23=3 -> 0: 100 * 1/3.
    assert respondent_score(SIPAS_DICHVU, r1) == pytest.approx(100 / 3)
    # R2: E1 q15=3 -> 0; E2 q19=4 -> 1; E3 q23=4 -> 1: 100 * 2/3.
    assert respondent_score(SIPAS_DICHVU, r2) == pytest.approx(200 / 3)
    # R3: E1 q15=4, q16=1 -> 1/2; E2 q19=5 -> 1: 100 * (0.5 + 1) / 2 = 75.
    assert respondent_score(SIPAS_DICHVU, r3) == 75.0
    assert respondent_score(SIPAS_DICHVU, r4) is None
    assert [respondent_score_milli(SIPAS_DICHVU, r) for r in SIPAS_EXAMPLE] == [
        33333, 66667, 75000, None]


def test_items_of_the_example() -> None:
    s = summarize(SIPAS_DICHVU, EXAMPLE_COUNTS)
    # q15: answers 5, 3, 4 -> n 3, satisfied 2, rate 200/3 %, mean 12/3 = 4.
    q15 = item(s, "q15")
    assert (q15["n"], q15["satisfied"], q15["mean"]) == (3, 2, 4.0)
    assert q15["rate"] == pytest.approx(66.6666667)
    # q16: answers 4, 1 (R2 blank) -> n 2, satisfied 1, rate 50, mean 2.5.
    assert {k: item(s, "q16")[k] for k in ("n", "satisfied", "rate", "mean")} == {
        "n": 2, "satisfied": 1, "rate": 50.0, "mean": 2.5}
    # q19: 2, 4, 5 -> rate 200/3, mean 11/3.
    assert item(s, "q19")["mean"] == pytest.approx(11 / 3)
    # q23: 3, 4 -> rate 50, mean 3.5.
    assert (item(s, "q23")["rate"], item(s, "q23")["mean"]) == (50.0, 3.5)


def test_an_item_nobody_answered_has_n_zero_and_nulls() -> None:
    s = summarize(SIPAS_DICHVU, EXAMPLE_COUNTS)
    assert item(s, "q17") == {"id": "q17", "n": 0, "satisfied": 0, "rate": None,
                              "rate_ci95": None, "mean": None}


def test_groups_and_index_of_the_example() -> None:
    s = summarize(SIPAS_DICHVU, EXAMPLE_COUNTS)
    # E1 = mean(q15 200/3, q16 50) = 175/3 (q17, q18 have no data and are left out).
    # E2 = q19 = 200/3; E3 = q23 = 50; E4 and E5 have no data: null.
    values = {g["id"]: g["value"] for g in s["groups"]}
    assert values["E1"] == pytest.approx(175 / 3)
    assert values["E2"] == pytest.approx(200 / 3)
    assert values["E3"] == 50.0
    assert values["E4"] is None
    assert values["E5"] is None
    assert {g["id"]: g["n"] for g in s["groups"]} == {"E1": 3, "E2": 3, "E3": 2, "E4": 0,
                                                       "E5": 0}
    # Index = mean(175/3, 200/3, 50) = (175 + 200 + 150) / 9 = 175/3, E4 and E5 left out.
    assert s["index"]["value"] == pytest.approx(175 / 3)
    assert s["n_responses"] == 4


def test_index_ci_of_the_example_by_hand() -> None:
    """The README's method: Wilson with a Korn–Graubard n_eff and an end-padded variance."""
    s = summarize(SIPAS_DICHVU, EXAMPLE_COUNTS)
    # Respondent scores 33.333, 66.667, 75.000 (n = 3); index 175/3 = 58.333, p = 0.58333.
    # On [0, 1]: SS = Σ(x − x̄)² = 0.0972244; c = (p² + (1 − p)²)/2 = 0.2569444;
    # v = (SS + c)/3 = 0.1180563; n_eff = max(3, 3 · p(1 − p)/v) = 6.17643;
    # Wilson(0.58333, 6.17643) = [0.244420, 0.858336].
    low, high = s["index"]["ci95"]
    assert low == pytest.approx(24.44204, abs=1e-5)
    assert high == pytest.approx(85.83363, abs=1e-5)


def test_index_ci_is_built_around_the_index_not_the_mean_score() -> None:
    # The index value (50: q15 1 of 2 satisfied) differs from the mean score (60): scores 40
    # and 80 -> p = 0.5, SS = 0.08, c = 0.25, v = 0.165, n_eff = 3.0303: an interval
    # symmetric around 50, [12.616, 87.384].
    counts = Counts(n_responses=2, options={("q15", 4): 1, ("q15", 2): 1},
                    groups={"E1": 2}, score_n=2, score_sum=120_000,
                    score_sqsum=40_000**2 + 80_000**2)
    s = summarize(SIPAS_DICHVU, counts)
    assert s["index"]["value"] == 50.0
    assert s["index"]["ci95"] == pytest.approx([12.61615, 87.38385], abs=1e-5)


def test_index_ci_of_polarised_respondents_is_wilson_of_n() -> None:
    # R1 answers 5 everywhere (score 100), R2 answers 1 everywhere (score 0): index 50.
    # Scores at the ends only: n_eff = n, and the interval is Wilson's for 1 of 2.
    responses = [dict.fromkeys(SIPAS_ITEMS, 5), dict.fromkeys(SIPAS_ITEMS, 1)]
    s = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, responses))
    assert s["index"]["value"] == 50.0
    assert s["index"]["ci95"] == pytest.approx(wilson_interval(1, 2))


def test_a_single_response() -> None:
    s = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, [dict.fromkeys(SIPAS_ITEMS, 4)]))
    # Every item: n 1, satisfied 1, rate 100, mean 4. Wilson 1 of 1: low = 1 / (1 + z²).
    for g in s["groups"]:
        assert (g["value"], g["n"]) == (100.0, 1)
        for i in g["items"]:
            assert (i["n"], i["satisfied"], i["rate"], i["mean"]) == (1, 1, 100.0, 4.0)
            assert i["rate_ci95"] == pytest.approx([100 / (1 + Z95**2), 100.0])
            assert i["rate_ci95"][0] == pytest.approx(20.6549, abs=1e-4)
    # One respondent does not make a certain index: the same wide interval, not a point.
    assert s["index"]["value"] == 100.0
    assert s["index"]["ci95"] == pytest.approx([100 / (1 + Z95**2), 100.0])


def test_two_fully_satisfied_responses_are_far_from_certain() -> None:
    """The issue's case: two responses gave "100,0 %, KTC 95 %: 100,0–100,0"."""
    s = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, [dict.fromkeys(SIPAS_ITEMS, 5)] * 2))
    low, high = s["index"]["ci95"]
    assert s["index"]["value"] == high == 100.0
    assert low == pytest.approx(100 * 2 / (2 + Z95**2))  # 34.2
    assert low < 40


def test_no_responses_give_the_contract_shape_with_nulls() -> None:
    s = summarize(SIPAS_DICHVU, Counts())
    assert list(s) == ["questionnaire", "filters", "n_responses", "index", "target",
                       "n_excluded", "groups", "codebook"]
    assert s["target"] == {"value": None, "verdict": None}
    assert s["n_excluded"] == 0
    assert s["questionnaire"] == {"id": "sipas-dichvu", "version": 1, "index": "sipas"}
    assert s["filters"] == {"from": None, "to": None, "units": [], "channels": []}
    assert s["n_responses"] == 0
    assert s["index"] == {"value": None, "ci95": None}
    assert [g["id"] for g in s["groups"]] == ["E1", "E2", "E3", "E4", "E5"]
    e1 = s["groups"][0]
    assert list(e1) == ["id", "label", "value", "n", "subgroups", "items"]
    assert (e1["label"], e1["value"], e1["n"], e1["subgroups"]) == ("Tiếp cận", None, 0, [])
    assert list(e1["items"][0]) == ["id", "n", "satisfied", "rate", "rate_ci95", "mean"]
    assert [i["id"] for g in s["groups"] for i in g["items"]] == SIPAS_ITEMS
    # The codebook lists every question, scored or not, with its options.
    assert [c["id"] for c in s["codebook"]][:2] == ["linh_vuc", "q15"]
    assert s["codebook"][1]["options"][3] == {"code": 4, "label": "Hài lòng", "score": 4.0,
                                              "satisfied": True}
    assert next(c for c in s["codebook"] if c["id"] == "y_kien")["type"] == "text"


def test_filters_are_echoed_over_the_defaults() -> None:
    s = summarize(SIPAS_DICHVU, Counts(), {"from": "2025-01-01", "units": ("QT01",)})
    assert s["filters"] == {"from": "2025-01-01", "to": None, "units": ["QT01"],
                            "channels": []}


# -- Null-scored options ("Không có ý kiến") and the pooled aggregation -----------------------

# a1: 5×"5", 3×"4", 2×"2", 3×"không có ý kiến" -> n 10 (the 3 excluded), satisfied 8, rate 80,
#     mean (25 + 12 + 4) / 10 = 4.1
# a2: 2×"1", 1×"không có ý kiến"                -> n 2, satisfied 0, rate 0, mean 1
# b1: 4×"4", 1×"3"                              -> n 5, satisfied 4, rate 80, mean 19/5 = 3.8
KCYK_COUNTS = Counts(
    n_responses=15,
    options={("a1", 5): 5, ("a1", 4): 3, ("a1", 2): 2, ("a1", 9): 3,
             ("a2", 1): 2, ("a2", 9): 1, ("b1", 4): 4, ("b1", 3): 1},
    groups={"A": 12, "B": 5},
)


def test_null_scored_options_are_excluded_from_n() -> None:
    s = summarize(SIPAS_KCYK, KCYK_COUNTS)
    assert {k: item(s, "a1")[k] for k in ("n", "satisfied", "rate", "mean")} == {
        "n": 10, "satisfied": 8, "rate": 80.0, "mean": pytest.approx(4.1)}
    assert {k: item(s, "a2")[k] for k in ("n", "satisfied", "rate", "mean")} == {
        "n": 2, "satisfied": 0, "rate": 0.0, "mean": 1.0}
    assert item(s, "b1")["mean"] == pytest.approx(3.8)


def test_pooled_and_mean_of_items_differ() -> None:
    by_items = summarize(SIPAS_KCYK, KCYK_COUNTS)
    pooled = summarize(SIPAS_KCYK, KCYK_COUNTS, aggregation="pooled")
    # A, mean of items: (80 + 0) / 2 = 40.   A, pooled: 100 · (8 + 0) / (10 + 2) = 66.667.
    assert group(by_items, "A")["value"] == 40.0
    assert group(pooled, "A")["value"] == pytest.approx(200 / 3)
    # B has one item: 80 both ways.
    assert group(by_items, "B")["value"] == group(pooled, "B")["value"] == 80.0
    # Index: (40 + 80) / 2 = 60 against (66.667 + 80) / 2 = 73.333.
    assert by_items["index"]["value"] == 60.0
    assert pooled["index"]["value"] == pytest.approx(220 / 3)
    # Items are the same either way.
    assert by_items["groups"][0]["items"] == pooled["groups"][0]["items"]


def test_unknown_aggregation_is_refused() -> None:
    with pytest.raises(ValueError, match="aggregation"):
        summarize(SIPAS_KCYK, KCYK_COUNTS, aggregation="median")  # type: ignore[arg-type]


def test_a_respondent_with_only_null_scored_answers_counts_nowhere() -> None:
    answers = {"a1": 9, "a2": 9}
    assert not counted(SIPAS_KCYK, "a1", 9)
    assert counted(SIPAS_KCYK, "a1", 4)
    assert not counted(SIPAS_KCYK, "a1", 7)  # unknown code
    assert not counted(SIPAS_KCYK, "zz", 4)  # unknown question
    assert counted_groups(SIPAS_KCYK, answers) == set()
    assert respondent_score(SIPAS_KCYK, answers) is None
    counts = counts_of(SIPAS_KCYK, [answers])
    # The answers are tallied (the distribution shows them) but count in no group or score.
    assert counts == Counts(n_responses=1, options={("a1", 9): 1, ("a2", 9): 1})
    s = summarize(SIPAS_KCYK, counts)
    assert s["index"]["value"] is None
    assert item(s, "a1")["n"] == 0


def test_unknown_codes_booleans_and_text_for_choice_questions_are_ignored() -> None:
    answers: dict = {"a1": 7, "a2": True, "b1": "4", "zz": 4}
    assert counts_of(SIPAS_KCYK, [answers]) == Counts(n_responses=1)


def test_group_n_counts_responses_with_a_counted_answer() -> None:
    # Three respondents: a1 only; a2 and b1; a1 "không có ý kiến" and b1.
    responses = [{"a1": 4}, {"a2": 2, "b1": 5}, {"a1": 9, "b1": 1}]
    counts = counts_of(SIPAS_KCYK, responses)
    assert counts.groups == {"A": 2, "B": 2}
    s = summarize(SIPAS_KCYK, counts)
    assert [(g["id"], g["n"]) for g in s["groups"]] == [("A", 2), ("B", 2)]
