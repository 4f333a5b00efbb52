"""End to end in a real headless Chromium, as a citizen on a cheap phone does it.

The CLI writes a QR code, a real decoder reads it, Chromium opens the link at 360×740 with
JavaScript off, the form's bytes on the wire are counted, every item is answered, the receipt
appears, and the response is found in the database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import free_port, require, require_program

ROOT = Path(__file__).resolve().parent.parent
FORM_BUDGET = 14 * 1024  # bytes: what fits in TCP's first flight (initial window of 10 segments)
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic", "--disable-dev-shm-usage"]
ANDROID_UA = ("Mozilla/5.0 (Linux; Android 11; Nokia C21) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0 Mobile Safari/537.36")

pytestmark = pytest.mark.browser


def chromium_path() -> str:
    path = os.environ.get("SURVEY_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    require(path, "Chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    env: dict[str, str]

    def flask(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                                cwd=ROOT, env=self.env, input=stdin, capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Gunicorn serving the app on a fresh SQLite database, set up through the real CLI."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{tmp_path / 'survey.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=database_url, SURVEY_BASE_URL=base,
               SURVEY_SECRET_KEY="browser-test-secret-0123456789")
    server = LiveServer(base, database_url, env)
    server.flask("init-db")
    server.flask("units", "create", "TRANLIEU", "--name", "Phường Trần Liễu", "--kind", "ward")
    server.flask("units", "create", "HCC-CT", "--name", "Quầy Chứng thực", "--kind", "counter",
                 "--parent", "TRANLIEU")
    log = (tmp_path / "gunicorn.log").open("w")
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
                            + (tmp_path / "gunicorn.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_citizen_scans_qr_answers_everything_and_gets_a_receipt(
        live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chromium = chromium_path()
    zbarimg = require_program("zbarimg")
    from playwright.sync_api import sync_playwright

    # 1. The CLI writes the QR code and prints the link; a real decoder reads the same link.
    qr_png = tmp_path / "x.png"
    printed = live_server.flask("qr", "sipas-dichvu", "--unit", "HCC-CT", "--out", str(qr_png))
    link = printed.strip().splitlines()[-1]
    decoded = subprocess.run([zbarimg, "-q", "--raw", str(qr_png)], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert decoded == link
    assert link.startswith(live_server.base_url + "/s/")

    artifacts = os.environ.get("SURVEY_ARTIFACTS_DIR")
    shots = Path(artifacts) if artifacts else tmp_path
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
            has_touch=True, user_agent=ANDROID_UA, java_script_enabled=False, locale="vi-VN")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        transferred: dict[str, float] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent",
               lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished",
               lambda e: transferred.__setitem__(e["requestId"], e["encodedDataLength"]))

        # 2. Open the link as a phone would, and count every byte the page needs.
        page.goto(link, wait_until="load")
        total = int(sum(transferred.values()))
        with capsys.disabled():
            print(f"\n[form weight] {link}: {total} bytes on the wire in {len(transferred)} "
                  f"request(s): {sorted(urls.values())} (budget {FORM_BUDGET})")
        assert total <= FORM_BUDGET
        assert page.locator("h1").inner_text() == (
            "Phiếu khảo sát sự hài lòng về việc cung ứng dịch vụ hành chính công")
        assert page.locator("fieldset.row").count() == 19
        page.screenshot(path=str(shots / "form-top.png"))

        # 3. Answer every item with a thumb-sized tap on the option's label.
        chosen = {f"q{i}": 1 + (i % 5) for i in range(15, 34)}
        for qid, code in chosen.items():
            option = page.locator(f'#f-{qid} label:has(input[value="{code}"])')
            box = option.bounding_box()
            assert box is not None
            assert box["width"] >= 44
            assert box["height"] >= 44
            option.tap()
        page.locator('#f-linh_vuc label:has(input[value="2"])').tap()
        page.locator('#f-do_tuoi label:has(input[value="5"])').tap()
        page.locator("#i-y_kien").fill("Cần thêm chỗ ngồi chờ ở quầy chứng thực.")
        page.locator("#f-q33").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "form-answered.png"))

        # 4. Submit and read the receipt.
        with page.expect_navigation(wait_until="load"):
            page.locator("button[type=submit]").tap()
        assert "Cảm ơn Ông/Bà đã góp ý!" in page.content()
        receipt = page.locator(".receipt strong").inner_text()
        assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", receipt)
        page.screenshot(path=str(shots / "thanks.png"))
        browser.close()

    # 5. The response is stored once, with exactly these answers.
    engine = sa.create_engine(live_server.database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT r.id, r.channel FROM response r WHERE r.receipt = :r"), {"r": receipt}).all()
        assert len(rows) == 1
        assert rows[0].channel == "qr"
        answers = dict(conn.execute(sa.text(
            "SELECT question_id, coalesce(CAST(option_code AS TEXT), text_value) FROM answer "
            "WHERE response_pk = :id"), {"id": rows[0].id}).all())
        assert conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one() == 1
    engine.dispose()
    assert {q: int(answers[q]) for q in chosen} == chosen
    assert answers["linh_vuc"] == "2"
    assert answers["do_tuoi"] == "5"
    assert answers["y_kien"] == "Cần thêm chỗ ngồi chờ ở quầy chứng thực."


def test_a_leader_types_a_sheet_without_touching_the_mouse(live_server: LiveServer) -> None:
    """Keyboard only: codes move on by themselves, Enter moves on and saves at the end."""
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    live_server.flask("users", "create", "canbo", "--role", "staff",
                      stdin="correct horse battery\n")
    # Printed sheets go to residential groups only.
    live_server.flask("units", "create", "TDP-01", "--name", "Tổ dân phố số 1", "--kind",
                      "group", "--parent", "TRANLIEU")
    base = live_server.base_url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{base}/login")
        page.locator("#username").focus()
        page.keyboard.type("canbo")
        page.keyboard.press("Tab")
        page.keyboard.type("correct horse battery")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.goto(f"{base}/staff/batches")
        page.select_option("#questionnaire", "mau-02")
        page.select_option("#unit", "TDP-01")
        page.fill("#sheet_count", "2")
        with page.expect_navigation():
            page.get_by_role("button", name="Tạo lô và số phiếu").click()
        first = page.locator("td").first.inner_text().strip()
        page.goto(f"{base}/staff/sheets/{first}")
        # mau-02: the field (text), items 1-9 (codes 1-5), sex, age, education (codes).
        assert page.evaluate("document.activeElement.id") == "i-linh_vuc"
        page.keyboard.type("Chứng thực bản sao")
        page.keyboard.press("Enter")
        for code in "543215432":
            page.keyboard.type(code)  # a complete code moves on by itself
        assert page.evaluate("document.activeElement.id") == "i-gioi_tinh"
        page.keyboard.type("2")
        page.keyboard.type("5")
        page.keyboard.type("4")  # the last field: typing does not save ...
        assert f"/staff/sheets/{first}" in page.url
        with page.expect_navigation():
            page.keyboard.press("Enter")  # ... Enter does
        assert "Đã lưu phiếu số" in page.content()
        browser.close()
    engine = sa.create_engine(live_server.database_url)
    with engine.connect() as conn:
        answers = dict(conn.execute(sa.text(
            "SELECT question_id, coalesce(CAST(option_code AS TEXT), text_value) FROM answer"
        )).all())
        assert conn.execute(sa.text("SELECT channel FROM response")).scalar_one() == "paper"
    engine.dispose()
    assert answers == {"linh_vuc": "Chứng thực bản sao", "q1": "5", "q2": "4", "q3": "3",
                       "q4": "2", "q5": "1", "q6": "5", "q7": "4", "q8": "3", "q9": "2",
                       "gioi_tinh": "2", "do_tuoi": "5", "trinh_do": "4"}


def _answer_and_send(page: object, code: int) -> str:
    """Answer the 19 required items with ``code`` (as taps), send, and return the receipt."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    for i in range(15, 34):
        page.locator(f'#f-q{i} label:has(input[value="{code}"])').tap()
    with page.expect_navigation(wait_until="load"):
        page.locator("button.send").tap()
    return page.locator(".receipt strong").inner_text()


def _stored_receipts(database_url: str) -> list[str]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        receipts = list(conn.execute(sa.text("SELECT receipt FROM response ORDER BY id")).scalars())
    engine.dispose()
    return receipts


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_back_after_the_receipt_shows_it_and_another_response_is_a_choice(
        live_server: LiveServer, tmp_path: Path, javascript: bool) -> None:
    """Issue 10, item 3: Back, reload or an old tab never store a second response silently.

    Chromium runs with its back/forward cache on, as on a phone (Playwright turns it off by
    default): since Chromium 1xx a page sent with ``Cache-Control: no-store`` may be kept
    there, unless a cookie changed meanwhile, and storing a response changes the session.
    """
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    printed = live_server.flask("qr", "sipas-dichvu", "--unit", "HCC-CT", "--out",
                                str(tmp_path / "x.png"))
    link = printed.strip().splitlines()[-1]
    artifacts = os.environ.get("SURVEY_ARTIFACTS_DIR")
    shots = Path(artifacts) if artifacts else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    suffix = "js" if javascript else "nojs"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS,
                                    ignore_default_args=["--disable-back-forward-cache"])
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
            has_touch=True, user_agent=ANDROID_UA, java_script_enabled=javascript,
            locale="vi-VN")
        page = context.new_page()
        page.goto(link, wait_until="load")
        old_tab = context.new_page()  # the same link left open in a second tab
        old_tab.goto(link, wait_until="load")
        page.bring_to_front()  # a tab in the background gets no frames: taps would wait

        # 1. Answer everything required and send: the receipt.
        receipt = _answer_and_send(page, 4)
        assert "Cảm ơn Ông/Bà đã góp ý!" in page.locator("h1").inner_text()
        assert page.locator("form.again button").inner_text() == "Gửi thêm một phiếu khác"
        page.screenshot(path=str(shots / f"receipt-{suffix}.png"))
        assert _stored_receipts(live_server.database_url) == [receipt]

        # 2. Back: Chromium asks the server again, which shows the receipt and the choice.
        page.go_back(wait_until="commit")
        page.wait_for_load_state("load")
        if page.locator("input[name=response_id]").count():
            # Kept by the browser with the answers: sending it again stores nothing new.
            with page.expect_navigation(wait_until="load"):
                page.locator("button.send").tap()
            assert page.locator(".receipt strong").inner_text() == receipt
        assert page.locator("h1").inner_text() == "Ông/Bà đã gửi phiếu này"
        assert page.locator(".receipt strong").inner_text() == receipt
        assert page.locator("input[name=response_id]").count() == 0
        page.screenshot(path=str(shots / f"already-{suffix}.png"))

        # 3. Reload: the same.
        page.reload(wait_until="load")
        assert page.locator("h1").inner_text() == "Ông/Bà đã gửi phiếu này"
        assert page.locator(".receipt strong").inner_text() == receipt

        # 4. The old tab, answered and sent: nothing is stored, the receipt is shown.
        old_tab.bring_to_front()
        assert _answer_and_send(old_tab, 2) == receipt
        assert old_tab.locator("h1").inner_text() == "Ông/Bà đã gửi phiếu này"
        assert "không được lưu thêm" in old_tab.locator(".alert").inner_text()
        old_tab.screenshot(path=str(shots / f"refused-{suffix}.png"))
        old_tab.close()
        assert _stored_receipts(live_server.database_url) == [receipt]

        # 5. "Gửi thêm một phiếu khác": a fresh form, answered and sent: a second receipt.
        page.bring_to_front()
        with page.expect_navigation(wait_until="load"):
            page.locator("form.again button").tap()
        assert page.url.endswith("?another=1")
        assert page.locator("input[type=radio]:checked").count() == 0
        second = _answer_and_send(page, 5)
        assert "Cảm ơn Ông/Bà đã góp ý!" in page.locator("h1").inner_text()
        assert second != receipt

        # 6. Back again, to the form of step 5: the newest receipt, no third response.
        page.go_back(wait_until="commit")
        page.wait_for_load_state("load")
        if page.locator("input[name=response_id]").count():
            with page.expect_navigation(wait_until="load"):
                page.locator("button.send").tap()
        assert page.locator(".receipt strong").inner_text() == second
        browser.close()

    receipts = _stored_receipts(live_server.database_url)
    assert len(receipts) == 2
    assert receipts == [receipt, second]


# Every element's right edge, unless an ancestor scrolls it (a wide table inside ``.scroll``
# is meant to scroll on its own); one clipped by ``overflow: hidden`` is cut off, so it counts.
# The offenders are named tag#id.class "text".
# A mobile browser widens its layout viewport (window.innerWidth) to fit what overflows, so
# the screen's width is the root's clientWidth, the narrower of the two.
OVERFLOW_JS = """() => {
  const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
  const inside = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const overflow = getComputedStyle(a).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return true;
    }
    return false;
  };
  const name = (el) => {
    const holder = el.parentElement && el.parentElement.closest('[id]');
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + [...el.classList].map((c) => '.' + c).join('')
      + ' "' + (el.innerText || el.value || '').replace(/\\s+/g, ' ').trim().slice(0, 40) + '"'
      + (holder ? ' in #' + holder.id : '');
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.height && box.right > width + 0.5 && !inside(el)) {
      wide.push(name(el) + ' right=' + Math.round(box.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 8)};
}"""
PUBLIC_QUESTIONNAIRES = ("sipas-dichvu", "mau-02", "sipas-chinhsach", "papi-phuong")


def test_public_pages_never_scroll_sideways_on_small_phones(live_server: LiveServer,
                                                            tmp_path: Path) -> None:
    """Issue 11, item 5: every public page, in both languages, fits 320 and 360 px."""
    chromium = chromium_path()
    from playwright.sync_api import Page, sync_playwright

    links = {}
    for qid in PUBLIC_QUESTIONNAIRES:
        printed = live_server.flask("qr", qid, "--unit", "HCC-CT", "--out",
                                    str(tmp_path / f"{qid}.png"))
        links[qid] = printed.strip().splitlines()[-1]
    live_server.flask("units", "create", "HCC-DD", "--name", "Quầy Đất đai", "--kind",
                      "counter", "--parent", "TRANLIEU")
    closed = live_server.flask("qr", "mau-02", "--unit", "HCC-DD", "--out",
                               str(tmp_path / "closed.png")).strip().splitlines()[-1]
    engine = sa.create_engine(live_server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE survey_link SET active = :f WHERE code = :c"),
                     {"f": False, "c": closed.rstrip("/").rsplit("/", 1)[-1]})
    engine.dispose()
    base = live_server.base_url
    artifacts = os.environ.get("SURVEY_ARTIFACTS_DIR")
    shots = Path(artifacts) if artifacts else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    seen: list[str] = []

    def check(page: Page, what: str) -> None:
        found = page.evaluate(OVERFLOW_JS)
        seen.append(what)
        if found["scroll"] > found["width"] or found["wide"]:
            problems.append(f"{what}: page {found['scroll']} px wide in {found['width']} px; "
                            f"{'; '.join(found['wide'])}")
            page.screenshot(path=str(shots / f"overflow-{len(problems)}.png"), full_page=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        for lang in ("vi", "en"):
            for width in (320, 360):
                context = browser.new_context(
                    viewport={"width": width, "height": 740}, device_scale_factor=1,
                    is_mobile=True, has_touch=True, user_agent=ANDROID_UA,
                    locale="vi-VN")
                page = context.new_page()
                where = f"{lang} {width}px"
                page.goto(f"{base}/?lang={lang}")  # the language cookie, as a citizen's tap
                check(page, f"{where} landing page /")
                for path, what in [("/login", "login page"),
                                   ("/s/khong-co-ma-nay", "unknown link (404)"),
                                   (closed, "closed link (410)")]:
                    page.goto(path if path.startswith("http") else base + path)
                    check(page, f"{where} {what}")
                page.goto(f"{base}/login")
                page.fill("#username", "khongco")
                page.fill("#password", "sai mat khau")
                with page.expect_navigation(wait_until="load"):
                    page.locator("form button[type=submit]").click()
                assert page.locator("#username").count() == 1
                check(page, f"{where} login error")
                for qid, link in links.items():
                    page.goto(link)
                    assert page.locator("input[name=response_id]").count() == 1, (qid, lang)
                    check(page, f"{where} form {qid}")
                    # Sent with an option that does not exist and nothing else (the browser's
                    # own checks skipped): shown again with its messages.
                    with page.expect_navigation(wait_until="load") as sent:
                        page.evaluate("""() => { const radio = document.querySelector(
                            'input[type=radio]'); radio.value = '987'; radio.checked = true;
                            HTMLFormElement.prototype.submit.call(radio.form); }""")
                    assert sent.value.status == 400, (qid, lang)
                    check(page, f"{where} form {qid} with messages (400)")
                page.goto(links["sipas-dichvu"])
                _answer_all_fives(page)
                page.evaluate("""() => {
                    document.querySelector('input[name=csrf_token]').value = 'het-han'; }""")
                with page.expect_navigation(wait_until="load") as sent:
                    page.locator("button.send").click()
                assert sent.value.status == 400
                assert page.locator("input[name=response_id]").count() == 1
                check(page, f"{where} expired form (400)")
                page.goto(links["sipas-dichvu"])
                _answer_all_fives(page)
                with page.expect_navigation(wait_until="load"):
                    page.locator("button.send").click()
                assert page.locator(".receipt strong").count() == 1
                check(page, f"{where} thank-you page")
                page.goto(links["sipas-dichvu"])
                assert page.locator(".receipt strong").count() == 1
                check(page, f"{where} already-answered page")
                context.close()
        # Last, as it locks this address out of logging in for a while: too many attempts.
        for lang in ("vi", "en"):
            for width in (320, 360):
                context = browser.new_context(
                    viewport={"width": width, "height": 740}, device_scale_factor=1,
                    is_mobile=True, has_touch=True, user_agent=ANDROID_UA, locale="vi-VN")
                page = context.new_page()
                page.goto(f"{base}/login?lang={lang}")
                for _attempt in range(60):
                    page.fill("#username", "khongco")
                    page.fill("#password", "sai mat khau")
                    with page.expect_navigation(wait_until="load") as sent:
                        page.locator("form button[type=submit]").click()
                    assert sent.value
                    if sent.value.status == 429:
                        break
                else:
                    pytest.fail("60 wrong passwords were never refused with 429")
                check(page, f"{lang} {width}px too many requests (429)")
                context.close()
        browser.close()
    assert len(seen) == 2 * 2 * (6 + 2 * len(PUBLIC_QUESTIONNAIRES) + 3)
    assert not problems, "horizontal overflow:\n" + "\n".join(problems)


def _answer_all_fives(page: object) -> None:
    """Answer items 15-33 of sipas-dichvu by script, not by taps: an overflowing form must fail
    on its width, not on a tap that lands on a neighbour."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.evaluate("""() => { for (let i = 15; i <= 33; i++) {
        document.querySelector(`input[name=q_q${i}][value="5"]`).checked = true; } }""")


def test_the_printed_poster_carries_the_loopback_warning(live_server: LiveServer,
                                                        tmp_path: Path) -> None:
    """Issue 11: the warning on QR codes a phone cannot open is printed with the poster."""
    chromium = chromium_path()
    pdftotext = require_program("pdftotext")
    from playwright.sync_api import sync_playwright

    code = live_server.flask("qr", "sipas-dichvu", "--unit", "HCC-CT", "--out",
                             str(tmp_path / "qr.png")).strip().rsplit("/", 1)[-1]
    live_server.flask("users", "create", "canbo", "--role", "staff",
                      stdin="correct horse battery\n")
    base = live_server.base_url  # http://127.0.0.1:PORT, which a phone cannot open
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{base}/login")
        page.fill("#username", "canbo")
        page.fill("#password", "correct horse battery")
        with page.expect_navigation():
            page.locator("form button[type=submit]").click()
        page.goto(f"{base}/staff/links/{code}/poster")
        warning = page.locator(".qr-address")
        assert warning.is_visible()
        page.emulate_media(media="print")
        assert warning.is_visible()
        assert page.evaluate("() => !document.querySelector('.qr-address').closest('.tools')")
        assert warning.evaluate("(e) => getComputedStyle(e).color") == "rgb(176, 0, 32)"
        pdf = tmp_path / "poster.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        browser.close()
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert text.count("\f") == 1, "the poster prints on one A5 sheet"
    words = " ".join(text.split())
    assert "Điện thoại không mở được mã QR này." in words
    assert base in words
    assert "SURVEY_BASE_URL" in words
    assert "Quét mã QR để góp ý." in words
