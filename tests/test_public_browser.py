"""The citizen's lookup (/tra-cuu) and the ward's results (/ket-qua) in a real Chromium.

axe-core finds no accessibility violation, /ket-qua fits in 14 KB on the wire, and neither page
scrolls sideways on a 320 or 360 px wide phone. The app runs under gunicorn on a database
seeded with four questionnaires over the last quarters and a few cases, one of them answered
and published.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import free_port, require
from tests.test_browser import ANDROID_UA, CHROMIUM_FLAGS, chromium_path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_BUDGET = 14 * 1024  # bytes on the wire: TCP's first flight
SECRET = "browser-test-secret-0123456789"
PUBLISHED_REPLY = "Phường đã bố trí thêm 10 ghế chờ ở tầng 1 từ ngày 05/10."

pytestmark = pytest.mark.browser


@dataclass
class Seeded:
    base_url: str
    answered: str  # a receipt whose case has a public reply, not yet rated
    waiting: str  # a receipt whose case is not answered yet
    link: str  # the citizen's form


def _seed(database_url: str) -> tuple[str, str, str]:
    """Store six quarters of responses to every questionnaire, and three cases."""
    from survey import create_app
    from survey.extensions import db
    from survey.services import accounts, cases, results, units
    from survey.services.questionnaires import get_questionnaire
    from survey.services.submissions import save_response

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET})
    with app.app_context():
        ward = units.create_unit("TRANLIEU", "Phường Trần Liễu", "ward", actor="test")
        counter = units.create_unit("HCC-CT", "Quầy Chứng thực", "counter", parent=ward,
                                    actor="test")
        group = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", parent=ward,
                                  actor="test")
        officer = accounts.create_user("canbo", "correct horse battery", "staff", actor="test")
        today = (datetime.now(UTC) + timedelta(hours=7)).date()
        quarters = results.last_quarters(today)
        for qid, unit in (("sipas-dichvu", counter), ("mau-02", counter),
                          ("sipas-chinhsach", group), ("papi-phuong", group)):
            questionnaire = get_questionnaire(qid)
            assert questionnaire is not None
            for k, quarter in enumerate(quarters):
                for i in range(12 if k else 3):  # the oldest quarter: a small cell
                    answers = {q.id: q.options[-1 - (i + j) % min(3, len(q.options))].code
                               for j, q in enumerate(questionnaire.questions)
                               if q.type == "choice" and q.options}
                    at = datetime.combine(quarter.start + timedelta(days=3 + i),
                                          datetime.min.time(), UTC) + timedelta(hours=3)
                    save_response(questionnaire, unit, "qr", uuid.uuid4(), answers,
                                  submitted_at=at, open_case=False)
        sipas = get_questionnaire("sipas-dichvu")
        assert sipas is not None
        made = []
        for text in ("Cần thêm ghế chờ ở tầng 1, người già phải đứng lâu.",
                     "Nên niêm yết lệ phí chứng thực rõ hơn ở quầy."):
            stored = save_response(sipas, counter, "qr", uuid.uuid4(),
                                   {f"q{i}": 4 for i in range(15, 34)} | {"y_kien": text})
            made.append(stored.response.receipt)
        db.session.flush()
        answered = cases.find_by_receipt(made[0])
        assert answered is not None
        cases.reply(answered, officer, PUBLISHED_REPLY, publish=True)
        link = units.ensure_link(counter, "sipas-dichvu", actor="test").code
        db.session.commit()
    return made[0], made[1], link


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Gunicorn serving the seeded app (one server for the module's tests)."""
    chromium_path()  # skip before any work when there is no browser
    tmp = tmp_path_factory.mktemp("public")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{tmp / 'survey.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=database_url, SURVEY_BASE_URL=base,
               SURVEY_SECRET_KEY=SECRET, SURVEY_PAKN_PHONE="0225 3 821 234",
               SURVEY_PAKN_HOTLINE="1022", SURVEY_RATELIMIT_LOOKUP="1000 per minute")
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    answered, waiting, link = _seed(database_url)
    log = (tmp / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("gunicorn did not start: "
                            + (tmp / "gunicorn.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield Seeded(base, answered, waiting, f"{base}/s/{link}")
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _pages(seeded: Seeded) -> dict[str, str]:
    return {
        "ket-qua": f"{seeded.base_url}/ket-qua",
        "tra-cuu": f"{seeded.base_url}/tra-cuu",
        "tra-cuu-unknown": f"{seeded.base_url}/tra-cuu?ma=AAAA-BBBB",
        "tra-cuu-answered": f"{seeded.base_url}/tra-cuu?ma={seeded.answered}",
        "tra-cuu-waiting": f"{seeded.base_url}/tra-cuu?ma={seeded.waiting}",
    }


def test_results_and_lookup_pass_axe(seeded: Seeded) -> None:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        require(False, "axe-playwright-python is not installed (requirements-dev.txt)")
    from playwright.sync_api import sync_playwright

    axe = Axe()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        for width, height in ((360, 740), (1366, 768)):
            # axe itself is a script: JavaScript on, and the page's CSP set aside for it.
            context = browser.new_context(viewport={"width": width, "height": height},
                                          bypass_csp=True, locale="vi-VN")
            page = context.new_page()
            for name, url in _pages(seeded).items():
                page.goto(url, wait_until="load")
                found = axe.run(page)
                assert found.violations_count == 0, (
                    f"{name} at {width} px:\n{found.generate_report()}")
            context.close()
        browser.close()


def test_results_fit_in_fourteen_kilobytes_on_the_wire(
        seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                      user_agent=ANDROID_UA, java_script_enabled=False)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        transferred: dict[str, float] = {}
        encodings: dict[str, str] = {}
        cdp.on("Network.responseReceived", lambda e: encodings.__setitem__(
            e["requestId"], {k.lower(): v for k, v in e["response"]["headers"].items()}.get(
                "content-encoding", "")))
        cdp.on("Network.loadingFinished",
               lambda e: transferred.__setitem__(e["requestId"], e["encodedDataLength"]))
        answer = page.goto(f"{seeded.base_url}/ket-qua", wait_until="load")
        assert answer is not None
        total = int(sum(transferred.values()))
        raw = len(answer.body())
        with capsys.disabled():
            print(f"\n[/ket-qua weight] {total} bytes on the wire ({encodings}), {raw} bytes "
                  f"of HTML, {len(transferred)} request(s) (budget {RESULTS_BUDGET})")
        assert len(transferred) == 1  # no stylesheet, script, font or image to fetch
        assert set(encodings.values()) <= {"gzip", "br", "zstd"}
        assert total <= RESULTS_BUDGET
        assert raw <= 3 * RESULTS_BUDGET
        html = page.content()
        assert PUBLISHED_REPLY in html
        assert html.count("<section") == 4  # every questionnaire with data
        assert "ẩn" in html  # the oldest quarter's small cell
        browser.close()


@pytest.mark.parametrize("width", [320, 360])
def test_no_page_scrolls_sideways_on_a_small_phone(seeded: Seeded, width: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": width, "height": 740},
                                      device_scale_factor=2, is_mobile=True, has_touch=True,
                                      user_agent=ANDROID_UA, java_script_enabled=False)
        page = context.new_page()
        pages = _pages(seeded) | {"form": seeded.link}
        for name, url in pages.items():
            page.goto(url, wait_until="load")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} is {wide} px wide at {width} px"
        # The rating buttons and the lookup field are thumb-sized.
        page.goto(pages["tra-cuu-answered"], wait_until="load")
        for selector in ('button[value="1"]', 'button[value="0"]', "#i-ma"):
            box = page.locator(selector).bounding_box()
            assert box is not None
            assert box["height"] >= 44, selector
        assert re.search(r"Ông/Bà có hài lòng", page.content())
        browser.close()
