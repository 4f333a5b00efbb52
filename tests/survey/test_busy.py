"""A busy database: the write is tried again, and the citizen never loses an acknowledgement.

Another connection holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a table lock,
with the app's lock_timeout short), so the app meets the real "database is locked" or
"lock not available" errors.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from survey.extensions import db
from survey.models import Response
from tests.conftest import seed_link, sipas_answers, wait_until


def busy_app(app_factory: Callable[..., Flask], url: str, attempts: int) -> Flask:
    """An app that waits only 50 ms for a lock before counting the attempt as failed."""
    if url.startswith("sqlite"):
        return app_factory(SQLITE_BUSY_TIMEOUT=50, DB_WRITE_ATTEMPTS=attempts)
    return app_factory(DB_WRITE_ATTEMPTS=attempts, SQLALCHEMY_ENGINE_OPTIONS={
        "connect_args": {"options": "-c lock_timeout=50"}})


@contextmanager
def write_lock(url: str) -> Iterator[threading.Event]:
    """Hold the database's write lock until the yielded event is set (or the block ends)."""
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        if url.startswith("sqlite"):
            conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(30)
            conn.execute("ROLLBACK")
            conn.close()
        else:
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("LOCK TABLE response IN EXCLUSIVE MODE")
                held.set()
                release.wait(30)
                conn.rollback()
            engine.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    try:
        yield release
    finally:
        release.set()
        thread.join(30)
        assert not thread.is_alive(), "the lock holder did not let go"


def release_after_a_retry(release: threading.Event, caplog: pytest.LogCaptureFixture,
                          attempts: int) -> None:
    """Let go of the lock once the write has met it and is trying again (not after a fixed
    time: under load the write may not have started yet, and would never meet the lock)."""
    def run() -> None:
        try:
            wait_until(lambda: f"database busy (attempt 1 of {attempts})" in caplog.text,
                       "the write to meet the lock")
        finally:
            release.set()

    threading.Thread(target=run, daemon=True).start()


def stored(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0)


def test_a_write_that_meets_a_lock_is_tried_again_and_stored_once(
        app_factory: Callable[..., Flask], database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    app = busy_app(app_factory, database_url, attempts=8)
    app.logger.addHandler(caplog.handler)
    code = seed_link(app)
    data = sipas_answers()
    with write_lock(database_url) as release:
        release_after_a_retry(release, caplog, 8)
        response = app.test_client().post(f"/s/{code}", data=data)
    assert response.status_code == 200
    assert "Mã phiếu" in response.get_data(as_text=True)
    assert stored(app) == 1
    assert "database busy (attempt 1 of 8)" in caplog.text  # it did meet the lock


def test_a_database_busy_to_the_end_stores_nothing_and_keeps_the_answers(
        app_factory: Callable[..., Flask], database_url: str) -> None:
    app = busy_app(app_factory, database_url, attempts=2)
    code = seed_link(app)
    data = sipas_answers(q_q20=2)
    client = app.test_client()
    with write_lock(database_url):
        busy = client.post(f"/s/{code}", data=data)
        html = busy.get_data(as_text=True)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"]
        assert "Hệ thống đang bận nên phiếu chưa được lưu" in html
        assert re.search(r'name="q_q20" value="2" checked', html)
        assert f'value="{data["response_id"]}"' in html  # the same id: a resend stores once
        assert "Traceback" not in html
    assert stored(app) == 0
    again = client.post(f"/s/{code}", data=data)
    assert again.status_code == 200
    assert client.post(f"/s/{code}", data=data).status_code == 200
    assert stored(app) == 1


def test_a_busy_database_elsewhere_is_a_503_page_not_a_500(
        app_factory: Callable[..., Flask], database_url: str) -> None:
    """Outside the citizen's form (here a staff login, which writes the audit log) a lock held
    past every attempt gives a 503 page that says nothing was stored."""
    from tests.conftest import PASSWORD

    app = busy_app(app_factory, database_url, attempts=1)
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("canbo", PASSWORD, "admin", [], actor="test")
        db.session.commit()
    client = app.test_client()
    context = (write_lock(database_url) if database_url.startswith("sqlite")
               else _pg_table_lock(database_url, "audit_log"))
    with context:
        response = client.post("/login", data={"username": "canbo", "password": PASSWORD})
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Hệ thống đang bận" in html
    assert "Traceback" not in html


@contextmanager
def _pg_table_lock(url: str, table: str) -> Iterator[None]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        yield
        conn.rollback()
    engine.dispose()


def _leader_with_a_sheet(app: Flask) -> str:
    """A residential group, its leader and a single-entry batch; return the first serial."""
    from survey.services import accounts, paper, units
    from tests.conftest import PASSWORD

    with app.app_context():
        group = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", actor="test")
        accounts.create_user("totruong1", PASSWORD, "leader", [group], actor="test")
        batch = paper.create_batch("sipas-dichvu", group, 2, leader=None, double_entry=False,
                                   actor="test")
        db.session.commit()
        return paper.format_serial(batch.sheets[0].serial)


def _sheet(**codes: str) -> dict[str, str]:
    data = {f"q_q{i}": "4" for i in range(15, 34)}
    data.update({"q_linh_vuc": "1", "q_gioi_tinh": "2", "q_y_kien": "Đường tổ bị ngập"})
    data.update({f"q_{k}": v for k, v in codes.items()})
    return data


def test_a_sheet_typed_while_the_database_is_busy_is_tried_again_or_kept(
        app_factory: Callable[..., Flask], database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """A leader's sheet that meets a lock is stored once it is free; if the lock outlasts every
    attempt, the page comes back (503) with what was typed, and nothing is stored."""
    from tests.conftest import login

    app = busy_app(app_factory, database_url, attempts=2)
    app.logger.addHandler(caplog.handler)
    serial = _leader_with_a_sheet(app)
    client = app.test_client()
    assert login(client, "totruong1").status_code == 302
    with write_lock(database_url):
        busy = client.post(f"/staff/sheets/{serial}", data=_sheet(q20="2"))
        html = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"]
    assert "Hệ thống đang bận nên phiếu chưa được lưu" in html
    assert "Đường tổ bị ngập" in html
    assert re.search(r'name="q_q20"[^>]*value="2"', html)
    assert stored(app) == 0
    assert "database busy (attempt 1 of 2)" in caplog.text

    app.config["DB_WRITE_ATTEMPTS"] = 8
    with write_lock(database_url) as release:
        release_after_a_retry(release, caplog, 8)
        saved = client.post(f"/staff/sheets/{serial}", data=_sheet(q20="2"))
    assert saved.status_code == 302
    assert stored(app) == 1
