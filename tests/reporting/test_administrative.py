"""The administrative report of a period (contract §10): composed, written as DOCX, printed."""

from __future__ import annotations

import io
import json
import random
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from flask import Flask

from analysis.formatting import percent
from analysis.periods import parse_period
from survey.extensions import db
from survey.reporting.admin_report import Placeholder, write_docx
from survey.reporting.administrative import Change, administrative_report
from survey.services import units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import reporting_settings, require_program

QID = "sipas-dichvu"


def _answers(rng: random.Random, good: float) -> dict[str, int | str]:
    return {f"q{i}": (rng.choice([4, 5]) if rng.random() < good else rng.choice([1, 2, 3]))
            for i in range(15, 34)}


def _seed(app: Flask) -> None:
    """Quý III/2025: 40 responses, about 60 % satisfied; Quý IV/2025: 60, about 85 %."""
    rng = random.Random(7)
    ward = units.create_unit("TL", "Phường Trần Liễu", "ward", actor="t")
    counters = [units.create_unit(code, f"Quầy {code}", "counter", parent=ward, actor="t")
                for code in ("Q1", "Q2")]
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    for start, n, good in ((datetime(2025, 7, 1, 2, tzinfo=UTC), 40, 0.6),
                           (datetime(2025, 10, 1, 2, tzinfo=UTC), 60, 0.85)):
        for _ in range(n):
            moment = start + timedelta(minutes=rng.randrange(0, 88 * 24 * 60))
            save_response(questionnaire, rng.choice(counters), "qr", uuid.uuid4(),
                          _answers(rng, good), submitted_at=moment)
    db.session.commit()


def _text(document: docx.document.Document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_the_docx_of_a_quarter_says_what_the_json_says_and_compares(
        app: Flask, tmp_path: Path) -> None:
    """`export --period 2025-Q4 --format docx`: heading, Số, date line, the quarter, the JSON's
    index, the comparison with Quý III/2025, Nơi nhận and the signature block."""
    _seed(app)
    app.config.update(REPORT_SIGNER_NAME="Nguyễn Văn An")
    runner = app.test_cli_runner()
    out, summary = tmp_path / "bao-cao.docx", tmp_path / "q4.json"
    result = runner.invoke(args=["export", "--questionnaire", QID, "--period", "2025-Q4",
                                 "--format", "docx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["export", "--questionnaire", QID, "--period", "2025-Q4",
                                 "--format", "json", "--out", str(summary)])
    assert result.exit_code == 0, result.output
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["filters"]["from"] == "2025-10-01"
    assert figures["filters"]["to"] == "2025-12-31"
    assert figures["n_responses"] == 60
    text = _text(docx.Document(io.BytesIO(out.read_bytes())))
    for expected in ("UBND THÀNH PHỐ HẢI PHÒNG", "ỦY BAN NHÂN DÂN", "PHƯỜNG TRẦN LIỄU",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Số:", "/BC-UBND", "Trần Liễu, ngày", "BÁO CÁO", "Quý IV/2025",
                     f"Chỉ số chung đạt {percent(figures['index']['value'])}",
                     "Quý III/2025 (kỳ trước", "Quý IV/2024", "Căn cứ Kế hoạch số 14/KH-UBND",
                     "Ủy ban nhân dân phường Trần Liễu báo cáo", "TỒN TẠI, HẠN CHẾ",
                     "Nơi nhận:", "Lưu: VT, VHXH.", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                     "Nguyễn Văn An"):
        assert expected in text, expected
    # Quý III at ~60 % and Quý IV at ~85 %, 40 and 60 responses: a change beyond its uncertainty.
    assert "tăng" in text
    assert "có ý nghĩa thống kê" in text


def test_the_docx_prints_through_libreoffice(app: Flask, tmp_path: Path) -> None:
    """The DOCX opens in headless LibreOffice and converts to PDF with the decree's parts."""
    soffice, pdftotext = require_program("soffice"), require_program("pdftotext")
    _seed(app)
    composed = administrative_report(db.session, QID, parse_period("2025-Q4"),
                                     reporting_settings(report_signer_name="Trần Thị Bình"),
                                     issued_on=date(2026, 1, 5))
    assert composed is not None
    path = tmp_path / "bc.docx"
    path.write_bytes(write_docx(composed))
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    printed = subprocess.run([pdftotext, "-layout", str(tmp_path / "bc.pdf"), "-"],
                             check=True, capture_output=True, text=True).stdout
    flat = " ".join(printed.split())
    for expected in ("UBND THÀNH PHỐ HẢI PHÒNG", "Số:", "Trần Liễu, ngày 05 tháng 01 năm 2026",
                     "Quý IV/2025", "SO SÁNH VỚI KỲ TRƯỚC", "Nơi nhận:", "TM. ỦY BAN NHÂN DÂN",
                     "Trần Thị Bình"):
        assert expected in flat, expected


def test_the_officer_gets_headed_places_for_their_own_text(app: Flask) -> None:
    _seed(app)
    composed = administrative_report(db.session, QID, parse_period("2025-Q4"),
                                     reporting_settings(), issued_on=date(2026, 1, 5))
    assert composed is not None
    headings = [s.heading for s in composed.sections]
    own = [h for h in headings if any(isinstance(b, Placeholder) for s in composed.sections
                                      if s.heading == h for b in s.blocks)]
    assert [h.split(". ", 1)[1] for h in own] == [
        "TỒN TẠI, HẠN CHẾ", "NGUYÊN NHÂN", "GIẢI PHÁP TRONG THỜI GIAN TỚI", "KIẾN NGHỊ, ĐỀ XUẤT"]
    numerals = [h.split(".", 1)[0] for h in headings if h]
    assert numerals == ["I", "II", "III", "IV", "V", "VI", "VII"][:len(numerals)]


def test_a_change_is_weighed_against_both_periods_uncertainty() -> None:
    assert Change(85.0, 60.0, (80.0, 90.0), (52.0, 68.0)).significant is True
    assert Change(74.0, 70.0, (66.0, 82.0), (61.0, 79.0)).significant is False
    assert Change(74.0, None, (66.0, 82.0), None).significant is None
    assert Change(74.0, 70.0).delta == pytest.approx(4.0)


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2025-Q5"], "Kỳ báo cáo không hợp lệ"),
    (["--period", "2025-Q4", "--from", "2025-10-01"], "either --period or --from/--to"),
    ([], "--format docx needs --period"),
])
def test_bad_periods_get_one_line_and_write_nothing(app: Flask, tmp_path: Path,
                                                    args: list[str], message: str) -> None:
    out = tmp_path / "x.docx"
    result = app.test_cli_runner().invoke(args=["export", "--questionnaire", QID, "--format",
                                                "docx", "--out", str(out), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_api_takes_a_period_as_the_cli_does(app: Flask, admin_client: Any) -> None:
    """GET /api/v1/summary?period=2025-Q4 is the summary of 01/10–31/12/2025 (contract §10)."""
    _seed(app)
    by_period = admin_client.get(f"/api/v1/summary?questionnaire={QID}&period=2025-Q4")
    by_days = admin_client.get(f"/api/v1/summary?questionnaire={QID}&from=2025-10-01"
                               "&to=2025-12-31")
    assert by_period.status_code == 200
    assert by_period.get_json() == by_days.get_json()
    assert by_period.get_json()["n_responses"] == 60
    for query, status in (("period=2025-Q5", 400), ("period=2025&from=2025-01-01", 400)):
        response = admin_client.get(f"/api/v1/summary?questionnaire={QID}&{query}")
        assert response.status_code == status
        assert response.get_json()["error"]


def test_report_settings_read_lines_and_refuse_what_is_not(tmp_path: Path) -> None:
    from survey.config import ConfigError
    from tests.conftest import make_app

    url = f"sqlite:///{tmp_path / 's.db'}"
    app = make_app(url, REPORT_BASIS="Căn cứ A; | Căn cứ B; ", REPORT_SIGNER_DEPUTY="true")
    assert app.config["REPORT_BASIS"] == ("Căn cứ A;", "Căn cứ B;")
    assert app.config["REPORT_SIGNER_DEPUTY"] is True
    with pytest.raises(ConfigError, match="SURVEY_REPORT_RECIPIENTS"):
        make_app(url, REPORT_RECIPIENTS=5)


def test_the_pdf_of_a_period_has_the_administrative_front_and_the_appendix(
        app: Flask, tmp_path: Path) -> None:
    """`export --format pdf --period 2025-Q4`: the báo cáo first, then the statistics as its
    appendix; without a period, the statistical report as before (contract §10)."""
    pdftotext = require_program("pdftotext")
    _seed(app)
    runner = app.test_cli_runner()
    with_front, plain = tmp_path / "bc.pdf", tmp_path / "plain.pdf"
    for args, out in ((["--period", "2025-Q4"], with_front),
                      (["--from", "2025-10-01", "--to", "2025-12-31"], plain)):
        result = runner.invoke(args=["export", "--questionnaire", QID, "--format", "pdf",
                                     "--out", str(out), *args])
        assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run([pdftotext, "-layout", str(with_front), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    for expected in ("UBND THÀNH PHỐ HẢI PHÒNG", "PHƯỜNG TRẦN LIỄU", "Số: /BC-UBND",
                     "Trần Liễu, ngày", "BÁO CÁO", "Quý IV/2025", "SO SÁNH VỚI KỲ TRƯỚC",
                     "Nơi nhận:", "TM. ỦY BAN NHÂN DÂN", "PHỤ LỤC: SỐ LIỆU KHẢO SÁT",
                     "Kèm theo Báo cáo số /BC-UBND", "của Ủy ban nhân dân phường Trần Liễu"):
        assert expected in text, expected
    assert text.index("Nơi nhận:") < text.index("PHỤ LỤC")
    before = " ".join(subprocess.run([pdftotext, "-layout", str(plain), "-"], check=True,
                                     capture_output=True, text=True).stdout.split())
    assert "Nơi nhận:" not in before
    assert "BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG" in before
