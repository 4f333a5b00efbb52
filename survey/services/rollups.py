"""Rollups kept in step with every response: the write side of the summaries.

A summary of a million responses must take well under a second, so it never reads answer
rows: every write, edit and delete adds (or subtracts) its counts to three rollup tables keyed
by questionnaire, Vietnam calendar day, unit and channel, to the same three by month, and to
three by month and profile answer (see models.py). ``rebuild``
recomputes the rollups from the responses with plain SQL, and ``in_step`` checks that they
agree. The read side is ``survey.reporting.summaries``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from analysis.scoring import Scheme, counted_groups, low_pairs, respondent_score_milli
from analysis.scoring import is_low as low_flag
from analysis.vietnam import vietnam_day
from questionnaires import Questionnaire

from ..extensions import db
from ..models import (
    MONTH_OF,
    PROFILE_TABLES,
    Answer,
    Response,
    stat_answer,
    stat_group,
    stat_profile,
    stat_profile_answer,
    stat_profile_group,
)
from ..models import stat_response as stat_response_table
from ..reporting.db import Db
from . import bulk
from .questionnaires import get_questionnaire, latest_questionnaires


@functools.cache
def scheme_of(questionnaire: Questionnaire) -> Scheme:
    """Return the scoring scheme of a questionnaire version (cached: definitions are frozen)."""
    return Scheme.from_questionnaire(questionnaire)


def answers_of(response: Response) -> dict[str, int | str]:
    """Return a stored response's answers as plain values."""
    result: dict[str, int | str] = {}
    for answer in response.answers:
        value = answer.value
        if value is not None:
            result[answer.question_id] = value
    return result


# --- keeping the rollups in step ----------------------------------------------------------

def _upsert(rows: bulk.Rows) -> None:
    """Add the rows' counts to their table, inserting the rows that do not exist yet."""
    if any(row[name] < 0 for row in rows.rows for name in rows.add):
        # Taking counts out: the rows exist (the response was counted when stored), and an
        # INSERT of negative counts would trip the CHECK constraints before the conflict.
        table, keys = rows.table, [c.name for c in rows.table.primary_key.columns]
        for row in rows.rows:  # sorted by rollup_rows
            db.session.execute(table.update().where(
                *(table.c[k] == row[k] for k in keys)).values(
                {name: table.c[name] + row[name] for name in rows.add}))
        return
    bulk.insert_rows(rows)


def scoring_scheme(questionnaire_id: str) -> Scheme | None:
    """Return the scheme every response of a questionnaire is counted with: its latest version.

    One scheme for all versions keeps the rollups, the respondent scores and the summary in
    agreement with a recomputation from the export, which carries one codebook.
    """
    questionnaire = get_questionnaire(questionnaire_id)
    return None if questionnaire is None else scheme_of(questionnaire)


def record(response: Response, answers: Mapping[str, int | str] | None = None,
           sign: int = 1) -> None:
    """Add a stored response to the rollups (``sign=-1`` takes it out again).

    An excluded response counts only in ``n_excluded`` (contract §8). ``answers`` spares a
    read when the caller has them at hand.
    """
    if response.excluded:
        key = {"questionnaire_id": response.questionnaire_id,
               "day": vietnam_day(response.submitted_at), "unit_id": response.unit_id,
               "channel": response.channel}
        for rows in with_months([bulk.Rows(stat_response_table, [dict(
                key, n=0, score_n=0, score_sum=0, score_sqsum=0, n_excluded=sign)],
                ("n_excluded",))]):
            _upsert(rows)
        return
    if answers is None:
        answers = answers_of(response)
    for rows in rollup_rows(response.questionnaire_id, response.submitted_at, response.unit_id,
                            response.channel, response.score_milli, answers, sign):
        _upsert(rows)


def rollup_rows(questionnaire_id: str, submitted_at: datetime, unit_id: int, channel: str,
                score: int | None, answers: Mapping[str, int | str],
                sign: int = 1) -> list[bulk.Rows]:
    """Return what one response adds to (``sign=-1``: takes from) each rollup table.

    Every writer on PostgreSQL (a submission, an edit, an import) writes the tables in this
    order, stat_response first. All the rows one response touches share the key of its
    stat_response row, so two writers of the same key queue on that row before either holds
    any other: they cannot deadlock. The rows of each table also come sorted.
    """
    scheme = scoring_scheme(questionnaire_id)
    key = {"questionnaire_id": questionnaire_id, "day": vietnam_day(submitted_at),
           "unit_id": unit_id, "channel": channel}
    tables = [
        bulk.Rows(stat_response_table, [dict(
            key, n=sign, score_n=sign if score is not None else 0,
            score_sum=sign * (score or 0), score_sqsum=sign * (score or 0) ** 2)],
            ("n", "score_n", "score_sum", "score_sqsum")),
        bulk.Rows(stat_answer, [dict(key, question_id=qid, option_code=value, n=sign)
                                for qid, value in sorted(answers.items())
                                if isinstance(value, int)], ("n",)),
    ]
    if scheme is None:
        return with_months(tables)
    groups = sorted(counted_groups(scheme, answers))
    tables.append(bulk.Rows(stat_group, [dict(key, group_id=gid, n=sign) for gid in groups],
                            ("n",)))
    return [*with_months(tables),
            *profile_rows(scheme, key, score, answers, groups, sign)]


def profile_rows(scheme: Scheme, key: Mapping[str, Any], score: int | None,
                 answers: Mapping[str, int | str], groups: list[str],
                 sign: int) -> list[bulk.Rows]:
    """Return what one response adds to the rollups by profile answer (models.py).

    One stat_profile row per profile question answered, and under each the response's scored
    answers and counted groups: a breakdown by that question reads them as it reads the
    month tables.
    """
    profiles = [(qid, answers[qid]) for qid in sorted(scheme.profile_ids)
                if isinstance(answers.get(qid), int)]
    if not profiles:
        return []
    items = set(scheme.item_ids)
    scored = [(qid, value) for qid, value in sorted(answers.items())
              if qid in items and isinstance(value, int)]
    base = {"questionnaire_id": key["questionnaire_id"], "month": key["day"][:7],
            "unit_id": key["unit_id"], "channel": key["channel"]}
    heads, answer_rows, group_rows = [], [], []
    for profile_id, code in profiles:
        head = dict(base, profile_id=profile_id, profile_code=code)
        heads.append(dict(head, n=sign, score_n=sign if score is not None else 0,
                          score_sum=sign * (score or 0), score_sqsum=sign * (score or 0) ** 2))
        answer_rows += [dict(head, question_id=qid, option_code=value, n=sign)
                        for qid, value in scored]
        group_rows += [dict(head, group_id=gid, n=sign) for gid in groups]
    return [bulk.Rows(stat_profile, heads, ("n", "score_n", "score_sum", "score_sqsum")),
            bulk.Rows(stat_profile_answer, answer_rows, ("n",)),
            bulk.Rows(stat_profile_group, group_rows, ("n",))]


def with_months(tables: list[bulk.Rows]) -> list[bulk.Rows]:
    """Return the day tables' rows followed by the same counts for the month tables.

    Every writer takes the day rows first (the deadlock-free order above), then the month
    rows, in the same table order and sorted, so writers of one month queue on them too.
    """
    months = []
    for rows in tables:
        months.append(bulk.Rows(MONTH_OF[rows.table], [
            {("month" if k == "day" else k): (v[:7] if k == "day" else v)
             for k, v in row.items()} for row in rows.rows], rows.add))
    return [*tables, *months]


def is_low(questionnaire_id: str, answers: Mapping[str, int | str]) -> bool:
    """Return whether the response rated an item 1 or 2 (stored as ``Response.low``)."""
    scheme = scoring_scheme(questionnaire_id)
    return scheme is not None and low_flag(scheme, answers)


def score_milli(questionnaire_id: str, answers: Mapping[str, int | str]) -> int | None:
    """Return the respondent's own index in thousandths, stored with the response."""
    scheme = scoring_scheme(questionnaire_id)
    return None if scheme is None else respondent_score_milli(scheme, answers)


def _day_sql(column: Any) -> Any:
    """Return SQL for the Vietnam day of a stored UTC time (UTC+7 all year, no summer time)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(column + sa.text("interval '7 hours'"), "YYYY-MM-DD")
    return sa.func.date(column, "+7 hours")


def rebuild(*, rescore: Literal["missing", "all", "none"] = "missing") -> None:
    """Recompute every rollup from the stored responses (plain SQL; the caller commits).

    ``rescore`` first gives responses their respondent score: only those without one
    ("missing", e.g. stored before scores existed), or all of them ("all", after a new
    questionnaire version changed what counts).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # Writers wait until the rollups are rebuilt, so that none is counted twice or missed.
        db.session.execute(sa.text("LOCK TABLE response IN SHARE MODE"))
    if rescore != "none":
        _rescore(only_missing=rescore == "missing")
    fill_low()
    for table in (stat_answer, stat_group, stat_response_table):
        db.session.execute(table.delete())
        db.session.execute(MONTH_OF[table].delete())
    scored = scored_option_table(db.session)
    for table, query in _recounted(scored).items():
        db.session.execute(table.insert().from_select(list(query.selected_columns.keys()),
                                                      query))
    scored.drop(db.session.connection())
    rebuild_months()
    rebuild_profiles()


def rebuild_profiles() -> None:
    """Recompute the rollups by profile answer from the stored responses (the caller commits).

    Also what ``init-db`` runs when they disagree with the answers (after migration 0015).
    """
    for table in reversed(PROFILE_TABLES):
        db.session.execute(table.delete())
    parts, scored = profile_part_table(db.session), scored_option_table(db.session)
    for table, query in _profile_recounted(parts, scored).items():
        db.session.execute(table.insert().from_select(list(query.selected_columns.keys()),
                                                      query))
    parts.drop(db.session.connection())
    scored.drop(db.session.connection())


def profile_part_table(session: Db) -> sa.Table:
    """Create (in this transaction) a temporary table of the questions a profile row counts.

    One row per (questionnaire, question, role): role "profile" for an unscored choice
    question, "item" for a scored item. The caller drops it.
    """
    parts = sa.Table("tmp_profile_part", sa.MetaData(),
                     sa.Column("questionnaire_id", sa.String(64)),
                     sa.Column("question_id", sa.String(64)),
                     sa.Column("role", sa.String(8)),
                     prefixes=["TEMPORARY"])
    connection = session.connection()
    parts.drop(connection, checkfirst=True)
    parts.create(connection)
    rows: list[dict[str, Any]] = []
    for questionnaire in latest_questionnaires():
        scheme = scheme_of(questionnaire)
        qid = questionnaire.id
        rows += [{"questionnaire_id": qid, "question_id": p, "role": "profile"}
                 for p in scheme.profile_ids]
        rows += [{"questionnaire_id": qid, "question_id": i, "role": "item"}
                 for i in dict.fromkeys(scheme.item_ids)]
    if rows:
        session.execute(parts.insert(), rows)
    if connection.dialect.name == "postgresql":
        session.execute(sa.text("ANALYZE tmp_profile_part"))
    return parts


def _profile_recounted(parts: sa.Table, scored: sa.Table) -> dict[sa.Table, sa.Select[Any]]:
    """Return, per rollup table by profile answer, the query that counts its rows."""
    r, a = Response.__table__, Answer.__table__
    p = a.alias("profile_answer")
    is_profile = parts.alias("is_profile")
    is_item = parts.alias("is_item")
    month = sa.func.substr(_day_sql(r.c.submitted_at), 1, 7)
    key = (r.c.questionnaire_id, p.c.question_id, month, r.c.unit_id, r.c.channel,
           p.c.option_code)
    names = ("questionnaire_id", "profile_id", "month", "unit_id", "channel", "profile_code")
    labelled = [column.label(name) for column, name in zip(key, names, strict=True)]
    heads = (p.join(r, r.c.id == p.c.response_pk)
             .join(is_profile, sa.and_(is_profile.c.questionnaire_id == r.c.questionnaire_id,
                                       is_profile.c.question_id == p.c.question_id,
                                       is_profile.c.role == "profile")))
    counted = sa.and_(r.c.excluded.is_(sa.false()), p.c.option_code.is_not(None))
    items = (heads.join(a, a.c.response_pk == r.c.id)
             .join(is_item, sa.and_(is_item.c.questionnaire_id == r.c.questionnaire_id,
                                    is_item.c.question_id == a.c.question_id,
                                    is_item.c.role == "item")))
    # Each response's counted groups first (one row per response and group), then crossed
    # with its profile answers: far fewer rows than crossing every answer with every answer.
    g = a.alias("group_answer")
    groups_of = (sa.select(g.c.response_pk, scored.c.group_id).distinct()
                 .select_from(g.join(Response.__table__.alias("group_response"),
                                     sa.literal_column("group_response.id") == g.c.response_pk)
                              .join(scored, sa.and_(
                                  scored.c.questionnaire_id
                                  == sa.literal_column("group_response.questionnaire_id"),
                                  scored.c.question_id == g.c.question_id,
                                  scored.c.option_code == g.c.option_code)))
                 .subquery("groups_of"))
    in_group = heads.join(groups_of, groups_of.c.response_pk == r.c.id)
    score = r.c.score_milli
    return {
        stat_profile: sa.select(
            *labelled, sa.func.count().label("n"), sa.func.count(score).label("score_n"),
            sa.func.coalesce(sa.func.sum(score), 0).label("score_sum"),
            sa.func.coalesce(sa.func.sum(score * score), 0).label("score_sqsum"))
        .select_from(heads).where(counted).group_by(*key),
        stat_profile_answer: sa.select(
            *labelled, a.c.question_id.label("question_id"),
            a.c.option_code.label("option_code"), sa.func.count().label("n"))
        .select_from(items).where(counted, a.c.option_code.is_not(None))
        .group_by(*key, a.c.question_id, a.c.option_code),
        stat_profile_group: sa.select(
            *labelled, groups_of.c.group_id.label("group_id"), sa.func.count().label("n"))
        .select_from(in_group).where(counted).group_by(*key, groups_of.c.group_id),
    }


def rebuild_months() -> None:
    """Recompute the month tables from the day tables (the caller commits)."""
    for day_table, month_table in MONTH_OF.items():
        db.session.execute(month_table.delete())
        query = months_of_days(day_table)
        db.session.execute(month_table.insert().from_select(
            list(query.selected_columns.keys()), query))


def months_of_days(day_table: sa.Table) -> sa.Select[Any]:
    """Return the day table's counts added up by month, in the month table's columns."""
    month_table = MONTH_OF[day_table]
    month = sa.func.substr(day_table.c.day, 1, 7)
    keys = [c.name for c in month_table.primary_key.columns]
    values = [c.name for c in month_table.columns if c.name not in keys]
    key_columns = [month.label("month") if k == "month" else day_table.c[k] for k in keys]
    return (sa.select(*key_columns, *(sa.func.sum(day_table.c[v]).label(v) for v in values))
            .group_by(*key_columns))


def _recounted(scored: sa.Table) -> dict[sa.Table, sa.Select[Any]]:
    """Return, per rollup table, the query that counts its rows from the stored responses.

    The query's columns are the table's, in order; ``rebuild`` inserts what they return and
    ``in_step`` compares it with what the writers kept.
    """
    r, a = Response.__table__, Answer.__table__
    day = _day_sql(r.c.submitted_at)
    key = (r.c.questionnaire_id, day, r.c.unit_id, r.c.channel)
    names = ("questionnaire_id", "day", "unit_id", "channel")
    labelled = [column.label(name) for column, name in zip(key, names, strict=True)]
    counted = r.c.excluded.is_(sa.false())
    score = sa.case((counted, r.c.score_milli))  # NULL for an excluded response
    return {
        stat_response_table: sa.select(
            *labelled, sa.func.count(sa.case((counted, 1))).label("n"),
            sa.func.count(score).label("score_n"),
            sa.func.coalesce(sa.func.sum(score), 0).label("score_sum"),
            sa.func.coalesce(sa.func.sum(score * score), 0).label("score_sqsum"),
            sa.func.count(sa.case((r.c.excluded.is_(sa.true()), 1))).label("n_excluded"))
        .group_by(*key),
        stat_answer: sa.select(
            *labelled, a.c.question_id.label("question_id"),
            a.c.option_code.label("option_code"), sa.func.count().label("n"))
        .join(r, r.c.id == a.c.response_pk)
        .where(a.c.option_code.is_not(None), counted)
        .group_by(*key, a.c.question_id, a.c.option_code),
        stat_group: sa.select(
            *labelled, scored.c.group_id.label("group_id"),
            sa.func.count(sa.distinct(r.c.id)).label("n"))
        .select_from(a.join(r, r.c.id == a.c.response_pk).join(scored, sa.and_(
            scored.c.questionnaire_id == r.c.questionnaire_id,
            scored.c.question_id == a.c.question_id,
            scored.c.option_code == a.c.option_code)))
        .where(counted)
        .group_by(*key, scored.c.group_id),
    }


def scored_option_table(session: Db) -> sa.Table:
    """Create (in this transaction) a temporary table of which answers count in which group.

    Built from the stored definitions, joined in SQL, so that a million responses need no
    Python loop. The caller drops it.
    """
    scored = sa.Table("tmp_scored_option", sa.MetaData(),
                      sa.Column("questionnaire_id", sa.String(64)),
                      sa.Column("question_id", sa.String(64)),
                      sa.Column("option_code", sa.Integer),
                      sa.Column("group_id", sa.String(64)),
                      prefixes=["TEMPORARY"])
    connection = session.connection()
    scored.drop(connection, checkfirst=True)
    scored.create(connection)
    rows = list(_scored_options())
    if rows:
        session.execute(scored.insert(), rows)
    if connection.dialect.name == "postgresql":
        # A temporary table has no statistics until analysed: without them PostgreSQL joins
        # it as if it were huge and reads every answer (2.8 s instead of 0.05 s for a ward's
        # month of a million responses, bench/dashboard).
        session.execute(sa.text("ANALYZE tmp_scored_option"))
    return scored


def _scored_options() -> Iterable[dict[str, Any]]:
    """Yield (questionnaire, question, option, group) for every answer that counts."""
    for questionnaire in latest_questionnaires():
        for question in questionnaire.scored_questions:
            for option in question.options:
                if option.score is None:
                    continue
                for gid in filter(None, (question.group, question.subgroup)):
                    yield {"questionnaire_id": questionnaire.id, "question_id": question.id,
                           "option_code": option.code, "group_id": gid}


def _rated_low(questionnaire_id: str) -> sa.ColumnElement[bool]:
    """Return the SQL condition "this response rated an item 1 or 2" (from its answers)."""
    scheme = scoring_scheme(questionnaire_id)
    pairs = sorted(low_pairs(scheme)) if scheme is not None else []
    if not pairs:
        return sa.false()
    return sa.exists().where(Answer.response_pk == Response.id,
                             sa.tuple_(Answer.question_id, Answer.option_code).in_(pairs))


def low_in_step() -> bool:
    """Return whether every response's ``low`` flag agrees with its answers."""
    ids = db.session.scalars(sa.select(Response.questionnaire_id).distinct()).all()
    return not any(db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.questionnaire_id == qid,
        sa.or_(Response.low.is_(None), Response.low != _rated_low(qid)))) for qid in ids)


def fill_low() -> int:
    """Set ``Response.low`` where it is missing; return how many rows were set.

    Rows stored before migration 0012 have none: one UPDATE per questionnaire sets them.
    """
    done = 0
    ids = db.session.scalars(sa.select(Response.questionnaire_id).where(
        Response.low.is_(None)).distinct()).all()
    for questionnaire_id in ids:
        rated_low = _rated_low(questionnaire_id)
        result = db.session.execute(
            sa.update(Response).where(Response.questionnaire_id == questionnaire_id,
                                      Response.low.is_(None))
            .values(low=rated_low).execution_options(synchronize_session=False))
        done += getattr(result, "rowcount", 0) or 0
    return done


def _rescore(*, only_missing: bool, batch: int = 2000) -> None:
    """Give responses the respondent score their answers earn under the latest version."""
    last = 0
    condition = (sa.or_(Response.score_milli.is_(None), Response.low.is_(None))
                 if only_missing else sa.true())
    while True:
        chunk = db.session.scalars(
            sa.select(Response).where(condition, Response.id > last)
            .order_by(Response.id).limit(batch)).all()
        if not chunk:
            return
        for response in chunk:
            answers = answers_of(response)
            response.score_milli = score_milli(response.questionnaire_id, answers)
            response.low = is_low(response.questionnaire_id, answers)
        last = chunk[-1].id
        db.session.flush()
        db.session.expunge_all()


def in_step() -> bool:
    """Return whether every rollup table holds exactly what a rebuild would write.

    Compares each table row by row (rows whose counts are all zero, left by deletions, are
    the same as absent rows) with the counts recomputed from the stored responses. Reads
    every answer: for tests and checks, not for a request.
    """
    if not low_in_step():
        return False
    for day_table, month_table in MONTH_OF.items():
        if (_nonzero_rows(month_table, db.session.execute(sa.select(month_table)))
                != _nonzero_rows(month_table, db.session.execute(months_of_days(day_table)))):
            return False
    scored = scored_option_table(db.session)
    parts = profile_part_table(db.session)
    try:
        queries = {**_recounted(scored), **_profile_recounted(parts, scored)}
        return all(_nonzero_rows(table, db.session.execute(sa.select(table)))
                   == _nonzero_rows(table, db.session.execute(query))
                   for table, query in queries.items())
    finally:
        scored.drop(db.session.connection())
        parts.drop(db.session.connection())


def _nonzero_rows(table: sa.Table, result: Any) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Return a rollup table's rows, key -> counts, leaving out rows whose counts are all 0."""
    keys = [c.name for c in table.primary_key.columns]
    values = [c.name for c in table.columns if c.name not in keys]
    found = {}
    for row in result.mappings():
        counts = tuple(int(row[v]) for v in values)
        if any(counts):
            found[tuple(row[k] for k in keys)] = counts
    return found


def totals_in_step() -> bool:
    """Return whether the rollups count as many responses and answers as are stored.

    A cheap check for start-up (two counts per table, no grouping); ``in_step`` is the exact one.
    """
    responses = db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0
    counted = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        stat_response_table.c.n + stat_response_table.c.n_excluded), 0))) or 0
    answers = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).join(
        Response, Response.id == Answer.response_pk).where(
        Answer.option_code.is_not(None), Response.excluded.is_(False))) or 0
    counted_answers = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        stat_answer.c.n), 0))) or 0
    return int(responses) == int(counted) and int(answers) == int(counted_answers)


def profiles_in_step() -> bool:
    """Return whether stat_profile counts every answer to a profile question once.

    The cheap check of the rollups by profile answer (one count of the answers, one sum);
    they are empty after migration 0015 until ``init-db`` rebuilds them.
    """
    parts = profile_part_table(db.session)
    try:
        answers = db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer)
            .join(Response, Response.id == Answer.response_pk)
            .join(parts, sa.and_(parts.c.questionnaire_id == Response.questionnaire_id,
                                 parts.c.question_id == Answer.question_id,
                                 parts.c.role == "profile"))
            .where(Answer.option_code.is_not(None), Response.excluded.is_(False))) or 0
    finally:
        parts.drop(db.session.connection())
    counted = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(stat_profile.c.n), 0)))
    return int(answers) == int(counted or 0)
