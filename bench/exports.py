"""Time and peak memory of every export and list at 100,000 and 1,000,000 responses.

    bench/exports [--sizes 100000,1000000] [--only TEXT] [--no-sqlite] [--build-only]

The databases are bench/dashboard's (100 wards, five units each, two channels, a year of
``sipas-dichvu`` responses): the 1,000,000 one is bench/dashboard's own (built there once,
reused here), the smaller ones beside it (a SQLite file per size; on PostgreSQL a database
named after SURVEY_TEST_DATABASE_URL's with the size appended, created when missing).

Each export runs the real command (``export --format csv|xlsx|pdf`` of the whole city, and
the CSV of one ward) in a fresh Python process: its time is measured inside the process
(the app's start-up left out) and its peak memory (maximum resident set) by the parent when
it ends, beside that of a process that only starts the app. Each list (suggestions,
follow-up, cases: the first page and a later one, as staff) is asked for three times after
a warm-up by Flask's test client in one process; the median is printed. Then, per row: the
figure at each size and the ratio of the largest to the smallest (linear: about 10 for 10×
the data; flat memory: about 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load_dashboard_bench() -> Any:
    """Import bench/dashboard.py (not a package): its builder and its database checks."""
    spec = importlib.util.spec_from_file_location("bench_dashboard",
                                                  ROOT / "bench" / "dashboard.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


QID = "sipas-dichvu"
WARD = "P001"
EXPORTS = {  # label: arguments of `export` after --questionnaire and --out
    "export csv, whole city": ["--format", "csv"],
    "export xlsx, whole city": ["--format", "xlsx"],
    "export pdf, whole city": ["--format", "pdf"],
    f"export csv, ward {WARD}": ["--format", "csv", "--unit", WARD],
    f"export xlsx, ward {WARD}": ["--format", "xlsx", "--unit", WARD],
}
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "pdf": ".pdf"}
LISTS = {  # label: path and query, and the page (reached by its "Sau" links), as staff
    "suggestions, page 1": (f"/staff/suggestions?questionnaire={QID}", 1),
    "suggestions, page 20": (f"/staff/suggestions?questionnaire={QID}", 20),
    "follow-up, page 1": (f"/staff/follow-up?questionnaire={QID}", 1),
    "follow-up, page 20": (f"/staff/follow-up?questionnaire={QID}", 20),
    "cases, page 1": ("/staff/cases", 1),
}


def out(*args: Any, **kwargs: Any) -> None:
    print(*args, **kwargs, flush=True)


def config(url: str) -> dict[str, Any]:
    return {"TESTING": True, "SECRET_KEY": "bench-secret-0123456789",
            "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False, "BASE_URL": "http://survey.test"}


# --- the databases --------------------------------------------------------------------------

def sqlite_url(n: int, million: Path) -> str:
    path = million if n == 1_000_000 else million.with_name(f"{million.stem}-{n}.db")
    return f"sqlite:///{path}"


def postgresql_url(base: str, n: int) -> str:
    """Return the URL of the database for ``n`` responses, creating it when missing."""
    url = sa.engine.make_url(base)
    if n == 1_000_000:
        return base
    name = f"{url.database}_{n}"
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name}):
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def ensure(dashboard: Any, url: str, n: int) -> None:
    """Build the database of ``n`` responses, or reuse it as bench/dashboard does."""
    from survey import create_app
    from survey.extensions import db

    app = create_app(config(url))
    reason = dashboard.why_rebuild(app, n)
    label = sa.engine.make_url(url).render_as_string()
    if reason is None:
        out(f"{label}: reusing the database of {n:,} responses")
    else:
        out(f"{label}: building {n:,} responses ({reason}) ...")
        if reason.startswith(("rollups:", "profiles:")):
            dashboard.build_rollups(app, profiles_only=reason.startswith("profiles:"))
        else:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            dashboard.build(app, url, n, False)
    dashboard.add_missing_indexes(app)
    dashboard.account(app)
    with app.app_context():
        db.engine.dispose()


# --- one measurement in a fresh process -----------------------------------------------------

def child(url: str, what: str) -> None:
    """Run one export (or nothing: "idle") and print its time as JSON."""
    from survey import create_app

    app = create_app(config(url))
    if what == "idle":
        out(json.dumps({"seconds": 0.0, "peak_mb": peak_mb()}))
        return
    if what == "lists":
        out(json.dumps({**time_lists(app), "peak_mb": peak_mb()}))
        return
    arguments = EXPORTS[what]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / ("export" + SUFFIX[arguments[1]])
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=[
            "export", "--questionnaire", QID, "--out", str(target), *arguments])
        seconds = time.perf_counter() - started
        if result.exit_code != 0:
            sys.exit(f"{what}: {result.output[-2000:]}")
        rows = None
        if arguments[1] == "csv":
            with target.open("rb") as handle:
                rows = sum(chunk.count(b"\r\n") for chunk in iter(lambda: handle.read(1 << 20),
                                                                   b"")) - 1
        out(json.dumps({"seconds": seconds, "rows": rows, "bytes": target.stat().st_size,
                        "peak_mb": peak_mb()}))


def time_lists(app: Any) -> dict[str, float]:
    dashboard = _load_dashboard_bench()
    client = app.test_client()
    answer = client.post("/login", data={"username": dashboard.USERNAME,
                                         "password": dashboard.PASSWORD})
    if answer.status_code != 302:
        sys.exit(f"logging in failed: HTTP {answer.status_code}")
    found = {}
    for label, (start, page) in LISTS.items():
        path = dashboard.page_of(client, start, page)
        times = []
        for _ in range(4):  # a warm-up, then three
            started = time.perf_counter()
            page = client.get(path)
            times.append(time.perf_counter() - started)
            if page.status_code != 200:
                sys.exit(f"{label}: HTTP {page.status_code}")
        found[label] = statistics.median(times[1:])
    return found


def peak_mb() -> float:
    """Return this process's peak resident memory in MB (Linux: VmHWM, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measured(url: str, what: str) -> tuple[dict[str, Any], float]:
    """Run ``child`` in a fresh interpreter; return its JSON and its peak memory in MB.

    The child reports its own peak (VmHWM): the rusage of a child also counts the memory of
    the parent it was forked from.
    """
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, __file__, "--child", what, "--url", url],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.exit(f"{what} failed (exit {done.returncode})")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found, found.pop("peak_mb")


# --- the table ------------------------------------------------------------------------------

def run(label: str, urls: dict[int, str], only: str) -> None:
    sizes = sorted(urls)
    out(f"\n{label}")
    header = " | ".join(f"{n:,}" for n in sizes)
    out(f"| what | {header} | ratio | peak memory (MB) {header} | ratio |")
    out("|---|" + "---|" * (2 * len(sizes) + 2))
    idle = {n: measured(urls[n], "idle")[1] for n in sizes}
    out("| a process that only starts the app | " + " | ".join("—" for _ in sizes)
        + " | | " + " | ".join(f"{idle[n]:.0f}" for n in sizes) + " | |")
    for what in EXPORTS:
        if only and only not in what:
            continue
        results = {n: measured(urls[n], what) for n in sizes}
        seconds = [results[n][0]["seconds"] for n in sizes]
        memory = [results[n][1] for n in sizes]
        rates = ""
        if results[sizes[-1]][0].get("rows"):
            rates = " (" + ", ".join(f"{results[n][0]['rows'] / results[n][0]['seconds']:,.0f}"
                                     for n in sizes) + " rows/s)"
        out(f"| {what}{rates} | " + " | ".join(f"{s:.1f} s" for s in seconds)
            + f" | {seconds[-1] / seconds[0]:.1f} | " + " | ".join(f"{m:.0f}" for m in memory)
            + f" | {memory[-1] / memory[0]:.2f} |")
    if only and not any(only in label for label in LISTS):
        return
    lists = {n: measured(urls[n], "lists")[0] for n in sizes}
    for what in LISTS:
        if only and only not in what:
            continue
        seconds = [lists[n][what] for n in sizes]
        out(f"| {what} | " + " | ".join(f"{s:.3f} s" for s in seconds)
            + f" | {seconds[-1] / seconds[0]:.1f} | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="response counts, comma-separated (default 100000,1000000)")
    parser.add_argument("--db", type=Path,
                        default=Path(tempfile.gettempdir()) / "survey-bench-dashboard.db",
                        help="bench/dashboard's SQLite file of 1,000,000 responses")
    parser.add_argument("--only", default="", help="measure only the rows whose label has this")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--build-only", action="store_true", help="build (or check) only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.child)
        return
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",")})
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, e.g. 100000,1000000")
    if not sizes or sizes[0] < 1000:
        parser.error("--sizes: at least 1000 responses each")
    dashboard = _load_dashboard_bench()
    backends: list[tuple[str, dict[int, str]]] = []
    if not args.no_sqlite:
        backends.append(("SQLite", {n: sqlite_url(n, args.db) for n in sizes}))
    base = os.environ.get("SURVEY_TEST_DATABASE_URL")
    if base:
        if "test" not in (sa.engine.make_url(base).database or ""):
            sys.exit("SURVEY_TEST_DATABASE_URL must name a database containing 'test'")
        backends.append(("PostgreSQL", {n: postgresql_url(base, n) for n in sizes}))
    for _, urls in backends:
        for n, url in urls.items():
            ensure(dashboard, url, n)
    if args.build_only:
        return
    for label, urls in backends:
        run(label, urls, args.only)


if __name__ == "__main__":
    main()
