"""Time summaries of 1,000,000 sipas-dichvu responses, against a plain count(*).

    bench/summary [--responses N] [--db PATH] [--rebuild]

Builds (once, then reuses) an SQLite database with N responses spread over a year, eight
units and two channels, every response with its 19 items and a few profile answers; builds
the rollups with ``rollups.rebuild``; then prints the time of three summaries (the whole ward,
one month, one unit), the time of ``SELECT count(*) FROM response`` and the ratio of the two.
When SURVEY_TEST_DATABASE_URL points at PostgreSQL, the same runs there too (the database is
emptied: its name must contain "test").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey import create_app  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Response, Unit  # noqa: E402
from survey.reporting.filters import Filters  # noqa: E402
from survey.reporting.settings import Settings  # noqa: E402
from survey.reporting.summaries import summary  # noqa: E402
from survey.services import (
    rollups,
    units,  # noqa: E402
)
from survey.services.questionnaires import get_questionnaire, sync_questionnaires  # noqa: E402

QID = "sipas-dichvu"
ITEMS = [f"q{i}" for i in range(15, 34)]
GROUPS = {"E1": ITEMS[0:4], "E2": ITEMS[4:8], "E3": ITEMS[8:13], "E4": ITEMS[13:16],
          "E5": ITEMS[16:19]}
UNITS = [("HCC-TPHT", "counter"), ("HCC-DDXD", "counter"), ("HCC-CT", "counter"),
         ("PVHXH", "office"), ("TDP-01", "group"), ("TDP-02", "group"), ("TDP-03", "group"),
         ("TDP-04", "group")]
START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 50_000


Rows = list[tuple[Any, ...]]


def generate(n: int, unit_ids: list[int], seed: int = 7) -> Iterator[tuple[Rows, Rows]]:
    """Yield batches of (response rows, answer rows) with realistic answer patterns."""
    rng = np.random.default_rng(seed)
    probabilities = np.array([0.03, 0.07, 0.15, 0.45, 0.30])
    next_id = 1
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        codes = rng.choice(np.arange(1, 6), size=(size, len(ITEMS)), p=probabilities)
        blank = rng.random((size, len(ITEMS))) < 0.02
        codes = np.where(blank, 0, codes)
        # The respondent score of analysis.scoring: 100 x mean over groups of satisfied share.
        shares = []
        for items in GROUPS.values():
            idx = [ITEMS.index(i) for i in items]
            answered = (codes[:, idx] > 0).sum(axis=1)
            satisfied = (codes[:, idx] >= 4).sum(axis=1)
            shares.append(np.where(answered > 0, satisfied / np.maximum(answered, 1), np.nan))
        share_matrix = np.vstack(shares).T
        has = ~np.isnan(share_matrix).all(axis=1)
        score = np.where(has, np.nanmean(np.where(has[:, None], share_matrix, 0), axis=1), 0)
        seconds = rng.integers(0, 365 * 86400, size=size)
        unit_pick = rng.integers(0, len(unit_ids), size=size)
        channel_pick = rng.random(size) < 0.8
        gender = rng.integers(1, 3, size=size)
        age = rng.integers(1, 6, size=size)
        responses, answers = [], []
        for row in range(size):
            rid = next_id + row
            moment = (START + timedelta(seconds=int(seconds[row]))).replace(tzinfo=None)
            score_milli = round(float(score[row]) * 100 * 1000) if has[row] else None
            responses.append((rid, uuid.uuid4().hex, QID, 1, unit_ids[unit_pick[row]],
                              "qr" if channel_pick[row] else "paper",
                              moment.isoformat(sep=" "), "AAAA-BBBB", f"{rid:064d}", score_milli))
            for col, qid in enumerate(ITEMS):
                code = int(codes[row, col])
                if code:
                    answers.append((rid, qid, code, None))
            answers.append((rid, "gioi_tinh", int(gender[row]), None))
            answers.append((rid, "do_tuoi", int(age[row]), None))
            if row % 37 == 0:
                answers.append((rid, "y_kien", None, "Cần thêm ghế ngồi chờ."))
        next_id += size
        yield responses, answers


def build(app: Any, n: int) -> float:
    """Fill the database with n responses and their rollups; return the seconds it took."""
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_questionnaires(Path(app.config["QUESTIONNAIRE_DIR"]))
        ward = units.create_unit("TRANLIEU", "Phường Trần Liễu", "ward")
        unit_ids = [units.create_unit(code, code, kind, parent=ward).id for code, kind in UNITS]
        db.session.commit()
        connection = db.session.connection()
        r_sql = sa.text("INSERT INTO response (id, response_id, questionnaire_id, "
                        "questionnaire_version, unit_id, channel, submitted_at, receipt, "
                        "digest, score_milli) VALUES (:a, :b, :c, :d, :e, :f, :g, :h, :i, :j)")
        a_sql = sa.text("INSERT INTO answer (response_pk, question_id, option_code, text_value) "
                        "VALUES (:a, :b, :c, :d)")
        done = 0
        for responses, answers in generate(n, unit_ids):
            connection.execute(r_sql, [dict(zip("abcdefghij", r, strict=True))
                                       for r in responses])
            connection.execute(a_sql, [dict(zip("abcd", a, strict=True)) for a in answers])
            done += len(responses)
            print(f"\r  inserted {done:,} responses", end="", flush=True)
        print()
        rollups.rebuild(rescore="none")
        db.session.commit()
        assert rollups.in_step()
    return time.perf_counter() - started


def timed(function: Callable[[], Any], repeat: int = 5) -> float:
    """Return the median wall time of ``function`` in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(app: Any, label: str) -> None:
    """Print the summary and count(*) timings."""
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == "HCC-CT"))
        assert get_questionnaire(QID) is not None
        cases = {
            "whole ward": Filters(QID),
            "one month": Filters(QID, date_from=date(2025, 6, 1),
                                       date_to=date(2025, 6, 30)),
            "one unit": Filters(QID, units=(unit,)),
        }
        count_time = timed(lambda: db.session.execute(
            sa.text("SELECT count(*) FROM response")).scalar_one())
        print(f"\n{label}: {total:,} responses")
        print(f"  {'SELECT count(*) FROM response':<32}{count_time * 1000:>9.1f} ms")
        for name, filters in cases.items():
            result = summary(db.session, filters, Settings())
            assert result is not None
            seconds = timed(lambda f=filters: summary(db.session, f, Settings()))
            index = result["index"]["value"]
            print(f"  summary, {name:<23}{seconds * 1000:>9.1f} ms   "
                  f"ratio to count(*) {seconds / count_time:>6.2f}   "
                  f"n={result['n_responses']:,} index={index:.2f}")


def main() -> None:
    """Build (or reuse) the databases and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path,
                        default=Path(tempfile.gettempdir()) / "survey-bench-summary.db")
    parser.add_argument("--rebuild", action="store_true", help="build the SQLite file again")
    args = parser.parse_args()
    common = {"SECRET_KEY": "bench-secret-0123456789", "RATELIMIT_ENABLED": False}

    app = create_app(dict(common, SQLALCHEMY_DATABASE_URI=f"sqlite:///{args.db}"))
    with app.app_context():
        existing = 0
        if args.db.exists() and not args.rebuild:
            try:
                existing = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
            except sa.exc.OperationalError:
                existing = 0
    if existing != args.responses:
        print(f"SQLite: building {args.responses:,} responses in {args.db} ...")
        print(f"  built in {build(app, args.responses):.0f} s (inserts and rollups)")
    measure(app, f"SQLite {args.db}")

    url = os.environ.get("SURVEY_TEST_DATABASE_URL")
    if url:
        if "test" not in (sa.engine.make_url(url).database or ""):
            sys.exit("SURVEY_TEST_DATABASE_URL must name a database containing 'test'")
        pg = create_app(dict(common, SQLALCHEMY_DATABASE_URI=url))
        print(f"PostgreSQL: building {args.responses:,} responses ...")
        print(f"  built in {build(pg, args.responses):.0f} s (inserts and rollups)")
        measure(pg, "PostgreSQL")


if __name__ == "__main__":
    main()
