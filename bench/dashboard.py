"""Time every dashboard view a ward officer uses over 1,000,000 responses in 100 wards.

    bench/dashboard [--responses N] [--db PATH] [--rebuild] [--repeat K] [--only TEXT]
                    [--profile TEXT] [--every-profile] [--scan] [--build-only] [--no-sqlite]

Builds (once, then reuses; ``--rebuild`` forces it) a database of N sipas-dichvu responses
spread over 2025, over 100 wards (P001..P100), each with two counters and three residential
groups under it, two channels, every response with its items and a few profile answers (the
answers come from bench/summary.py's ``generate``; the field ``linh_vuc`` is added here). The
rollups are built with ``rollups.rebuild``; the responses are marked as scanned for integrity
flags (``--scan`` runs ``integrity.scan`` over them instead: slow at 1 M).
Then a staff account of every ward (and, when accounts can be limited to a ward, one limited
to P001) logs in through the real form of Flask's test client, and every dashboard view is
asked for K times: the table gives the median of the runs after the first, the first (cold)
run, and the ratio of the median to ``SELECT count(*) FROM response`` measured in the same
run. The city comparison pages (/staff/wards, /staff/wards.xlsx, /api/v1/wards) are timed
when the app has them.

SQLite first (a file under the system temp dir); then, when SURVEY_TEST_DATABASE_URL points
at PostgreSQL, PostgreSQL (the database is emptied and filled with COPY: its name must contain
"test"). ``--profile TEXT`` runs one request of each view whose label contains TEXT under
cProfile and prints where the time goes: the slowest functions and SQL statements.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import importlib.util
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import (  # noqa: E402
    Answer,
    Response,
    Unit,
    User,
    integrity_state,
    stat_profile,
    stat_response,
)
from survey.services import accounts, integrity, rollups, units  # noqa: E402
from survey.services.questionnaires import get_questionnaire, sync_questionnaires  # noqa: E402
from survey.services.text import fold_text  # noqa: E402


def _load_summary_bench() -> Any:
    """Import bench/summary.py (not a package) for its answer generator."""
    spec = importlib.util.spec_from_file_location("bench_summary", ROOT / "bench" / "summary.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = _load_summary_bench()
QID: str = base.QID
WARDS = 100
# Under each ward: (code suffix, kind, weight in the draw of a response's unit).
WARD_UNITS = [("MC1", "counter", 3), ("MC2", "counter", 3), ("TDP1", "group", 1),
              ("TDP2", "group", 1), ("TDP3", "group", 1)]
WARD = "P001"  # the ward the one-ward views look at
MONTH = ("2025-06-01", "2025-06-30")
# linh_vuc (field of the procedure): codes and how often each comes up.
FIELDS = np.array([1, 2, 3, 4, 5, 6, 7, 9])
FIELD_P = np.array([0.30, 0.25, 0.12, 0.06, 0.05, 0.12, 0.05, 0.05])
SUGGESTIONS = ["Cần thêm ghế ngồi chờ.", "Cán bộ hướng dẫn tận tình, cảm ơn.",
               "Nên có chỗ để xe rộng hơn.", "Thời gian chờ còn lâu, cần thêm quầy.",
               "Máy lấy số hay bị hỏng."]
RECEIPT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
USERNAME, PASSWORD = "canbo", "correct horse battery"
# The breakdowns timed by default: the field, two answered profile questions and one that no
# response answers (--every-profile: all of them; they share one code path).
PROFILE = ("linh_vuc", "gioi_tinh", "do_tuoi", "nghe_nghiep")
# A view whose cold run takes longer than SLOW seconds is run twice more only; VERY_SLOW, once.
SLOW, VERY_SLOW = 5.0, 60.0

R_COLUMNS = ("id", "response_id", "questionnaire_id", "questionnaire_version", "unit_id",
             "channel", "submitted_at", "receipt", "digest", "score_milli")
A_COLUMNS = ("response_pk", "question_id", "option_code", "text_value", "text_folded")


def out(*args: Any, **kwargs: Any) -> None:
    print(*args, **kwargs, flush=True)


# --- building ------------------------------------------------------------------------------

def receipt(rid: int) -> str:
    """Return a distinct receipt code ``XXXX-XXXX`` for a response id (a bijection mod 32^8)."""
    x = (rid * 2654435761) % 32 ** 8
    chars = []
    for _ in range(8):
        chars.append(RECEIPT_ALPHABET[x % 32])
        x //= 32
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def batches(n: int, unit_ids: list[int], version: int
            ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Yield (response rows, answer rows) in the column order of R_COLUMNS and A_COLUMNS."""
    rng = np.random.default_rng(11)
    folded = {text: fold_text(text) for text in SUGGESTIONS}
    for responses, answers in base.generate(n, unit_ids):
        fields = rng.choice(FIELDS, size=len(responses), p=FIELD_P)
        rows, answer_rows = [], []
        for response, code in zip(responses, fields, strict=True):
            assert len(response) == len(R_COLUMNS)
            rid = response[0]
            rows.append((*response[:3], version, *response[4:7], receipt(rid), *response[8:]))
            answer_rows.append((rid, "linh_vuc", int(code), None, None))
        for rid, qid, code, text in answers:
            if text is not None:
                text = SUGGESTIONS[rid % len(SUGGESTIONS)]
                answer_rows.append((rid, qid, None, text, folded[text]))
            else:
                answer_rows.append((rid, qid, code, None, None))
        yield rows, answer_rows


def reset(url: str) -> None:
    """Empty the database: delete the SQLite file, or drop PostgreSQL's public schema."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def make_units() -> list[int]:
    """Create the wards and their units; return the unit ids to draw responses from."""
    draw: list[int] = []
    for w in range(1, WARDS + 1):
        code = f"P{w:03d}"
        ward = units.create_unit(code, f"Phường {w:03d}", "ward", actor="bench")
        for suffix, kind, weight in WARD_UNITS:
            name = (f"Bộ phận một cửa {suffix[-1]}" if kind == "counter"
                    else f"Tổ dân phố {suffix[-1]}") + f" – Phường {w:03d}"
            unit = units.create_unit(f"{code}-{suffix}", name, kind, parent=ward, actor="bench")
            draw += [unit.id] * weight
    return draw


def insert(connection: sa.Connection, responses: list[tuple[Any, ...]],
           answers: list[tuple[Any, ...]]) -> None:
    """Insert one batch: COPY on PostgreSQL, executemany on SQLite."""
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            for table, columns, rows in (("response", R_COLUMNS, responses),
                                         ("answer", A_COLUMNS, answers)):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        return
    for table, columns, rows in (("response", R_COLUMNS, responses),
                                 ("answer", A_COLUMNS, answers)):
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})", rows)


def build(app: Flask, url: str, n: int, scan: bool) -> None:
    """Fill an emptied database with the wards, n responses and their rollups."""
    started = time.perf_counter()
    reset(url)
    with app.app_context():
        db.create_all()
        sync_questionnaires(Path(app.config["QUESTIONNAIRE_DIR"]))
        questionnaire = get_questionnaire(QID)
        assert questionnaire is not None
        draw = make_units()
        db.session.commit()
        connection = db.session.connection()
        sqlite = connection.dialect.name == "sqlite"
        deferred: list[sa.Index] = []
        if sqlite:  # no fsync while loading; the app's own setting again afterwards
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            connection.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB of pages
            # SQLite inserts 15 M answer rows many times faster into tables without their
            # secondary indexes: drop them for the load, make them again after it.
            for table in (Response.__table__, Answer.__table__):
                for index in sorted(table.indexes, key=lambda i: i.name or ""):
                    index.drop(connection)
                    deferred.append(index)
        done = 0
        for responses, answers in batches(n, draw, questionnaire.version):
            insert(connection, responses, answers)
            done += len(responses)
            out(f"\r  inserted {done:,} responses ({time.perf_counter() - started:.0f} s)",
                end="")
        out()
        if deferred:
            indexing = time.perf_counter()
            for index in deferred:
                index.create(connection)
            connection.exec_driver_sql("ANALYZE")
            out(f"  indexes made in {time.perf_counter() - indexing:.0f} s")
        if not sqlite:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('response', 'id'), "
                "(SELECT max(id) FROM response))")
        db.session.commit()
    build_rollups(app)
    with app.app_context():
        if scan:  # as `init-db --demo` does after its sample
            scanning = time.perf_counter()
            integrity.scan()
            db.session.commit()
            out(f"  integrity scan in {time.perf_counter() - scanning:.0f} s")
        else:
            # The app scans responses as they arrive (the export, the flags page, the CLI):
            # mark these as scanned, so that the first export does not scan a million of them
            # (over an hour on SQLite, ~30 min on PostgreSQL; --scan does it).
            db.session.execute(integrity_state.insert().values(
                name="last_response", value=sa.select(sa.func.max(Response.id))
                .scalar_subquery()))
            db.session.commit()
        if sqlite:
            db.session.connection().exec_driver_sql("PRAGMA synchronous=FULL")
        db.session.commit()
        if not sqlite:  # what autovacuum would do soon after a load: statistics, visibility
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
    out(f"  built in {time.perf_counter() - started:.0f} s")


def build_rollups(app: Flask, profiles_only: bool = False) -> None:
    """(Re)build every rollup table from the stored responses; drop a changed one first.

    ``profiles_only``: the rollups by profile answer only (the others are in step).
    """
    started = time.perf_counter()
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in reversed(db.metadata.sorted_tables):
            if table.name.startswith("stat_") and inspector.has_table(table.name):
                have = {c["name"] for c in inspector.get_columns(table.name)}
                if {c.name for c in table.columns} - have:
                    table.drop(db.engine)
        db.create_all()
        if profiles_only:
            rollups.rebuild_profiles()
        else:
            rollups.rebuild(rescore="none")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # statistics and visibility, as after a load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for table in db.metadata.sorted_tables:
                    if table.name.startswith("stat_"):
                        c.exec_driver_sql(f"VACUUM ANALYZE {table.name}")
    out(f"  rollups rebuilt in {time.perf_counter() - started:.0f} s")


def add_missing_indexes(app: Flask) -> None:
    """Create the indexes the models have and a reused database lacks (a new migration's)."""
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in db.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            have = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in have:
                    out(f"  adding index {index.name} ...")
                    index.create(db.engine)
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")


def why_rebuild(app: Flask, n: int) -> str | None:
    """Return why the database cannot be reused as it is, or None when it can.

    A reason that starts with "rollups:" means the responses can stay: only the rollup
    tables are missing or out of date (e.g. after a new rollup table), which
    ``build_rollups`` fixes in minutes rather than the build's quarter of an hour;
    "profiles:", only the rollups by profile answer.
    """
    with app.app_context():
        try:
            inspector = sa.inspect(db.engine)
            rollup_tables = [t for t in db.metadata.sorted_tables if t.name.startswith("stat_")]
            for table in db.metadata.sorted_tables:
                if table in rollup_tables:
                    continue
                if not inspector.has_table(table.name):
                    return f"no table {table.name}"
                have = {c["name"] for c in inspector.get_columns(table.name)}
                missing = {c.name for c in table.columns} - have
                if missing:
                    return f"table {table.name} lacks {', '.join(sorted(missing))}"
            count = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
            if count != n:
                return f"{count:,} responses, not {n:,}"
            wards = db.session.scalar(sa.select(sa.func.count()).select_from(Unit)
                                      .where(Unit.kind == "ward"))
            if wards != WARDS:
                return f"{wards} wards, not {WARDS}"
            profile_tables = [t for t in rollup_tables if t.name.startswith("stat_profile")]
            for table in rollup_tables:
                if not inspector.has_table(table.name):
                    return (f"{'profiles' if table in profile_tables else 'rollups'}: "
                            f"no table {table.name}")
                have = {c["name"] for c in inspector.get_columns(table.name)}
                if {c.name for c in table.columns} - have:
                    return f"rollups: table {table.name} changed"
            counted = db.session.scalar(sa.select(sa.func.coalesce(
                sa.func.sum(stat_response.c.n), 0)))
            if counted != n:
                return "rollups: not built"
            if not db.session.scalar(sa.select(sa.func.sum(stat_profile.c.n))):
                return "profiles: not built"
            scanned = db.session.scalar(sa.select(integrity_state.c.value).where(
                integrity_state.c.name == "last_response"))
            if scanned != db.session.scalar(sa.select(sa.func.max(Response.id))):
                return "the responses are not marked as scanned for integrity flags"
        except sa.exc.SQLAlchemyError as error:
            return f"unreadable ({type(error).__name__})"
        finally:
            db.session.rollback()
    return None


def account(app: Flask) -> str:
    """Make sure the staff account exists; return a fresh API token of it."""
    with app.app_context():
        user = accounts.get_user(USERNAME)
        if user is None:
            user = accounts.create_user(USERNAME, PASSWORD, "staff", actor="bench")
        token = accounts.create_token(user, "bench", actor="bench")
        db.session.commit()
        return token


def ward_officer(app: Flask) -> str | None:
    """Make a staff account limited to WARD when accounts can be (User.ward_id); its name."""
    if "ward_id" not in User.__table__.columns:
        return None
    name = "canbo-" + WARD.lower()
    with app.app_context():
        user = accounts.get_user(name)
        if user is None:
            user = accounts.create_user(name, PASSWORD, "staff", actor="bench")
        user.ward_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == WARD))
        db.session.commit()
    return name


# --- the views -----------------------------------------------------------------------------

@dataclass
class View:
    label: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    token: bool = False  # Authorization: Bearer (the API), else the login session
    who: str = "staff"  # "staff" (every ward) or "officer" (limited to WARD)
    expect: str = "200"
    page: int = 1  # a later page of a list: reached by following its "Sau" links (untimed)
    resolved: str = ""

    @property
    def url(self) -> str:
        return self.resolved or self.path + ("?" + urlencode(self.query) if self.query else "")


NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


def page_of(client: FlaskClient, url: str, page: int) -> str:
    """Return the address of page ``page`` of a list, following its next links from ``url``.

    Lists page by key (``after=`` the last row of the page before), so page 20 has no address
    of its own until page 19 is read; the walk is not timed.
    """
    for _ in range(page - 1):
        found = NEXT_LINK.search(client.get(url).get_data(as_text=True))
        if found is None:
            return url  # a shorter list: its last page
        url = html.unescape(found.group(1))
    return url


def has_route(app: Flask, path: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except (NotFound, MethodNotAllowed):
        return False
    return True


def views(app: Flask, officer: bool, every_profile: bool) -> tuple[list[View], list[str]]:
    """Return the views to time, and the labels of the optional ones the app lacks."""
    with app.app_context():
        questionnaire = get_questionnaire(QID)
        assert questionnaire is not None
        profile = [e["id"] for e in rollups.scheme_of(questionnaire).codebook
                   if e["group"] is None and e["type"] == "choice"]
        ward_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == WARD))
        ward_units = db.session.scalars(sa.select(Unit.code).where(Unit.parent_id == ward_id)
                                        .order_by(Unit.code)).all()
    q = [("questionnaire", QID)]
    ward = [("unit", WARD)]
    kids = [("unit", code) for code in ward_units]
    counter = [("unit", ward_units[0])]
    month = [("from", MONTH[0]), ("to", MONTH[1])]
    found = [
        View("dashboard, whole city", "/staff/", q),
        View(f"dashboard, unit={WARD} (the ward)", "/staff/", q + ward),
        View(f"dashboard, {WARD}'s {len(kids)} units", "/staff/", q + kids),
        View(f"dashboard, one counter {counter[0][1]}", "/staff/", q + counter),
        View("dashboard, city, one month", "/staff/", q + month),
        View(f"dashboard, {WARD}, one month", "/staff/", q + ward + month),
        View(f"dashboard, {WARD}'s units, one month", "/staff/", q + kids + month),
        View("dashboard, city, channel=paper", "/staff/", q + [("channel", "paper")]),
        View("dashboard, city, agg=pooled", "/staff/", q + [("agg", "pooled")]),
    ]
    for question in profile if every_profile else [p for p in PROFILE if p in profile]:
        found.append(View(f"dashboard, city, by={question}", "/staff/",
                          q + [("by", question)]))
    found += [
        View(f"dashboard, {WARD}'s units, by=gioi_tinh", "/staff/",
             q + kids + [("by", "gioi_tinh")]),
        View("chart groups, whole city", "/staff/charts/groups.png", q),
        View("chart trend, whole city", "/staff/charts/trend.png", q),
        View(f"chart groups, {WARD}'s units", "/staff/charts/groups.png", q + kids),
        View(f"chart trend, {WARD}'s units", "/staff/charts/trend.png", q + kids),
        View("chart groups, city, one month", "/staff/charts/groups.png", q + month),
        View("suggestions, whole city", "/staff/suggestions", q),
        View("suggestions, city, page 20", "/staff/suggestions", q, page=20),
        View("suggestions, city, q=ghe cho", "/staff/suggestions", q + [("q", "ghe cho")]),
        View("suggestions, city, low=1", "/staff/suggestions", q + [("low", "1")]),
        View(f"suggestions, {WARD}'s units, month", "/staff/suggestions", q + kids + month),
        View("follow-up, whole city", "/staff/follow-up", q),
        View("follow-up, city, page 20", "/staff/follow-up", q, page=20),
        View("follow-up, city, q=<receipt>", "/staff/follow-up", q + [("q", receipt(4242))]),
        View(f"follow-up, {WARD}'s units, month", "/staff/follow-up", q + kids + month),
        View("progress", "/staff/progress", q),
        View("progress, every questionnaire", "/staff/progress"),
        View("units list", "/staff/units"),
        View("api summary, whole city", "/api/v1/summary", q, token=True),
        View(f"api summary, unit={WARD}", "/api/v1/summary", q + ward, token=True),
        View(f"api summary, {WARD}'s units", "/api/v1/summary", q + kids, token=True),
        View("api summary, city, one month", "/api/v1/summary", q + month, token=True),
        View("export.json, whole city", "/staff/export.json", q),
        View(f"export.xlsx, {WARD}'s units, month", "/staff/export.xlsx", q + kids + month),
        View(f"export.pdf, {WARD}'s units, month", "/staff/export.pdf", q + kids + month),
        View(f"export.csv, {WARD}'s units, month", "/staff/export.csv", q + kids + month),
        View(f"suggestions.csv, {WARD}'s units", "/staff/suggestions.csv", q + kids),
    ]
    missing: list[str] = []
    for view in (View("wards page", "/staff/wards", q),
                 View("wards page, one month", "/staff/wards", q + month),
                 View("wards.xlsx", "/staff/wards.xlsx", q),
                 View("api wards", "/api/v1/wards", q, token=True),
                 View("api wards, one month", "/api/v1/wards", q + month, token=True)):
        if has_route(app, view.path):
            found.append(view)
        else:
            missing.append(f"{view.path}: not present")
    if officer:
        found += [
            View(f"[{WARD} officer] dashboard", "/staff/", q, who="officer"),
            View(f"[{WARD} officer] dashboard, month", "/staff/", q + month, who="officer"),
            View(f"[{WARD} officer] chart groups", "/staff/charts/groups.png", q,
                 who="officer"),
            View(f"[{WARD} officer] chart trend", "/staff/charts/trend.png", q,
                 who="officer"),
            View(f"[{WARD} officer] suggestions", "/staff/suggestions", q, who="officer"),
            View(f"[{WARD} officer] follow-up", "/staff/follow-up", q, who="officer"),
            View(f"[{WARD} officer] progress", "/staff/progress", q, who="officer"),
        ]
        if has_route(app, "/staff/wards"):
            found.append(View(f"[{WARD} officer] wards page (refused)", "/staff/wards", q,
                              who="officer", expect="403"))
    return found, missing


def logged_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": PASSWORD})
    if answer.status_code != 302:
        sys.exit(f"logging in as {username} failed: HTTP {answer.status_code}")
    return client


def request(client: FlaskClient, view: View, token: str) -> tuple[float, str, str]:
    """Ask for a view once; return (seconds, status, note)."""
    headers = {"Authorization": f"Bearer {token}"} if view.token else {}
    started = time.perf_counter()
    try:
        answer = client.get(view.url, headers=headers)
        body = answer.get_data()  # a streamed body is produced here
    except Exception as error:  # noqa: BLE001 - a broken view is reported, not fatal
        return time.perf_counter() - started, "error", f"{type(error).__name__}: {error}"[:90]
    seconds = time.perf_counter() - started
    answer.close()
    note = f"{len(body) / 1024:,.0f} KB"
    if answer.is_json and isinstance(answer.json, dict) and "n_responses" in answer.json:
        note += f", n={answer.json['n_responses']:,}"
    return seconds, str(answer.status_code), note


def count_time(app: Flask) -> tuple[float, int]:
    with app.app_context():
        times, total = [], 0
        for _ in range(5):
            started = time.perf_counter()
            total = db.session.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
            times.append(time.perf_counter() - started)
        db.session.rollback()
    return statistics.median(times), total


def measure(app: Flask, label: str, args: argparse.Namespace) -> None:
    """Log in, time every view and print the table."""
    token = account(app)
    officer = ward_officer(app)
    found, missing = views(app, officer is not None, args.every_profile)
    if args.only:
        found = [v for v in found if args.only.lower() in v.label.lower()]
    clients = {"staff": logged_in(app, USERNAME)}
    if officer is not None:
        clients["officer"] = logged_in(app, officer)
    count, total = count_time(app)
    out(f"\n{label}: {total:,} responses, {WARDS} wards; "
        f"SELECT count(*) FROM response: {count:.4f} s (median of 5)")
    out("median: of the runs after the first (cold) one; ratio: median / count(*)")
    width = max((len(v.label) for v in found), default=4) + 2
    out(f"  {'view':<{width}}{'status':>6}{'runs':>5}{'median s':>10}{'cold s':>9}"
        f"{'ratio':>9}   note")
    slow: list[tuple[float, View]] = []
    for view in found:
        client = clients[view.who]
        if view.page > 1:
            view.resolved = page_of(client, view.url, view.page)
        cold, status, note = request(client, view, token)
        warm: list[float] = []
        if status != "error":
            for _ in range(1 if cold > VERY_SLOW else 2 if cold > SLOW else args.repeat - 1):
                seconds, again, _ = request(client, view, token)
                warm.append(seconds)
                if again != status:
                    status = f"{status}/{again}"
        median = statistics.median(warm) if warm else cold
        shown = status if status == view.expect else f"{status}!"
        out(f"  {view.label:<{width}}{shown:>6}{1 + len(warm):>5}{median:>10.3f}{cold:>9.3f}"
            f"{median / count:>9.0f}   {note}")
        slow.append((median, view))
    for line in missing:
        out(f"  {line}")
    over = [(m, v) for m, v in slow if m > 1]
    out(f"  views over 1 s (median): {len(over)}"
        + ("".join(f"\n    {m:7.2f} s  {v.label}" for m, v in sorted(over, reverse=True))))
    for text in args.profile:
        for view in found:
            if text.lower() in view.label.lower():
                profiled(app, clients[view.who], view, token)


# --- where the time goes -------------------------------------------------------------------

def profiled(app: Flask, client: FlaskClient, view: View, token: str) -> None:
    """Run one request of ``view`` under cProfile; print the top functions and statements."""
    statements: dict[str, list[float]] = {}
    starts: list[float] = []

    def before(*_: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.setdefault(" ".join(statement.split()), []).append(
            time.perf_counter() - starts.pop())

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        seconds, status, _ = request(client, view, token)
        profiler.disable()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", after)
    sql = sum(sum(t) for t in statements.values())
    out(f"\n  profile of {view.label} ({view.url}): {seconds:.3f} s, HTTP {status}, "
        f"{sum(len(t) for t in statements.values())} SQL statements taking {sql:.3f} s")
    out("  slowest SQL statements (total s, times run, statement):")
    for text, times in sorted(statements.items(), key=lambda s: -sum(s[1]))[:6]:
        out(f"    {sum(times):7.3f} {len(times):4d}x  {text[:400]}")
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(r"survey|analysis|jinja2|matplotlib|openpyxl", 25)
    lines = buffer.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    out("  functions by cumulative time (cProfile, project and library code):")
    for line in lines[start:]:
        if line.strip():
            out("    " + line.replace(str(ROOT) + "/", ""))


# --- main ----------------------------------------------------------------------------------

def run(url: str, label: str, args: argparse.Namespace) -> None:
    config = {"TESTING": True, "SECRET_KEY": "bench-secret-0123456789",
              "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
              "RATELIMIT_ENABLED": False, "BASE_URL": "http://survey.test"}
    app = create_app(config)
    reason = "--rebuild" if args.rebuild else why_rebuild(app, args.responses)
    if reason is None:
        out(f"{label}: reusing the database of {args.responses:,} responses")
    else:
        out(f"{label}: building {args.responses:,} responses ({reason}) ...")
        if reason.startswith(("rollups:", "profiles:")):
            build_rollups(app, profiles_only=reason.startswith("profiles:"))
        else:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            build(app, url, args.responses, args.scan)
    add_missing_indexes(app)
    if not args.build_only:
        measure(app, label, args)
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path,
                        default=Path(tempfile.gettempdir()) / "survey-bench-dashboard.db")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--repeat", type=int, default=5,
                        help="requests per view, the cold one included (default 5)")
    parser.add_argument("--only", default="", help="time only the views whose label has this")
    parser.add_argument("--profile", action="append", default=[], metavar="TEXT",
                        help="profile one request of the views whose label has TEXT")
    parser.add_argument("--every-profile", action="store_true",
                        help="break down by every profile question, not only "
                        + ", ".join(PROFILE))
    parser.add_argument("--scan", action="store_true",
                        help="when building, run the integrity scan over every response "
                        "(slow) rather than mark them as scanned")
    parser.add_argument("--build-only", action="store_true",
                        help="build (or check) the databases, time nothing")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    if args.repeat < 2:
        parser.error("--repeat must be at least 2")

    if not args.no_sqlite:
        run(f"sqlite:///{args.db}", f"SQLite {args.db}", args)
    url = os.environ.get("SURVEY_TEST_DATABASE_URL")
    if url:
        if "test" not in (sa.engine.make_url(url).database or ""):
            sys.exit("SURVEY_TEST_DATABASE_URL must name a database containing 'test'")
        out()
        run(url, f"PostgreSQL {sa.engine.make_url(url).render_as_string()}", args)


if __name__ == "__main__":
    main()
