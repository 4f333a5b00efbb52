"""Render every page to PNG at a phone and a desktop size, for people to look at.

    .venv/bin/python tools/screenshots.py [OUT_DIR]     (default: artifacts/screenshots)

Starts the app with gunicorn on a temporary database seeded with the demo ward, then opens
each page in headless Chromium (Playwright, system Chromium) as a citizen and as an admin.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORTS = {"phone": (360, 740), "desktop": (1366, 768)}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _flask(env: dict[str, str], *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True).stdout


def _answer_all(page: Page, low: bool = False) -> None:
    for i, fieldset in enumerate(page.locator("fieldset.row").all()):
        code = 2 if low and i % 3 == 0 else 4 + i % 2
        fieldset.locator(f'label:has(input[value="{code}"])').click()


def _sample_csv(n: int) -> str:
    """Return n plausible sipas-dichvu responses over the last six months, in contract §5 CSV."""
    import random
    from datetime import datetime, timedelta

    rng = random.Random(5)
    units = ["HCC-TPHT", "HCC-DDXD", "HCC-CT", "TDP-01", "TDP-02", "TDP-03"]
    columns = ["submitted_at", "unit", "channel", "linh_vuc", *[f"q{i}" for i in range(15, 34)],
               "gioi_tinh", "do_tuoi", "y_kien"]
    remarks = ["Cán bộ hướng dẫn tận tình.", "Chờ lâu ở quầy đất đai.", "Cần thêm ghế chờ.",
               "Nên niêm yết lệ phí rõ hơn.", "Rất hài lòng với quầy chứng thực."]
    lines = [",".join(columns)]
    now = datetime.now()
    for _ in range(n):
        unit = rng.choice(units)
        bias = 0.25 if unit == "HCC-DDXD" else 0.0
        moment = now - timedelta(minutes=rng.randrange(0, 180 * 24 * 60))
        codes = [str(rng.choices([1, 2, 3, 4, 5], [0.03 + bias / 3, 0.06 + bias / 2,
                                                   0.14, 0.45, 0.32 - bias])[0])
                 for _ in range(19)]
        remark = rng.choice(remarks) if rng.random() < 0.2 else ""
        lines.append(",".join([moment.isoformat(timespec="seconds"), unit,
                               rng.choice(["qr", "qr", "paper"]),
                               str(rng.choice([1, 1, 2, 3, 4, 5, 9])), *codes,
                               str(rng.choice([1, 2])), str(rng.randint(1, 5)), remark]))
    # Forty identical responses in two minutes at one counter (someone stuffing the form), and
    # a day with only two responses (for a dashboard of a small sample).
    stuffed = now.replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=3)
    for i in range(40):
        lines.append(",".join([(stuffed + timedelta(seconds=3 * i)).isoformat(timespec="seconds"),
                               "HCC-TPHT", "qr", "1", *["5"] * 19, "1", "2", "Rất tốt"]))
    for hour in (9, 14):
        lines.append(",".join([f"2025-01-15T{hour:02d}:00:00", "HCC-CT", "qr", "2",
                               *["5"] * 19, "2", "3", ""]))
    return "\n".join(lines) + "\n"


def main() -> None:
    """Capture the pages."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "artifacts" / "screenshots")
    chromium = os.environ.get("SURVEY_CHROMIUM") or shutil.which("chromium") or ""
    work = Path(tempfile.mkdtemp())
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env.update(SURVEY_DATABASE_URL=f"sqlite:///{work / 'survey.db'}", SURVEY_BASE_URL=base,
               SURVEY_SECRET_KEY="screenshots-secret-0123456789")
    seeded = _flask(env, "init-db", "--demo")
    password = re.search(r"password:\s+(\S+)", seeded).group(1)  # type: ignore[union-attr]
    links = dict(re.findall(r"\t(\S+)\t(http\S+)", _flask(env, "units", "list")))
    sample = work / "sample.csv"
    sample.write_text(_sample_csv(400), encoding="utf-8-sig")
    _flask(env, "import", str(sample), "--questionnaire", "sipas-dichvu")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b",
                               f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        form = links["sipas-dichvu"]
        code = form.rsplit("/", 1)[1]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
            for name, (width, height) in VIEWPORTS.items():
                target = out / name
                target.mkdir(parents=True, exist_ok=True)
                ctx = browser.new_context(viewport={"width": width, "height": height},
                                          device_scale_factor=2 if name == "phone" else 1,
                                          is_mobile=name == "phone")
                page = ctx.new_page()

                def shot(label: str, full: bool = False, _page: Page = page,
                         _target: Path = target) -> None:
                    _page.screenshot(path=str(_target / f"{label}.png"), full_page=full)
                    print(_target / f"{label}.png")

                page.goto(form)
                shot("form-top")
                page.locator("#f-q15").scroll_into_view_if_needed()
                shot("form-items")
                page.locator("button[type=submit]").evaluate("b => b.form.noValidate = true")
                page.locator('#f-q15 label:has(input[value="2"])').click()
                page.locator("button[type=submit]").click()
                page.wait_for_load_state()
                shot("form-errors")
                page.locator("#f-q31").scroll_into_view_if_needed()
                shot("form-not-applicable")
                page.goto(form)
                _answer_all(page, low=True)
                page.locator("button[type=submit]").click()
                page.wait_for_load_state()
                shot("thanks", full=True)
                receipt = page.locator("p.receipt strong").inner_text().strip()
                page.go_back()
                page.wait_for_load_state()
                shot("already-answered")
                ctx.clear_cookies()
                page.goto(f"{base}/s/{code}?lang=en")
                shot("form-english")
                page.goto(f"{base}/s/{code}?lang=vi")
                page.goto(links["mau-02"])
                shot("mau-02", full=True)
                page.goto(f"{base}/s/khong-co")
                shot("not-found")
                page.goto(f"{base}/tra-cuu")
                shot("lookup")
                page.goto(f"{base}/tra-cuu?ma={receipt}")
                shot("lookup-case", full=True)
                page.goto(f"{base}/tra-cuu?ma=AAAA-BBBB")
                shot("lookup-unknown")
                page.goto(f"{base}/ket-qua")
                shot("results", full=True)
                page.goto(f"{base}/login")
                shot("login")
                page.fill("#username", "admin")
                page.fill("#password", password)
                page.locator("button[type=submit]").click()
                page.wait_for_load_state()
                if name == "phone":
                    page.goto(base + "/staff/batches")
                    page.select_option("#questionnaire", "sipas-dichvu")
                    page.select_option("#unit", "TDP-01")
                    page.fill("#sheet_count", "5")
                    page.check("#double_entry")
                    page.get_by_role("button", name="Tạo lô và số phiếu").click()
                    page.wait_for_load_state()
                batch_url = page.url
                serial = page.locator("td").first.inner_text().strip() if "/batches/" in \
                    batch_url else ""
                if serial:
                    page.goto(f"{base}/staff/sheets/{serial}")
                    shot("sheet-entry")
                    for i in range(15, 34):
                        page.fill(f"#i-q{i}", str(4 + i % 2))
                    page.locator("form.entry button[type=submit]").click()
                    page.wait_for_load_state()
                    shot("sheet-next")
                    page.goto(batch_url)
                    shot("batch", full=True)
                for url, label in [("/staff/", "dashboard"),
                                   ("/staff/?from=2025-01-15&to=2025-01-15", "dashboard-two"),
                                   ("/staff/?questionnaire=papi-phuong", "dashboard-papi"),
                                   ("/staff/flags", "flags"),
                                   ("/staff/flags/excluded", "flags-excluded"),
                                   ("/staff/batches", "batches"),
                                   ("/staff/progress", "progress"),
                                   ("/staff/?unit=HCC-DDXD", "dashboard-unit"),
                                   ("/staff/suggestions", "suggestions"),
                                   ("/staff/follow-up", "follow-up"),
                                   ("/staff/cases", "cases"),
                                   ("/staff/cases?overdue=1", "cases-overdue"),
                                   ("/staff/units", "staff-units"),
                                   ("/staff/units/HCC-CT", "staff-unit"),
                                   ("/staff/wards", "wards"),
                                   ("/staff/units/TRANLIEU/settings", "ward-settings"),
                                   (f"/staff/links/{code}/poster", "poster"),
                                   ("/staff/users", "staff-users"),
                                   ("/staff/audit", "staff-audit"),
                                   ("/staff/account", "staff-account")]:
                    page.goto(base + url)
                    shot(label, full=True)
                    if label == "cases":
                        page.goto(f"{base}/staff/cases/{receipt}")
                        shot("case-new", full=True)
                        page.goto(f"{base}/staff/cases?status=answered")
                        page.locator("td.rcpt a").first.click()
                        page.wait_for_load_state()
                        shot("case", full=True)
                    if label == "flags":
                        page.goto(base + "/staff/flags?kind=burst")
                        page.locator("td a").first.click()
                        page.wait_for_load_state()
                        shot("flag-group", full=True)
                if name == "desktop":
                    for fmt in ("pdf", "xlsx"):
                        with page.expect_download() as download:
                            page.evaluate(f"window.location = '{base}/staff/export.{fmt}'")
                        download.value.save_as(str(target / f"report.{fmt}"))
                        print(target / f"report.{fmt}")
                    page.goto(f"{base}/staff/links/{code}/poster")
                    page.pdf(path=str(target / "poster.pdf"), format="A5",
                             print_background=True)
                    print(target / "poster.pdf")
                ctx.close()
            browser.close()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
