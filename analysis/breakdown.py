"""Index and group values per cell (day, month, unit, channel…), with small cells suppressed.

A cell is one :class:`~analysis.scoring.Counts`; cells merge by plain addition, so days roll up
into months or quarters exactly (:func:`merge`) before they are summarised.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import date
from typing import Any, TypeVar

from .scoring import Z95, Aggregation, Counts, Scheme, summarize

MIN_CELL = 5
"""Cells with fewer responses show no values: with so few answers, a value could point to a
person (a counter with two visitors that day), and its interval would be too wide to read."""

K = TypeVar("K", bound=Hashable)
K2 = TypeVar("K2", bound=Hashable)


def _sorted_keys(keys: list[K]) -> list[K]:
    try:
        return sorted(keys)  # type: ignore[type-var]  # keys are usually str or tuples of str
    except TypeError:
        # Mixed key types (e.g. None next to a unit code) cannot be compared; repr() still
        # gives a stable, if less natural, order.
        return sorted(keys, key=repr)


def summarize_cells(scheme: Scheme, cells: Mapping[K, Counts], *, min_n: int = MIN_CELL,
                    aggregation: Aggregation = "mean_of_items",
                    z: float = Z95) -> list[dict[str, Any]]:
    """Return one row per cell, in key order: its n, index, interval and group values.

    Each row is ``{"key", "n", "suppressed", "index", "ci95", "groups": {group_id: value}}``.
    A cell with fewer than ``min_n`` responses is suppressed: every value is None.
    """
    rows: list[dict[str, Any]] = []
    for key in _sorted_keys(list(cells)):
        counts = cells[key]
        if counts.n_responses < min_n:
            rows.append({"key": key, "n": counts.n_responses, "suppressed": True,
                         "index": None, "ci95": None,
                         "groups": {g.id: None for g in scheme.groups}})
            continue
        summary = summarize(scheme, counts, aggregation=aggregation, z=z, codebook=False)
        rows.append({"key": key, "n": counts.n_responses, "suppressed": False,
                     "index": summary["index"]["value"], "ci95": summary["index"]["ci95"],
                     "groups": {g["id"]: g["value"] for g in summary["groups"]}})
    return rows


def _day(day: str | date) -> date:
    if isinstance(day, date):
        return day
    return date.fromisoformat(day)


def month_of(day: str | date) -> str:
    """Return the month ``YYYY-MM`` of an ISO day ``YYYY-MM-DD``."""
    d = _day(day)
    return f"{d.year:04d}-{d.month:02d}"


def quarter_of(day: str | date) -> str:
    """Return the quarter ``YYYY-Qn`` of an ISO day ``YYYY-MM-DD``."""
    d = _day(day)
    return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"


def merge(cells: Mapping[K, Counts], key_fn: Callable[[K], K2]) -> dict[K2, Counts]:
    """Re-key cells with ``key_fn`` and add up the Counts that land on the same key.

    For example ``merge(per_day, month_of)`` turns days into months. Integer addition makes the
    result independent of the order of ``cells``; the new keys come in first-seen order.
    """
    merged: dict[K2, Counts] = {}
    for key, counts in cells.items():
        new_key = key_fn(key)
        merged[new_key] = merged[new_key] + counts if new_key in merged else counts
    return merged
