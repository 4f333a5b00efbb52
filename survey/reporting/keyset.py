"""Lists read by key: a page holds the rows after the last row of the page before.

The rows come in the list's own order, found through an index; never OFFSET, which reads
and drops every row before the page, so that page 2,000 of a city's list costs as much as
the whole list.

A list's order is a sequence of (expression, descending) ending with a unique column; a
row's place in it (``token``) is written into the "next page" link as text, and ``after``
turns it back into the condition "comes after this row". Every list that pages uses it: the
suggestions and low ratings (``report``), cases, the audit log, flag groups, excluded
responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

Value = datetime | date | int | str
Order = Sequence[tuple[sa.ColumnElement[Any] | QueryableAttribute[Any], bool]]
"""A list's order: (expression, descending), the last one unique."""

SEPARATOR = "~"


def token(*values: Value) -> str:
    """Return a row's place in a list from the values of its order's expressions."""
    parts = []
    for value in values:
        if isinstance(value, datetime):
            parts.append(value.astimezone(UTC).isoformat())
        elif isinstance(value, date):
            parts.append(value.isoformat())
        elif isinstance(value, str):  # an id: letters, digits and "_", never the separator
            parts.append(value)
        else:
            parts.append(str(int(value)))
    return SEPARATOR.join(parts)


def parse(text: str, kinds: Sequence[type]) -> tuple[Value, ...] | None:
    """Read a ``token`` of values of these kinds (datetime, date, int, str); None if not one.

    Whatever a link or an address bar brings that is not a token starts the list at its top.
    """
    # A "+" of a time zone typed into an address bar arrives as a space.
    parts = (text or "")[:200].replace(" ", "+").split(SEPARATOR)
    if len(parts) != len(kinds):
        return None
    values: list[Value] = []
    try:
        for part, kind in zip(parts, kinds, strict=True):
            if kind is datetime:
                moment = datetime.fromisoformat(part)
                if moment.tzinfo is None:
                    return None
                values.append(moment.astimezone(UTC))  # 9999-12-31T23:59-05:00 overflows
            elif kind is date:
                values.append(date.fromisoformat(part))
            elif kind is str:
                values.append(part[:64])
            else:
                number = int(part)
                if not -2**63 <= number < 2**63:
                    return None
                values.append(number)
    except (ValueError, OverflowError):
        return None
    return tuple(values)


def after(order: Order, values: Sequence[Value]) -> sa.ColumnElement[bool]:
    """Return the condition "comes after the row at ``values``" in ``order``.

    (a, b, c) after (x, y, z): a past x, or a = x and b past y, or a = x, b = y and c past z,
    "past" being < for a descending expression and > for an ascending one.
    """
    alternatives = []
    for i, (expression, descending) in enumerate(order):
        equal = [e == v for (e, _), v in zip(order[:i], values[:i], strict=True)]
        past = expression < values[i] if descending else expression > values[i]
        alternatives.append(sa.and_(*equal, past))
    return sa.or_(*alternatives)


def order_by(order: Order) -> list[sa.ColumnElement[Any]]:
    """Return the ORDER BY clauses of a list's order."""
    return [e.desc() if descending else e.asc() for e, descending in order]


def pages_shown(page: int, more: bool, total: int, size: int) -> int:
    """Return how many pages to show beside page ``page`` ("Trang 3 / 9") of ``total`` rows.

    ``page`` is only the number the links carry along; ``more``: a next page was found.
    """
    return max(page + (1 if more else 0), -(-total // size))


__all__ = ["Order", "after", "order_by", "pages_shown", "parse", "token"]
