"""What the ward publishes to citizens (/ket-qua): quarterly results and replies made public.

Public aggregates only. For each questionnaire with responses: the index and its elements
(groups) in the last complete quarter and the one before, and the index per quarter over the
last quarters (the trend). Small cells are hidden with the dashboard's own rule,
``analysis.breakdown.summarize_cells`` with ``MIN_CELL``: a quarter with fewer responses shows
no value at all. A group value that rests on fewer than ``MIN_CELL`` responses is hidden too,
since the public page, unlike the dashboard, is read by anyone. The only free text is the
replies staff marked public (``Case.published``), each with the suggestion it answers.

No Flask request code here: the view passes the ward, the day and the settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from analysis.breakdown import merge, quarter_of, summarize_cells
from questionnaires import Questionnaire

from ..extensions import db
from ..models import Answer, Case, Unit
from ..reporting.filters import Filters
from ..reporting.summaries import counts_by
from .questionnaires import latest_questionnaires
from .rollups import scheme_of

QUARTERS = 6
"""Quarters in the trend, the last complete one included."""
REPLIES = 5
"""Replies made public that the page lists, newest first."""
SUGGESTION_CHARS, REPLY_CHARS = 300, 700
"""Longer texts are cut (at a word) so that the page stays light on a phone (14 KB)."""
_ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, with its first and last day (Vietnam days)."""

    year: int
    number: int  # 1-4

    @property
    def key(self) -> str:
        """Return ``YYYY-Qn``, as analysis.breakdown.quarter_of names it."""
        return f"{self.year:04d}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        following = self.following()
        return following.start - timedelta(days=1)

    @property
    def label(self) -> str:
        """Return the quarter as people write it: ``Quý III/2026`` (contract §10)."""
        return _("Quý %(roman)s/%(year)d", roman=_ROMAN[self.number - 1], year=self.year)

    def following(self) -> Quarter:
        return Quarter(self.year + (self.number == 4), self.number % 4 + 1)

    def preceding(self) -> Quarter:
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    @classmethod
    def of(cls, day: date) -> Quarter:
        """Return the quarter a day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)


def last_quarters(today: date, count: int = QUARTERS) -> list[Quarter]:
    """Return the ``count`` complete quarters before ``today``'s quarter, oldest first."""
    quarter = Quarter.of(today).preceding()
    found = [quarter]
    while len(found) < count:
        quarter = quarter.preceding()
        found.append(quarter)
    return found[::-1]


@dataclass(frozen=True)
class GroupValue:
    """One element (SIPAS yếu tố) or dimension (PAPI-style) in one quarter."""

    id: str
    label: str
    n: int
    value: float | None  # None: no data, or hidden (``hidden``)
    hidden: bool


@dataclass(frozen=True)
class QuarterResult:
    """One questionnaire's figures in one quarter."""

    quarter: Quarter
    n: int
    hidden: bool  # fewer than MIN_CELL responses: no value is shown
    index: float | None
    groups: tuple[GroupValue, ...]


@dataclass(frozen=True)
class QuestionnaireResult:
    """One questionnaire: its quarters, oldest first; the last one is the quarter reported."""

    questionnaire: Questionnaire
    quarters: tuple[QuarterResult, ...]

    @property
    def current(self) -> QuarterResult:
        return self.quarters[-1]

    @property
    def previous(self) -> QuarterResult | None:
        return self.quarters[-2] if len(self.quarters) > 1 else None

    @property
    def sipas(self) -> bool:
        return self.questionnaire.index == "sipas"

    @property
    def scale(self) -> tuple[float, float]:
        """Return the range of the index, for the trend's bars (SIPAS %, PAPI-style 8-80)."""
        if self.sipas:
            return (0.0, 100.0)
        return (float(len(self.questionnaire.groups)), 10.0 * len(self.questionnaire.groups))


@dataclass(frozen=True)
class PublishedReply:
    """A reply staff marked public, with the citizen's suggestion it answers (if any)."""

    suggestion: str | None
    reply: str
    answered_at: datetime


@dataclass(frozen=True)
class Results:
    """Everything /ket-qua shows for one ward (``ward`` None: the whole instance)."""

    ward: Unit | None
    quarter: Quarter
    blocks: tuple[QuestionnaireResult, ...]
    replies: tuple[PublishedReply, ...]
    min_cell: int


def active_wards() -> list[Unit]:
    """Return the active wards, by code."""
    return list(db.session.scalars(sa.select(Unit).where(Unit.kind == "ward",
                                                         Unit.active.is_(True))
                                   .order_by(Unit.code)))


def units_of(ward: Unit) -> tuple[Unit, ...]:
    """Return the ward and every unit under it (at any depth)."""
    every = db.session.scalars(sa.select(Unit)).all()
    return tuple(u for u in every if u.ward is not None and u.ward.id == ward.id)


def _quarter_results(questionnaire: Questionnaire, lang: str, units: tuple[Unit, ...],
                     quarters: Sequence[Quarter], min_cell: int) -> list[QuarterResult]:
    """Return the figures of each quarter, small cells hidden as on the dashboard."""
    scheme = scheme_of(questionnaire)
    filters = Filters(questionnaire.id, quarters[0].start, quarters[-1].end, units)
    by_day = counts_by(db.session, filters, "day")
    cells = merge(by_day, quarter_of)
    rows = {row["key"]: row for row in summarize_cells(scheme, cells, min_n=min_cell)}
    labels = {g.id: g.label.get(lang) for g in questionnaire.groups}
    found = []
    for quarter in quarters:
        row = rows.get(quarter.key)
        counts = cells.get(quarter.key)
        n = row["n"] if row else 0
        hidden = bool(row and row["suppressed"])
        groups = []
        for group in scheme.groups:
            group_n = counts.groups.get(group.id, 0) if counts else 0
            small = hidden or 0 < group_n < min_cell
            value = None if row is None or small else row["groups"].get(group.id)
            groups.append(GroupValue(group.id, labels.get(group.id, group.label), group_n,
                                     value, small))
        found.append(QuarterResult(quarter, n, hidden, row["index"] if row else None,
                                   tuple(groups)))
    return found


def shortened(text: str, limit: int) -> str:
    """Return ``text`` cut at a word before ``limit`` characters, with "…", when longer."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def published_replies(units: tuple[Unit, ...], suggestion_questions: Sequence[str],
                      limit: int = REPLIES) -> list[PublishedReply]:
    """Return the newest replies marked public for cases of these units (all when empty)."""
    query = (sa.select(Case.response_pk, Case.reply, Case.answered_at)
             .where(Case.published.is_(True), Case.reply.is_not(None),
                    Case.answered_at.is_not(None))
             .order_by(Case.answered_at.desc(), Case.id.desc()).limit(limit))
    if units:
        query = query.where(Case.unit_id.in_([u.id for u in units]))
    rows = db.session.execute(query).all()
    texts: dict[int, list[str]] = {}
    if rows and suggestion_questions:
        for pk, text in db.session.execute(
                sa.select(Answer.response_pk, Answer.text_value)
                .where(Answer.response_pk.in_([r.response_pk for r in rows]),
                       Answer.question_id.in_(list(suggestion_questions)),
                       Answer.text_value.is_not(None))
                .order_by(Answer.response_pk, Answer.question_id)):
            texts.setdefault(pk, []).append(text or "")
    return [PublishedReply(
        shortened("\n".join(texts[r.response_pk]), SUGGESTION_CHARS)
        if r.response_pk in texts else None,
        shortened(r.reply, REPLY_CHARS), r.answered_at) for r in rows]


def build_results(ward: Unit | None, today: date, *, min_cell: int, lang: str = "vi",
                  suggestion_questions: Sequence[str] = ("y_kien",),
                  quarters: int = QUARTERS) -> Results:
    """Return what /ket-qua shows for ``ward`` (None: every unit) as of the day ``today``.

    A questionnaire appears when it has responses in the quarters shown (the most answered
    in the last quarter first); its trend starts at its first quarter with responses, and
    always holds the last two quarters.
    """
    units = units_of(ward) if ward is not None else ()
    shown = last_quarters(today, quarters)
    blocks = []
    for questionnaire in latest_questionnaires():
        if questionnaire.index not in ("sipas", "papi"):
            continue
        figures = _quarter_results(questionnaire, lang, units, shown, min_cell)
        first = next((i for i, f in enumerate(figures) if f.n), None)
        if first is None:
            continue
        blocks.append(QuestionnaireResult(questionnaire,
                                          tuple(figures[max(0, min(first, len(figures) - 2)):])))
    blocks.sort(key=lambda b: (-b.current.n, b.questionnaire.id))  # the most answered first
    return Results(ward, shown[-1], tuple(blocks),
                   tuple(published_replies(units, suggestion_questions)), min_cell)
