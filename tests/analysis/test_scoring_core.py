"""Wilson intervals, Counts arithmetic, determinism and the Scheme round trip."""

from __future__ import annotations

import copy
import json
import math
import statistics

import pytest

from analysis.scoring import (
    SCORE_SCALE,
    Z95,
    Counts,
    Scheme,
    counts_of,
    option_distribution,
    summarize,
    wilson_interval,
)
from tests.analysis.schemes import (
    PAPI,
    PAPI_BEST,
    PAPI_WORST,
    SIPAS_DICHVU,
    SIPAS_EXAMPLE,
    SIPAS_ITEMS,
    SIPAS_KCYK,
)


def wilson_closed_form(s: int, n: int, z: float) -> list[float]:
    """The Wilson interval written the other usual way (Newcombe 1998, method 3), in percent."""
    root = z * math.sqrt(z * z + 4 * s * (n - s) / n)
    return [100 * (2 * s + z * z + sign * root) / (2 * (n + z * z)) for sign in (-1, 1)]


def test_z95_is_the_normal_quantile() -> None:
    assert statistics.NormalDist().inv_cdf(0.975) == Z95
    assert pytest.approx(1.959963984540054, abs=1e-15) == Z95
    assert SCORE_SCALE == 1000


def test_wilson_8_of_10_known_values() -> None:
    # p = 0.8, z² = 3.841459; centre = (0.8 + 0.192073) / 1.384146 = 0.716741;
    # half = z · √(0.016 + 0.009604) / 1.384146 = 0.226576 -> [49.0165, 94.3318] %.
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(49.01625, abs=1e-5)
    assert high == pytest.approx(94.33178, abs=1e-5)
    assert [low, high] == pytest.approx(wilson_closed_form(8, 10, Z95), abs=1e-12)


@pytest.mark.parametrize(("s", "n"), [(0, 1), (1, 1), (0, 5), (5, 5), (1, 3), (50, 100),
                                      (997, 1000), (3, 7)])
def test_wilson_matches_the_closed_form(s: int, n: int) -> None:
    ci = wilson_interval(s, n)
    assert ci is not None
    assert ci == pytest.approx(wilson_closed_form(s, n, Z95), abs=1e-9)
    assert 0.0 <= ci[0] <= 100 * s / n <= ci[1] <= 100.0


def test_wilson_ends_are_exact_at_0_and_n() -> None:
    assert wilson_interval(0, 4)[0] == 0.0
    assert wilson_interval(4, 4)[1] == 100.0


def test_wilson_edge_cases() -> None:
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(3, 2)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(-1, 2)
    # A smaller z gives a narrower interval.
    wide, narrow = wilson_interval(8, 10), wilson_interval(8, 10, z=1.0)
    assert narrow[0] > wide[0]
    assert narrow[1] < wide[1]


def test_counts_add_cell_wise_and_drop_zeros() -> None:
    a = Counts(2, {("q15", 4): 2}, {"E1": 2}, 1, 100_000, 10_000_000_000)
    b = Counts(1, {("q15", 4): 1, ("q15", 1): 1}, {"E1": 1, "E2": 1}, 1, 0, 0)
    assert a + b == Counts(3, {("q15", 4): 3, ("q15", 1): 1}, {"E1": 3, "E2": 1}, 2, 100_000,
                           10_000_000_000)
    assert a + b == b + a
    assert sum([a, b]) == a + b  # the builtin sum starts from 0
    assert Counts(options={("q15", 4): 0}, groups={"E1": 0}) == Counts()


def test_counts_are_integers() -> None:
    with pytest.raises(TypeError):
        Counts(n_responses=1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Counts(options={("q15", 4): 1.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="negative"):
        Counts(options={("q15", 4): -1})
    with pytest.raises(ValueError, match="n_responses"):
        Counts(n_responses=-1)


def test_counts_own_their_mappings() -> None:
    options = {("q15", 4): 1}
    counts = Counts(1, options)
    options[("q15", 4)] = 99
    assert counts.options == {("q15", 4): 1}


def test_summaries_are_bit_identical_whatever_the_order() -> None:
    responses = SIPAS_EXAMPLE * 3 + [dict.fromkeys(SIPAS_ITEMS, 2), {"q33": 5, "q20": 4}]
    forward = counts_of(SIPAS_DICHVU, responses)
    backward = counts_of(SIPAS_DICHVU, responses[::-1])
    # Cells merged in two different orders.
    cells = [counts_of(SIPAS_DICHVU, responses[i:i + 2]) for i in range(0, len(responses), 2)]
    merged_a = sum(cells, Counts())
    merged_b = sum(reversed(cells), Counts())
    summaries = [json.dumps(summarize(SIPAS_DICHVU, c)) for c in
                 (forward, backward, merged_a, merged_b)]
    assert len(set(summaries)) == 1
    papi = [json.dumps(summarize(PAPI, counts_of(PAPI, r))) for r in
            ([PAPI_BEST, PAPI_WORST, PAPI_BEST], [PAPI_WORST, PAPI_BEST, PAPI_BEST])]
    assert papi[0] == papi[1]


@pytest.mark.parametrize("scheme", [SIPAS_DICHVU, SIPAS_KCYK, PAPI], ids=lambda s: s.id)
def test_scheme_round_trips_through_a_summary(scheme: Scheme) -> None:
    responses = SIPAS_EXAMPLE if scheme.index == "sipas" else [PAPI_BEST, PAPI_WORST]
    counts = counts_of(scheme, responses)
    filters = {"from": "2025-01-01", "to": "2025-03-31", "units": ["QT01"], "channels": ["qr"]}
    summary = summarize(scheme, counts, filters)
    rebuilt = Scheme.from_summary(json.loads(json.dumps(summary)))
    assert rebuilt == scheme
    assert summarize(rebuilt, counts, filters) == summary


def test_scheme_from_summary_refuses_a_malformed_summary() -> None:
    summary = summarize(SIPAS_DICHVU, Counts())
    with pytest.raises(ValueError, match="contract"):
        Scheme.from_summary({k: v for k, v in summary.items() if k != "codebook"})
    broken = copy.deepcopy(summary)
    broken["codebook"][1]["group"] = "E9"
    with pytest.raises(ValueError, match="E9"):
        Scheme.from_summary(broken)
    broken = copy.deepcopy(summary)
    broken["questionnaire"]["index"] = "cpi"
    with pytest.raises(ValueError, match="index"):
        Scheme.from_summary(broken)


def test_scheme_structure_from_the_questionnaire() -> None:
    assert [g.id for g in SIPAS_DICHVU.groups] == ["E1", "E2", "E3", "E4", "E5"]
    assert SIPAS_DICHVU.groups[0].items == ("q15", "q16", "q17", "q18")
    assert SIPAS_DICHVU.index_range == (0.0, 100.0)
    assert [(s.id, s.items) for s in PAPI.groups[1].subgroups] == [
        ("D2a", ("p4",)), ("D2b", ("p5",)), ("D2c", ("p6", "p7"))]
    assert PAPI.groups[1].items == ("p4", "p5", "p6", "p7")
    assert PAPI.index_range == (2.0, 20.0)
    assert hash(SIPAS_DICHVU) == hash(Scheme.from_summary(summarize(SIPAS_DICHVU, Counts())))


def test_editing_a_summary_leaves_the_scheme_alone() -> None:
    summary = summarize(SIPAS_DICHVU, Counts())
    summary["codebook"][1]["options"][0]["score"] = 99
    assert summarize(SIPAS_DICHVU, Counts())["codebook"][1]["options"][0]["score"] == 1.0


def test_option_distribution_of_a_profile_question() -> None:
    counts = counts_of(SIPAS_DICHVU, SIPAS_EXAMPLE)
    rows = option_distribution(SIPAS_DICHVU, counts, "gioi_tinh")
    assert rows == [{"code": 1, "n": 1, "share": 50.0}, {"code": 2, "n": 1, "share": 50.0}]
    assert option_distribution(SIPAS_DICHVU, Counts(), "gioi_tinh")[0]["share"] is None
