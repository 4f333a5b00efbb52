"""Scoring of contract §6: SIPAS satisfaction rates and PAPI-style governance scores.

Everything here is a pure function of a :class:`Scheme` (what a questionnaire scores and how)
and a :class:`Counts` (integers tallied from the answers). Counts are integers so that cells
(days, units, channels) can be summed in any order, by Python or by SQL, and give exactly the
same summary; :func:`summarize` then walks the questionnaire in a fixed order and uses
``math.fsum`` so that identical Counts give bit-identical JSON. (Both classes live in
:mod:`analysis.scheme` and are re-exported here, where callers import them from.)

Methods (the section of the method each formula implements is named in its docstring):

* SIPAS (contract §6.1, domain.md §5.1): item rate ``S_i = 100 × s_i / n_i`` with its Wilson
  95 % interval; element (yếu tố) value = unweighted mean of its item rates
  (``aggregation="mean_of_items"``, the default) or the pooled rate ``100 × Σs_i / Σn_i``
  (``aggregation="pooled"``, the documented alternative); index = unweighted mean of the
  element values.
* PAPI-style (contract §6.2, domain.md §6.5): item mean score in [0, 1]; sub-dimension value
  ``(1 + 9 x_s) / k`` with ``x_s`` the mean of its item means and ``k`` the number of
  sub-dimensions of its dimension; dimension value = sum of its sub-dimensions (1–10); index =
  sum of the dimensions. Any sub-dimension without data makes its dimension and the index null.

Confidence interval of the index: a **Wilson score interval with a Korn–Graubard effective
sample size and an end-padded variance** (:func:`analysis.intervals.index_ci95`, whose docstring
gives the formula). Each respondent gets a score on the index's own scale
(:func:`respondent_score`: SIPAS, the mean over elements of the share of their counted answers
that are satisfied, × 100; PAPI, the sum over sub-dimensions of ``(1 + 9 x) / k`` with ``x``
their own mean score there); the interval needs only three integer sums of these scores
(``score_n``, ``score_sum``, ``score_sqsum``, in thousandths of a point), so it merges across
cells like the other counts, and it never collapses to a point for small ``n``.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Literal, NamedTuple

from .intervals import SCORE_SCALE, Z95, index_ci95, verdict
from .scheme import (
    SIPAS_RANGE,
    Counts,
    IndexKind,
    Scheme,
    SchemeGroup,
    SchemeSubgroup,
    ScoredOption,
)

Aggregation = Literal["mean_of_items", "pooled"]
AGGREGATIONS: tuple[Aggregation, ...] = ("mean_of_items", "pooled")
Answers = Mapping[str, int | str]

def default_filters() -> dict[str, Any]:
    """Return the filters echoed when none are given (contract §6)."""
    return {"from": None, "to": None, "units": [], "channels": []}


# --------------------------------------------------------------------------------------------
# Method formulas


def wilson_interval(successes: int, n: int, z: float = Z95) -> list[float] | None:
    """Return the Wilson score interval of ``successes / n``, in percent, or None when n == 0.

    Contract §6.1 (item ``rate_ci95``)::

        p = s / n,  centre = (p + z²/2n) / (1 + z²/n)
        half = z · √(p(1 − p)/n + z²/4n²) / (1 + z²/n)
        [100 (centre − half), 100 (centre + half)]

    The ends are exactly 0 when s = 0 and 100 when s = n (the formula gives them only up to
    rounding), so the interval always contains the rate.
    """
    if n == 0:
        return None
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, 100 * (centre - half))
    high = 100.0 if successes == n else min(100.0, 100 * (centre + half))
    return [low, high]


def item_satisfaction_rate(satisfied: int, n: int) -> float | None:
    """Return ``S_i = 100 × s_i / n_i`` (contract §6.1, domain.md §5.1), None when n == 0."""
    # 100 * s is an exact integer, and int / int is correctly rounded.
    return 100 * satisfied / n if n else None


def element_rate_mean_of_items(rates: Sequence[float]) -> float | None:
    """Return ``E_k = mean(S_i)`` over the items with data (contract §6.1), None if none."""
    return math.fsum(rates) / len(rates) if rates else None


def pooled_rate(satisfied_sum: int, n_sum: int) -> float | None:
    """Return the pooled element rate ``100 × Σs_i / Σn_i`` (domain.md §5.1), None if Σn = 0."""
    return item_satisfaction_rate(satisfied_sum, n_sum)


def papi_subgroup_value(x: float | None, k: int) -> float | None:
    """Return a sub-dimension's value ``(1 + 9 x_s) / k`` (contract §6.2, domain.md §6.5)."""
    return None if x is None else (1 + 9 * x) / k


def sipas_index(group_values: Sequence[float | None]) -> float | None:
    """Return the SIPAS index: the unweighted mean of the elements with a value (§6.1)."""
    values = [v for v in group_values if v is not None]
    return math.fsum(values) / len(values) if values else None


def papi_sum(values: Sequence[float | None]) -> float | None:
    """Return the sum of PAPI values (dimension or index, §6.2), None when any is None."""
    if any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None)


# --------------------------------------------------------------------------------------------
# One respondent


def _code_of(value: object) -> int | None:
    """Return the option code of an answer, or None for text, blanks and booleans."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def _counted_option(scheme: Scheme, question_id: str, value: object) -> ScoredOption | None:
    code = _code_of(value)
    if code is None:
        return None
    opt = scheme.option(question_id, code)
    return opt if opt is not None and opt.score is not None else None


def counted(scheme: Scheme, question_id: str, code: int) -> bool:
    """Return whether an answer counts: the option exists and its score is not None."""
    return _counted_option(scheme, question_id, code) is not None


def _counted_in(scheme: Scheme, items: Iterable[str], answers: Answers) -> Iterator[ScoredOption]:
    for qid in items:
        opt = _counted_option(scheme, qid, answers.get(qid))
        if opt is not None:
            yield opt


def respondent_score(scheme: Scheme, answers: Answers) -> float | None:
    """Return one respondent's score on the index scale (for the index interval).

    SIPAS: for each element where the respondent has ``c_g > 0`` counted answers, ``s_g`` of
    them satisfied, ``r_g = s_g / c_g``; the score is ``100 × mean(r_g)``, None without any
    counted answer. PAPI: for each sub-dimension, ``x`` = the respondent's mean score over
    their counted answers there, value ``(1 + 9x) / k``; the score is the sum over every
    sub-dimension, None when the respondent has no counted answer in some sub-dimension.
    """
    if scheme.index == "sipas":
        shares: list[float] = []
        for g in scheme.groups:
            opts = list(_counted_in(scheme, g.items, answers))
            if opts:
                shares.append(sum(o.satisfied for o in opts) / len(opts))
        return 100 * math.fsum(shares) / len(shares) if shares else None
    parts: list[float] = []
    for g in scheme.groups:
        k = len(g.subgroups)
        for s in g.subgroups:
            scores = [o.score for o in _counted_in(scheme, s.items, answers)
                      if o.score is not None]
            if not scores:
                return None
            parts.append((1 + 9 * (math.fsum(scores) / len(scores))) / k)
    return math.fsum(parts)


def respondent_score_milli(scheme: Scheme, answers: Answers) -> int | None:
    """Return :func:`respondent_score` in thousandths, ``round(score × SCORE_SCALE)``."""
    score = respondent_score(scheme, answers)
    return None if score is None else round(score * SCORE_SCALE)


@functools.cache
def low_pairs(scheme: Scheme) -> frozenset[tuple[str, int]]:
    """Return the (question, option) pairs that are a low rating.

    That is a score of 1 or 2 of a SIPAS item (none for other indices): the responses staff
    follow up.
    """
    if scheme.index != "sipas":
        return frozenset()
    return frozenset((entry["id"], option["code"]) for entry in scheme.codebook
                     if entry["group"] for option in entry["options"]
                     if option["score"] is not None and option["score"] <= 2)


def is_low(scheme: Scheme, answers: Answers) -> bool:
    """Return whether a response rated any SIPAS item 1 or 2 (see :func:`low_pairs`)."""
    pairs = low_pairs(scheme)
    return any((qid, value) in pairs for qid, value in answers.items()
               if isinstance(value, int))


def counted_groups(scheme: Scheme, answers: Answers) -> set[str]:
    """Return the ids of the groups and subgroups where the respondent has a counted answer."""
    found: set[str] = set()
    for g in scheme.groups:
        if any(True for _ in _counted_in(scheme, g.items, answers)):
            found.add(g.id)
        for s in g.subgroups:
            if any(True for _ in _counted_in(scheme, s.items, answers)):
                found.add(s.id)
    return found


def counts_of(scheme: Scheme, responses: Iterable[Answers]) -> Counts:
    """Tally raw answers (question id -> option code, or text) into Counts.

    Every known option code of a choice question is counted in ``options``, including the
    null-scored ones ("không có ý kiến") and those of unscored profile questions; text
    answers, unknown questions and unknown codes are left out.
    """
    n = 0
    options: Counter[tuple[str, int]] = Counter()
    groups: Counter[str] = Counter()
    score_n = score_sum = score_sqsum = 0
    for answers in responses:
        n += 1
        for qid, value in answers.items():
            code = _code_of(value)
            if code is not None and scheme.option(qid, code) is not None:
                options[(qid, code)] += 1
        groups.update(counted_groups(scheme, answers))
        milli = respondent_score_milli(scheme, answers)
        if milli is not None:
            score_n += 1
            score_sum += milli
            score_sqsum += milli * milli
    return Counts(n, options, groups, score_n, score_sum, score_sqsum)


# --------------------------------------------------------------------------------------------
# The summary (contract §6)


class _Tally(NamedTuple):
    n: int
    satisfied: int
    products: list[float]  # score × count per counted option, in codebook order

    @property
    def mean(self) -> float | None:
        return math.fsum(self.products) / self.n if self.n else None


def _tally(scheme: Scheme, counts: Counts, question_id: str) -> _Tally:
    n = satisfied = 0
    products: list[float] = []
    for code, opt in scheme.options_of(question_id).items():
        if opt.score is None:
            continue
        k = counts.options.get((question_id, code), 0)
        n += k
        satisfied += k if opt.satisfied else 0
        products.append(opt.score * k)
    return _Tally(n, satisfied, products)


def _sipas_group(scheme: Scheme, counts: Counts, g: SchemeGroup, aggregation: Aggregation,
                 z: float) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    rates: list[float] = []
    satisfied_sum = n_sum = 0
    for qid in g.items:
        t = _tally(scheme, counts, qid)
        rate = item_satisfaction_rate(t.satisfied, t.n)
        items.append({"id": qid, "n": t.n, "satisfied": t.satisfied, "rate": rate,
                      "rate_ci95": wilson_interval(t.satisfied, t.n, z), "mean": t.mean})
        if rate is not None:
            rates.append(rate)
        satisfied_sum += t.satisfied
        n_sum += t.n
    value = (element_rate_mean_of_items(rates) if aggregation == "mean_of_items"
             else pooled_rate(satisfied_sum, n_sum))
    return {"id": g.id, "label": g.label, "value": value, "n": counts.groups.get(g.id, 0),
            "subgroups": [], "items": items}


def _papi_group(scheme: Scheme, counts: Counts, g: SchemeGroup,
                aggregation: Aggregation) -> dict[str, Any]:
    k = len(g.subgroups)
    subgroups: list[dict[str, Any]] = []
    for s in g.subgroups:
        items: list[dict[str, Any]] = []
        means: list[float] = []
        products: list[float] = []
        n_sum = 0
        for qid in s.items:
            t = _tally(scheme, counts, qid)
            items.append({"id": qid, "n": t.n, "satisfied": None, "rate": None,
                          "rate_ci95": None, "mean": t.mean})
            if t.mean is not None:
                means.append(t.mean)
            products.extend(t.products)
            n_sum += t.n
        if aggregation == "mean_of_items":
            x = math.fsum(means) / len(means) if means else None
        else:
            # The PAPI analogue of the pooled SIPAS rate: every valid answer weighs the same.
            x = math.fsum(products) / n_sum if n_sum else None
        subgroups.append({"id": s.id, "label": s.label, "value": papi_subgroup_value(x, k),
                          "n": counts.groups.get(s.id, 0), "items": items})
    return {"id": g.id, "label": g.label,
            "value": papi_sum([s["value"] for s in subgroups]),
            "n": counts.groups.get(g.id, 0), "subgroups": subgroups, "items": []}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, Iterable):
        return [_jsonable(v) for v in value]
    return value


def echo_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the ``filters`` object of a summary: the defaults overlaid with ``filters``.

    Dates become ISO strings and sets sorted lists, so the echo is valid JSON.
    """
    out = default_filters()
    for key, value in (filters or {}).items():
        out[key] = _jsonable(value)
    return out


def summarize(scheme: Scheme, counts: Counts, filters: Mapping[str, Any] | None = None, *,
              aggregation: Aggregation = "mean_of_items", z: float = Z95,
              target: float | None = None, n_excluded: int = 0,
              codebook: bool = True) -> dict[str, Any]:
    """Return the summary JSON of contract §6 and §8 (unrounded floats, None without data).

    ``codebook=False`` leaves the codebook out (an empty list): a breakdown of hundreds of
    cells needs the values, not a copy of the codebook for each cell.

    ``aggregation`` chooses the SIPAS element value: ``"mean_of_items"`` (the contract's
    unweighted mean of item rates) or ``"pooled"`` (``100 × Σs / Σn``, domain.md §5.1). For PAPI
    it chooses ``x_s`` likewise: the mean of item means, or the mean of all valid answers of
    the sub-dimension. Reports must say which one they used. ``target`` is the target in force
    (its verdict follows the index's interval, :func:`analysis.intervals.verdict`);
    ``n_excluded`` the responses that passed the filters but were excluded by staff.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
    if scheme.index == "sipas":
        groups = [_sipas_group(scheme, counts, g, aggregation, z) for g in scheme.groups]
        value = sipas_index([g["value"] for g in groups])
    else:
        groups = [_papi_group(scheme, counts, g, aggregation) for g in scheme.groups]
        value = papi_sum([g["value"] for g in groups])
    ci95 = index_ci95(value, counts, scheme.index_range, z)
    return {
        "questionnaire": {"id": scheme.id, "version": scheme.version, "index": scheme.index},
        "filters": echo_filters(filters),
        "n_responses": counts.n_responses,
        "index": {"value": value, "ci95": ci95},
        "target": {"value": target, "verdict": verdict(ci95, target)},
        "n_excluded": n_excluded,
        "groups": groups,
        # Copies: a caller editing the summary must not edit the scheme.
        "codebook": [copy.deepcopy(e) for e in scheme.codebook] if codebook else [],
    }


def option_distribution(scheme: Scheme, counts: Counts, question_id: str) -> list[dict[str, Any]]:
    """Return the answers per option of one question, in codebook order (profile tables).

    Each row is ``{"code", "n", "share"}`` with ``share`` in percent of the answers given to
    that question (None when nobody answered); unscored questions have no other summary.
    """
    codes = list(scheme.options_of(question_id))
    ns = [counts.options.get((question_id, c), 0) for c in codes]
    total = sum(ns)
    return [{"code": c, "n": k, "share": 100 * k / total if total else None}
            for c, k in zip(codes, ns, strict=True)]


__all__ = [
    "AGGREGATIONS",
    "SCORE_SCALE",
    "Z95",
    "Aggregation",
    "Answers",
    "Counts",
    "IndexKind",
    "SIPAS_RANGE",
    "Scheme",
    "SchemeGroup",
    "SchemeSubgroup",
    "ScoredOption",
    "counted",
    "counted_groups",
    "counts_of",
    "default_filters",
    "echo_filters",
    "element_rate_mean_of_items",
    "item_satisfaction_rate",
    "option_distribution",
    "papi_subgroup_value",
    "papi_sum",
    "pooled_rate",
    "index_ci95",
    "respondent_score",
    "respondent_score_milli",
    "sipas_index",
    "summarize",
    "verdict",
    "wilson_interval",
]
