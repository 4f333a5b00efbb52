"""QR codes a phone can open (issue 11): the base URL follows the address served.

`make run` prints the address; with HOST=0.0.0.0 it serves on every interface and its QR codes
hold the machine's LAN address. The last test runs `make run` itself, logs in with the printed
password, and decodes a QR code with zbarimg.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey import create_app
from survey.addresses import banner, base_url_for, is_loopback_url, lan_address
from survey.extensions import db
from tests.conftest import (
    TEST_SECRET,
    csrf_token_from,
    free_port,
    require,
    require_program,
    reset_database,
)

ROOT = Path(__file__).resolve().parent.parent
EVERY = "0.0.0.0"  # noqa: S104 - the address `make run HOST=0.0.0.0` binds


def no_lan() -> None:
    return None


def test_the_base_url_follows_the_port_and_any_address_gives_the_lan_address() -> None:
    assert base_url_for("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert base_url_for("localhost", "5001") == "http://127.0.0.1:5001"
    assert base_url_for(None, None) == "http://127.0.0.1:5000"
    assert base_url_for(EVERY, 8000, lan=lambda: "192.168.1.20") == "http://192.168.1.20:8000"
    # No network: the only address left is the machine's own (and the pages will say so).
    assert base_url_for(EVERY, 8000, lan=no_lan) == "http://127.0.0.1:8000"
    assert base_url_for("10.0.0.5", 80) == "http://10.0.0.5:80"
    assert is_loopback_url("http://127.0.0.1:5000")
    assert is_loopback_url("http://localhost/")
    assert not is_loopback_url("http://192.168.1.20:5000")
    assert not is_loopback_url("https://khaosat.phuong.gov.vn")


def test_the_banner_tells_how_phones_reach_the_app() -> None:
    lines = banner("127.0.0.1", 5000, "http://127.0.0.1:5000", lan=lambda: "192.168.1.20")
    assert lines[0] == "Serving on http://127.0.0.1:5000 (this machine; Ctrl+C to stop)"
    text = "\n".join(lines)
    assert "WARNING: a phone cannot open 127.0.0.1" in text
    # The default run says, on one line, what to run and what a phone then opens.
    assert ("Phones on the same network: run `make run HOST=0.0.0.0 PORT=5000`, then open "
            "http://192.168.1.20:5000 (QR codes will point there)") in lines
    shared = banner(EVERY, 5000, "http://192.168.1.20:5000", lan=lambda: "192.168.1.20")
    assert "Phones on the same network open: http://192.168.1.20:5000" in shared
    assert "QR codes, posters and printed sheets point at: http://192.168.1.20:5000" in shared
    assert not any("WARNING" in line for line in shared)
    # A public address set by hand is shown as it is, with no warning.
    public = banner("127.0.0.1", 8000, "https://khaosat.example.vn", lan=no_lan)
    assert "point at: https://khaosat.example.vn" in public[-1]


def app_with_env(monkeypatch: pytest.MonkeyPatch, database_url: str, **env: str) -> Flask:
    for name in ("SURVEY_BASE_URL", "SURVEY_LISTEN_HOST", "SURVEY_LISTEN_PORT",
                 "SURVEY_SERVING_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_database(database_url)
    # Next to the database, never the checkout's instance/serving.json from a real make run.
    serving = Path(database_url.removeprefix("sqlite:///")).parent / "serving.json"
    return create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET,
                       "SQLALCHEMY_DATABASE_URI": database_url, "SERVING_FILE": str(serving)})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'survey.db'}"


def test_config_follows_the_served_address_unless_the_base_url_is_set(
        monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    app = app_with_env(monkeypatch, sqlite_url)
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"  # contract §2 default
    app = app_with_env(monkeypatch, sqlite_url, SURVEY_LISTEN_HOST="127.0.0.1",
                       SURVEY_LISTEN_PORT="8123")
    assert app.config["BASE_URL"] == "http://127.0.0.1:8123"
    app = app_with_env(monkeypatch, sqlite_url, SURVEY_LISTEN_HOST=EVERY,
                       SURVEY_LISTEN_PORT="8123")
    assert app.config["BASE_URL"] == base_url_for(EVERY, 8123)
    address = lan_address()
    if address:
        assert app.config["BASE_URL"] == f"http://{address}:8123"
    app = app_with_env(monkeypatch, sqlite_url, SURVEY_LISTEN_HOST=EVERY,
                       SURVEY_LISTEN_PORT="8123",
                       SURVEY_BASE_URL="https://khaosat.example.vn/")
    assert app.config["BASE_URL"] == "https://khaosat.example.vn"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_address_command_and_units_list_show_the_same_address(
        monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    app = app_with_env(monkeypatch, sqlite_url, SURVEY_LISTEN_HOST="127.0.0.1",
                       SURVEY_LISTEN_PORT="8124")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    shown = runner.invoke(args=["address"])
    assert shown.exit_code == 0, shown.output
    assert "point at: http://127.0.0.1:8124" in shown.output
    assert "WARNING: a phone cannot open 127.0.0.1" in shown.output
    listed = runner.invoke(args=["units", "list"])
    assert listed.exit_code == 0
    assert re.search(r"\thttp://127\.0\.0\.1:8124/s/[a-z2-9]{6}$", listed.stdout, re.M)
    assert "set SURVEY_BASE_URL" in listed.stderr
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_make_run_prints_its_addresses_and_binds_what_it_is_asked() -> None:
    make = require_program("make")
    default = subprocess.run([make, "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    assert "--bind 127.0.0.1:5000 " in default  # contract §1: http://127.0.0.1:5000
    assert "flask --app wsgi address --record" in default  # for commands run later
    shared = subprocess.run([make, "-n", "run", "HOST=0.0.0.0", "PORT=8125"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    assert "--bind 0.0.0.0:8125 " in shared


def test_commands_run_later_print_the_address_make_run_recorded(tmp_path: Path) -> None:
    """After `make run HOST=0.0.0.0 PORT=X`, `flask units list`/`qr` in a clean terminal agree."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    clean.update(SURVEY_DATABASE_URL=f"sqlite:///{tmp_path / 'survey.db'}",
                 SURVEY_SECRET_KEY=TEST_SECRET,
                 SURVEY_SERVING_FILE=str(tmp_path / "serving.json"))

    def flask(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", *args],
                              cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr + done.stdout
        return done

    require((ROOT / ".venv" / "bin" / "flask").exists(), "no .venv yet")
    served = {"SURVEY_LISTEN_HOST": EVERY, "SURVEY_LISTEN_PORT": str(port)}
    flask("init-db", "--demo", **served)
    phone = base_url_for(EVERY, port)  # the LAN address, or 127.0.0.1 on a machine without one
    # What the Makefile runs before gunicorn: the banner, and the record of host and port.
    assert f"point at: {phone}" in flask("address", "--record", **served).stdout
    listed = flask("units", "list").stdout  # another terminal: no SURVEY_LISTEN_*
    assert re.search(rf"\t{re.escape(phone)}/s/[a-z2-9]{{6}}$", listed, re.M), listed
    printed = flask("qr", "sipas-dichvu", "--unit", "HCC-CT", "--out", str(tmp_path / "q.png"))
    assert printed.stdout.strip().splitlines()[-1].startswith(f"{phone}/s/")
    # The environment still wins over the record.
    listed = flask("units", "list", SURVEY_BASE_URL="https://khaosat.example.vn").stdout
    assert "\thttps://khaosat.example.vn/s/" in listed
    assert phone not in listed
    listed = flask("units", "list", SURVEY_LISTEN_PORT="8126").stdout
    assert "\thttp://127.0.0.1:8126/s/" in listed
    # A damaged record is ignored: the default address, as without make run.
    (tmp_path / "serving.json").write_text("{not json")
    assert "\thttp://127.0.0.1:5000/s/" in flask("units", "list").stdout


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(
        http.cookiejar.CookieJar()))


def test_make_run_on_every_interface_gives_qr_codes_a_phone_can_open(tmp_path: Path) -> None:
    """`make run HOST=0.0.0.0`: the printed phone address is what the QR code decodes to."""
    make = require_program("make")
    require_program("zbarimg")
    address = lan_address()
    require(address, "this machine has no network address besides 127.0.0.1")
    require((ROOT / ".venv" / "bin" / "gunicorn").exists(), "no .venv with gunicorn yet")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=f"sqlite:///{tmp_path / 'survey.db'}",
               SURVEY_SECRET_KEY=TEST_SECRET,
               SURVEY_SERVING_FILE=str(tmp_path / "serving.json"))
    log = tmp_path / "make.log"
    with log.open("w") as out:
        # -o: the installed .venv is used as it is (a test installs nothing).
        server = subprocess.Popen([make, "-o", ".venv/.runtime", "run", f"HOST={EVERY}",
                                   f"PORT={port}"], cwd=ROOT,
                                  env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        phone = f"http://{address}:{port}"
        deadline = time.monotonic() + 120
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text()
            if "Phones on the same network open:" in text and _answers(f"{phone}/healthz"):
                break
            assert server.poll() is None, text
            time.sleep(0.3)
        else:
            pytest.fail(f"make run did not serve within 120 s:\n{text}")
        assert f"Phones on the same network open: {phone}" in text
        assert f"QR codes, posters and printed sheets point at: {phone}" in text
        assert f"staff login: {phone}/login" in text
        password = re.search(r"password:\s+(\S+)", text)
        assert password, text
        browser = _opener()
        page = browser.open(f"{phone}/login", timeout=10).read().decode()
        browser.open(f"{phone}/login", data=urllib.parse.urlencode({
            "csrf_token": csrf_token_from(page), "username": "admin",
            "password": password.group(1)}).encode(), timeout=10).read()
        unit = browser.open(f"{phone}/staff/units/HCC-CT", timeout=10).read().decode()
        assert "Điện thoại không mở được mã QR này" not in unit  # no loopback warning
        code = re.search(r"/staff/links/([a-z2-9]{6})/poster", unit)
        assert code, unit
        decoded = _printed_poster_qr(f"{phone}/staff/links/{code.group(1)}/poster",
                                     password.group(1), tmp_path)
        assert decoded == f"{phone}/s/{code.group(1)}"
        with urllib.request.urlopen(decoded, timeout=10) as form:  # noqa: S310 - our own server
            assert form.status == 200
        # `flask units list` in another terminal (no SURVEY_LISTEN_*) lists the same address.
        listed = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "units",
                                 "list"], cwd=ROOT, env=env, capture_output=True, text=True,
                                check=True).stdout
        assert f"\t{decoded}\n" in listed
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _printed_poster_qr(poster: str, password: str, tmp_path: Path) -> str:
    """Print the poster as Chromium prints it (A5 PDF), rasterise it, and decode its QR code."""
    chromium = os.environ.get("SURVEY_CHROMIUM") or shutil.which("chromium")
    require(chromium, "Chromium is not installed")
    pdftoppm = require_program("pdftoppm")
    zbarimg = require_program("zbarimg")
    from playwright.sync_api import sync_playwright

    base = poster.split("/staff/", 1)[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "admin")
        page.fill("#password", password)
        with page.expect_navigation():
            page.locator("form button[type=submit]").click()
        page.goto(poster)
        assert page.locator(".qr-address").count() == 0  # no loopback warning
        page.pdf(path=str(tmp_path / "poster.pdf"), prefer_css_page_size=True)
        browser.close()
    subprocess.run([pdftoppm, "-r", "150", "-png", "-singlefile", str(tmp_path / "poster.pdf"),
                    str(tmp_path / "poster")], check=True)
    decoded = subprocess.run([zbarimg, "-q", "--raw", str(tmp_path / "poster.png")],
                             capture_output=True, check=True, text=True).stdout.strip()
    return decoded


def _answers(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False
