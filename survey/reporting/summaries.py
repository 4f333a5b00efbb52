"""Summaries scored from the rollups: the read side of ``survey.services.rollups``.

A summary of a million responses must take well under a second, so it never reads answer
rows: it adds up the matching rollup rows in SQL and hands the integer counts to
``analysis.scoring``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from analysis.scoring import Counts, summarize
from analysis.targets import target_for
from questionnaires import Questionnaire

from ..models import (
    MONTH_OF,
    Answer,
    Response,
    stat_answer,
    stat_group,
    stat_profile,
    stat_profile_answer,
    stat_profile_group,
)
from ..models import stat_response as stat_response_table
from ..services.questionnaires import get_questionnaire
from ..services.rollups import scheme_of, scored_option_table
from .cases import summary_cases
from .db import Db
from .exports import response_conditions
from .filters import Filters
from .settings import Settings
from .weighting import Cell, Weighted, dossiers, weighted

Breakdown = Literal["unit", "channel", "day", "month", "unit_month"]


@dataclass(frozen=True)
class _Part:
    """A piece of a summary's period: whole months (month tables) or days (day tables)."""

    grain: Literal["day", "month"]
    first: str | None  # "YYYY-MM-DD" or "YYYY-MM"; None: from the start
    last: str | None


def _parts(filters: Filters) -> list[_Part]:
    """Split the filters' days into whole months and the days at either end.

    01/03–20/05 reads March and April from the month tables and 01–20 May from the day
    tables; with no days, every month. The parts do not overlap, so their counts add up.
    """
    start, end = filters.date_from, filters.date_to
    if start is None and end is None:
        return [_Part("month", None, None)]
    parts: list[_Part] = []
    first_month = None if start is None else (
        start if start.day == 1 else date(start.year, start.month, 1) + timedelta(days=32))
    if first_month is not None:
        first_month = first_month.replace(day=1)
    after_end = None if end is None else end + timedelta(days=1)
    last_month_end = None if after_end is None else (
        after_end if after_end.day == 1 else after_end.replace(day=1))  # exclusive
    whole = (first_month is None or last_month_end is None or first_month < last_month_end)
    if not whole:  # inside one month (or two partial ones): days only
        return [_Part("day", start.isoformat() if start else None,
                      end.isoformat() if end else None)]
    if start is not None and first_month is not None and start < first_month:
        parts.append(_Part("day", start.isoformat(),
                           (first_month - timedelta(days=1)).isoformat()))
    month_last = None if last_month_end is None else (
        (last_month_end - timedelta(days=1)).strftime("%Y-%m"))
    parts.append(_Part("month", first_month.strftime("%Y-%m") if first_month else None,
                       month_last))
    if end is not None and last_month_end is not None and last_month_end <= end:
        parts.append(_Part("day", last_month_end.isoformat(), end.isoformat()))
    return parts


def _table(day_table: sa.Table, part: _Part) -> sa.Table:
    return MONTH_OF[day_table] if part.grain == "month" else day_table


def _conditions(table: sa.Table, filters: Filters, part: _Part | None = None) -> list[Any]:
    c = table.c
    conditions = [c.questionnaire_id == filters.questionnaire_id]
    if part is None:
        part = _Part("day", filters.date_from.isoformat() if filters.date_from else None,
                     filters.date_to.isoformat() if filters.date_to else None)
    period = c.month if part.grain == "month" else c.day
    if part.first:
        conditions.append(period >= part.first)
    if part.last:
        conditions.append(period <= part.last)
    unit_ids = filters.unit_ids()
    if unit_ids is not None:
        conditions.append(c.unit_id.in_(unit_ids))
    if filters.channels:
        conditions.append(c.channel.in_(filters.channels))
    return conditions


def _key_column(table: sa.Table, by: Breakdown | None) -> Any:
    if by is None:
        return sa.literal(0)
    if by == "unit":
        return table.c.unit_id
    if by == "channel":
        return table.c.channel
    month = table.c.month if "month" in table.c else sa.func.substr(table.c.day, 1, 7)
    if by == "month":
        return month
    if by == "unit_month":  # "2026-03:12"
        return month.op("||")(":").op("||")(sa.cast(table.c.unit_id, sa.String))
    return table.c.day


def counts_by(session: Db, filters: Filters, by: Breakdown | None = None
              ) -> dict[Any, Counts]:
    """Return the Counts of every cell (one cell, keyed 0, when ``by`` is None).

    Whole months come from the month tables, the days at the ends of the period from the
    day tables (a breakdown by day reads days only).
    """
    cells: dict[Any, dict[str, Any]] = {}

    def cell(key: Any) -> dict[str, Any]:
        return cells.setdefault(key, {"n_responses": 0, "options": {}, "groups": {},
                                      "score_n": 0, "score_sum": 0, "score_sqsum": 0})

    def add(found: dict[Any, int], key: Any, n: Any) -> None:
        if int(n):
            found[key] = found.get(key, 0) + int(n)

    parts = ([_Part("day", filters.date_from.isoformat() if filters.date_from else None,
                    filters.date_to.isoformat() if filters.date_to else None)]
             if by == "day" else _parts(filters))
    for part in parts:
        t = _table(stat_response_table, part)
        key = _key_column(t, by)
        totals = session.execute(
            sa.select(key, sa.func.sum(t.c.n), sa.func.sum(t.c.score_n),
                      sa.func.sum(t.c.score_sum), sa.func.sum(t.c.score_sqsum))
            .where(*_conditions(t, filters, part)).group_by(key))
        for k, n, score_n, score_sum, score_sqsum in totals:
            target = cell(k)
            target["n_responses"] += int(n)
            target["score_n"] += int(score_n)
            target["score_sum"] += int(score_sum)
            target["score_sqsum"] += int(score_sqsum)
        t = _table(stat_answer, part)
        key = _key_column(t, by)
        options = session.execute(
            sa.select(key, t.c.question_id, t.c.option_code, sa.func.sum(t.c.n))
            .where(*_conditions(t, filters, part))
            .group_by(key, t.c.question_id, t.c.option_code))
        for k, question_id, option_code, n in options:
            add(cell(k)["options"], (question_id, int(option_code)), n)
        t = _table(stat_group, part)
        key = _key_column(t, by)
        groups = session.execute(
            sa.select(key, t.c.group_id, sa.func.sum(t.c.n))
            .where(*_conditions(t, filters, part)).group_by(key, t.c.group_id))
        for k, group_id, n in groups:
            add(cell(k)["groups"], group_id, n)
    return {k: Counts(**v) for k, v in cells.items() if v["n_responses"]}


def counts_by_answer(session: Db, filters: Filters, question_id: str) -> dict[int, Counts]:
    """Return Counts per option of one unscored question (e.g. the field, age, sex).

    Whole months come from the rollups by profile answer (models.py), the days at the ends of
    the period from the answers themselves, as ``counts_by`` does with the day tables.
    """
    cells: dict[int, dict[str, Any]] = {}
    for part in _parts(filters):
        if part.grain == "month":
            _profile_counts(session, filters, part, question_id, cells)
        else:
            days = replace(filters, date_from=date.fromisoformat(part.first) if part.first
                           else None, date_to=date.fromisoformat(part.last) if part.last
                           else None)
            _answer_counts(session, days, question_id, cells)
    return {code: Counts(**v) for code, v in cells.items() if v["n_responses"]}


def answers_to_read(session: Db, filters: Filters) -> int:
    """Return how many responses a breakdown by a profile question reads answer by answer.

    Those of the days at the ends of the period (whole months come from the rollups): 0 for
    whole months, a few for a ward's fortnight, a city's month of them for a period ending
    in the middle of one. Counted from the day rollups.
    """
    total = 0
    for part in _parts(filters):
        if part.grain == "day":
            t = stat_response_table
            total += int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(t.c.n), 0))
                                        .where(*_conditions(t, filters, part))) or 0)
    return total


def _cell(cells: dict[int, dict[str, Any]], code: Any) -> dict[str, Any]:
    return cells.setdefault(int(code), {"n_responses": 0, "score_n": 0, "score_sum": 0,
                                        "score_sqsum": 0, "options": {}, "groups": {}})


def _add_totals(cell: dict[str, Any], n: Any, score_n: Any, score_sum: Any,
                score_sqsum: Any) -> None:
    """Add a row's response count and score sums to a cell."""
    cell["n_responses"] += int(n)
    cell["score_n"] += int(score_n)
    cell["score_sum"] += int(score_sum)
    cell["score_sqsum"] += int(score_sqsum)


def _add(found: dict[Any, int], key: Any, n: Any) -> None:
    """Add a count under ``key``."""
    found[key] = found.get(key, 0) + int(n)


def _profile_counts(session: Db, filters: Filters, part: _Part, question_id: str,
                    cells: dict[int, dict[str, Any]]) -> None:
    """Add the whole months' counts of each answer to ``question_id`` (rollups)."""
    t = stat_profile
    where = [*_conditions(t, filters, part), t.c.profile_id == question_id]
    for code, n, score_n, score_sum, score_sqsum in session.execute(
            sa.select(t.c.profile_code, sa.func.sum(t.c.n), sa.func.sum(t.c.score_n),
                      sa.func.sum(t.c.score_sum), sa.func.sum(t.c.score_sqsum))
            .where(*where).group_by(t.c.profile_code)):
        _add_totals(_cell(cells, code), n, score_n, score_sum, score_sqsum)
    t = stat_profile_answer
    where = [*_conditions(t, filters, part), t.c.profile_id == question_id]
    for code, qid, option, n in session.execute(
            sa.select(t.c.profile_code, t.c.question_id, t.c.option_code, sa.func.sum(t.c.n))
            .where(*where).group_by(t.c.profile_code, t.c.question_id, t.c.option_code)):
        if int(n):
            _add(_cell(cells, code)["options"], (qid, int(option)), n)
    t = stat_profile_group
    where = [*_conditions(t, filters, part), t.c.profile_id == question_id]
    for code, group_id, n in session.execute(
            sa.select(t.c.profile_code, t.c.group_id, sa.func.sum(t.c.n))
            .where(*where).group_by(t.c.profile_code, t.c.group_id)):
        if int(n):
            _add(_cell(cells, code)["groups"], group_id, n)


def _answer_counts(session: Db, filters: Filters, question_id: str,
                   cells: dict[int, dict[str, Any]]) -> None:
    """Add the counts of each answer to ``question_id`` read from the answers (a few days).

    The same counts as the rollups by profile answer: the scored items' answers and the
    groups they count in.
    """
    r, a = Response.__table__, Answer.__table__
    p = a.alias("profile")
    base = [*response_conditions(filters), p.c.question_id == question_id,
            p.c.option_code.is_not(None)]
    for code, n, score_n, score_sum, score_sqsum in session.execute(
            sa.select(p.c.option_code, sa.func.count(), sa.func.count(r.c.score_milli),
                      sa.func.coalesce(sa.func.sum(r.c.score_milli), 0),
                      sa.func.coalesce(sa.func.sum(r.c.score_milli * r.c.score_milli), 0))
            .select_from(p.join(r, r.c.id == p.c.response_pk)).where(*base)
            .group_by(p.c.option_code)):
        _add_totals(_cell(cells, code), n, score_n, score_sum, score_sqsum)
    questionnaire = get_questionnaire(filters.questionnaire_id)
    items = sorted(set(scheme_of(questionnaire).item_ids)) if questionnaire else []
    for code, qid, option, n in session.execute(
            sa.select(p.c.option_code, a.c.question_id, a.c.option_code, sa.func.count())
            .select_from(p.join(r, r.c.id == p.c.response_pk)
                         .join(a, a.c.response_pk == p.c.response_pk))
            .where(*base, a.c.option_code.is_not(None), a.c.question_id.in_(items))
            .group_by(p.c.option_code, a.c.question_id, a.c.option_code)):
        _add(_cell(cells, code)["options"], (qid, int(option)), n)
    scored = scored_option_table(session)
    for code, group_id, n in session.execute(
            sa.select(p.c.option_code, scored.c.group_id, sa.func.count(sa.distinct(r.c.id)))
            .select_from(p.join(r, r.c.id == p.c.response_pk)
                         .join(a, a.c.response_pk == p.c.response_pk)
                         .join(scored, sa.and_(
                             scored.c.questionnaire_id == r.c.questionnaire_id,
                             scored.c.question_id == a.c.question_id,
                             scored.c.option_code == a.c.option_code)))
            .where(*base).group_by(p.c.option_code, scored.c.group_id)):
        _add(_cell(cells, code)["groups"], group_id, n)
    scored.drop(session.connection())


def excluded_count(session: Db, filters: Filters) -> int:
    """Return how many responses that pass the filters staff excluded (contract §8)."""
    total = 0
    for part in _parts(filters):
        t = _table(stat_response_table, part)
        total += int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(t.c.n_excluded), 0))
                                    .where(*_conditions(t, filters, part))) or 0)
    return total


def target_of(questionnaire: Questionnaire, targets: Mapping[str, Any] | None = None
              ) -> float | None:
    """Return the target in force for a questionnaire (the TARGETS setting, else the default)."""
    return target_for(questionnaire.id, questionnaire.index, targets or {})


def summary(session: Db, filters: Filters, settings: Settings, *,
            aggregation: str = "mean_of_items") -> dict[str, Any] | None:
    """Return the summary JSON of contract §6, §8 and §9, or None for an unknown questionnaire.

    The ``"cases"`` block (§9) counts the cases opened by the responses that pass the filters.
    """
    questionnaire = get_questionnaire(filters.questionnaire_id)
    if questionnaire is None:
        return None
    counts = counts_by(session, filters).get(0, Counts())
    result = summarize(scheme_of(questionnaire), counts, filters.echo(),
                       aggregation=aggregation,  # type: ignore[arg-type]
                       target=target_of(questionnaire, settings.targets),
                       n_excluded=excluded_count(session, filters))
    result["cases"] = summary_cases(session, filters)
    if filters.hide_small and result["n_responses"] < settings.min_cell:
        return counts_only(result)
    weighted = weighted_index(session, filters, questionnaire,
                              (result["index"]["value"], result["index"]["ci95"]),
                              aggregation=aggregation)
    if weighted is not None:
        result["weighted"] = weighted.block()
    return result


def counts_only(result: dict[str, Any]) -> dict[str, Any]:
    """Blank every value of a summary of too few responses, keeping its counts of responses.

    A filter can narrow a summary to two or three responses, whose item counts would tell
    each citizen's answers: below the small-cell minimum only ``n_responses`` and
    ``n_excluded`` (and the cases block) are given, and ``"suppressed": true`` says why.
    """
    def blank(entry: dict[str, Any]) -> None:
        for key in ("value", "n", "satisfied", "rate", "rate_ci95", "mean"):
            if key in entry:
                entry[key] = None
        for child in (*entry.get("subgroups", ()), *entry.get("items", ())):
            blank(child)

    result["index"] = {"value": None, "ci95": None}
    if isinstance(result.get("target"), dict):
        result["target"]["verdict"] = None
    for group in result.get("groups", ()):
        blank(group)
    result.pop("weighted", None)
    result["suppressed"] = True
    return result


def strata(session: Db, filters: Filters) -> dict[Cell, Counts]:
    """Return the Counts of every (unit, month) cell of ``filters``."""
    cells: dict[Cell, Counts] = {}
    for key, counts in counts_by(session, filters, "unit_month").items():
        month, _, unit_id = str(key).partition(":")
        cells[(int(unit_id), month)] = counts
    return cells


def weighted_index(session: Db, filters: Filters, questionnaire: Questionnaire,
                   plain: tuple[float | None, list[float] | None], *,
                   aggregation: str = "mean_of_items") -> Weighted | None:
    """Return the index weighted by dossier volume, or None without dossier figures."""
    volume = dossiers(session, filters)
    if not volume:
        return None
    return weighted(scheme_of(questionnaire), strata(session, filters), volume,
                    plain=plain, aggregation=aggregation)
