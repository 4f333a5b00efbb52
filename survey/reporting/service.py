"""The plan's service indicators of a report's units and period, beside satisfaction.

The figures are those typed or imported on ``/staff/indicators`` (services/indicators.py
stores and checks them); here they are read (a unit's row for all fields is its total, else
its rows for single fields add up), summed over the period (ratios from sums, never averaged
percentages) and set against the plan's targets.
"""


from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from analysis.indicators import (
    NOTHING,
    RATIOS,
    Figures,
    Month,
    floor_tenth,
    met,
    ratios,
    total,
)

from ..models import ServiceIndicator, Unit
from .db import Db
from .filters import Filters
from .settings import Settings

ALL_FIELDS = 0
"""The ``field`` of a unit's row for all fields: its month's total."""


@dataclass(frozen=True)
class IndicatorRow:
    """One ratio of the period: its value, what it divides, its target and the verdict."""

    name: str
    value: float | None
    numerator: int
    denominator: int
    target: float | None
    met: bool | None

    @property
    def shown(self) -> float | None:
        """Return the value as shown: rounded down to a tenth (never above the ratio)."""
        return floor_tenth(self.value)


@dataclass(frozen=True)
class ServiceFigures:
    """The period's figures by month and in all, and each ratio against its target."""

    by_month: dict[Month, Figures]
    whole: Figures
    rows: list[IndicatorRow]


def indicator_rows(session: Db, unit_ids: Sequence[int] | None, first: Month, last: Month
                   ) -> Sequence[ServiceIndicator]:
    """Return the stored rows of ``unit_ids`` (None: every unit) in the months asked."""
    if unit_ids is not None and not unit_ids or first > last:
        return []
    period = ServiceIndicator.year * 12 + ServiceIndicator.month - 1
    query = sa.select(ServiceIndicator).where(period.between(first.index, last.index))
    if unit_ids is not None:
        query = query.where(ServiceIndicator.unit_id.in_(unit_ids))
    return session.scalars(query).all()


def figures_for(session: Db, unit_ids: Sequence[int] | None, first_month: Month,
                last_month: Month) -> dict[tuple[int, Month], Figures]:
    """Return each unit's figures in all fields, by (unit id, month), for the months asked.

    A unit's row of field 0 is its total; without one, its rows of single fields are added
    up. Units and months without figures are absent.
    """
    whole: dict[tuple[int, Month], Figures] = {}
    parts: dict[tuple[int, Month], Figures] = {}
    for row in indicator_rows(session, unit_ids, first_month, last_month):
        key = (row.unit_id, Month(row.year, row.month))
        if row.field == ALL_FIELDS:
            whole[key] = Figures.of(row)
        else:
            parts[key] = parts.get(key, NOTHING) + Figures.of(row)
    return {**parts, **whole}


def overall(units: Sequence[Unit], figures: Mapping[tuple[int, Month], Figures]
            ) -> dict[Month, Figures]:
    """Return the figures of ``units`` together, by month, without counting anything twice.

    A ward's own row stands for the ward (its counters are part of it); a counter counts
    in the months its ward has no row of its own, or when its ward is not among ``units``.
    """
    wards = {u.id for u in units if u.kind == "ward"}
    ward_of: dict[int, int | None] = {}
    for unit in units:
        if unit.kind != "ward":
            ward = unit.ward
            ward_of[unit.id] = ward.id if ward is not None else None
    result: dict[Month, Figures] = {}
    for (unit_id, month), item in figures.items():
        if unit_id not in wards:
            ward_id = ward_of.get(unit_id)
            if ward_id in wards and (ward_id, month) in figures:
                continue  # the ward's own row counts this counter's dossiers
        result[month] = result.get(month, NOTHING) + item
    return result


def months_of(filters: Filters) -> tuple[Month, Month]:
    """Return the first and last month of the filters' days (open ends: 2000 to now)."""
    first = Month.of(filters.date_from) if filters.date_from else Month(2000, 1)
    last = Month.of(filters.date_to) if filters.date_to else Month.current()
    return first, last


def service_figures(session: Db, filters: Filters, settings: Settings
                    ) -> ServiceFigures | None:
    """Return the service indicators of the filters' units and months; None without figures.

    Counters and the ward report them; a ward chosen counts with its counters, and with no
    unit chosen every counter and ward within the account's scope counts;
    without days, every month up to this one.
    """
    query = sa.select(Unit).where(Unit.kind.in_(("counter", "ward"))).order_by(Unit.code)
    ids = filters.unit_ids()
    if ids is not None:
        query = query.where(Unit.id.in_(ids))
    units = list(session.scalars(query))
    if not units:
        return None
    first, last = months_of(filters)
    by_month = overall(units, figures_for(session, [u.id for u in units], first, last))
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
