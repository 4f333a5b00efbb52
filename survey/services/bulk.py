"""Write a row and its dependent rows in as few statements as the database allows.

A citizen's submission is one response row, some twenty answer rows and as many rollup counts
(see rollups.py). An executemany on PostgreSQL sends each row as a statement of its own: psycopg
pipelines them, but every row and every statement still costs Python time in the worker and
work in the server, and under load these were most of the submission. On PostgreSQL
``insert_once`` therefore writes the whole tree with one statement: the response's
``INSERT … ON CONFLICT DO NOTHING RETURNING id`` in a CTE, and each table of dependent rows
as ``INSERT … SELECT … FROM parent_row, json_to_recordset(…)`` in a CTE of its own, so that
they are written only when the response was new. The rows travel as one JSON text per table:
json.dumps runs in C, where adapting a list to a PostgreSQL array costs Python time per
element. SQLite runs in the process, where a statement is cheap and executemany loops in C:
there the same rows go as one INSERT … RETURNING and one executemany per table. The
statements are built once per shape, then reused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Rows:
    """Rows for one table, all with the same keys.

    ``add``: columns added to an existing row with the same primary key (an upsert of counts).
    ``parent``: the column that ``insert_once`` fills with the new parent row's id.
    """

    table: sa.Table
    rows: Sequence[Row]
    add: tuple[str, ...] = ()
    parent: str | None = None
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(self.rows[0]) if self.rows else ()
        if any(tuple(row) != names for row in self.rows):
            raise ValueError(f"rows for {self.table.name} do not all have the keys {names}")
        object.__setattr__(self, "columns", names)


def insert_rows(rows: Rows) -> None:
    """Insert (or add to) ``rows`` in this transaction."""
    if not rows.rows:
        return
    if _dialect() == "postgresql":
        _connection().execute(_recordset_statement(rows.table, rows.columns, rows.add),
                              {"rows": _json(rows)})
    else:
        _connection().execute(_values_statement(rows.table, rows.add), list(rows.rows))


def insert_once(table: sa.Table, row: Row, *, unique: str,
                children: Sequence[Rows] = ()) -> int | None:
    """Insert ``row`` and its ``children`` unless a row with the same ``unique`` value exists.

    Return the new row's id, or None (and write nothing) when the row was there already. Any
    other constraint violation raises IntegrityError as usual. The children are written one
    table after the other, in the order given, on both databases, so that concurrent writers
    take row locks in one order (see rollups.rollup_rows).
    """
    children = tuple(c for c in children if c.rows)
    if _dialect() == "postgresql":
        shape = tuple((c.table, c.columns, c.add, c.parent) for c in children)
        params = {f"r_{name}": value for name, value in row.items()}
        for index, child in enumerate(children):
            params[f"rows_{index}"] = _json(child)
        return _connection().scalar(_tree_statement(table, tuple(row), unique, shape), params)
    new_id = _connection().scalar(_insert_once_statement(table, tuple(row), unique), dict(row))
    if new_id is not None:
        for child in children:
            rows = child.rows
            if child.parent is not None:
                rows = [dict(r, **{child.parent: new_id}) for r in rows]
            insert_rows(Rows(child.table, rows, child.add))
    return new_id


def insert_missing(table: sa.Table, rows: Sequence[Row]) -> None:
    """Insert the rows whose primary key is not there yet; skip the others without error.

    ``INSERT … ON CONFLICT DO NOTHING`` on both databases: two sessions inserting the same key
    at once both succeed (the second waits for the first, then skips it).
    """
    if not rows:
        return
    dialect = postgresql if _dialect() == "postgresql" else sqlite
    _connection().execute(dialect.insert(table).on_conflict_do_nothing(), list(rows))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _connection() -> sa.Connection:
    """Return the session's connection, in its transaction (Core statements need no ORM)."""
    return db.session.connection()


def _json(rows: Rows) -> str:
    """Return the rows as a JSON array of objects (without the parent column).

    JSON carries the numbers and texts of answers and counts; anything else (a datetime, a
    UUID) would skip its column type's conversion, so it raises TypeError instead.
    """
    if rows.parent is None:
        return json.dumps(rows.rows, ensure_ascii=False)
    return json.dumps([{k: v for k, v in row.items() if k != rows.parent} for row in rows.rows],
                      ensure_ascii=False)


def _recordset(table: sa.Table, columns: Sequence[str], key: str) -> Any:
    """Return ``json_to_recordset(CAST(:key AS JSON)) AS name(column type, …)``."""
    return sa.func.json_to_recordset(sa.cast(sa.bindparam(key, type_=sa.Text), sa.JSON)) \
        .table_valued(*[sa.column(name, table.c[name].type) for name in columns]) \
        .render_derived(with_types=True)


def _upsert(stmt: Any, table: sa.Table, add: tuple[str, ...]) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={name: table.c[name] + stmt.excluded[name] for name in add})


@functools.cache
def _recordset_statement(table: sa.Table, columns: tuple[str, ...], add: tuple[str, ...]) -> Any:
    """Return PostgreSQL's ``INSERT … SELECT … FROM json_to_recordset(:rows)``."""
    rows = _recordset(table, columns, "rows")
    stmt = postgresql.insert(table).from_select(
        list(columns), sa.select(*[rows.c[name] for name in columns]))
    return _upsert(stmt, table, add) if add else stmt


@functools.cache
def _values_statement(table: sa.Table, add: tuple[str, ...]) -> Any:
    """Return SQLite's INSERT (… ON CONFLICT DO UPDATE), run once per row as an executemany."""
    return _upsert(sqlite.insert(table), table, add) if add else table.insert()


@functools.cache
def _insert_once_statement(table: sa.Table, columns: tuple[str, ...], unique: str) -> Any:
    """Return SQLite's ``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id``."""
    return (sqlite.insert(table)
            .values({name: sa.bindparam(name, type_=table.c[name].type) for name in columns})
            .on_conflict_do_nothing(index_elements=[unique]).returning(table.c.id))


@functools.cache
def _tree_statement(table: sa.Table, columns: tuple[str, ...], unique: str,
                    shape: tuple[tuple[sa.Table, tuple[str, ...], tuple[str, ...], str | None],
                                 ...]) -> Any:
    """Return PostgreSQL's one statement for a row and its children (see the module's text)."""
    parent = (postgresql.insert(table)
              .values({name: sa.bindparam(f"r_{name}", type_=table.c[name].type)
                       for name in columns})
              .on_conflict_do_nothing(index_elements=[unique])
              .returning(table.c.id).cte("parent_row"))
    writes: list[Any] = []
    for index, (child, names, add, parent_column) in enumerate(shape):
        given = [name for name in names if name != parent_column]
        rows = _recordset(child, given, f"rows_{index}")
        selected = [parent.c.id if name == parent_column else rows.c[name] for name in names]
        source = sa.select(*selected).select_from(parent).join(rows, sa.true())
        if writes:
            # PostgreSQL runs the CTEs that nothing reads in an order of its choosing; counting
            # the rows of the previous write makes it finish first.
            before: Any = sa.select(sa.func.count()).select_from(writes[-1])
            source = source.join(before.subquery(f"after_{index - 1}"), sa.true())
        stmt = postgresql.insert(child).from_select(list(names), source)
        if add:
            stmt = _upsert(stmt, child, add)
        writes.append(stmt.returning(sa.literal_column("1")).cte(f"write_{index}"))
    return sa.select(parent.c.id).add_cte(*writes)
