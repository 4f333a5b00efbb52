"""Scoring and reporting (SIPAS and PAPI-style), in pure pandas and matplotlib.

This package must stay importable without Flask or SQLAlchemy (tests/test_boundaries.py), so
that a notebook or a cron job can score an exported file::

    from analysis import Scheme, read_wide_csv, recompute_summary
    from questionnaires import DEFINITIONS_DIR, load

    scheme = Scheme.from_questionnaire(load(DEFINITIONS_DIR / "sipas-dichvu" / "v1.yaml"))
    summary = recompute_summary(scheme, read_wide_csv("export.csv"))

Modules: ``scoring`` (contract §6 formulas and :func:`summarize`; it re-exports
:class:`Counts` and :class:`Scheme` from ``scheme``), ``breakdown`` (per month or unit cells
with small-cell suppression), ``wide`` (the raw file of contract §5), ``formatting``
("84,2 %"), ``targets``, ``intervals``, ``flags``, ``cases`` (handling figures of cases,
contract §9 and QĐ 766), ``workdays`` (due dates in Vietnamese working days) and ``charts``
(``Figure`` only, never ``pyplot``). ``charts``, ``cases`` and ``workdays`` are not imported
here; pandas and matplotlib are imported only when a file is read or a chart drawn, so that
a web worker that does neither stays small (about 50 MB less) and starts faster.
"""

from .breakdown import MIN_CELL, merge, month_of, quarter_of, summarize_cells
from .formatting import interval, number, percent
from .intervals import index_ci95, verdict
from .scoring import (
    SCORE_SCALE,
    Z95,
    Counts,
    Scheme,
    SchemeGroup,
    SchemeSubgroup,
    counted,
    counted_groups,
    counts_of,
    respondent_score,
    respondent_score_milli,
    summarize,
    wilson_interval,
)
from .targets import DEFAULT_TARGETS, target_for
from .wide import BASE_COLUMNS, answers_of_row, read_wide_csv, recompute_summary, wide_columns

__all__ = [
    "BASE_COLUMNS",
    "DEFAULT_TARGETS",
    "MIN_CELL",
    "SCORE_SCALE",
    "Z95",
    "Counts",
    "Scheme",
    "SchemeGroup",
    "SchemeSubgroup",
    "answers_of_row",
    "counted",
    "counted_groups",
    "counts_of",
    "index_ci95",
    "interval",
    "merge",
    "month_of",
    "number",
    "percent",
    "quarter_of",
    "read_wide_csv",
    "recompute_summary",
    "respondent_score",
    "respondent_score_milli",
    "summarize",
    "summarize_cells",
    "target_for",
    "verdict",
    "wide_columns",
    "wilson_interval",
]
