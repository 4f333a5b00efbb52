"""Staff forms that guide (issue 11): batches for groups, confirmed closing, clickable links,
the import template, one meaning of "paper", and the warning on QR codes a phone cannot open.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from analysis import formatting
from analysis.vietnam import vietnam_day
from survey.extensions import db
from survey.models import AuditLog, Batch, Response, Unit, User
from survey.services import paper, units
from tests.conftest import PASSWORD, login, require_program

ROOT = Path(__file__).resolve().parent.parent.parent
WARNING = "Điện thoại không mở được mã QR này."


def options(html: str, name: str) -> list[tuple[str, bool]]:
    """Return a select's options as (value, selected), in order."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return [(m.group(1), "selected" in m.group(0))
            for m in re.finditer(r'<option[^>]*value="([^"]*)"[^>]*>', select.group(1))]


def test_a_new_batch_offers_groups_only_the_likeliest_questionnaire_and_a_count(
        admin_client: FlaskClient, make_unit: Callable[..., Unit]) -> None:
    make_unit("QUAY-1")
    groups = [make_unit(f"TDP-0{i}", f"Tổ dân phố số {i}", "group") for i in (1, 2, 3, 4)]
    for group in groups:
        units.ensure_link(group, "sipas-chinhsach", actor="test")
    db.session.commit()
    html = admin_client.get("/staff/batches").get_data(as_text=True)
    assert [v for v, _ in options(html, "unit")] == ["TDP-01", "TDP-02", "TDP-03", "TDP-04"]
    questionnaires = options(html, "questionnaire")
    assert questionnaires[0][0] == "sipas-chinhsach"  # the one open at the groups
    assert re.search(r'name="sheet_count"[^>]*value="50"', html)  # 200 / 4 groups
    # A counter posted by hand is refused in Vietnamese, and nothing is stored.
    refused = admin_client.post("/staff/batches", data={
        "questionnaire": "sipas-dichvu", "unit": "QUAY-1", "sheet_count": "5"})
    assert refused.status_code == 400
    assert "Phiếu in chỉ giao cho tổ dân phố" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch)) == 0
    # After a batch of another questionnaire, that one comes first.
    made = admin_client.post("/staff/batches", data={
        "questionnaire": "papi-phuong", "unit": "TDP-02", "sheet_count": "50"})
    assert made.status_code == 302
    html = admin_client.get("/staff/batches").get_data(as_text=True)
    assert [v for v, _ in options(html, "questionnaire")][:2] == ["papi-phuong",
                                                                  "sipas-chinhsach"]


def test_closing_a_link_asks_first_even_without_javascript(
        admin_client: FlaskClient, link_code: str, counter: Unit) -> None:
    unit_page = admin_client.get(f"/staff/units/{counter.code}").get_data(as_text=True)
    # The survey link is a link; "close" leads to the confirmation page.
    assert f'<a href="http://survey.test/s/{link_code}"' in unit_page
    assert f'href="/staff/links/{link_code}/toggle">Đóng khảo sát</a>' in unit_page
    confirm = admin_client.get(f"/staff/links/{link_code}/toggle")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Đóng khảo sát?" in text
    assert 'name="confirm" value="1"' in text
    # A post without the confirmation (an old page, a stray click) closes nothing.
    stray = admin_client.post(f"/staff/links/{link_code}/toggle")
    assert stray.status_code == 200
    assert "Đóng khảo sát?" in stray.get_data(as_text=True)
    assert admin_client.get(f"/s/{link_code}").status_code == 200
    closed = admin_client.post(f"/staff/links/{link_code}/toggle", data={"confirm": "1"})
    assert closed.status_code == 302
    assert admin_client.get(f"/s/{link_code}").status_code == 410
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "link.close")) == 1
    # Reopening needs no confirmation.
    assert admin_client.post(f"/staff/links/{link_code}/toggle").status_code == 302
    assert admin_client.get(f"/s/{link_code}").status_code == 200


def test_leaders_cannot_reach_the_confirmation(
        client: FlaskClient, make_user: Callable[..., User], link_code: str,
        counter: Unit) -> None:
    make_user("totruong", "leader", [counter])
    login(client, "totruong")
    assert client.get(f"/staff/links/{link_code}/toggle").status_code == 403


def test_the_import_page_links_to_its_templates(admin_client: FlaskClient) -> None:
    html = admin_client.get("/staff/import").get_data(as_text=True)
    hrefs = re.findall(r'href="(/staff/template\.xlsx\?questionnaire=[^"]+)"', html)
    assert "/staff/template.xlsx?questionnaire=sipas-dichvu" in hrefs
    template = admin_client.get(hrefs[0])
    assert template.status_code == 200
    assert template.data.startswith(b"PK")  # an XLSX file
    template.close()


def test_unit_check_boxes_keep_each_name_in_one_piece(
        admin_client: FlaskClient, make_unit: Callable[..., Unit]) -> None:
    """In Chromium, at 360 and 1366 px: each unit's check box and its (long, wrapped) name
    stay in one column, the box on the name's first line, whatever the columns do."""
    from playwright.sync_api import Route, sync_playwright

    chromium = require_program("chromium")
    for i in range(1, 13):
        make_unit(f"TDP-{i:02d}", f"Tổ dân phố số {i} khu dân cư Đông Hải, liền kề chợ Cột Đèn "
                  f"và trường Tiểu học Trần Văn Ơn", kind="group")
    html = admin_client.get("/staff/users").get_data(as_text=True)
    assert html.count('type="checkbox"') >= 12

    def serve(route: Route) -> None:
        path = route.request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        if path.startswith("static/"):
            route.fulfill(path=str(ROOT / path))
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            for width in (360, 1366):
                page = browser.new_page(viewport={"width": width, "height": 768})
                page.route("**/*", serve)
                page.goto("http://survey.test/staff/users")
                boxes = page.evaluate("""() => [...document.querySelectorAll(
                    '.field ul li input[type=checkbox]')].map(box => {
                    const label = box.closest('li').querySelector('label');
                    const range = document.createRange();
                    range.selectNodeContents(label);
                    const lines = [...range.getClientRects()];
                    const r = label.getBoundingClientRect(), b = box.getBoundingClientRect();
                    const li = box.closest('li').getBoundingClientRect();
                    const ul = box.closest('ul').getBoundingClientRect();
                    return {box: [b.left, b.top, b.right, b.bottom],
                            label: [r.left, r.top, r.right, r.bottom],
                            first: [lines[0].top, lines[0].bottom], n: lines.length,
                            lines: lines.map(l => [l.left, l.right]),
                            item: [li.left, li.top, li.right, li.bottom],
                            list: [ul.left, ul.right], text: label.textContent};
                })""")
                assert len(boxes) >= 12, width
                lefts = sorted({round(b["item"][0]) for b in boxes})
                assert (len(lefts) == 1) == (width == 360), (width, lefts)  # columns on wide
                widths = {round(b["item"][2] - b["item"][0]) for b in boxes}
                wrapped = 0
                for b in boxes:
                    left, top, right, bottom = b["item"]
                    # One column: the item is one box no wider than a column, in the list.
                    assert b["list"][0] - 1 <= left, b
                    assert right <= b["list"][1] + 1, b
                    assert right - left <= min(widths) + 1, b  # not split over columns
                    for x0, x1 in b["lines"]:  # every line of the name in the box's column
                        assert b["box"][0] <= x0, b
                        assert x1 <= b["box"][0] + min(widths) + 1, b
                    for x0, y0, x1, y1 in (b["box"], b["label"]):
                        assert left - 1 <= x0, (width, b)
                        assert x1 <= right + 1, (width, b)
                        assert top - 1 <= y0, (width, b)
                        assert y1 <= bottom + 1, (width, b)
                    assert b["box"][2] <= b["label"][0], b  # the box before the name
                    # The box sits on the name's first line, not beside a later one.
                    middle = (b["box"][1] + b["box"][3]) / 2
                    assert b["first"][0] - 2 <= middle <= b["first"][1] + 2, (width, b)
                    wrapped += b["n"] > 1
                assert wrapped, width  # the long names do wrap: the check means something
                page.close()
        finally:
            browser.close()


def test_paper_counts_the_same_on_progress_and_on_the_dashboard(
        app: Flask, client: FlaskClient) -> None:
    result = app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    admin = db.session.scalars(sa.select(User)).one()
    admin.set_password(PASSWORD)
    db.session.commit()
    login(client, "admin")
    qid = "sipas-chinhsach"
    dashboard = client.get(f"/staff/?questionnaire={qid}").get_data(as_text=True)
    paper_row = re.search(r"<tr><td>Phiếu giấy</td><td class=\"num\">(\d+)</td>", dashboard)
    assert paper_row, dashboard
    assert "“Tính vào kết quả”" in dashboard
    progress = client.get(f"/staff/progress?questionnaire={qid}").get_data(as_text=True)
    assert "<th class=\"num\">Tính vào kết quả</th>" in progress
    total = re.search(r"<tfoot><tr>(.*?)</tr></tfoot>", progress, re.S)
    assert total
    cells = re.findall(r'<th class="num[^"]*">([^<]*)</th>', total.group(1))
    assert cells[4] == paper_row.group(1)  # issued, returned, entered, verified, counted
    # "Đạt" measures the same counted sheets against the wards' targets (200 each; the demo
    # has two wards).
    assert cells[5] == "400"
    assert cells[6] == formatting.percent(100 * int(paper_row.group(1)) / 400)
    groups = [u for u in units.visible_units(admin) if u.kind == "group"]
    counted = paper.paper_counted([u.id for u in groups], qid)
    assert sum(counted.values()) == int(paper_row.group(1)) > 0
    assert "Không lọc thời gian, số này bằng cột “Tính vào kết quả”" in dashboard
    assert f'href="/staff/progress?questionnaire={qid}"' in dashboard
    assert "thời gian đã chọn" not in dashboard
    # With a period, the dashboard counts less than Tiến độ, and its note says so.
    first = min(vietnam_day(r.submitted_at) for r in db.session.scalars(
        sa.select(Response).where(Response.questionnaire_id == qid, Response.channel == "paper")))
    late = date.fromisoformat(first) + timedelta(days=40)
    period = client.get(f"/staff/?questionnaire={qid}&from={late}").get_data(as_text=True)
    in_period = re.search(r"<tr><td>Phiếu giấy</td><td class=\"num\">(\d+)</td>", period)
    assert in_period
    assert int(in_period.group(1)) < int(paper_row.group(1))
    assert ("Ở đây chỉ đếm phiếu trong thời gian đã chọn; trang Tiến độ đếm từ đầu đến nay."
            in period)


def test_pages_with_qr_codes_warn_while_the_base_url_is_loopback(
        app_factory: Callable[..., Flask]) -> None:
    for base, warned in (("http://127.0.0.1:5000", True), ("http://192.168.1.20:5000", False)):
        app = app_factory(BASE_URL=base)
        with app.app_context():
            ward = units.create_unit("P", "Phường", "ward", actor="test")
            group = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", parent=ward,
                                      actor="test")
            link = units.ensure_link(group, "sipas-chinhsach", actor="test")
            from survey.services import accounts

            accounts.create_user("quantri", PASSWORD, "admin", actor="test")
            batch = paper.create_batch("sipas-chinhsach", group, 2, leader=None,
                                       double_entry=False, actor="test")
            db.session.commit()
            client = app.test_client()
            assert login(client, "quantri").status_code == 302
            for path in ("/staff/units", "/staff/units/TDP-01", f"/staff/links/{link.code}/poster",
                         f"/staff/batches/{batch.id}"):
                html = client.get(path).get_data(as_text=True)
                assert (WARNING in html) is warned, (base, path)
                if warned:
                    assert "SURVEY_BASE_URL" in html
                    assert "make run HOST=0.0.0.0" in html
            assert WARNING not in client.get("/staff/").get_data(as_text=True)
            db.session.remove()


SHEET_WARNING = "điện thoại không mở được: đặt SURVEY_BASE_URL"


def test_printed_sheets_warn_in_red_while_their_qr_codes_are_loopback(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    """The PDF of a batch says on every page that its QR codes cannot be opened by a phone."""
    pdftotext = require_program("pdftotext")
    from survey.services.paper_forms import write_sheets_pdf

    app = app_factory()
    with app.app_context():
        ward = units.create_unit("P", "Phường", "ward", actor="test")
        group = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", parent=ward,
                                  actor="test")
        batch = paper.create_batch("sipas-chinhsach", group, 2, leader=None,
                                   double_entry=False, actor="test")
        db.session.commit()
        for base, warned in (("http://127.0.0.1:5000", True), ("http://localhost:8000", True),
                             ("http://192.168.1.20:5000", False)):
            path = tmp_path / "sheets.pdf"
            write_sheets_pdf(batch, path, base_url=base)
            pages = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split("\f")
            pages = [" ".join(page.split()) for page in pages if page.strip()]
            assert len(pages) >= 2
            for page in pages:
                assert (SHEET_WARNING in page) is warned, (base, page[-300:])
                if warned:
                    assert f"Mã QR trên phiếu trỏ tới {base}" in page
        db.session.remove()
