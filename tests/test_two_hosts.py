"""Several hosts, as the README describes them: two gunicorn servers over one PostgreSQL
database and one Redis, with the same settings, behind a load balancer that may send any
request to either.

The module starts two servers (gunicorn.conf.py, as `make serve` runs them) on two free ports
of 127.0.0.1 and plays the load balancer itself: every test spreads its requests over both.
They run with ``SURVEY_PROXY_COUNT=1``, as behind nginx, so that a test can give each phone
its own address in ``X-Forwarded-For``. PostgreSQL tests' database (SURVEY_TEST_DATABASE_URL;
under pytest-xdist the worker's own) and a Redis database of their own are needed; without
them the tests skip (fail under SURVEY_TEST_STRICT=1).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, csrf_token_from, free_port, postgres_url, require
from tests.test_serving import SECRET, Server, prepare

N = 40  # citizens' responses sent to the two hosts
SUBMIT_LIMIT = 6  # posts a minute from one address, on both hosts together
LOGIN_LIMIT = 4  # failed logins a minute from one address, on both hosts together

# Database 9 of the local Redis; under pytest-xdist, 9 - n (mod 16) for worker gw<n>, away from
# tests/test_serving.py's 15 - n so that two workers never empty each other's limits.
REDIS_URL = "redis://127.0.0.1:6379/{}".format(
    (9 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)) % 16)


def redis_url() -> str:
    """This module's Redis database, emptied; skip (fail under STRICT) without Redis."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.RedisError as error:
        require(False, f"no Redis answers on 127.0.0.1:6379 ({error})")
    return REDIS_URL


def redis_keys() -> list[str]:
    """Every key of this module's Redis database."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, decode_responses=True)
    try:
        return sorted(str(key) for key in client.scan_iter("*"))
    finally:
        client.close()


@dataclass
class Answer:
    """What a host answered."""

    status: int
    headers: Message
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Browser:
    """A browser's cookie jar and the requests it sends, to whichever host.

    Cookies carry no port, so one jar goes to both hosts of 127.0.0.1 (behind a load balancer
    they share one name anyway). Redirects are not followed: the tests read them.
    """

    cookies: dict[str, str] = field(default_factory=dict)
    address: str = ""  # the client's address, as nginx passes it in X-Forwarded-For

    def request(self, port: int, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.address:
            sent["X-Forwarded-For"] = self.address
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for line in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Answer(response.status, response.headers, text)


@dataclass
class Hosts:
    """Two servers of one deployment, and what the tests need to talk to them."""

    a: Server
    b: Server
    url: str  # the shared database
    path: str  # the counter's survey link
    token: str  # an API token of the admin account

    @property
    def ports(self) -> tuple[int, int]:
        return self.a.port, self.b.port

    def logs(self) -> str:
        return "\n".join(s.log.read_text()[-2000:] for s in (self.a, self.b) if s.log.exists())


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    """Two gunicorn servers (one worker, two threads each) with the same settings."""
    url = postgres_url()
    limits = redis_url()
    tmp = tmp_path_factory.mktemp("two_hosts")
    # What must be equal on every host: database, secret key, public URL, limits and where
    # they are counted, proxies in front.
    a, path = prepare(url, tmp, SURVEY_RATELIMIT_ENABLED="1",
                      SURVEY_RATELIMIT_STORAGE_URI=limits,
                      SURVEY_RATELIMIT_SUBMIT=f"{SUBMIT_LIMIT} per minute",
                      SURVEY_RATELIMIT_LOGIN=f"{LOGIN_LIMIT} per minute",
                      SURVEY_PROXY_COUNT="1")
    token = _accounts(url, a.env["SURVEY_BASE_URL"])
    a.log, a.workers = tmp / "host-a.log", 1
    b = Server(dict(a.env), free_port(), tmp / "host-b.log", workers=1)
    assert a.env["SURVEY_SECRET_KEY"] == SECRET
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()
        yield Hosts(a, b, url, path, token)
    finally:
        for server in (a, b):
            server.stop()


def _accounts(url: str, base_url: str) -> str:
    """Create the staff accounts in the shared database; return an admin's API token."""
    from survey import create_app
    from survey.extensions import db
    from survey.services import accounts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                      "BASE_URL": base_url})
    with app.app_context():
        admin = accounts.create_user("quantri", PASSWORD, "admin", actor="test")
        accounts.create_user("canbo", PASSWORD, "staff", actor="test")
        token = accounts.create_token(admin, "two hosts", actor="test")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def log_in(browser: Browser, port: int, username: str = "canbo",
           password: str = PASSWORD) -> Answer:
    """Open the login page on ``port`` and send the form back there."""
    page = browser.request(port, "GET", "/login")
    assert page.status == 200, page.text[:500]
    return browser.request(port, "POST", "/login", form={
        "csrf_token": csrf_token_from(page.text), "username": username, "password": password})


def sent_to_login(answer: Answer) -> bool:
    """Whether a staff page sent the browser to the login page."""
    return answer.status == 302 and "/login" in (answer.headers.get("Location") or "")


def test_a_login_on_one_host_holds_on_the_other_and_a_logout_ends_it_on_both(
        hosts: Hosts) -> None:
    """Sessions are signed cookies (same SECRET_KEY) checked against the shared database."""
    a, b = hosts.ports
    browser = Browser()
    answer = log_in(browser, a)
    assert answer.status == 302, answer.text[:500]
    assert answer.headers["Location"].endswith("/staff/")
    staff = browser.request(b, "GET", "/staff/")
    assert staff.status == 200, hosts.logs()
    summary = browser.request(b, "GET", "/api/v1/summary?questionnaire=sipas-dichvu")
    assert summary.status == 200
    assert summary.json()["questionnaire"]["id"] == "sipas-dichvu"
    assert sent_to_login(Browser().request(b, "GET", "/staff/")), "a stranger got in"

    # A copy of the cookie (another tab, or a stolen one), and another login of the same
    # account on host B (another computer).
    copy = Browser(dict(browser.cookies))
    other = Browser()
    assert log_in(other, b).status == 302
    assert other.request(a, "GET", "/staff/").status == 200

    # Logout on B replaces the account's session token in the shared database: every login
    # of the account ends, on both hosts.
    logout = browser.request(b, "POST", "/logout", form={"csrf_token": csrf_token_from(
        staff.text)})
    assert sent_to_login(logout), (logout.status, logout.text[:500])
    for who in (browser, copy, other):
        for port in (a, b):
            assert sent_to_login(who.request(port, "GET", "/staff/"))
    assert copy.request(a, "GET", "/api/v1/summary?questionnaire=sipas-dichvu").status == 401

    # Logging in again (on A) works on B again.
    assert log_in(browser, a).status == 302
    assert browser.request(b, "GET", "/staff/").status == 200


def test_rate_limits_are_counted_once_for_both_hosts(hosts: Hosts) -> None:
    """One address's posts and failed logins, alternately on A and B, hit one shared limit."""
    a, b = hosts.ports
    citizen = Browser(address="203.0.113.7")
    form = citizen.request(a, "GET", hosts.path)
    assert form.status == 200
    token = csrf_token_from(form.text)
    statuses = []
    for k in range(16):
        # Incomplete forms: refused (400) and stored nothing, but counted by the limit.
        answer = citizen.request((a, b)[k % 2], "POST", hosts.path, form={
            "csrf_token": token, "response_id": str(uuid.uuid4()), "version": "1",
            "q_q15": "4"})
        statuses.append(answer.status)
    assert statuses == [400] * SUBMIT_LIMIT + [429] * (16 - SUBMIT_LIMIT), statuses
    # Another address is not held back, on either host.
    other = Browser(address="203.0.113.99")
    page = other.request(b, "GET", hosts.path)
    assert other.request(a, "POST", hosts.path, form={
        "csrf_token": csrf_token_from(page.text), "response_id": str(uuid.uuid4()),
        "version": "1", "q_q15": "4"}).status == 400

    guesser = Browser(address="203.0.113.8")
    statuses = [log_in(guesser, (a, b)[k % 2], "khongco", "sai mat khau hoai").status
                for k in range(2 * LOGIN_LIMIT)]
    assert statuses == [401] * LOGIN_LIMIT + [429] * LOGIN_LIMIT, statuses

    keys = redis_keys()
    assert keys, "the limits were not kept in Redis"
    assert not any("203.0.113" in key for key in keys), "rate-limit keys must not hold addresses"


RECEIPT = re.compile(r'<p class="receipt">[^<]*<strong>([A-Z2-7-]+)</strong>')


def answers(i: int, **changes: str) -> dict[str, str]:
    """The answers of citizen ``i``: every item of sipas-dichvu and the gender, varied."""
    data = {f"q_q{j}": str(1 + (i + j) % 5) for j in range(15, 34)}
    data["q_gioi_tinh"] = str(1 + i % 2)
    data.update(changes)
    return data


def test_responses_spread_and_retried_over_both_hosts_are_stored_once_and_summarised_alike(
        hosts: Hosts) -> None:
    """N phones, each opening the form on one host and sending it to the other; a quarter
    send it to both at once, a quarter retry on the other host, a quarter then send changed
    answers under the same id. Exactly N responses are stored, each once, and both hosts give
    the same summary."""
    a, b = hosts.ports
    sent: dict[str, str] = {}  # response id -> receipt

    def post(phone: Browser, port: int, form: dict[str, str]) -> Answer:
        return phone.request(port, "POST", hosts.path, form=form)

    with ThreadPoolExecutor(2) as pool:
        for i in range(N):
            here, there = (a, b) if i % 2 else (b, a)
            phone = Browser(address=f"198.51.100.{i + 1}")
            page = phone.request(here, "GET", hosts.path)
            assert page.status == 200, hosts.logs()
            match = re.search(r'name="response_id" value="([^"]+)"', page.text)
            assert match, "the form carries no response_id"
            response_id = str(uuid.UUID(match.group(1)))
            assert response_id not in sent, "two forms were given the same response_id"
            # The phone keeps the cookie of the page it opened: a retry whose first answer was
            # lost never saw the cookie that answer set.
            cookies = dict(phone.cookies)
            form = {"csrf_token": csrf_token_from(page.text), "response_id": response_id,
                    "version": "1", **answers(i)}
            if i % 4 == 0:  # sent twice at the same moment, once to each host
                twins = [pool.submit(post, Browser(dict(cookies), phone.address), port, form)
                         for port in (there, here)]
                results = [twin.result() for twin in twins]
            else:
                results = [post(phone, there, form)]
                if i % 4 == 1:  # the answer was lost: the phone sends again, to the other host
                    results.append(post(Browser(dict(cookies), phone.address), here, form))
            receipts = set()
            for answer in results:
                assert answer.status == 200, (answer.status, answer.text[:500], hosts.logs())
                receipt = RECEIPT.search(answer.text)
                assert receipt, answer.text[:500]
                receipts.add(receipt.group(1))
            assert len(receipts) == 1, f"one response, two receipts: {receipts}"
            sent[response_id] = receipts.pop()
            if i % 4 == 2:  # the same id with other answers, on the other host: refused
                changed = {**form, "q_q15": str(1 + (i + 16) % 5)}
                refused = post(Browser(dict(cookies), phone.address), here, changed)
                assert refused.status == 409, (refused.status, refused.text[:500])

    assert len(sent) == N
    assert len(set(sent.values())) == N, "two responses got the same receipt"
    engine = sa.create_engine(hosts.url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT response_id, receipt FROM response")).all()
        n_answers = conn.execute(sa.text("SELECT count(*) FROM answer")).scalar_one()
        in_rollup = conn.execute(sa.text(
            "SELECT coalesce(sum(n), 0) FROM stat_response")).scalar_one()
        q15: dict[Any, Any] = dict(conn.execute(sa.text(
            "SELECT r.response_id, a.option_code FROM answer a JOIN response r"
            " ON r.id = a.response_pk WHERE a.question_id = 'q15'")).all())
    engine.dispose()
    ids = [str(uuid.UUID(str(rid))) for rid, _ in stored]
    assert len(ids) == N, f"{len(ids)} responses stored for {N} sent"
    assert len(set(ids)) == N, "a response was stored twice"
    assert set(ids) == set(sent), "stored and acknowledged responses differ"
    assert {str(uuid.UUID(str(rid))): r for rid, r in stored} == sent, "receipts differ"
    assert n_answers == 20 * N, "answers were lost or doubled"
    assert in_rollup == N, "the rollups missed or doubled a response"
    # The refused changes changed nothing: each response keeps its first answer to q15.
    assert len(q15) == N
    for i, response_id in enumerate(sent):
        assert str(q15[uuid.UUID(response_id)]) == answers(i)["q_q15"], response_id

    bearer = {"Authorization": f"Bearer {hosts.token}"}
    path = "/api/v1/summary?questionnaire=sipas-dichvu"
    summaries = []
    for port in (a, b, a, b):  # each host twice: a cache on one host would show here
        answer = Browser().request(port, "GET", path, headers=bearer)
        assert answer.status == 200, (answer.status, answer.text[:500])
        summaries.append({k: v for k, v in answer.json().items() if "generated" not in k})
    assert summaries[0]["n_responses"] == N
    assert summaries[0]["index"]["value"] is not None
    assert all(s == summaries[0] for s in summaries[1:]), "the hosts' summaries differ"
