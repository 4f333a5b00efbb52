"""Targets for the index, and whether a value meets one.

The 2011–2020 public administration reform programme (Nghị quyết 30c/NQ-CP, 08/11/2011) aimed
at citizens' and organisations' satisfaction with administrative agencies above 80 % by 2020;
the 2021–2030 programme (Nghị quyết 76/NQ-CP, 15/7/2021) sets the targets of its own periods.
A ward may adopt a stricter target, so the app configures one per questionnaire and falls back
on :data:`DEFAULT_TARGETS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

DEFAULT_TARGETS: Mapping[str, float] = {"sipas": 80.0}
"""Target per index kind, in the index's own unit (SIPAS: percent satisfied).

80 % is the target of the 2011–2020 PAR programme (NQ 30c/NQ-CP: satisfaction above 80 % by
2020); NQ 76/NQ-CP sets the targets of 2021–2030 by period, so the app makes the target
configurable per questionnaire. PAPI-style scores have no official target, hence no default.
"""

TargetStatus = Literal["met", "not_met"]


def target_status(value: float | None, target: float | None) -> TargetStatus | None:
    """Return "met" when ``value >= target``, "not_met" below it, None when either is missing."""
    if value is None or target is None:
        return None
    return "met" if value >= target else "not_met"
