"""Targets for the index (whether the index meets one: :func:`analysis.intervals.verdict`).

The 2011–2020 public administration reform programme (Nghị quyết 30c/NQ-CP, 08/11/2011) aimed
at citizens' and organisations' satisfaction with administrative agencies above 80 % by 2020;
the 2021–2030 programme (Nghị quyết 76/NQ-CP, 15/7/2021) sets the targets of its own periods.
A ward may adopt a stricter target, so the app configures one per questionnaire and falls back
on :data:`DEFAULT_TARGETS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_TARGETS: Mapping[str, float] = {"sipas": 80.0}
"""Target per index kind, in the index's own unit (SIPAS: percent satisfied).

80 % is the target of the 2011–2020 PAR programme (NQ 30c/NQ-CP: satisfaction above 80 % by
2020); NQ 76/NQ-CP sets the targets of 2021–2030 by period, so the app makes the target
configurable per questionnaire. PAPI-style scores have no official target, hence no default.
"""

def target_for(questionnaire_id: str, index_kind: str,
               targets: Mapping[str, Any] | None = None) -> float | None:
    """Return the target of a questionnaire: configured by its id, else by its index kind.

    ``targets`` (the SURVEY_TARGETS setting) overrides :data:`DEFAULT_TARGETS`.
    """
    configured: dict[str, Any] = dict(DEFAULT_TARGETS)
    configured.update(targets or {})
    value = configured.get(questionnaire_id, configured.get(index_kind))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
