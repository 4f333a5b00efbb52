"""The real server: gunicorn as `make serve` runs it, killed in the middle of a load, and
several workers sharing their rate limits through Redis.

Each test starts gunicorn (gunicorn.conf.py) on a free port of 127.0.0.1 with its own
database, and talks to it over HTTP as phones do.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import free_port, postgres_url, require, reset_database

ROOT = Path(__file__).resolve().parent.parent
SECRET = "serving-test-secret-0123456789abcdef"


def alive(pid: int) -> bool:
    """Whether a process still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Server:
    """A gunicorn master serving the app, and how to reach and restart it."""

    env: dict[str, str]
    port: int
    log: Path
    workers: int = 2
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers",
                 str(self.workers), "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        raise AssertionError("gunicorn did not start:\n" + self.log.read_text()[-3000:])

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise


def prepare(url: str, tmp_path: Path, **settings: str) -> tuple[Server, str]:
    """A fresh database with one counter and its link; return the server and the link path.

    Prepared in this process (as the app fixtures do), which is quicker than three commands.
    """
    from flask_migrate import stamp

    from survey import create_app
    from survey.extensions import db
    from survey.services import units
    from survey.services.questionnaires import sync_questionnaires

    reset_database(url)
    port = free_port()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "BASE_URL": f"http://127.0.0.1:{port}"})
    with app.app_context():
        db.create_all()
        stamp(directory=app.extensions["migrate"].directory, revision="head")
        sync_questionnaires(Path(app.config["QUESTIONNAIRE_DIR"]))
        unit = units.create_unit("HCC", "Quầy một cửa", "counter", actor="test")
        code = units.ensure_link(unit, "sipas-dichvu", actor="test").code
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update({"SURVEY_DATABASE_URL": url, "SURVEY_SECRET_KEY": SECRET,
                "SURVEY_BASE_URL": f"http://127.0.0.1:{port}", "SURVEY_RATELIMIT_ENABLED": "0",
                "SURVEY_THREADS": "2", **settings})
    return Server(env, port, tmp_path / "gunicorn.log"), f"/s/{code}"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'survey.db'}" if request.param == "sqlite" else postgres_url()


@pytest.fixture
def stopper() -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


@dataclass
class Phone:
    """A citizen's phone: sends each form until it sees the receipt, as a retry would."""

    port: int
    path: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # receipt -> response id
    failures: int = 0
    conn: http.client.HTTPConnection | None = None
    cookie: str = ""
    token: str = ""

    def connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        return self.conn

    def open_form(self) -> bool:
        try:
            conn = self.connect()
            conn.request("GET", self.path)
            page = conn.getresponse()
            html = page.read().decode()
        except (OSError, http.client.HTTPException):
            self.drop()
            return False
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        if page.status != 200 or match is None:
            return False
        self.cookie = (page.getheader("Set-Cookie") or "").split(";")[0]
        self.token = match.group(1)
        return True

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def send_until_acknowledged(self, response_id: str, give_up: float) -> bool:
        fields = {f"q_q{i}": str(1 + (i + len(self.acknowledged)) % 5) for i in range(15, 34)}
        fields.update(csrf_token=self.token, response_id=response_id, version="1",
                      q_gioi_tinh="2")
        body = urllib.parse.urlencode(fields).encode()
        while time.monotonic() < give_up:
            try:
                conn = self.connect()
                conn.request("POST", self.path, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie})
                answer = conn.getresponse()
                html = answer.read().decode()
            except (OSError, http.client.HTTPException):
                self.failures += 1
                self.drop()
                time.sleep(0.05)
                continue
            receipt = re.search(r'<p class="receipt">[^<]*<strong>([A-Z2-7-]+)</strong>', html)
            if answer.status == 200 and receipt:
                self.acknowledged[receipt.group(1)] = response_id
                return True
            # 502/503 from a dying worker, or anything else: the phone tries again.
            assert answer.status >= 500, f"HTTP {answer.status}: {html[:500]}"
            self.failures += 1
            time.sleep(0.05)
        return False


def load(port: int, path: str, stop: threading.Event, phones: list[Phone]) -> list[str]:
    """Run the phones until ``stop``; each finishes the form it is sending. Returns errors."""
    errors: list[str] = []

    def run(phone: Phone) -> None:
        try:
            deadline = time.monotonic() + 60
            while not phone.open_form():
                if time.monotonic() > deadline or stop.is_set():
                    errors.append("a phone could not open the form in 60 s")
                    return
                time.sleep(0.05)
            while not stop.is_set():
                if not phone.send_until_acknowledged(str(uuid.uuid4()), time.monotonic() + 90):
                    errors.append("a phone gave up")
                    return
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join(120)
    errors.extend("a phone was still sending 120 s after the load stopped"
                  for t in threads if t.is_alive())
    return errors


def test_kill_9_of_a_worker_then_of_the_master_loses_no_acknowledged_response(
        url: str, tmp_path: Path, stopper: list[Server]) -> None:
    server, path = prepare(url, tmp_path)
    stopper.append(server)
    server.start()
    phones = [Phone(server.port, path) for _ in range(8)]
    stop = threading.Event()
    errors: list[str] = []
    runner = threading.Thread(target=lambda: errors.extend(load(server.port, path, stop, phones)))
    runner.start()

    def acknowledged() -> int:
        return sum(len(p.acknowledged) for p in phones)

    def wait_for_more(than: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while acknowledged() < than + 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert acknowledged() >= than + 20, server.log.read_text()[-3000:]

    try:
        wait_for_more(0)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)  # a worker dies in the middle of requests
        wait_for_more(acknowledged())
        assert server.process is not None
        orphans = server.worker_pids()
        os.kill(server.process.pid, signal.SIGKILL)  # then the whole server
        server.process.wait(30)
        # As systemd does when a service's main process dies, kill what is left of it (the
        # workers, in the middle of requests), then start the service again.
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in orphans):
            assert time.monotonic() < deadline, "orphaned workers did not exit"
            time.sleep(0.05)
        server.start()
        wait_for_more(acknowledged())
    finally:
        stop.set()
        runner.join(180)
        for phone in phones:
            phone.drop()
    server.stop()
    assert not runner.is_alive(), "the phones did not stop"
    assert not errors, errors

    receipts = {r: rid for p in phones for r, rid in p.acknowledged.items()}
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT receipt, response_id FROM response")).all()
        answers = conn.execute(sa.text("SELECT count(*) FROM answer")).scalar_one()
        in_rollup = conn.execute(sa.text(
            "SELECT coalesce(sum(n), 0) FROM stat_response")).scalar_one()
    engine.dispose()
    assert len(stored) == len({r for r, _ in stored}), "a response was stored twice"
    assert {r for r, _ in stored} == set(receipts), "stored and acknowledged differ"
    assert {str(uuid.UUID(str(rid))) for _, rid in stored} == set(receipts.values())
    assert answers == 20 * len(stored)
    assert in_rollup == len(stored), "the rollups missed or doubled a response"
    assert sum(p.failures for p in phones) > 0, "the kills should have cut some requests"
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database or "") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# Database 15 of the local Redis; under pytest-xdist, 15 - n for worker gw<n>.
REDIS_URL = "redis://127.0.0.1:6379/{}".format(
    15 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0))


def redis_url() -> str:
    """Database 15 of the local Redis, emptied; skip (fail under STRICT) without Redis."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.RedisError as error:
        require(False, f"no Redis answers on 127.0.0.1:6379 ({error})")
    return REDIS_URL


def redis_keys() -> list[str]:
    """Every key of the test's Redis database (the client reads whole replies)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, decode_responses=True)
    try:
        return sorted(client.keys("*"))
    finally:
        client.close()


def test_workers_share_the_submit_limit_through_redis(tmp_path: Path,
                                                      stopper: list[Server]) -> None:
    """Four workers, a limit of 6 posts a minute: exactly 6 pass, whichever worker answers."""
    limits = redis_url()
    server, path = prepare(f"sqlite:///{tmp_path / 'survey.db'}", tmp_path,
                           SURVEY_RATELIMIT_ENABLED="1", SURVEY_RATELIMIT_SUBMIT="6 per minute",
                           SURVEY_RATELIMIT_STORAGE_URI=limits)
    server.workers = 4
    stopper.append(server)
    server.start()
    phone = Phone(server.port, path)
    assert phone.open_form()
    statuses = []
    for _ in range(16):
        phone.drop()  # a new connection each time, so that the kernel spreads them
        fields = {f"q_q{i}": "4" for i in range(15, 34)}
        fields.update(csrf_token=phone.token, response_id=str(uuid.uuid4()), version="1")
        conn = phone.connect()
        conn.request("POST", path, body=urllib.parse.urlencode(fields).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": phone.cookie})
        answer = conn.getresponse()
        answer.read()
        statuses.append(answer.status)
    phone.drop()
    assert statuses.count(200) == 6, statuses
    assert statuses.count(429) == 10, statuses
    keys = redis_keys()
    assert keys, "the limits were not kept in Redis"
    assert all("limiter" in key.lower() for key in keys), keys
    assert not any("127.0.0.1" in key for key in keys), "rate-limit keys must not hold the address"
