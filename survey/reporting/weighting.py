"""Response rates and the index weighted by dossier volume (post-stratification).

A counter that serves many citizens but hands out few forms weighs too little in the plain
index. With the dossiers each counter received each month (the service indicators), every
response of cell c = (counter, month) gets the weight

    w_c = (D_c / ΣD) / (n_c / Σn)

(its cell's share of dossiers over its share of responses, among the cells that have both),
and the weighted index is the index of the weighted counts. Equal response rates give every
weight 1, so the weighted index is the plain one. The weights enter as whole multiplicities
(``round(1000 w_c)``), so the scoring stays that of ``analysis.scoring``; the interval is the
plain index's, widened by Kish's design effect 1 + CV² of the weights and centred on the
weighted value: an approximation, said so in the method note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.scoring import Counts, Scheme, summarize

from .db import Db
from .filters import Filters
from .service import figures_for, months_of

SCALE = 1000
"""Weights are rounded to thousandths, as whole multiplicities of each cell's counts."""

Cell = tuple[int, str]
"""A stratum: (unit id, month ``YYYY-MM``)."""


def dossiers(session: Db, filters: Filters) -> dict[Cell, int]:
    """Return the dossiers received per (unit, month) in the filters' months and units.

    Read as the indicators page reads them (``service.figures_for``).
    """
    first, last = months_of(filters)
    return {(unit_id, month.iso): figures.received for (unit_id, month), figures
            in figures_for(session, filters.unit_ids(), first, last).items()}


def _scaled(counts: Counts, factor: int) -> Counts:
    return Counts(n_responses=counts.n_responses * factor,
                  options={k: v * factor for k, v in counts.options.items()},
                  groups={k: v * factor for k, v in counts.groups.items()},
                  score_n=counts.score_n * factor, score_sum=counts.score_sum * factor,
                  score_sqsum=counts.score_sqsum * factor)


@dataclass(frozen=True)
class Weighted:
    """The weighted index, its weights and how much of the data they cover."""

    value: float | None
    ci95: list[float] | None
    groups: dict[str, float | None]
    weights: dict[Cell, float]
    design_effect: float
    responses_covered: float
    dossiers_covered: float

    def block(self) -> dict[str, Any]:
        """Return the summary JSON's ``"weighted"`` block."""
        return {"value": self.value, "ci95": self.ci95,
                "groups": [{"id": k, "value": v} for k, v in self.groups.items()],
                "design_effect": self.design_effect,
                "responses_covered": self.responses_covered,
                "dossiers_covered": self.dossiers_covered,
                "cells": len(self.weights)}


def weighted(scheme: Scheme, cells: Mapping[Cell, Counts], volume: Mapping[Cell, int], *,
             plain: tuple[float | None, list[float] | None] = (None, None),
             aggregation: str = "mean_of_items") -> Weighted | None:
    """Return the index of ``cells`` weighted by ``volume``; None when no cell has both.

    ``plain`` is the unweighted index and its interval: the weighted interval keeps its
    shape, moved to the weighted value and widened by the square root of the design effect.
    """
    covered = {c: counts for c, counts in cells.items()
               if counts.n_responses > 0 and volume.get(c, 0) > 0}
    if not covered:
        return None
    n_all = sum(counts.n_responses for counts in covered.values())
    d_all = sum(volume[c] for c in covered)
    weights = {c: (volume[c] / d_all) / (counts.n_responses / n_all)
               for c, counts in covered.items()}
    total = Counts()
    for c, counts in covered.items():
        total = total + _scaled(counts, max(1, round(SCALE * weights[c])))
    result = summarize(scheme, total, aggregation=aggregation)  # type: ignore[arg-type]
    # Kish: 1 + CV² of the respondents' weights.
    mean_square = sum(covered[c].n_responses * w * w for c, w in weights.items()) / n_all
    design_effect = mean_square  # the weights average 1 over respondents
    value = result["index"]["value"]
    ci95 = None
    plain_value, plain_ci95 = plain
    if value is not None and plain_value is not None and plain_ci95:
        widen = math.sqrt(design_effect)
        ci95 = [value - (plain_value - plain_ci95[0]) * widen,
                value + (plain_ci95[1] - plain_value) * widen]
    return Weighted(value=value, ci95=ci95,
                    groups={g["id"]: g["value"] for g in result["groups"]},
                    weights=weights, design_effect=design_effect,
                    responses_covered=n_all / max(1, sum(c.n_responses for c in cells.values())),
                    dossiers_covered=d_all / max(1, sum(volume.values())))


def response_rates(cells: Mapping[Cell, Counts], volume: Mapping[Cell, int]
                   ) -> dict[Cell, tuple[int, int | None, float | None]]:
    """Return (responses, dossiers, responses ÷ dossiers in %) for every cell with either."""
    rates: dict[Cell, tuple[int, int | None, float | None]] = {}
    for cell in sorted(set(cells) | set(volume)):
        n = cells[cell].n_responses if cell in cells else 0
        d = volume.get(cell)
        rates[cell] = (n, d, 100 * n / d if d else None)
    return rates
