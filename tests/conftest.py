"""Fixtures: an app per test on a fresh database (SQLite, and PostgreSQL when configured).

Set SURVEY_TEST_DATABASE_URL to a PostgreSQL database whose name contains "test" to run every
database test on it too. Set SURVEY_TEST_STRICT=1 (CI does) to turn a skip for a missing
server or program into a failure.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import getpass
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient
from hypothesis import event
from hypothesis.errors import InvalidArgument
from sqlalchemy.engine import make_url

from survey import create_app
from survey.extensions import db
from survey.models import Unit, User
from survey.reporting import report, summaries
from survey.reporting.filters import Filters
from survey.reporting.settings import Settings
from survey.services import accounts, units
from survey.services.questionnaires import sync_questionnaires

STRICT = os.environ.get("SURVEY_TEST_STRICT") == "1"
# Hypothesis tests run ``examples(n)`` examples: n on a newcomer's `make test`, 3n in CI
# (HYPOTHESIS_PROFILE=ci, set by .ci/run), 10n for a long local run (HYPOTHESIS_PROFILE=long).
_EXAMPLE_FACTOR = {"ci": 3, "long": 10}.get(os.environ.get("HYPOTHESIS_PROFILE", ""), 1)


def examples(n: int) -> int:
    """Return how many examples a hypothesis test of ``n`` examples runs in this profile."""
    return n * _EXAMPLE_FACTOR


class Outcomes:
    """Counts what the examples of a hypothesis test reached, to check it reached them.

    A fuzz test whose examples nearly all end in the same refusal tests little: record each
    example's outcome, then ``require_share`` of the outcomes that matter.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []

    def add(self, outcome: str) -> None:
        self.seen.append(outcome)
        with contextlib.suppress(InvalidArgument):  # outside a hypothesis test: no statistics
            event(outcome)

    def share(self, outcome: str) -> float:
        return self.seen.count(outcome) / len(self.seen) if self.seen else 0.0

    def require_share(self, outcome: str, at_least: float) -> None:
        assert self.share(outcome) >= at_least, (
            f"only {self.share(outcome):.0%} of {len(self.seen)} examples reached {outcome!r} "
            f"(want {at_least:.0%}): {dict(collections.Counter(self.seen))}")
TEST_SECRET = "test-secret-key-not-for-production"
PASSWORD = "correct horse battery"


def require(condition: object, reason: str) -> None:
    """Skip (or, under SURVEY_TEST_STRICT=1, fail) when something the test needs is absent."""
    if not condition:
        if STRICT:
            pytest.fail(f"SURVEY_TEST_STRICT=1 but {reason}")
        pytest.skip(reason)


def require_program(name: str) -> str:
    """Return the path of a system program, or skip/fail with the reason."""
    path = shutil.which(name)
    require(path, f"the program {name!r} is not installed")
    assert path is not None
    return path


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that is free now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_TEST_DATABASE = "survey_test"


@functools.cache
def _postgres() -> tuple[str, str]:
    """Return (URL, "") of the PostgreSQL test database, or ("", why there is none).

    SURVEY_TEST_DATABASE_URL wins. Without it, a PostgreSQL server answering on the default
    local address is used as it comes (the user from PGUSER, else the login name, else
    ``postgres``; a password from PGPASSWORD or ~/.pgpass), with a database of our own,
    ``survey_test``, created when missing. Asked once per run.
    """
    url = os.environ.get("SURVEY_TEST_DATABASE_URL", "")
    if url:
        return url, ""
    host, port = LOCAL_POSTGRES
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return "", (f"no PostgreSQL answers on {host}:{port} and SURVEY_TEST_DATABASE_URL "
                    "is not set")
    import psycopg

    users = dict.fromkeys(u for u in (os.environ.get("PGUSER"), getpass.getuser(), "postgres")
                          if u)
    last = ""
    for user in users:
        try:
            with psycopg.connect(host=host, port=port, user=user, dbname="postgres",
                                 connect_timeout=3, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                      (LOCAL_TEST_DATABASE,)).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{LOCAL_TEST_DATABASE}"')
        except psycopg.Error as error:
            last = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            continue
        return f"postgresql+psycopg://{user}@{host}:{port}/{LOCAL_TEST_DATABASE}", ""
    return "", (f"PostgreSQL on {host}:{port} did not let us create or use "
                f"{LOCAL_TEST_DATABASE!r} ({last}); set SURVEY_TEST_DATABASE_URL")


def xdist_worker() -> str:
    """Return this process's pytest-xdist worker ("gw0", "gw1"…), or "" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


@functools.cache
def _worker_postgres(url: str, worker: str) -> tuple[str, str]:
    """Return (URL, "") of the worker's own database beside ``url``'s, or ("", why not).

    Under ``pytest -n N`` each worker empties its database before every test, so each has its
    own: ``<name>_gw0``, ``<name>_gw1``…, created on first use by the same user (CI's role may
    create databases).
    """
    import psycopg

    base = make_url(url)
    name = f"{base.database}_{worker}"
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=5, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return "", f"could not create the worker's database {name!r} ({first})"
    return base.set(database=name).render_as_string(hide_password=False), ""


def postgres_url() -> str:
    """Return the PostgreSQL test URL, or skip/fail with the reason there is none.

    Under pytest-xdist, the worker's own database beside the configured one.
    """
    url, reason = _postgres()
    require(url, f"{reason} (PostgreSQL tests)")
    name = make_url(url).database or ""
    assert "test" in name, f"refusing to empty database {name!r}: its name lacks 'test'"
    if xdist_worker():
        url, reason = _worker_postgres(url, xdist_worker())
        require(url, f"{reason} (PostgreSQL tests)")
    return url


# --- how many PostgreSQL tests ran, in the summary line -----------------------------------

_POSTGRES_TESTS: dict[str, int] = {"ran": 0, "skipped": 0}


# Modules whose tests run for many seconds each (browsers, servers, `make run`). Run first, so
# that under pytest-xdist the short tests fill the end and no worker finishes long after the
# others.
SLOW_MODULES = ("test_browser.py", "test_browser_cases.py", "test_public_browser.py",
                "test_addresses.py", "test_serving.py", "test_fuzz.py", "test_reports.py",
                "test_case_figures.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of SLOW_MODULES first, each module's in its own order."""
    items.sort(key=lambda item: item.path.name not in SLOW_MODULES)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the tests that ran on PostgreSQL, and those skipped for want of it."""
    params = report.nodeid.partition("[")[2].rstrip("]").split("-")
    if "postgresql" not in params:
        return
    if report.when == "call":
        _POSTGRES_TESTS["ran"] += 1
    elif report.skipped:
        _POSTGRES_TESTS["skipped"] += 1


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run's summary with how many tests ran on PostgreSQL, and on which database."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not sum(_POSTGRES_TESTS.values()):
        return
    url, reason = _postgres()
    where = make_url(url).render_as_string(hide_password=True) if url else reason
    reporter.write_line(
        f"PostgreSQL: {_POSTGRES_TESTS['ran']} tests ran, {_POSTGRES_TESTS['skipped']} "
        f"skipped ({where})", bold=True, yellow=not _POSTGRES_TESTS["ran"])


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend; the PostgreSQL one is emptied by the app fixture."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return postgres_url()


def reset_database(url: str) -> None:
    """Drop every table (PostgreSQL: recreate the public schema)."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and Path(path).exists():
            Path(path).unlink()
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


class FreshContextClient(FlaskClient):
    """A test client that gives every request its own app context, as a server does.

    Tests keep an app context open to use the database. Flask would reuse it for requests, so
    ``g`` (where Flask-Login and Flask-Babel cache the user and the language) would leak from
    one request into the next. The test's own transaction is committed first, so that the
    request sees what the test set up and the test then sees what the request stored.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import has_app_context

        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(database_url: str, **overrides: Any) -> Flask:
    """Create an app for tests: CSRF, rate limits and Secure cookies off unless asked."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://survey.test",
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture
def app_factory(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a function that makes a ready app (schema and questionnaires loaded)."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        reset_database(database_url)
        app = make_app(database_url, **overrides)
        with app.app_context():
            db.create_all()
            # Marked as migrated, so that `init-db` in a test upgrades nothing and only syncs.
            from flask_migrate import stamp

            stamp(directory=app.extensions["migrate"].directory, revision="head")
            sync_questionnaires(Path(app.config["QUESTIONNAIRE_DIR"]))
            db.session.commit()
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """An app inside an app context."""
    app = app_factory()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def ward(app: Flask) -> Unit:
    unit = units.create_unit("PHUONG", "Phường Thử Nghiệm", "ward", actor="test")
    db.session.commit()
    return unit


@pytest.fixture
def make_unit(app: Flask, ward: Unit) -> Callable[..., Unit]:
    def make(code: str, name: str | None = None, kind: str = "counter") -> Unit:
        unit = units.create_unit(code, name or f"Quầy {code}", kind, parent=ward, actor="test")
        db.session.commit()
        return unit

    return make


@pytest.fixture
def counter(make_unit: Callable[..., Unit]) -> Unit:
    return make_unit("QUAY-1", "Quầy Tư pháp - Hộ tịch")


@pytest.fixture
def link_code(app: Flask, counter: Unit) -> str:
    link = units.ensure_link(counter, "sipas-dichvu", actor="test")
    db.session.commit()
    return link.code


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    def make(username: str, role: str = "staff", unit_list: list[Unit] | None = None,
             password: str = PASSWORD) -> User:
        user = accounts.create_user(username, password, role, unit_list or [], actor="test")
        db.session.commit()
        return user

    return make


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the real form."""
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def admin_client(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    make_user("quantri", "admin")
    assert login(client, "quantri").status_code == 302
    return client


def wait_until(condition: Callable[[], object], what: str, seconds: float = 20) -> None:
    """Poll ``condition`` until it holds; fail (never hang) after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.01)


def a_writer_is_waiting() -> bool:
    """Whether another writer waits for this app's database right now.

    PostgreSQL: a session of this database waiting for a lock. SQLite: a process waiting for
    this app's writers' flock (a "->" line of /proc/locks on the lock file's inode), which is
    where a second writer queues. Other tests' databases on the same machine do not count.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            return bool(conn.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")))
    lock_file = current_app.config.get("SQLITE_WRITER_LOCK")
    if not lock_file or not Path(lock_file).exists():
        return False
    inode = str(Path(lock_file).stat().st_ino)
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and "FLOCK" in fields and len(fields) > 6:
            device = fields[fields.index("FLOCK") + 4]
            if device.rsplit(":", 1)[-1] == inode:
                return True
    return False


def first_writer_holds(app: Flask, work: Callable[[], Any], what: str
                       ) -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` through ``committed`` in another thread, and hold its transaction open
    (written, not committed) until a second writer waits for it.

    Returns once ``work`` has run, with the thread and a list that receives its result (or the
    error it raised) when it commits; the caller starts the second writer, then joins.
    """
    from survey.services.transactions import committed

    holding, results = threading.Event(), []

    def run() -> None:
        with app.app_context():
            def held() -> Any:
                value = work()
                holding.set()
                wait_until(a_writer_is_waiting, what)
                return value
            try:
                results.append(committed(held))
            except Exception as error:  # noqa: BLE001 - the caller's assertion shows it
                results.append(error)
            finally:
                holding.set()

    thread = threading.Thread(target=run)
    thread.start()
    assert holding.wait(10), "the first writer never wrote"
    return thread, results


def seed_link(app: Flask, questionnaire_id: str = "sipas-dichvu") -> str:
    """Create a ward, a counter and the counter's link in ``app``; return the link code."""
    with app.app_context():
        ward = units.create_unit("P", "Phường", "ward", actor="test")
        unit = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
        code = units.ensure_link(unit, questionnaire_id, actor="test").code
        db.session.commit()
    return code


def sipas_answers(**changes: Any) -> dict[str, str]:
    """A complete valid sipas-dichvu submission (all 19 items answered 4), with changes."""
    data = {f"q_q{i}": "4" for i in range(15, 34)}
    data.update({"q_linh_vuc": "1", "q_gioi_tinh": "2", "q_do_tuoi": "3",
                 "q_y_kien": "Cán bộ nhiệt tình, cần thêm ghế chờ."})
    data["response_id"] = str(uuid.uuid4())
    data["version"] = "1"
    data.update({k: str(v) for k, v in changes.items()})
    return {k: v for k, v in data.items() if v != "None"}


def csrf_token_from(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def reporting_settings(**changes: Any) -> Settings:
    """Return the current app's reporting settings, with ``changes`` (e.g. ``targets=``)."""
    import dataclasses

    return dataclasses.replace(Settings.from_config(current_app.config), **changes)


def summary_of(filters: Filters, *, aggregation: str = "mean_of_items",
               **changes: Any) -> dict[str, Any] | None:
    """Return the summary JSON of ``filters`` under the current app's settings."""
    return summaries.summary(db.session, filters, reporting_settings(**changes),
                             aggregation=aggregation)


def report_of(filters: Filters, *, aggregation: str = "mean_of_items",
              **changes: Any) -> report.Report | None:
    """Build the report of ``filters`` under the current app's settings (with ``changes``)."""
    return report.build_report(db.session, filters, reporting_settings(**changes),
                               aggregation=aggregation)

