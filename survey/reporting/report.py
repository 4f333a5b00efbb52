"""Everything a report shows: the summary, breakdowns, targets, suggestions and low ratings.

One builder feeds the dashboard, the XLSX workbook and the PDF report, so the three always
show the same figures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from analysis.breakdown import merge, quarter_of, summarize_cells
from analysis.intervals import verdict
from analysis.scoring import Counts, Scheme, low_pairs, summarize
from analysis.vietnam import VIETNAM
from questionnaires import Questionnaire

from ..models import Answer, Response, Unit
from ..services.questionnaires import get_questionnaire
from ..services.rollups import scheme_of
from ..services.text import clean_text, fold_text, receipt_query
from . import keyset
from .cases import CaseFigures
from .cases import figures as case_figures
from .db import Db
from .exports import response_conditions
from .filters import Filters
from .service import ServiceFigures, service_figures
from .settings import Settings
from .summaries import (
    counts_by,
    counts_by_answer,
    counts_only,
    excluded_count,
    target_of,
    weighted_index,
)
from .weighting import Weighted

# Lower bounds (in %) of the colour steps 2–5 of tables: below 50, 50–65, 65–80, 80–90,
# 90 and above. The same bounds are printed in the legend under the tables.
SCALE_STEPS = (50.0, 65.0, 80.0, 90.0)


@dataclass
class Report:
    """A summary with its breakdowns, ready to render.

    ``session`` reads the breakdowns computed on demand (``add_profile``).
    """

    session: Db = field(repr=False, compare=False)
    settings: Settings = field(repr=False, compare=False)
    questionnaire: Questionnaire
    scheme: Scheme
    filters: Filters
    summary: dict[str, Any]
    target: float | None
    # The index's verdict against the target (contract §8): "met", "not_met", "undecided"
    # or None.
    status: str | None
    aggregation: str
    min_cell: int
    by_unit: list[dict[str, Any]] = field(default_factory=list)
    by_month: list[dict[str, Any]] = field(default_factory=list)
    by_quarter: list[dict[str, Any]] = field(default_factory=list)
    by_channel: list[dict[str, Any]] = field(default_factory=list)
    units: dict[int, Unit] = field(default_factory=dict)
    # Per unscored question (field, sex, age…): its option rows, each with label and share.
    by_profile: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The handling of the cases these responses opened (contract §9, Decision 766).
    cases: CaseFigures | None = None

    @functools.cached_property
    def weighted(self) -> Weighted | None:
        """Return the index weighted by dossier volume, when the indicators give dossiers.

        Read when a file or the báo cáo asks, not for every chart or page of the dashboard.
        """
        index = self.summary["index"]
        return weighted_index(self.session, self.filters, self.questionnaire,
                              (index["value"], index["ci95"]), aggregation=self.aggregation)

    @functools.cached_property
    def service(self) -> ServiceFigures | None:
        """Return the plan's service indicators of the same units and months, if entered."""
        return service_figures(self.session, self.filters, self.settings)

    def verdict_of(self, ci95: list[float] | None) -> str | None:
        """Return the verdict of an interval against the target (contract §8), or None."""
        return verdict(ci95, self.target)

    def scale_of(self, value: float | None) -> int | None:
        """Return the colour step 1–5 of a value on the shared scale, or None.

        SIPAS rates and values are percentages; a PAPI-style content index (nội dung) runs
        1–10, so it is read as tenths. The steps (``SCALE_STEPS``) colour cells as an aid:
        the number stays the reading.
        """
        if value is None:
            return None
        share = value if self.questionnaire.index == "sipas" else value * 10
        return 1 + sum(share >= bound for bound in SCALE_STEPS)

    @property
    def scale_labels(self) -> list[str]:
        """Return the ranges of the five colour steps, as the legend prints them."""
        percent = self.questionnaire.index == "sipas"
        bounds = [f"{b:g}".replace(".", ",") if percent else f"{b / 10:g}".replace(".", ",")
                  for b in SCALE_STEPS]
        unit = " %" if percent else ""
        return ([f"< {bounds[0]}{unit}"]
                + [f"{low}–{high}{unit}" for low, high in zip(bounds, bounds[1:], strict=False)]
                + [f"≥ {bounds[-1]}{unit}"])

    @property
    def adapted(self) -> bool:
        """Whether the index is PAPI-style: adapted by us, not comparable with PAPI itself."""
        return self.questionnaire.index == "papi"

    @property
    def profile_questions(self) -> list[dict[str, Any]]:
        """Return the codebook entries of the unscored choice questions."""
        return [e for e in self.scheme.codebook if e["group"] is None and e["type"] == "choice"]

    def add_profile(self, question_id: str) -> None:
        """Compute the breakdown by one unscored question (on demand: read from answers)."""
        entry = next((e for e in self.profile_questions if e["id"] == question_id), None)
        if entry is None or question_id in self.by_profile:
            return
        cells = counts_by_answer(self.session, self.filters, question_id)
        rows = summarize_cells(self.scheme, cells, min_n=self.min_cell,
                               aggregation=self.aggregation)  # type: ignore[arg-type]
        labels = {o["code"]: o["label"] for o in entry["options"]}
        total = sum(r["n"] for r in rows)
        for row in rows:
            row["label"] = labels.get(row["key"], str(row["key"]))
            row["share"] = 100 * row["n"] / total if total else None
        order = {o["code"]: i for i, o in enumerate(entry["options"])}
        rows.sort(key=lambda r: order.get(r["key"], len(order)))
        self.by_profile[question_id] = rows

    @property
    def texts(self) -> dict[str, str]:
        """Return each question's text by id."""
        return {entry["id"]: entry["text"] for entry in self.scheme.codebook}


def build_report(session: Db, filters: Filters, settings: Settings, *,
                 aggregation: str = "mean_of_items",
                 only: tuple[str, ...] | None = None) -> Report | None:
    """Build the report of one questionnaire under ``filters``; None if it is unknown.

    The rollups are read three times: by month (the whole, the months and the quarters are
    added up from it), by unit and by channel. ``only`` names the breakdowns wanted
    ("unit", "channel"; the months always come) when a view needs less than the page, e.g.
    a chart: then the others stay empty and the cases are not counted.
    """
    questionnaire = get_questionnaire(filters.questionnaire_id)
    if questionnaire is None:
        return None
    min_cell = settings.min_cell
    scheme = scheme_of(questionnaire)
    months = counts_by(session, filters, "month")
    whole = merge(months, lambda _month: 0).get(0, Counts())
    target = target_of(questionnaire, settings.targets)
    result = summarize(scheme, whole, filters.echo(), aggregation=aggregation,  # type: ignore[arg-type]
                       target=target, n_excluded=excluded_count(session, filters))
    if filters.hide_small and result["n_responses"] < min_cell:
        counts_only(result)
    report = Report(session, settings, questionnaire, scheme, filters, result, target,
                    result["target"]["verdict"], aggregation, min_cell)
    if only is None:
        report.cases = case_figures(session, filters, settings.case_target)
        result["cases"] = report.cases.block  # the same block as the summary JSON's

    def cells(found: Mapping[Any, Counts]) -> list[dict[str, Any]]:
        return summarize_cells(scheme, found, min_n=min_cell,
                               aggregation=aggregation)  # type: ignore[arg-type]

    wanted = ("unit", "channel") if only is None else only
    report.by_month = cells(months)
    report.by_quarter = cells(merge(months, lambda month: quarter_of(f"{month}-01")))
    if "unit" in wanted:
        report.by_unit = cells(counts_by(session, filters, "unit"))
    if "channel" in wanted:
        report.by_channel = cells(counts_by(session, filters, "channel"))
    ids = [row["key"] for row in report.by_unit]
    report.units = {u.id: u for u in session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}
    return report


@dataclass(frozen=True)
class Suggestion:
    """A citizen's free-text answer, with where and when it was given."""

    receipt: str
    submitted_at: datetime
    unit: str
    question_id: str
    text: str
    low: bool
    key: str = field(default="", compare=False)
    """Where a list continues after this answer (``after=`` of the next page)."""


NEWEST_ORDER: keyset.Order = [(Response.submitted_at, True), (Response.id, True),
                              (Answer.question_id, False)]
"""Suggestions: newest first, a response's answers by question; low ratings: the first two."""
KEY_KINDS = [datetime, int, str]


def keyset_token(moment: datetime, pk: int, question: str = "") -> str:
    """Return the place of a row in a newest-first list: its time, id and question."""
    return keyset.token(moment, pk, question)


def parse_keyset(token: str) -> tuple[datetime, int, str] | None:
    """Read a ``keyset_token``; None when it is not one (a list then starts at the top)."""
    return cast("tuple[datetime, int, str] | None", keyset.parse(token, KEY_KINDS))


def _older_than(after: tuple[datetime, int, str], *, by_question: bool = True
                ) -> sa.ColumnElement[bool]:
    """Return "after this row" in the order (submitted_at, id) descending, then question."""
    width = 3 if by_question else 2
    return keyset.after(NEWEST_ORDER[:width], after[:width])


def receipt_condition(search: str) -> sa.ColumnElement[bool] | None:
    """Return the condition "this response has the receipt typed", or None if it is not one."""
    receipt = receipt_query(search)
    return None if receipt is None else Response.receipt == receipt


def text_search(search: str) -> sa.ColumnElement[bool] | None:
    """Return the condition for a staff search over text answers, or None when it is blank.

    The folded query is compared with ``Answer.text_folded``, so case, diacritics and đ/Đ do
    not matter; a query shaped like a receipt (``k7qf3mzd``) also finds that response.
    """
    folded = fold_text(clean_text(search))
    if not folded:
        return None
    condition = Answer.text_folded.contains(folded, autoescape=True)
    by_receipt = receipt_condition(search)
    return condition if by_receipt is None else sa.or_(condition, by_receipt)


COUNT_CAP = 10_000
"""Lists count their rows up to this many (the page says "more than"): an exact count of a
million answers would cost more than the page itself."""


def _suggestion_query(session: Db, filters: Filters, search: str, only_low: bool
                      ) -> sa.Select[Answer, Response, str] | None:
    """Return the query of the free-text answers of ``filters``, or None (no questionnaire)."""
    questionnaire = get_questionnaire(filters.questionnaire_id)
    if questionnaire is None:
        return None
    conditions = [*response_conditions(filters), Answer.text_value.is_not(None)]
    search_condition = text_search(search)
    if search_condition is not None:
        conditions.append(search_condition)
    if only_low:
        conditions.append(Response.low.is_(True))
    return sa.select(Answer, Response, Unit.code).join(
        Response, Response.id == Answer.response_pk).join(Unit, Unit.id == Response.unit_id
                                                          ).where(*conditions)


NEWEST_FIRST = keyset.order_by(NEWEST_ORDER)


def _suggestion_rows(session: Db, rows: Sequence[Any]) -> list[Suggestion]:
    flagged = set(session.scalars(sa.select(Response.id).where(
        Response.id.in_([r.id for _, r, _ in rows]), Response.low.is_(True))))
    return [Suggestion(r.receipt, r.submitted_at.astimezone(VIETNAM), code, a.question_id,
                       a.text_value or "", r.id in flagged,
                       keyset_token(r.submitted_at, r.id, a.question_id))
            for a, r, code in rows]


def suggestions(session: Db, filters: Filters, *, search: str = "", only_low: bool = False,
                limit: int = 50, after: str = "", cap: int | None = None
                ) -> tuple[list[Suggestion], int]:
    """Return a page of free-text answers (newest first) and how many there are in all.

    The page starts after the answer whose ``key`` is ``after`` (keyset pagination: page 200
    costs what page 1 does). With ``cap``, the count stops at ``cap + 1`` (the caller shows
    "more than ``cap``").
    """
    base = _suggestion_query(session, filters, search, only_low)
    if base is None:
        return [], 0
    counted = base if cap is None else base.limit(cap + 1)
    total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    place = parse_keyset(after) if after else None
    query = base if place is None else base.where(_older_than(place))
    rows = session.execute(query.order_by(*NEWEST_FIRST).limit(limit)).all()
    return _suggestion_rows(session, rows), int(total)


def iter_suggestions(session: Db, filters: Filters, *, search: str = "",
                     only_low: bool = False, page_size: int = 500) -> Iterator[Suggestion]:
    """Yield every free-text answer of ``filters`` (newest first), a page at a time.

    Each page starts after the last answer of the one before (keyset pagination): no count,
    no OFFSET, so a million answers take ten times as long as a hundred thousand.
    """
    base = _suggestion_query(session, filters, search, only_low)
    if base is None:
        return
    after: tuple[Any, int, str] | None = None
    while True:
        query = base if after is None else base.where(_older_than(after))
        rows = session.execute(query.order_by(*NEWEST_FIRST).limit(page_size)).all()
        yield from _suggestion_rows(session, rows)
        if len(rows) < page_size:
            return
        answer, response, _code = rows[-1]
        after = (response.submitted_at, response.id, answer.question_id)


@dataclass(frozen=True)
class LowRating:
    """A response with at least one item answered 1 or 2, for staff to follow up."""

    receipt: str
    submitted_at: datetime
    unit: str
    items: list[tuple[str, int]]
    suggestion: str
    key: str = field(default="", compare=False)
    """Where the list continues after this response (``after=`` of the next page)."""


def low_ratings(session: Db, filters: Filters, *, receipt: str = "", limit: int = 50,
                after: str = "", cap: int | None = None) -> tuple[list[LowRating], int]:
    """Return a page of responses with any item at 1 or 2 (newest first), and the total.

    A ``receipt`` typed by staff (any case, dash optional) keeps only that response; one that
    is not shaped like a receipt finds nothing. The page starts after the response whose
    ``key`` is ``after`` (keyset pagination); with ``cap`` the count stops at ``cap + 1``.
    """
    questionnaire = get_questionnaire(filters.questionnaire_id)
    if questionnaire is None:
        return [], 0
    scheme = scheme_of(questionnaire)
    if not low_pairs(scheme):
        return [], 0
    conditions = [*response_conditions(filters), Response.low.is_(True)]
    if receipt.strip():
        by_receipt = receipt_condition(receipt)
        conditions.append(sa.false() if by_receipt is None else by_receipt)
    counted = sa.select(Response.id).where(*conditions)
    if cap is not None:
        counted = counted.limit(cap + 1)
    total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    place = parse_keyset(after) if after else None
    if place is not None:
        conditions.append(_older_than(place, by_question=False))
    page = session.execute(
        sa.select(Response, Unit.code).join(Unit, Unit.id == Response.unit_id)
        .where(*conditions).options(selectinload(Response.answers))
        .order_by(*keyset.order_by(NEWEST_ORDER[:2])).limit(limit)
    ).all()
    low = low_pairs(scheme)
    result = []
    for response, code in page:
        items = sorted((a.question_id, a.option_code) for a in response.answers
                       if (a.question_id, a.option_code) in low)
        text = " ".join(a.text_value for a in response.answers if a.text_value)
        result.append(LowRating(response.receipt, response.submitted_at.astimezone(VIETNAM),
                                code, items, text,  # type: ignore[arg-type]
                                keyset_token(response.submitted_at, response.id)))
    return result, int(total)
