"""The city's comparison of its wards (contract §11): one row per ward from the rollups.

Each ward's responses are those of every unit under it; its index, interval and element values
come from the same counts as a summary of that ward, and a ward with fewer responses than the
small-cell minimum shows its count only ("chưa đủ phiếu").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from analysis.breakdown import merge, summarize_cells
from analysis.intervals import verdict
from analysis.scoring import Counts
from questionnaires import Questionnaire

from ..models import Unit
from ..services.questionnaires import get_questionnaire
from ..services.rollups import scheme_of
from .db import Db
from .filters import Filters
from .settings import Settings
from .summaries import counts_by, target_of


@dataclass(frozen=True)
class WardRow:
    """One ward of the comparison; values are None when it has too few responses."""

    code: str
    name: str
    n_responses: int
    index: float | None
    ci95: list[float] | None
    target: float | None
    verdict: str | None
    suppressed: bool
    groups: Mapping[str, float | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the row as ``GET /api/v1/wards`` gives it (contract §11)."""
        return {"ward": self.code, "name": self.name, "n_responses": self.n_responses,
                "index": {"value": self.index, "ci95": self.ci95}, "verdict": self.verdict,
                "suppressed": self.suppressed, "target": self.target,
                "groups": dict(self.groups)}


@dataclass(frozen=True)
class Comparison:
    """The wards of one questionnaire under some filters, best index first."""

    questionnaire: Questionnaire
    filters: Filters
    rows: list[WardRow]
    min_cell: int
    groups: list[tuple[str, str]]  # (id, label) of the questionnaire's elements

    def as_json(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.rows]


def ward_of_units(session: Db) -> tuple[dict[int, int], list[Unit]]:
    """Return each unit's ward id (a ward's is itself) and the wards, by code."""
    rows = session.execute(sa.select(Unit.id, Unit.parent_id, Unit.kind)).all()
    parent = {uid: pid for uid, pid, _kind in rows}
    kind = {uid: k for uid, _pid, k in rows}
    found: dict[int, int] = {}
    for uid in parent:
        seen, node = 0, uid
        while node is not None and kind.get(node) != "ward" and seen < 64:
            node, seen = parent.get(node), seen + 1  # type: ignore[assignment]
        if node is not None and kind.get(node) == "ward":
            found[uid] = node
    wards = list(session.scalars(sa.select(Unit).where(Unit.kind == "ward").order_by(Unit.code)))
    return found, wards


def compare_wards(session: Db, filters: Filters, settings: Settings,
                  ward_targets: Mapping[int, float | None] | None = None) -> Comparison | None:
    """Return every ward's figures under ``filters`` (their units and channels, days).

    ``ward_targets`` gives a ward's own target where it has one (its settings); otherwise the
    installation's target for the questionnaire counts. None when the questionnaire is unknown.
    """
    questionnaire = get_questionnaire(filters.questionnaire_id)
    if questionnaire is None:
        return None
    scheme = scheme_of(questionnaire)
    ward_of, wards = ward_of_units(session)
    allowed = filters.unit_ids()
    if allowed is not None:
        keep = set(allowed)
        wards = [w for w in wards if w.id in keep]
    per_ward: dict[Any, Counts] = merge(counts_by(session, filters, "unit"),
                                        lambda unit_id: ward_of.get(unit_id))
    per_ward.pop(None, None)
    cells = {row["key"]: row for row in summarize_cells(scheme, per_ward,
                                                          min_n=settings.min_cell)}
    default_target = target_of(questionnaire, settings.targets)
    rows = []
    for ward in wards:
        cell = cells.get(ward.id)
        target = (ward_targets or {}).get(ward.id, default_target)
        if cell is None or cell["suppressed"]:
            rows.append(WardRow(ward.code, ward.name, cell["n"] if cell else 0, None, None,
                                target, None, True, {g.id: None for g in scheme.groups}))
            continue
        rows.append(WardRow(ward.code, ward.name, cell["n"], cell["index"], cell["ci95"],
                            target, verdict(cell["ci95"], target), False, cell["groups"]))
    rows.sort(key=lambda r: (r.index is None, -(r.index or 0.0), r.code))
    return Comparison(questionnaire, filters, rows, settings.min_cell,
                      [(g.id, g.label) for g in scheme.groups])
