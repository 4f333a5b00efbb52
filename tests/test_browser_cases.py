"""The whole complaint loop in a real Chromium: a citizen's low rating becomes a handled case.

A citizen on a phone (JavaScript off) rates an item 1, writes a suggestion and leaves a phone
number; staff find the case, assign it, reply publicly and close it; the citizen's lookup shows
the reply and another code shows nothing of it; once the retention period has passed (the
case's closing moved back in time), the phone number is gone.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from tests.test_browser import (  # noqa: F401  (live_server: the fixture)
    ANDROID_UA,
    CHROMIUM_FLAGS,
    LiveServer,
    chromium_path,
    live_server,
)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
PHONE_TYPED = "0912 345 678"
PHONE = "0912345678"
SUGGESTION = "Quầy chứng thực đông, cần thêm ghế chờ cho người cao tuổi."
REPLY = "Phường đã bố trí thêm 6 ghế chờ ưu tiên tại quầy chứng thực từ ngày 10/12."


def _shots(tmp_path: Path) -> Path:
    artifacts = os.environ.get("SURVEY_ARTIFACTS_DIR")
    shots = Path(artifacts) / "cases" if artifacts else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def _answer(page: object, low: bool, suggestion: str = "", contact: str = "") -> str:
    """Answer the sipas-dichvu form on the phone; return the receipt code."""
    for i in range(15, 34):
        code = 1 if low and i == 20 else 4
        page.locator(f'#f-q{i} label:has(input[value="{code}"])').tap()  # type: ignore[attr-defined]
    page.locator('#f-linh_vuc label:has(input[value="2"])').tap()  # type: ignore[attr-defined]
    if suggestion:
        page.locator("#i-y_kien").fill(suggestion)  # type: ignore[attr-defined]
    if contact:
        page.locator("#i-contact").fill(contact)  # type: ignore[attr-defined]
        page.locator('input[name="consent"]').check()  # type: ignore[attr-defined]
    with page.expect_navigation(wait_until="load"):  # type: ignore[attr-defined]
        page.locator("button[type=submit]").last.tap()  # type: ignore[attr-defined]
    receipt = page.locator(".receipt strong").inner_text()  # type: ignore[attr-defined]
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", receipt)
    return str(receipt)


def test_a_complaint_is_handled_answered_and_its_contact_forgotten(
        live_server: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    link = live_server.flask("qr", "sipas-dichvu", "--unit", "HCC-CT", "--out",
                             str(tmp_path / "qr.png")).strip().splitlines()[-1]
    live_server.flask("users", "create", "canbo", "--role", "staff", stdin=PASSWORD + "\n")
    base = live_server.base_url
    shots = _shots(tmp_path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        phone = browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
            user_agent=ANDROID_UA, java_script_enabled=False, locale="vi-VN")
        citizen = phone.new_page()

        # 1. The citizen rates an item 1, writes a suggestion and leaves a phone number.
        citizen.goto(link, wait_until="load")
        receipt = _answer(citizen, low=True, suggestion=SUGGESTION, contact=PHONE_TYPED)
        citizen.screenshot(path=str(shots / "receipt.png"), full_page=True)
        # The receipt leads to the lookup, where the case waits for a reply.
        with citizen.expect_navigation(wait_until="load"):
            citizen.locator(f'a[href*="/tra-cuu?ma={receipt}"]').first.tap()
        assert "Mới" in citizen.locator("main").inner_text()
        assert REPLY not in citizen.content()

        # Someone else answers without a suggestion or a low rating: no case.
        other_phone = browser.new_context(viewport={"width": 360, "height": 740},
                                          java_script_enabled=False, has_touch=True)
        other = other_phone.new_page()
        other.goto(link, wait_until="load")
        plain_receipt = _answer(other, low=False)

        # 2. Staff find the case, give it to themselves and see the phone number.
        desk = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        staff = desk.new_page()
        staff.goto(f"{base}/login")
        staff.fill("#username", "canbo")
        staff.fill("#password", PASSWORD)
        with staff.expect_navigation():
            staff.locator("form button[type=submit]").click()
        staff.goto(f"{base}/staff/cases")
        header = staff.locator("header").inner_text()
        assert "1 đang mở" in header
        row = staff.locator("tr", has=staff.locator(f'input[value="{receipt}"]'))
        assert row.count() == 1
        assert "Đánh giá 1–2" in row.inner_text()
        assert "ghế chờ" in row.inner_text()
        assert staff.locator(f'input[name="case"][value="{plain_receipt}"]').count() == 0
        row.locator('input[name="case"]').check()
        staff.select_option("#b-assignee", "canbo")
        with staff.expect_navigation():
            staff.locator("form.bulk button[type=submit]").click()
        assert "Đã giao 1 hồ sơ cho canbo." in staff.locator("main").inner_text()
        with staff.expect_navigation():
            staff.locator(f'a:text-is("{receipt}")').first.click()
        page_text = staff.locator("main").inner_text()
        assert PHONE in page_text
        assert "Đang xử lý" in page_text
        staff.screenshot(path=str(shots / "case-assigned.png"), full_page=True)

        # 3. A public reply, published on the results page, and the case closed.
        reply_form = staff.locator("form", has=staff.locator('input[value="reply"]'))
        reply_form.locator("textarea").fill(REPLY)
        reply_form.locator("select").select_option("closed")
        reply_form.locator('input[type="checkbox"]').check()
        with staff.expect_navigation():
            reply_form.locator("button[type=submit]").click()
        page_text = staff.locator("main").inner_text()
        assert "Đã lưu câu trả lời và đóng hồ sơ." in page_text
        assert "Đã đóng" in page_text
        history = staff.locator("main").inner_text()
        for step in ("Giao", "canbo"):
            assert step in history

        # 4. The citizen's lookup shows the reply; they say it satisfied them, once.
        citizen.goto(f"{base}/tra-cuu?ma={receipt.lower().replace('-', '')}")
        shown = citizen.locator("main").inner_text()
        assert REPLY in shown
        assert "Đã đóng" in shown
        assert SUGGESTION not in shown  # the reply and status, nothing else
        assert PHONE not in citizen.content()
        citizen.screenshot(path=str(shots / "lookup-answered.png"), full_page=True)
        with citizen.expect_navigation():
            citizen.locator('button[name="hai_long"][value="1"]').tap()
        assert "đã được ghi nhận" in citizen.locator("main").inner_text()

        # Another code shows nothing of it: a case-less receipt and an unknown one alike.
        for code in (plain_receipt, "ABCD-2345"):
            other.goto(f"{base}/tra-cuu?ma={code}")
            text = other.locator("main").inner_text()
            assert REPLY not in text
            assert "Chưa có thông tin trả lời cho mã phiếu này." in text

        # The published reply is on the public results page, without the phone number.
        citizen.goto(f"{base}/ket-qua")
        results = citizen.content()
        assert REPLY in results
        assert PHONE not in results

        # 5. Within the retention period the number stays; once it has passed, it is gone.
        staff.goto(f"{base}/staff/cases/{receipt}")
        assert PHONE in staff.locator("main").inner_text()
        app = make_app(live_server.database_url)
        with app.app_context():
            from survey.extensions import db
            from survey.models import Case, CaseContact

            case = db.session.scalar(sa.select(Case).where(Case.receipt == receipt))
            assert case is not None
            assert case.contact is not None
            assert case.citizen_satisfied is True
            assert case.closed_at is not None
            days = app.config["CASE_CONTACT_DAYS"]
            case.closed_at -= timedelta(days=days, minutes=1)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        staff.goto(f"{base}/staff/cases/{receipt}")
        page_text = staff.locator("main").inner_text()
        assert PHONE not in page_text
        assert REPLY in page_text
        staff.screenshot(path=str(shots / "case-after-retention.png"), full_page=True)
        browser.close()

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseContact)) == 0
        entry = db.session.execute(sa.text(
            "SELECT details FROM audit_log WHERE action = 'case.contact_purge'")).scalar_one()
        assert PHONE not in str(entry)
        db.session.remove()
        db.engine.dispose()
