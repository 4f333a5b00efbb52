"""The index interval (analysis.intervals): edge cases, coverage by simulation, the verdict.

The simulations draw respondents' answers with numpy and compute, exactly as the app does, the
index value (mean over elements of the mean of item rates; PAPI: sum of (1 + 9 x_s) / k) and
the respondent scores in thousandths; ``test_simulated_scoring_matches_the_app`` checks that
against ``counts_of`` and ``summarize`` on one sample. Seeds are fixed, so results are exact.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest

from analysis.intervals import SCORE_SCALE, Z95, effective_n, index_ci95, verdict
from analysis.scheme import Counts, Scheme
from questionnaires import DEFINITIONS_DIR, load

SIPAS = (0.0, 100.0)
PAPI8 = (8.0, 80.0)
DRAWS = 2000
NS = (5, 10, 30, 100)
MIN_COVERAGE = 0.93

Bounds = tuple[float, float]


# --------------------------------------------------------------------------------------------
# Helpers


def counts_of_scores(scores: Sequence[float]) -> Counts:
    """Counts holding respondent scores as the rollups do (integers, thousandths)."""
    milli = [round(s * SCORE_SCALE) for s in scores]
    return Counts(n_responses=len(milli), score_n=len(milli), score_sum=sum(milli),
                  score_sqsum=sum(m * m for m in milli))


def ci_of(scores: Sequence[float], bounds: Bounds = SIPAS) -> list[float]:
    ci = index_ci95(math.fsum(scores) / len(scores), counts_of_scores(scores), bounds)
    assert ci is not None
    return ci


def width(ci: Sequence[float]) -> float:
    return ci[1] - ci[0]


def linearised(value: float, counts: Counts, bounds: Bounds) -> list[float]:
    """The previous interval: value ± z·s/√n, clipped (analysis.scoring before this module)."""
    n = counts.score_n
    spread = max(n * counts.score_sqsum - counts.score_sum ** 2, 0)
    half = Z95 * math.sqrt(spread / (n * (n - 1)) / SCORE_SCALE ** 2 / n)
    return [max(bounds[0], value - half), min(bounds[1], value + half)]


def wilson_closed_form(s: int, n: int, z: float = Z95) -> list[float]:
    """Wilson's interval of s/n in percent, written as Newcombe (1998, method 3) does."""
    root = z * math.sqrt(z * z + 4 * s * (n - s) / n)
    return [100 * (2 * s + z * z + sign * root) / (2 * (n + z * z)) for sign in (-1, 1)]


class Cell:
    """Coverage and mean width of index_ci95 and of the old linearisation over many samples."""

    def __init__(self, values: np.ndarray, milli: np.ndarray, truth: float,
                 bounds: Bounds) -> None:
        draws, n = milli.shape
        sums = milli.sum(axis=1)
        sqsums = (milli * milli).sum(axis=1)
        hits = 0
        widths = 0.0
        for value, s, ss in zip(values.tolist(), sums.tolist(), sqsums.tolist(), strict=True):
            ci = index_ci95(value, Counts(n_responses=n, score_n=n, score_sum=s, score_sqsum=ss),
                            bounds)
            assert ci is not None
            assert ci[0] <= value <= ci[1]
            hits += ci[0] <= truth <= ci[1]
            widths += ci[1] - ci[0]
        self.n = n
        self.coverage = hits / draws
        self.width = widths / draws
        # The linearisation, vectorised (the same formula as linearised() above).
        sd = np.sqrt(milli.var(axis=1, ddof=1)) / SCORE_SCALE
        low = np.maximum(bounds[0], values - Z95 * sd / math.sqrt(n))
        high = np.minimum(bounds[1], values + Z95 * sd / math.sqrt(n))
        self.lin_coverage = float(np.mean((low <= truth) & (truth <= high)))
        self.lin_width = float(np.mean(high - low))

    def row(self, label: str) -> str:
        return (f"{label} n={self.n:<4} coverage {100 * self.coverage:5.1f} % width "
                f"{self.width:6.2f} | linearisation {100 * self.lin_coverage:5.1f} % width "
                f"{self.lin_width:6.2f}")


# --------------------------------------------------------------------------------------------
# SIPAS: the shipped sipas-dichvu form, 5 elements (4, 4, 5, 3, 3 items)


@cache
def sipas_dichvu() -> Scheme:
    return Scheme.from_questionnaire(load(DEFINITIONS_DIR / "sipas-dichvu" / "v1.yaml"))


def element_sizes() -> list[int]:
    return [len(g.items) for g in sipas_dichvu().groups]


def simulate_sipas(rng: np.random.Generator, mu: float, kappa: float, n: int,
                   draws: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return (index values, respondent scores in thousandths, answers) of ``draws`` samples.

    Respondent i has a propensity θ_i ~ Beta(μκ, (1 − μ)κ) and is satisfied with each item with
    probability θ_i, independently, so the true index is μ (× 100). Small κ: polarised
    respondents (satisfied with everything or nothing); large κ: nearly independent items.
    ``answers[e][j, d, i]`` is True when respondent i of sample d is satisfied with item j of
    element e.
    """
    # float32 uniforms: a third faster, and 2⁻²⁴ is far below anything that matters here.
    theta = rng.beta(mu * kappa, (1 - mu) * kappa, size=(draws, n)).astype(np.float32)
    answers = [rng.random((k, draws, n), dtype=np.float32) < theta for k in element_sizes()]
    # The index as summarize computes it: item rate 100·s/n, element = the mean of its item
    # rates, index = the mean of the elements.
    values = np.mean([(100 * a.mean(axis=2)).mean(axis=0) for a in answers], axis=0)
    # respondent_score: 100 × the mean over elements of the share of satisfied answers.
    shares = np.mean([a.sum(axis=0) / len(a) for a in answers], axis=0)
    milli = np.rint(100 * shares * SCORE_SCALE).astype(np.int64)
    return values, milli, answers


KAPPAS = (0.5, 2.0, 10.0, 100.0)
MUS = (0.6, 0.8, 0.95)


def sipas_cell(kappa: float, mu: float, n: int, draws: int = DRAWS) -> Cell:
    rng = np.random.default_rng([2024, round(10 * kappa), round(100 * mu), n, draws])
    values, milli, _ = simulate_sipas(rng, mu, kappa, n, draws)
    return Cell(values, milli, 100 * mu, SIPAS)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_sipas_coverage(kappa: float) -> None:
    cells = {(mu, n): sipas_cell(kappa, mu, n) for mu in MUS for n in NS}
    table = "\n".join(cell.row(f"κ={kappa:<5} truth={100 * mu:4.0f} %")
                      for (mu, _), cell in cells.items())
    assert all(c.coverage >= MIN_COVERAGE for c in cells.values()), table


@pytest.mark.parametrize("kappa", KAPPAS)
def test_sipas_width_at_n200_close_to_the_linearisation(kappa: float) -> None:
    for mu in MUS:
        cell = sipas_cell(kappa, mu, 200, draws=200)
        assert cell.width <= 1.5 * cell.lin_width, cell.row(f"κ={kappa} truth={100 * mu:.0f}")
        assert cell.width >= cell.lin_width * 0.98


# --------------------------------------------------------------------------------------------
# PAPI-style: the shipped papi-phuong form (8 dimensions, 28 sub-dimensions, 45 items)


@cache
def papi_phuong() -> Scheme:
    return Scheme.from_questionnaire(load(DEFINITIONS_DIR / "papi-phuong" / "v1.yaml"))


def papi_items() -> list[tuple[int, int, str, int, float, float]]:
    """(k of its dimension, sub-dimension index, id, levels, α, β) for every scored item.

    An answer scores b / (levels − 1) with b ~ Binomial(levels − 1, α·θ_i + β): the options of
    papi-phuong score 0, 1 or 0, ½, 1 or 0, ¼, …, 1, evenly spaced (checked here).
    """
    rng = np.random.default_rng(7)
    out = []
    sub = 0
    for g in papi_phuong().groups:
        for s in g.subgroups:
            for qid in s.items:
                scores = sorted({o.score for o in papi_phuong().options_of(qid).values()
                                 if o.score is not None})
                levels = len(scores)
                assert scores == [i / (levels - 1) for i in range(levels)]
                alpha = float(rng.uniform(0.4, 0.9))
                beta = float(rng.uniform(0.0, 0.8 * (1 - alpha)))
                out.append((len(g.subgroups), sub, qid, levels, alpha, beta))
            sub += 1
    return out


def papi_truth(mu: float) -> float:
    items = papi_items()
    total = 0.0
    for sub in sorted({it[1] for it in items}):
        mine = [it for it in items if it[1] == sub]
        x = statistics.fmean(alpha * mu + beta for *_, alpha, beta in mine)
        total += (1 + 9 * x) / mine[0][0]
    return total


def simulate_papi(rng: np.random.Generator, mu: float, kappa: float, n: int,
                  draws: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Return (index values, respondent scores in thousandths, answer scores per item)."""
    theta = rng.beta(mu * kappa, (1 - mu) * kappa, size=(draws, n))
    items = papi_items()
    # A Binomial(levels − 1, π) as a sum of uniforms below π: much faster than rng.binomial.
    answers = {qid: (rng.random((levels - 1, draws, n)) < alpha * theta + beta).mean(axis=0)
               for _, _, qid, levels, alpha, beta in items}
    values = np.zeros(draws)
    scores = np.zeros((draws, n))
    for sub in sorted({it[1] for it in items}):
        mine = [it for it in items if it[1] == sub]
        k = mine[0][0]
        # summarize: x_s = mean of the item means; respondent_score: their own mean there.
        x_index = np.mean([answers[it[2]].mean(axis=1) for it in mine], axis=0)
        x_resp = np.mean([answers[it[2]] for it in mine], axis=0)
        values += (1 + 9 * x_index) / k
        scores += (1 + 9 * x_resp) / k
    return values, np.rint(scores * SCORE_SCALE).astype(np.int64), answers


PAPI_KAPPAS = (1.0, 3.0, 10.0)


def papi_cell(kappa: float, mu: float, n: int, draws: int = DRAWS) -> Cell:
    rng = np.random.default_rng([808, round(10 * kappa), round(100 * mu), n, draws])
    values, milli, _ = simulate_papi(rng, mu, kappa, n, draws)
    return Cell(values, milli, papi_truth(mu), PAPI8)


@pytest.mark.parametrize("kappa", PAPI_KAPPAS)
def test_papi_coverage_and_width(kappa: float) -> None:
    # κ = 1, 3, 10: respondent scores with a standard deviation of about 17, 13 and 9 points.
    cells = {n: papi_cell(kappa, 0.5, n, draws=1000) for n in NS}
    table = "\n".join(c.row(f"PAPI κ={kappa:<4}") for c in cells.values())
    assert all(c.coverage >= MIN_COVERAGE for c in cells.values()), table
    big = papi_cell(kappa, 0.5, 200, draws=200)
    assert big.lin_width * 0.98 <= big.width <= 1.5 * big.lin_width, big.row("PAPI")


def same_scores(scheme: Scheme, responses: list[dict[str, int]], milli: np.ndarray) -> bool:
    """Whether the app scores each respondent as the simulation did, in thousandths.

    Up to 1: a PAPI-style score can fall on an exact half-thousandth, where the order of the
    floating-point additions decides how it rounds.
    """
    from analysis.scoring import respondent_score_milli

    app = [respondent_score_milli(scheme, r) for r in responses]
    return all(a is not None and abs(a - m) <= 1 for a, m in zip(app, milli[0].tolist(),
                                                               strict=True))


def test_simulated_scoring_matches_the_app() -> None:
    from analysis.scoring import counts_of, summarize

    rng = np.random.default_rng(1)
    values, milli, answers = simulate_sipas(rng, 0.7, 2.0, 7, 1)
    responses = [{q: 4 if a[j, 0, i] else 2
                  for g, a in zip(sipas_dichvu().groups, answers, strict=True)
                  for j, q in enumerate(g.items)} for i in range(7)]
    counts = counts_of(sipas_dichvu(), responses)
    assert summarize(sipas_dichvu(), counts)["index"]["value"] == pytest.approx(values[0])
    assert (counts.score_sum, counts.score_sqsum) == (int(milli.sum()), int((milli ** 2).sum()))
    assert same_scores(sipas_dichvu(), responses, milli)

    values, milli, papi_answers = simulate_papi(rng, 0.5, 3.0, 6, 1)
    scheme = papi_phuong()
    code_of = {qid: {o.score: code for code, o in list(scheme.options_of(qid).items())[::-1]}
               for qid in papi_answers}
    responses = [{qid: code_of[qid][float(a[0, i])] for qid, a in papi_answers.items()}
                 for i in range(6)]
    counts = counts_of(scheme, responses)
    assert summarize(scheme, counts)["index"]["value"] == pytest.approx(values[0])
    assert counts.score_n == 6
    assert same_scores(scheme, responses, milli)


# --------------------------------------------------------------------------------------------
# Edge cases


def test_constants_match_scoring() -> None:
    from analysis import scoring

    assert statistics.NormalDist().inv_cdf(0.975) == Z95 == scoring.Z95
    assert f"{Z95:.15f}" == "1.959963984540054"
    assert scoring.SCORE_SCALE == SCORE_SCALE


def test_no_index_no_interval() -> None:
    assert index_ci95(None, counts_of_scores([80.0]), SIPAS) is None
    assert index_ci95(80.0, Counts(), SIPAS) is None


def test_one_response_is_wide_not_none() -> None:
    low, high = ci_of([100.0])
    assert high == 100.0
    assert low == pytest.approx(100 / (1 + Z95 ** 2))  # 20.7
    low, high = ci_of([80.0])
    assert low < 30
    assert high > 95
    low, high = ci_of([50.0], PAPI8)
    assert 8 < low < 50 < high < 80
    assert high - low > 50


def test_two_fully_satisfied_is_not_a_point() -> None:
    low, high = ci_of([100.0, 100.0])
    assert high == 100.0
    assert low < 70
    assert low == pytest.approx(100 * 2 / (2 + Z95 ** 2))  # 34.2, Wilson's 2 of 2


@pytest.mark.parametrize("n", [1, 2, 5, 30, 1000])
def test_all_at_the_top_or_bottom_is_wilson(n: int) -> None:
    assert ci_of([100.0] * n) == pytest.approx(wilson_closed_form(n, n))
    assert ci_of([0.0] * n) == pytest.approx(wilson_closed_form(0, n))
    assert ci_of([0.0] * n)[0] == 0.0
    papi = ci_of([80.0] * n, PAPI8)
    assert papi[1] == 80.0
    assert papi[0] == pytest.approx(8 + 0.72 * wilson_closed_form(n, n)[0])


def test_yes_no_respondents_give_the_wilson_interval() -> None:
    # Scores only 0 or 100: the respondents are Bernoulli trials and n_eff = n.
    for s, n in [(1, 2), (3, 4), (7, 10), (29, 30), (150, 200)]:
        assert ci_of([100.0] * s + [0.0] * (n - s)) == pytest.approx(wilson_closed_form(s, n))


@pytest.mark.parametrize("n", [2, 5, 30, 200, 5000])
def test_equal_interior_scores_are_not_a_point(n: int) -> None:
    low, high = ci_of([80.0] * n)
    assert low < 80 < high
    assert high - low > 2 / n  # about 115 / n: shrinks like 1/n, not like 1/√n
    low, high = ci_of([44.0] * n, PAPI8)
    assert low < 44 < high


def test_more_responses_of_the_same_pattern_narrow_the_interval() -> None:
    for pattern, bounds in [([100.0], SIPAS), ([80.0], SIPAS), ([100.0, 100.0, 60.0], SIPAS),
                            ([90.0, 73.4, 100.0, 55.0], SIPAS), ([0.0, 100.0], SIPAS),
                            ([40.5, 52.0, 33.25], PAPI8)]:
        widths = [width(ci_of(pattern * k, bounds)) for k in (1, 2, 3, 5, 10, 30, 100)]
        assert all(a > b > 0 for a, b in zip(widths, widths[1:], strict=False)), widths


def test_large_samples_agree_with_the_linearisation() -> None:
    rng = np.random.default_rng(3)
    for bounds, scores in [(SIPAS, 100 * rng.beta(4, 1, size=2000)),
                           (PAPI8, 8 + 72 * rng.beta(20, 18, size=2000))]:
        counts = counts_of_scores(scores.tolist())
        value = float(scores.mean())
        new = index_ci95(value, counts, bounds)
        assert new is not None
        assert width(new) == pytest.approx(width(linearised(value, counts, bounds)), rel=0.02)


def test_interval_contains_the_value_and_stays_in_bounds() -> None:
    rng = np.random.default_rng(11)
    for bounds in (SIPAS, PAPI8, (2.0, 20.0)):
        lower, upper = bounds
        for n in (1, 2, 3, 5, 10, 50, 400):
            for a, b in ((0.3, 0.3), (5, 1), (1, 5), (50, 2), (0.05, 0.01)):
                scores = (lower + (upper - lower) * rng.beta(a, b, size=n)).tolist()
                value = math.fsum(scores) / n
                ci = ci_of(scores, bounds)
                assert lower <= ci[0] <= value <= ci[1] <= upper
                assert ci[0] < ci[1]
                assert (ci[0] < value) == (value > lower)
                assert (value < ci[1]) == (value < upper)


def test_wider_z_gives_a_wider_interval() -> None:
    counts = counts_of_scores([80.0, 90.0, 100.0])
    narrow = index_ci95(90.0, counts, SIPAS, z=1.0)
    wide = index_ci95(90.0, counts, SIPAS, z=3.0)
    normal = index_ci95(90.0, counts, SIPAS)
    assert narrow is not None
    assert wide is not None
    assert normal is not None
    assert width(narrow) < width(normal) < width(wide)


def test_effective_n_is_at_least_n() -> None:
    for scores in ([100.0, 0.0], [60.0, 60.0, 60.0], [10.0, 90.0, 50.0, 70.0]):
        counts = counts_of_scores(scores)
        p = math.fsum(scores) / len(scores) / 100
        assert effective_n(p, counts, 100.0) >= len(scores)


def test_rejects_a_value_outside_its_range_or_an_empty_range() -> None:
    counts = counts_of_scores([50.0])
    with pytest.raises(ValueError, match="outside"):
        index_ci95(101.0, counts, SIPAS)
    with pytest.raises(ValueError, match="outside"):
        index_ci95(5.0, counts, PAPI8)
    with pytest.raises(ValueError, match="range"):
        index_ci95(50.0, counts, (100.0, 100.0))
    # A value off by rounding only is accepted and kept inside its interval.
    ci = index_ci95(100.0 + 1e-12, counts_of_scores([100.0]), SIPAS)
    assert ci is not None
    assert ci[0] < 100.0 <= ci[1]


# --------------------------------------------------------------------------------------------
# Verdict (contract §8)


@pytest.mark.parametrize(("ci", "target", "expected"), [
    ([80.0, 90.0], 80.0, "met"),
    ([80.1, 90.0], 80.0, "met"),
    ([79.9, 90.0], 80.0, "undecided"),
    ([70.0, 80.0], 80.0, "undecided"),
    ([70.0, 79.9], 80.0, "not_met"),
    ([34.2, 100.0], 80.0, "undecided"),
    ([40.0, 50.0], 45.0, "undecided"),
    ([40.0, 50.0], None, None),
    (None, 80.0, None),
    (None, None, None),
])
def test_verdict(ci: list[float] | None, target: float | None, expected: str | None) -> None:
    assert verdict(ci, target) == expected


def test_two_fully_satisfied_respondents_do_not_meet_80() -> None:
    assert verdict(ci_of([100.0, 100.0]), 80.0) == "undecided"
    assert verdict(ci_of([100.0] * 30), 80.0) == "met"
