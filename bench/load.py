"""Drive the citizen's submit endpoint with many concurrent clients, some repeating their POST.

    bench/load [--seconds 20] [--clients 32] [--workers N] [--threads N] [--retry-share 0.2]
               [--pg]

Starts gunicorn on 127.0.0.1 as `make serve` does (the same gunicorn.conf.py, so by default
the same workers and threads), with a fresh database (SQLite, or with --pg the database of
SURVEY_TEST_DATABASE_URL, emptied), fetches the form once for its CSRF token
and cookie, then has wrk (Debian package ``wrk``: a C load generator, so that the client takes
little of the two cores) post complete answers with a new response id each time; a share of
the posts is sent again with the same body, as a phone on a bad network does. Prints
submissions per second, p50 and p99 latency and errors; then the same clients' throughput on
/healthz and the ratio of the two; then checks that the database holds exactly one response
per acknowledged receipt, and nothing that was not acknowledged.

The load generator shares the machine with the server: the figures are a floor for what the
server does on its own.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The Lua side of wrk: one body per request with a fresh UUID and random answers; with
# probability RETRY the previous body again. Every body sent and every acknowledged receipt
# goes to a file per thread (unbuffered, so nothing is lost when wrk stops); every other status
# is counted.
LUA = r"""
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local acks, bodies, last, sent
local answers = {"1", "2", "3", "4", "4", "4", "5", "5"}

function init(args)
  math.randomseed(id * 7919 + os.time())
  acks = io.open(OUT .. "/acks-" .. id, "w")
  acks:setvbuf("no")
  bodies = io.open(OUT .. "/sent-" .. id, "w")
  bodies:setvbuf("no")
  sent = 0
  repeated, statuses = 0, {}  -- globals: done() reads them with thread:get
end

local function uuid4()
  local t = {}
  for i = 1, 16 do t[i] = math.random(0, 255) end
  t[7] = 64 + (t[7] % 16)
  t[9] = 128 + (t[9] % 64)
  local h = {}
  for i = 1, 16 do h[i] = string.format("%02x", t[i]) end
  return table.concat(h, "", 1, 4) .. "-" .. table.concat(h, "", 5, 6) .. "-" ..
         table.concat(h, "", 7, 8) .. "-" .. table.concat(h, "", 9, 10) .. "-" ..
         table.concat(h, "", 11, 16)
end

local function new_body()
  local parts = {"csrf_token=" .. TOKEN, "version=" .. VERSION, "response_id=" .. uuid4()}
  for q = 15, 33 do parts[#parts + 1] = "q_q" .. q .. "=" .. answers[math.random(1, 8)] end
  parts[#parts + 1] = "q_gioi_tinh=" .. math.random(1, 2)
  local body = table.concat(parts, "&")
  bodies:write(body, "\n")
  return body
end

local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = COOKIE}

function request()
  sent = sent + 1
  if last ~= nil and math.random() < RETRY then
    repeated = repeated + 1
  else
    last = new_body()
  end
  return wrk.format("POST", PATH, headers, last)
end

function response(status, headers, body)
  if status == 200 then
    local receipt = string.match(body, '<p class="receipt">[^<]*<strong>([%w-]+)</strong>')
    if receipt then acks:write(receipt, "\n") else status = "200 without receipt" end
  end
  if status ~= 200 then statuses[status] = (statuses[status] or 0) + 1 end
end

function done(summary, latency, requests)
  local odd, rep = {}, 0
  for _, thread in ipairs(threads) do
    rep = rep + (thread:get("repeated") or 0)
    local s = thread:get("statuses") or {}
    for k, v in pairs(s) do odd[tostring(k)] = (odd[tostring(k)] or 0) + v end
  end
  io.write(string.format("REPEATED %d\n", rep))
  for k, v in pairs(odd) do io.write(string.format("STATUS %s %d\n", k, v)) end
  io.write(string.format("P50 %.3f\nP99 %.3f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
  io.write(string.format("REQUESTS %d\nSECONDS %.3f\n", summary.requests,
                         summary.duration / 1e6))
  local e = summary.errors
  io.write(string.format("SOCKET %d %d %d %d %d\n", e.connect, e.read, e.write, e.status,
                         e.timeout))
end
"""

HEALTH_LUA = r"""
function done(summary, latency, requests)
  io.write(string.format("REQUESTS %d\nSECONDS %.3f\n", summary.requests,
                         summary.duration / 1e6))
end
"""


def flask(env: dict[str, str], *args: str) -> str:
    """Run a flask CLI command against the bench database."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, check=True, capture_output=True, text=True).stdout


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(script: Path, url: str, clients: int, seconds: float) -> dict[str, str]:
    """Run wrk and return the KEY value lines its done() printed."""
    out = subprocess.run(
        ["wrk", "--threads", "2", "--connections", str(clients), "--duration",
         f"{seconds:.0f}s", "--timeout", "30s", "--script", str(script), url],
        check=True, capture_output=True, text=True).stdout
    figures: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        if key.isupper() and value:
            figures[key] = value if key != "STATUS" else figures.get(key, "") + value + "; "
    return figures


def resend_unacknowledged(work: Path, port: int, path: str, cookie: str,
                          acked: set[str]) -> list[str]:
    """POST again every body sent whose receipt never came back; return the new receipts."""
    from survey.services.submissions import receipt_for

    receipts = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for body in {line for f in work.glob("sent-*") for line in f.read_text().split()}:
        fields = urllib.parse.parse_qs(body)
        receipt = receipt_for(uuid.UUID(fields["response_id"][0]))
        if receipt in acked:
            continue
        conn.request("POST", path, body=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        answer = conn.getresponse()
        text = answer.read().decode()
        if answer.status == 200 and f"<strong>{receipt}</strong>" in text:
            receipts.append(receipt)
    conn.close()
    return receipts


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not answer /healthz")


def main() -> None:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, help="default: as `make serve` (gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="per worker (1: sync worker); default: as "
                        "`make serve`")
    parser.add_argument("--retry-share", type=float, default=0.2)
    parser.add_argument("--pg", action="store_true", help="use SURVEY_TEST_DATABASE_URL")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/load needs wrk: apt-get install wrk")

    if args.pg:
        url = os.environ.get("SURVEY_TEST_DATABASE_URL", "")
        if not url or "test" not in (sa.engine.make_url(url).database or ""):
            sys.exit("--pg needs SURVEY_TEST_DATABASE_URL naming a database containing 'test'")
    work = Path(tempfile.mkdtemp(prefix="survey-load-"))
    try:
        ok = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


def run(args: argparse.Namespace, work: Path) -> bool:
    """Serve, load, count; return whether every acknowledged response is stored once."""
    if args.pg:
        url = os.environ["SURVEY_TEST_DATABASE_URL"]
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    else:
        url = f"sqlite:///{work / 'load.db'}"
    port = 5600 + os.getpid() % 300
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=url, SURVEY_SECRET_KEY="load-bench-secret-0123456789",
               SURVEY_BASE_URL=f"http://127.0.0.1:{port}", SURVEY_RATELIMIT_ENABLED="0",
               **({"SURVEY_WORKERS": str(args.workers)} if args.workers else {}),
               **({"SURVEY_THREADS": str(args.threads)} if args.threads else {}))
    workers, threads = _layout(env)
    flask(env, "init-db")
    flask(env, "units", "create", "HCC-CT", "--name", "Quầy Chứng thực", "--kind", "counter")
    link = flask(env, "qr", "sipas-dichvu", "--unit", "HCC-CT", "--out",
                 str(work / "qr.png")).strip().splitlines()[-1]
    path = urllib.parse.urlsplit(link).path
    # The same command line as `make serve`, on another port.
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=(work / "gunicorn.log").open("w"))
    try:
        wait_for(port)
        http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        http_conn.request("GET", path)
        page = http_conn.getresponse()
        html = page.read().decode()
        http_conn.close()
        cookie = (page.getheader("Set-Cookie") or "").split(";")[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        version = re.search(r'name="version" value="(\d+)"', html)
        if token is None or version is None:
            sys.exit("the form has no csrf_token or version field")
        script = work / "submit.lua"
        script.write_text(
            f"OUT = {lua_string(str(work))}\nTOKEN = {lua_string(urllib.parse.quote(token[1]))}"
            f"\nCOOKIE = {lua_string(cookie)}\nPATH = {lua_string(path)}\n"
            f"VERSION = {lua_string(version[1])}\nRETRY = {args.retry_share}\n" + LUA)
        health_script = work / "health.lua"
        health_script.write_text(HEALTH_LUA)

        base = f"http://127.0.0.1:{port}"
        got = wrk(script, base + path, args.clients, args.seconds)
        health = wrk(health_script, base + "/healthz", args.clients, min(args.seconds, 10))

        posts = int(got["REQUESTS"])
        rate = posts / float(got["SECONDS"])
        health_rate = int(health["REQUESTS"]) / float(health["SECONDS"])
        socket = dict(zip(("connect", "read", "write", "status", "timeout"),
                          map(int, got["SOCKET"].split()), strict=True))
        socket = {k: v for k, v in socket.items() if v and k != "status"}
        errors = ", ".join(filter(None, [got.get("STATUS", "").strip("; "),
                                         ", ".join(f"{k} {v}" for k, v in socket.items())]))
        acked = [line for f in work.glob("acks-*") for line in f.read_text().split()]
        # Requests in flight when wrk stopped were cut off unanswered: their phones send them
        # again, as they would after a dropped connection, until each one is acknowledged.
        cut_off = resend_unacknowledged(work, port, path, cookie, set(acked))
        acked += cut_off
        unique = set(acked)
        print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}; gunicorn workers: "
              f"{workers} x {threads} threads; clients: {args.clients}; "
              f"{args.seconds:.0f} s; "
              f"repeat share {args.retry_share:.0%}; cores: {os.cpu_count()}")
        print(f"submissions: {posts} POSTs ({got['REPEATED']} repeats) = {rate:.0f}/s; "
              f"p50 {float(got['P50']):.1f} ms, p99 {float(got['P99']):.1f} ms; "
              f"errors: {errors or 0}; cut off by the end of the run and sent again: "
              f"{len(cut_off)}")
        print(f"/healthz: {health_rate:.0f}/s; submissions / healthz = "
              f"{rate / health_rate:.2f}")
    finally:
        server.terminate()
        server.wait()

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT receipt FROM response")).scalars())
        count = conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
        if not args.pg:
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    engine.dispose()
    missing = len(unique - stored)
    extra = len(stored - unique)
    ok = count == len(unique) and not missing and not extra and not errors
    print(f"stored responses: {count}; unique acknowledged: {len(unique)} "
          f"(of {len(acked)} acknowledgements); acknowledged but missing: {missing}; "
          f"stored but not acknowledged: {extra}"
          + ("" if args.pg else f"; integrity_check: {check}")
          + f"; {'OK' if ok else 'MISMATCH'}")
    return ok


def _layout(env: dict[str, str]) -> tuple[int, int]:
    """Return (workers, threads) as gunicorn.conf.py sets them in this environment."""
    out = subprocess.run(
        [sys.executable, "-c", "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
         "print(c['workers'], c['threads'])"], cwd=ROOT, env=env, capture_output=True,
        text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


if __name__ == "__main__":
    main()
