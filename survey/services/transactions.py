"""Commit a unit of work, trying again when the database is only busy.

SQLite lets one writer at a time: a writer that waits longer than the busy timeout gets
"database is locked". PostgreSQL may cancel one of two transactions in a deadlock or a
serialization failure. Neither means the data was wrong, so the work is done again from the
start, a few times with a growing pause. Only after the last attempt does the caller see
``DatabaseBusy``, and nothing has been stored: the citizen has not been told otherwise.
"""

from __future__ import annotations

import fcntl
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from ..extensions import db

T = TypeVar("T")

# PostgreSQL SQLSTATEs worth another try: serialization_failure, deadlock_detected,
# lock_not_available.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


class DatabaseBusy(Exception):
    """The database stayed busy through every attempt; nothing was stored."""


def is_transient(error: BaseException) -> bool:
    """Whether a database error means "busy, try again" rather than "wrong"."""
    original = getattr(error, "orig", error)
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        return "locked" in text or "busy" in text
    return getattr(original, "sqlstate", None) in TRANSIENT_SQLSTATES


@contextmanager
def writer_turn() -> Iterator[None]:
    """Wait for this process's turn to write to SQLite; on PostgreSQL, return at once.

    SQLite lets one writer at a time, and its busy handler makes the others sleep for 1, 2, 5,
    10, 25 … ms before they look again, so under load the lock often lies free while every
    writer sleeps. An exclusive ``flock`` on a file beside the database queues the writers of
    all workers in the kernel instead, which wakes the next one the moment the lock is given
    back (and gives it back by itself when a process dies).
    """
    path = current_app.config.get("SQLITE_WRITER_LOCK")
    if not path:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def committed(work: Callable[[], T], attempts: int | None = None) -> T:
    """Run ``work`` and commit, repeating both after a transient error; return its result.

    ``work`` must be safe to run again after a rollback: it starts from what is in the
    database, not from objects of the failed attempt.
    """
    attempts = attempts or int(current_app.config.get("DB_WRITE_ATTEMPTS", 5))
    for attempt in range(1, attempts + 1):
        try:
            with writer_turn():
                result = work()
                db.session.commit()
            return result
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            if not is_transient(error):
                raise
            current_app.logger.warning("database busy (attempt %d of %d): %s", attempt,
                                       attempts, getattr(error, "orig", error))
            if attempt == attempts:
                raise DatabaseBusy from error
            time.sleep(min(2.0, 0.05 * 2 ** attempt) * (0.5 + random.random()))  # noqa: S311 - jitter
    raise AssertionError("unreachable")
