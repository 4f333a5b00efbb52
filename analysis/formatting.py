"""Numbers the Vietnamese way: decimal comma, "." between thousands, "84,2 %".

The summary JSON keeps unrounded floats; these helpers round only for people (pages, XLSX
summary sheets, PDF reports, chart labels), so every place shows the same digits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

MISSING = "—"
"""Shown instead of a number where there is no data."""

NBSP = "\u00a0"
_SWAP_SEPARATORS = str.maketrans(",.", ".,")
"""Keeps "%" on the same line as its number."""


def number(value: float | None, digits: int = 1) -> str:
    """Return ``value`` rounded to ``digits`` decimals, e.g. ``1234.5`` -> ``"1.234,5"``.

    Rounds half up on the shortest decimal form of the float (84.25 -> "84,3"), as people do
    by hand and as spreadsheets show it, rather than Python's round-half-to-even on binary.
    """
    if value is None or not math.isfinite(value):
        return MISSING
    exponent = Decimal(1).scaleb(-digits)
    rounded = Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0,0" for a tiny negative number
    text = f"{rounded:,.{digits}f}"
    return text.translate(_SWAP_SEPARATORS)


def percent(value: float | None, digits: int = 1) -> str:
    """Return a percentage such as ``"84,2 %"`` (no-break space before %), or "—"."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{number(value, digits)}{NBSP}%"


def interval(ci: Sequence[float] | None, digits: int = 1) -> str:
    """Return an interval ``[low, high]`` as ``"80,1–88,3"`` (en dash), or "—"."""
    if ci is None:
        return MISSING
    low, high = ci
    return f"{number(low, digits)}–{number(high, digits)}"
