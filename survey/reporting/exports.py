"""Raw responses in the wide format of contract §5, read in constant memory.

Responses and their answers are read in one query ordered by id through a server-side cursor,
so a CSV or XLSX export of a million responses holds a few thousand rows at a time, never the
whole set.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from analysis.scoring import Scheme
from analysis.vietnam import VIETNAM
from analysis.wide import BASE_COLUMNS, INTEGRITY_COLUMNS, wide_columns

from ..models import Answer, Response, Unit
from .db import Db
from .filters import Filters

STREAM_ROWS = 5000
"""Rows fetched at a time from the server-side cursor of an export."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix ``'`` to a text a spreadsheet would take for a formula (contract §5).

    A text that already starts with ``'`` gets one too, so that ``restore`` can always take
    exactly one off and a round trip keeps the citizen's words.
    """
    return "'" + text if text.startswith((*FORMULA_STARTS, "'")) else text


def restore(text: str) -> str:
    """Undo ``neutralise`` on import."""
    if text.startswith("'") and text[1:].startswith((*FORMULA_STARTS, "'")):
        return text[1:]
    return text


def _utc_bounds(filters: Filters) -> list[Any]:
    """Conditions on submitted_at for the Vietnam calendar days of the filters."""
    conditions = []
    if filters.date_from:
        start = datetime.combine(filters.date_from, datetime.min.time(), VIETNAM)
        conditions.append(Response.submitted_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time(), VIETNAM)
        conditions.append(Response.submitted_at < end)
    return conditions


def response_conditions(filters: Filters, *, include_excluded: bool = False) -> list[Any]:
    """Return the SQL conditions selecting the responses a summary with these filters counts.

    Responses excluded by staff count nowhere; only the raw export lists them too
    (``include_excluded``), marked, so that a re-import keeps them excluded (contract §8).
    """
    conditions = [Response.questionnaire_id == filters.questionnaire_id, *_utc_bounds(filters)]
    if not include_excluded:
        conditions.append(Response.excluded.is_(False))
    unit_ids = filters.unit_ids()
    if unit_ids is not None:
        conditions.append(Response.unit_id.in_(unit_ids))
    if filters.channels:
        conditions.append(Response.channel.in_(filters.channels))
    return conditions


def count_responses(session: Db, filters: Filters) -> int:
    """Return how many responses an export with these filters holds (excluded ones too)."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        *response_conditions(filters, include_excluded=True))) or 0)


def _shown_flags(flags: str, hidden: tuple[str, ...]) -> str:
    if not hidden:
        return flags
    return " ".join(code for code in flags.split() if code not in hidden)


def _answers_json(session: Db) -> Any:
    """Return SQL for one response's answers as a JSON object {question id: code or text}."""
    a, r = Answer.__table__, Response.__table__
    if session.get_bind().dialect.name == "postgresql":
        # json, not jsonb: nothing to parse into a binary form and out again (2.7 times faster
        # over 100,000 responses).
        value = sa.func.coalesce(sa.func.to_json(a.c.option_code),
                                 sa.func.to_json(a.c.text_value))
        aggregate = sa.func.json_object_agg(a.c.question_id, value)
    else:
        aggregate = sa.func.json_group_object(a.c.question_id,
                                              sa.func.coalesce(a.c.option_code, a.c.text_value))
    return (sa.select(sa.cast(aggregate, sa.Text)).where(a.c.response_pk == r.c.id)
            .scalar_subquery())


def wide_rows(session: Db, filters: Filters, scheme: Scheme) -> Iterator[list[Any]]:
    """Yield one row per response in contract §5 order: typed values, texts neutralised.

    ``submitted_at`` is an aware datetime in Vietnam time; option codes are ints. One query in
    id order through a server-side cursor (PostgreSQL; SQLite steps through its result), each
    response with its answers gathered by the database into one JSON object: a million
    responses in constant memory, tens of thousands of rows a second (bench/exports).
    """
    first = len(BASE_COLUMNS) + len(INTEGRITY_COLUMNS)
    questions = wide_columns(scheme)[first:]
    codes = dict(session.execute(sa.select(Unit.id, Unit.code)).all())
    r = Response.__table__
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # A server-side cursor is planned for its first rows (cursor_tuple_fraction 0.1): it
        # would walk the primary key in id order through every response to find a ward's
        # month (2.6 s instead of 0.1 s at a million). Plan for the whole result.
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
    # The options on the statement, not the connection: they would stay on the session's
    # connection for every later statement.
    result = connection.execute(
        sa.select(r.c.response_id, r.c.submitted_at, r.c.unit_id, r.c.channel, r.c.flags,
                  r.c.excluded, _answers_json(session))
        .where(*response_conditions(filters, include_excluded=True)).order_by(r.c.id)
        .execution_options(stream_results=True, yield_per=STREAM_ROWS))
    hidden = filters.hidden_flags
    # Choice questions hold codes (ints); a text is neutralised, so only the other columns
    # are looked at one by one.
    choice = {str(e["id"]) for e in scheme.codebook if e.get("type") == "choice"}
    texts = [first + i for i, qid in enumerate(questions) if qid not in choice]
    for response_id, submitted_at, unit_id, channel, flags, excluded, found in result:
        answers = json.loads(found) if found else {}
        row = [str(response_id), submitted_at.astimezone(VIETNAM).replace(microsecond=0),
               codes.get(unit_id, ""), channel, _shown_flags(flags, hidden),
               1 if excluded else 0, *[answers.get(qid, "") for qid in questions]]
        for at in texts:
            value = row[at]
            if value.__class__ is str and value:
                row[at] = neutralise(value)
        yield row


def csv_chunks(session: Db, filters: Filters, scheme: Scheme, *, chunk_rows: int = 2000
               ) -> Iterator[str]:
    """Yield the CSV export (UTF-8 text with a BOM first) in chunks, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(wide_columns(scheme))
    for rows, row in enumerate(wide_rows(session, filters, scheme), start=1):
        row[1] = row[1].isoformat()  # submitted_at, the only value that is not text or int
        writer.writerow(row)
        if rows % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_header(scheme: Scheme) -> Sequence[str]:
    """Return the CSV header of a questionnaire (contract §5)."""
    return wide_columns(scheme)
