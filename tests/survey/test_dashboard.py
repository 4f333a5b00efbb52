"""The staff dashboard, the summary API, downloads, suggestions and the export/import CLI."""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import Response, Unit, User
from survey.reporting.filters import Filters
from survey.services import accounts, rollups, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import PASSWORD, login, report_of, require_program, summary_of
from tests.survey.test_reports import seed

QID = "sipas-dichvu"


@pytest.fixture
def data(app: Flask) -> list[Unit]:
    """Sixty random responses over units Q1, Q2 and T1, plus a few known low ratings."""
    seed(app, 60, 11)
    made = [units.get_unit(code) for code in ("Q1", "Q2", "T1")]
    assert all(made)
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    for text in ("Chờ quá lâu ở quầy", "Công chức chưa niềm nở"):
        save_response(questionnaire, made[2], "qr", uuid.uuid4(),
                      {f"q{i}": 1 for i in range(15, 34)} | {"y_kien": text},
                      submitted_at=datetime(2026, 2, 2, 3, 0, tzinfo=UTC))
    db.session.commit()
    return made  # type: ignore[return-value]


@pytest.fixture
def leader(make_user: Callable[..., User], data: list[Unit]) -> User:
    return make_user("totruong", "leader", [data[2]])


def test_dashboard_shows_the_index_groups_and_breakdowns(admin_client: FlaskClient,
                                                         data: list[Unit]) -> None:
    response = admin_client.get("/staff/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    summary = summary_of(Filters(QID))
    assert summary is not None
    from analysis.formatting import percent

    assert percent(summary["index"]["value"]) in html
    assert f">{summary['n_responses']}<" in html
    for group in summary["groups"]:
        assert group["label"] in html
    for code in ("Q1", "Q2", "T1"):
        assert f">{code}</a>" in html
    assert "/staff/charts/groups.png" in html
    assert "/staff/charts/trend.png" in html
    assert "Cơ quan cung cấp thông tin về việc giải quyết thủ tục hành chính" in html
    assert "khoảng Wilson với cỡ mẫu hiệu dụng (Korn–Graubard)" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_dashboard_filters_and_target_colours(admin_client: FlaskClient,
                                              data: list[Unit]) -> None:
    html = admin_client.get("/staff/?from=2026-02-01&to=2026-02-28&unit=T1&channel=qr"
                            ).get_data(as_text=True)
    expected = summary_of(Filters(
        QID, date_from=datetime(2026, 2, 1).date(), date_to=datetime(2026, 2, 28).date(),
        units=(data[2],), channels=("qr",)))
    assert expected is not None
    assert f">{expected['n_responses']}<" in html
    assert 'value="2026-02-01"' in html
    assert "not-met" in html  # the two all-1 responses pull T1 below the 80 % target


def test_breakdown_by_respondent_profile(admin_client: FlaskClient, data: list[Unit]) -> None:
    from analysis.formatting import percent
    from analysis.scoring import Scheme
    from analysis.wide import read_wide_csv, recompute_summary

    html = admin_client.get("/staff/?by=gioi_tinh").get_data(as_text=True)
    assert "<td>Nam</td>" in html
    assert "<td>Nữ</td>" in html
    summary = summary_of(Filters(QID))
    assert summary is not None
    frame = read_wide_csv(io.StringIO(admin_client.get("/staff/export.csv").get_data(
        as_text=True)))
    women = recompute_summary(Scheme.from_summary(summary), frame[frame["gioi_tinh"] == "2"])
    assert women["n_responses"] >= 5
    assert (f"<td>Nữ</td><td class=\"num\">{women['n_responses']}</td>") in html
    assert percent(women["index"]["value"]) in html
    field = admin_client.get("/staff/").get_data(as_text=True)
    assert "Theo lĩnh vực và đặc điểm người trả lời" in field
    assert "Tư pháp - Hộ tịch" in field
    assert admin_client.get("/staff/?by=nope").status_code == 200


def test_small_cells_are_hidden(admin_client: FlaskClient, data: list[Unit]) -> None:
    html = admin_client.get("/staff/?from=2026-02-02&to=2026-02-02").get_data(as_text=True)
    assert "ẩn: dưới 5 phiếu" in html


@pytest.mark.parametrize(("query", "status", "message"), [
    ("from=2026-13-01", 400, "Ngày bắt đầu không hợp lệ: 2026-13-01 (cần dạng YYYY-MM-DD)."),
    ("from=2026-03-01&to=2026-02-01", 400, "Ngày bắt đầu phải trước ngày kết thúc."),
    ("unit=NOPE", 400, "Không có đơn vị NOPE."),
    ("channel=fax", 400, "Kênh không hợp lệ: fax."),
    ("questionnaire=nope", 404, "Không có phiếu khảo sát nope."),
    ("from=" + "9" * 5000, 400, "Ngày bắt đầu không hợp lệ"),
    ("unit=%00", 400, "Không có đơn vị"),
])
def test_dashboard_refuses_bad_filters_politely(admin_client: FlaskClient, data: list[Unit],
                                                query: str, status: int, message: str) -> None:
    response = admin_client.get(f"/staff/?{query}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html  # the reason, in Vietnamese, on the error page
    assert f"Mã lỗi {status}" in html
    assert "Traceback" not in html
    assert "9" * 100 not in html  # a long value is not echoed back whole


def test_charts_are_png(admin_client: FlaskClient, data: list[Unit]) -> None:
    from PIL import Image

    for kind in ("groups", "trend"):
        response = admin_client.get(f"/staff/charts/{kind}.png?unit=Q1")
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        width, height = Image.open(io.BytesIO(response.data)).size
        assert width >= 600
        assert height >= 250
    assert admin_client.get("/staff/charts/other.png").status_code == 404


def test_charts_are_drawn_from_the_numbers_of_their_page(
        app: Flask, admin_client: FlaskClient, data: list[Unit],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The page computes once: its two charts read no rollup, unless the page is too old."""
    from survey.staff import dashboard

    read: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "stat_" in statement:
            read.append(statement)

    assert admin_client.get("/staff/?unit=Q1&by=gioi_tinh").status_code == 200
    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for kind in ("groups", "trend"):
            drawn = admin_client.get(f"/staff/charts/{kind}.png?unit=Q1")
            assert drawn.status_code == 200
            assert drawn.mimetype == "image/png"
        assert read == []
        monkeypatch.setattr(dashboard, "CHART_SECONDS", -1)
        assert admin_client.get("/staff/charts/trend.png?unit=Q1").status_code == 200
        assert read  # too old: read again
        read.clear()
        assert admin_client.get("/staff/charts/trend.png?unit=Q2").status_code == 200
        assert read  # other filters: their own numbers
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)


def test_leader_dashboard_covers_only_their_units(client: FlaskClient, leader: User,
                                                  data: list[Unit]) -> None:
    login(client, "totruong")
    html = client.get("/staff/").get_data(as_text=True)
    own = summary_of(Filters(QID, units=(data[2],)))
    assert own is not None
    assert f">{own['n_responses']}<" in html
    assert ">Q1</a>" not in html
    assert client.get("/staff/?unit=Q1").status_code == 403
    assert client.get("/staff/export.csv?unit=Q1").status_code == 403
    assert client.get("/staff/charts/groups.png?unit=Q2").status_code == 403
    csv_text = client.get("/staff/export.csv").get_data(as_text=True)
    rows = csv_text.strip().splitlines()[1:]
    assert len(rows) == own["n_responses"]
    assert all(",T1," in row for row in rows)
    suggestions = client.get("/staff/suggestions").get_data(as_text=True)
    assert "Chờ quá lâu ở quầy" in suggestions
    assert client.get("/staff/suggestions?unit=Q2").status_code == 403


def test_downloads_in_every_format(admin_client: FlaskClient, data: list[Unit],
                                   tmp_path: Path) -> None:
    summary = admin_client.get("/staff/export.json?unit=Q1")
    assert summary.status_code == 200
    assert "attachment" in summary.headers["Content-Disposition"]
    assert json.loads(summary.data) == summary_of(Filters(QID, units=(data[0],)))
    csv_response = admin_client.get("/staff/export.csv")
    assert csv_response.data.startswith("\ufeffresponse_id,".encode())
    assert len(csv_response.get_data(as_text=True).strip().splitlines()) == 63
    xlsx = admin_client.get("/staff/export.xlsx")
    assert xlsx.status_code == 200
    content = xlsx.data
    xlsx.close()  # closing the response removes the temporary file behind it
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames == ["Tổng hợp", "Theo yếu tố", "Theo câu hỏi", "Theo đơn vị",
                               "Theo tháng", "Theo quý", "Theo kênh", "Theo đặc điểm",
                               "Phản ánh, kiến nghị", "Góp ý", "Dữ liệu",
                               "Mã hóa"]
    raw = list(book["Dữ liệu"].iter_rows(values_only=True))
    book.close()
    assert len(raw) == 63
    assert raw[0][:7] == ("response_id", "submitted_at", "unit", "channel", "flags", "excluded",
                          "linh_vuc")
    pdf = admin_client.get("/staff/export.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    pdf.close()
    assert admin_client.get("/staff/export.exe").status_code == 404
    # The PDF's words: skipped with a reason without pdftotext, a failure under STRICT.
    pdftotext = require_program("pdftotext")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.data)
    text = " ".join(subprocess.run([pdftotext, str(path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG CỦA NGƯỜI DÂN" in text
    assert "Phường Thử".upper() in text
    assert "Cơ quan cung cấp thông tin về việc giải quyết" in text


def test_suggestions_and_follow_up(admin_client: FlaskClient, data: list[Unit]) -> None:
    html = admin_client.get("/staff/suggestions?q=quầy").get_data(as_text=True)
    assert "Chờ quá lâu ở quầy" in html
    assert "Công chức chưa niềm nở" not in html
    low = admin_client.get("/staff/suggestions?low=1").get_data(as_text=True)
    assert "có câu 1–2" in low
    export = admin_client.get("/staff/suggestions.csv").get_data(as_text=True)
    assert export.startswith("\ufeffsubmitted_at,unit,receipt,question_id,text,low")
    assert "Chờ quá lâu ở quầy" in export
    follow = admin_client.get("/staff/follow-up").get_data(as_text=True)
    assert "Phiếu cần xem xét" in follow
    assert "Công chức chưa niềm nở" in follow
    low_count = db.session.scalar(sa.select(sa.func.count(sa.distinct(Response.id))).where(
        Response.answers.any(sa.and_(
            sa.literal_column("answer.option_code").in_([1, 2]),
            sa.literal_column("answer.question_id").like("q%")))))
    assert f"{low_count} phiếu" in follow


def test_questions_are_numbered_as_in_the_questionnaire(admin_client: FlaskClient,
                                                        data: list[Unit]) -> None:
    """"Theo câu hỏi", the follow-up list and the PDF's tables say 15, not the id q15."""
    import re

    from survey.reporting.pdf import render_report_html


    page = admin_client.get("/staff/").get_data(as_text=True)
    items = page[page.index("Theo câu hỏi"):]
    assert '<tr><td title="q15">15</td>' in items
    assert '<td title="q33">33</td>' in items
    follow = admin_client.get("/staff/follow-up").get_data(as_text=True)
    assert '<b title="q15">Câu 15</b>' in follow
    report = report_of(Filters(QID))
    html = render_report_html(report)
    assert "<tr><td>15</td>" in html
    assert not re.search(r">q\d+<|<td>q\d+", html)
    lows = html[html.index("cần xem xét"):]
    assert re.search(r"<td>[A-Z0-9]{4}-[A-Z0-9]{4}</td><td>\d+(, \d+)*</td>", lows)


# --- API -----------------------------------------------------------------------------------

def test_api_needs_authentication(client: FlaskClient, data: list[Unit]) -> None:
    response = client.get(f"/api/v1/summary?questionnaire={QID}")
    assert response.status_code == 401
    assert response.get_json()["status"] == 401
    bad = client.get(f"/api/v1/summary?questionnaire={QID}",
                     headers={"Authorization": "Bearer sk_wrong"})
    assert bad.status_code == 401


def test_api_with_a_token_and_with_a_session(app: Flask, client: FlaskClient,
                                             make_user: Callable[..., User],
                                             data: list[Unit]) -> None:
    user = make_user("script", "staff")
    token = accounts.create_token(user, "báo cáo", actor="test")
    db.session.commit()
    response = client.get(f"/api/v1/summary?questionnaire={QID}&unit=Q1&unit=T1"
                          "&from=2026-01-01&to=2026-03-31&channel=qr",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["filters"] == {"from": "2026-01-01", "to": "2026-03-31", "units": ["Q1", "T1"],
                               "channels": ["qr"]}
    assert body == summary_of(Filters(
        QID, date_from=datetime(2026, 1, 1).date(), date_to=datetime(2026, 3, 31).date(),
        units=(data[0], data[2]), channels=("qr",)))
    login(client, "script")
    assert client.get(f"/api/v1/summary?questionnaire={QID}").status_code == 200


def test_api_leader_scope(client: FlaskClient, leader: User, data: list[Unit]) -> None:
    login(client, "totruong")
    body = client.get(f"/api/v1/summary?questionnaire={QID}").get_json()
    assert body["filters"]["units"] == ["T1"]
    own = summary_of(Filters(QID, units=(data[2],)))
    assert own is not None
    assert body["n_responses"] == own["n_responses"]
    refused = client.get(f"/api/v1/summary?questionnaire={QID}&unit=Q1")
    assert refused.status_code == 403
    assert "Q1" in refused.get_json()["error"]


@pytest.mark.parametrize(("query", "status"), [
    ("", 400), ("questionnaire=nope", 404), (f"questionnaire={QID}&from=2026-1-1", 400),
    (f"questionnaire={QID}&unit=NOPE", 400), (f"questionnaire={QID}&channel=fax", 400),
])
def test_api_bad_parameters(admin_client: FlaskClient, data: list[Unit], query: str,
                            status: int) -> None:
    response = admin_client.get(f"/api/v1/summary?{query}")
    assert response.status_code == status
    assert response.get_json()["error"]


# --- CLI ----------------------------------------------------------------------------------

def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_exports_every_format(app: Flask, data: list[Unit], tmp_path: Path) -> None:
    result = run(app, "export", "--questionnaire", QID, "--format", "json", "--out",
                 str(tmp_path / "s.json"), "--unit", "Q1", "--unit", "Q2", "--from",
                 "2026-01-01")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["filters"]["units"] == ["Q1", "Q2"]
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"r.{fmt}"
        result = run(app, "export", "--questionnaire", QID, "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbfresponse_id,")


@pytest.mark.parametrize(("args", "message"), [
    (["--questionnaire", "nope", "--format", "json"], "Không có phiếu khảo sát nope"),
    (["--questionnaire", QID, "--format", "json", "--from", "2026-02-30"], "không hợp lệ"),
    (["--questionnaire", QID, "--format", "json", "--unit", "NOPE"], "Không có đơn vị NOPE"),
    (["--questionnaire", QID, "--format", "doc"], "Invalid value for '--format'"),
])
def test_cli_export_refuses_bad_input(app: Flask, data: list[Unit], tmp_path: Path,
                                      args: list[str], message: str) -> None:
    result = run(app, "export", *args, "--out", str(tmp_path / "x"))
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_import_all_or_nothing(app: Flask, data: list[Unit], tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("unit,q15,q16,y_kien\nQ1,4,5,Ổn\nT1,2,,\n", encoding="utf-8-sig")
    result = run(app, "import", str(good), "--questionnaire", QID, "--channel", "paper")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("imported 2")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,q15,q16\nQ1,4,5\nQ1,9,5\nQ9,4,4\n", encoding="utf-8")
    result = run(app, "import", str(bad), "--questionnaire", QID)
    assert result.exit_code != 0
    assert "row 3, column q15: unknown code '9'" in result.output
    assert "row 4, column unit: unknown unit 'Q9'" in result.output
    assert "nothing imported: 2 error(s) in bad.csv" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == before
    missing = run(app, "import", str(tmp_path / "nope.csv"), "--questionnaire", QID)
    assert missing.exit_code != 0
    assert "cannot read" in missing.output
    assert rollups.in_step()


def test_password_is_not_used_in_api_tokens(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user("script", "staff")
    token = accounts.create_token(user, "x", actor="test")
    db.session.commit()
    assert token.startswith("sk_")
    assert PASSWORD not in token
    from survey.models import ApiToken

    stored = db.session.scalars(sa.select(ApiToken)).one()
    assert token not in stored.token_sha256
    assert accounts.user_for_token(token) == user
    stored.revoked = True
    db.session.commit()
    assert accounts.user_for_token(token) is None


# --- import page --------------------------------------------------------------------------

def _upload(client: FlaskClient, name: str, content: bytes, **fields: str) -> Any:
    data: dict[str, Any] = {"questionnaire": QID, "channel": "paper", "unit": ""}
    data.update(fields)
    data["file"] = (io.BytesIO(content), name)
    return client.post("/staff/import", data=data, content_type="multipart/form-data")


def test_import_page_stores_a_good_file(admin_client: FlaskClient, data: list[Unit]) -> None:
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    response = _upload(admin_client, "phieu.csv", "q15,q16,y_kien\n4,5,Tốt\n2,3,\n".encode(),
                       unit="T1")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập 2 phiếu; 0 phiếu đã có nên bỏ qua." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == before + 2
    assert rollups.in_step()


def test_import_page_lists_every_error_and_stores_nothing(admin_client: FlaskClient,
                                                          data: list[Unit]) -> None:
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    response = _upload(admin_client, "phieu.csv", b"unit,q15,q77\nQ1,4,1\n")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Dòng 1, cột q77: phiếu sipas-dichvu không có cột này" in html
    assert "Không nhập phiếu nào" in html
    bad = _upload(admin_client, "phieu.csv", b"unit,q15\nQ1,4\nQ1,8\nQ5,4\n")
    text = bad.get_data(as_text=True)
    assert "Dòng 3, cột q15 (câu 15): mã “8” không có trong câu này" in text
    assert "Dòng 4, cột unit: không có đơn vị “Q5”" in text
    assert "unknown" not in text  # the command line's English stays on the command line
    wrong_type = _upload(admin_client, "phieu.pdf", b"%PDF-1.4")
    assert wrong_type.status_code == 400
    assert "Chỉ nhận tệp .csv hoặc .xlsx." in wrong_type.get_data(as_text=True)
    broken = _upload(admin_client, "phieu.xlsx", b"not a zip")
    assert broken.status_code == 400
    assert "Không đọc được tệp XLSX này" in broken.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == before


def test_import_page_takes_files_beyond_the_general_size_limit(admin_client: FlaskClient,
                                                              data: list[Unit]) -> None:
    import gc
    import warnings

    # Long comments (within the 1,000-character limit), so that few rows pass 1 MiB.
    rows = "".join(f"Q1,4,5,{'Ý kiến dài ' * 80}\n" for _ in range(1300))
    content = ("unit,q15,q16,y_kien\n" + rows).encode()
    assert len(content) > 1024 * 1024
    with warnings.catch_warnings():
        # Werkzeug's test client spools a large multipart body to a temporary file that it
        # never closes; collect it here rather than let it warn inside a later test.
        warnings.simplefilter("ignore", ResourceWarning)
        status = _upload(admin_client, "lon.csv", content).status_code
        gc.collect()
    assert status == 302
    assert admin_client.post("/staff/units", data={"name": "x" * (2 * 1024 * 1024)}
                             ).status_code == 413


def test_leaders_import_only_their_own_units(client: FlaskClient, leader: User) -> None:
    from survey.services import paper

    paper.create_batch(QID, leader.units[0], 5, leader=leader, double_entry=False, actor="test")
    db.session.commit()
    login(client, "totruong")
    assert client.get("/staff/import").status_code == 200
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Response))
    refused = _upload(client, "phieu.csv", b"unit,q15\nT1,4\nQ1,4\n")
    assert refused.status_code == 400
    assert "Dòng 3, cột unit: đơn vị Q1 không do tài khoản này phụ trách" in refused.get_data(
        as_text=True)
    assert _upload(client, "phieu.csv", b"unit,q15\nT1,4\n").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == before + 1
    assert _upload(client, "phieu.csv", b"q15\n4\n", unit="Q1").status_code == 400
