"""Raw responses in the wide format of contract §5, read in constant memory.

Responses are read in pages of a thousand by id (keyset pagination), so a CSV or XLSX export
of a million responses holds one page at a time, never the whole set.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from analysis.scoring import Scheme
from analysis.vietnam import VIETNAM
from analysis.wide import BASE_COLUMNS, INTEGRITY_COLUMNS, wide_columns

from ..models import Answer, Response, Unit
from .db import Db
from .filters import Filters

PAGE = 1000
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


def iter_responses(session: Db, filters: Filters) -> Iterator[Response]:
    """Yield the filtered responses (excluded ones too) with their answers, by id, by page."""
    last = 0
    while True:
        page = session.scalars(
            sa.select(Response).where(*response_conditions(filters, include_excluded=True),
                                      Response.id > last)
            .options(selectinload(Response.answers)).order_by(Response.id).limit(PAGE)).all()
        if not page:
            return
        yield from page
        last = page[-1].id
        session.expunge_all()  # keep memory flat whatever the number of pages


def _shown_flags(flags: str, hidden: tuple[str, ...]) -> str:
    if not hidden:
        return flags
    return " ".join(code for code in flags.split() if code not in hidden)


def wide_rows(session: Db, filters: Filters, scheme: Scheme) -> Iterator[list[Any]]:
    """Yield one row per response in contract §5 order: typed values, texts neutralised.

    ``submitted_at`` is an aware datetime in Vietnam time; option codes are ints.
    """
    questions = wide_columns(scheme)[len(BASE_COLUMNS) + len(INTEGRITY_COLUMNS):]
    codes = dict(session.execute(sa.select(Unit.id, Unit.code)).all())
    for response in iter_responses(session, filters):
        answers: dict[str, Answer] = {a.question_id: a for a in response.answers}
        row: list[Any] = [str(response.response_id),
                          response.submitted_at.astimezone(VIETNAM).replace(microsecond=0),
                          codes.get(response.unit_id, ""), response.channel,
                          _shown_flags(response.flags, filters.hidden_flags),
                          1 if response.excluded else 0]
        for qid in questions:
            answer = answers.get(qid)
            if answer is None:
                row.append("")
            elif answer.option_code is not None:
                row.append(answer.option_code)
            else:
                row.append(neutralise(answer.text_value or ""))
        yield row


def csv_chunks(session: Db, filters: Filters, scheme: Scheme, *, chunk_rows: int = 500
               ) -> Iterator[str]:
    """Yield the CSV export (UTF-8 text with a BOM first) in chunks, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(wide_columns(scheme))
    for rows, row in enumerate(wide_rows(session, filters, scheme), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if rows % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def csv_header(scheme: Scheme) -> Sequence[str]:
    """Return the CSV header of a questionnaire (contract §5)."""
    return wide_columns(scheme)
