"""The settings reporting reads, passed in rather than looked up in a Flask app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.breakdown import MIN_CELL
from analysis.indicators import targets


@dataclass(frozen=True)
class Settings:
    """What a summary, a report or an export needs from the configuration.

    ``Settings.from_config(app.config)`` in the web layer and the CLI; tests and jobs may build
    one directly.
    """

    targets: Mapping[str, Any] = field(default_factory=dict)
    min_cell: int = MIN_CELL
    case_target: float = 100.0
    case_due_days: int = 10
    suggestion_questions: tuple[str, ...] = ("y_kien",)
    organisation_name: str = ""
    ward_heading: str = ""
    """The heading a ward set for its reports (e.g. "UBND PHƯỜNG TRẦN LIỄU"); "" = its name."""
    report_upper_authority: str = ""
    report_place: str = ""
    report_basis: tuple[str, ...] = ()
    report_recipients: tuple[str, ...] = ()
    report_signer_title: str = "CHỦ TỊCH"
    report_signer_name: str = ""
    report_signer_deputy: bool = False
    indicator_targets: Mapping[str, float | None] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Read the settings from a configuration mapping (e.g. ``app.config``)."""
        return cls(targets=dict(config.get("TARGETS") or {}),
                   min_cell=int(config.get("MIN_CELL", MIN_CELL)),
                   case_target=float(config.get("CASE_TARGET", 100.0)),
                   case_due_days=int(config.get("CASE_DUE_DAYS", 10)),
                   suggestion_questions=tuple(config.get("CASE_SUGGESTION_QUESTIONS")
                                              or ("y_kien",)),
                   organisation_name=str(config.get("ORGANISATION_NAME") or ""),
                   report_upper_authority=str(config.get("REPORT_UPPER_AUTHORITY") or ""),
                   report_place=str(config.get("REPORT_PLACE") or ""),
                   report_basis=tuple(config.get("REPORT_BASIS") or ()),
                   report_recipients=tuple(config.get("REPORT_RECIPIENTS") or ()),
                   report_signer_title=str(config.get("REPORT_SIGNER_TITLE") or "CHỦ TỊCH"),
                   report_signer_name=str(config.get("REPORT_SIGNER_NAME") or ""),
                   report_signer_deputy=bool(config.get("REPORT_SIGNER_DEPUTY")),
                   indicator_targets=targets(config))
