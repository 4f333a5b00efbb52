"""The plan's service indicators of a report's units and period, beside satisfaction.

The figures are those typed or imported on ``/staff/indicators`` (services/indicators.py);
here they are summed over the period (ratios from sums, never averaged percentages) and
set against the plan's targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from analysis.indicators import RATIOS, Figures, Month, met, ratios, total

from ..models import Unit
from ..services.indicators import figures_for, overall
from .db import Db
from .filters import Filters
from .settings import Settings


@dataclass(frozen=True)
class IndicatorRow:
    """One ratio of the period: its value, what it divides, its target and the verdict."""

    name: str
    value: float | None
    numerator: int
    denominator: int
    target: float | None
    met: bool | None


@dataclass(frozen=True)
class ServiceFigures:
    """The period's figures by month and in all, and each ratio against its target."""

    by_month: dict[Month, Figures]
    whole: Figures
    rows: list[IndicatorRow]


def service_figures(session: Db, filters: Filters, settings: Settings
                    ) -> ServiceFigures | None:
    """Return the service indicators of the filters' units and months; None without figures.

    Counters and the ward report them; with no unit chosen, every counter and ward counts;
    without days, every month up to this one.
    """
    units = [u for u in filters.units if u.kind in ("counter", "ward")]
    if not filters.units:
        units = list(session.scalars(sa.select(Unit).where(Unit.kind.in_(("counter", "ward")))))
    if not units:
        return None
    first = Month.of(filters.date_from) if filters.date_from else Month(2000, 1)
    last = Month.of(filters.date_to) if filters.date_to else Month.current()
    by_month = overall(units, figures_for(units, first, last))
    if not by_month:
        return None
    whole = total(by_month.values())
    computed = ratios(whole)
    rows = []
    for name in RATIOS:
        ratio = computed[name]
        goal = settings.indicator_targets.get(name)
        rows.append(IndicatorRow(name, ratio.value, ratio.numerator, ratio.denominator, goal,
                                 met(ratio.value, goal)))
    return ServiceFigures(dict(sorted(by_month.items())), whole, rows)
