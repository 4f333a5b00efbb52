"""Plain words on the dashboard and the PDF: KTC, the elements, the verdict, a colour scale."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.models import Unit
from survey.reporting.filters import Filters
from survey.reporting.report import Report
from tests.conftest import report_of, require_program
from tests.survey.test_reports import seed

KTC = ("khoảng tin cậy 95 %. Kết quả tính từ những người đã trả lời nên có sai số: nếu hỏi "
       "được mọi người, kết quả gần như chắc chắn (95 trên 100 lần) nằm trong khoảng này.")
ELEMENTS = {"E1": "Tiếp cận", "E2": "Thủ tục hành chính", "E4": "Kết quả"}


@pytest.fixture
def units(app: Flask) -> list[Unit]:
    return seed(app, 40, 5)


def _report(questionnaire_id: str) -> Report:
    report = report_of(Filters(questionnaire_id=questionnaire_id))
    assert report is not None
    return report


@pytest.mark.parametrize(("index", "value", "step"), [
    ("sipas", None, None), ("sipas", 0.0, 1), ("sipas", 49.9, 1), ("sipas", 50.0, 2),
    ("sipas", 64.99, 2), ("sipas", 65.0, 3), ("sipas", 80.0, 4), ("sipas", 89.9, 4),
    ("sipas", 90.0, 5), ("sipas", 100.0, 5),
    ("papi", 1.0, 1), ("papi", 5.0, 2), ("papi", 7.9, 3), ("papi", 8.0, 4), ("papi", 9.5, 5),
])
def test_scale_steps_of_values(app: Flask, index: str, value: float | None,
                               step: int | None) -> None:
    report = _report("sipas-dichvu" if index == "sipas" else "papi-phuong")
    assert report.scale_of(value) == step


def test_scale_labels_name_the_ranges(app: Flask) -> None:
    assert _report("sipas-dichvu").scale_labels == [
        "< 50 %", "50–65 %", "65–80 %", "80–90 %", "≥ 90 %"]
    assert _report("papi-phuong").scale_labels == ["< 5", "5–6,5", "6,5–8", "8–9", "≥ 9"]


def _plain(html: str) -> str:
    return " ".join(html.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<")
                    .split())


def test_dashboard_explains_its_words_on_hover_and_in_the_legend(
        admin_client: FlaskClient, units: list[Unit]) -> None:
    html = _plain(admin_client.get("/staff/").get_data(as_text=True))
    # Hover: the abbreviations carry their meaning.
    assert f'<abbr title="Khoảng tin cậy 95 %: {KTC}' in html
    for gid, label in ELEMENTS.items():
        assert f'<abbr title="{gid}. {label}">{gid}</abbr>' in html
    assert 'title="Nền xanh lá, đỏ, vàng ở ô chỉ số là kết luận so với mục tiêu' in html
    # Print: the legend under the tables says the same in words.
    legend = html[html.index('<section class="card legend"'):]
    legend = legend[:legend.index("</section>")]
    assert "Cách đọc các bảng" in legend
    assert KTC in legend
    assert "«Chưa đủ cơ sở kết luận» khi mục tiêu nằm trong khoảng" in legend
    for gid, label in ELEMENTS.items():
        assert f"<b>{gid}</b> {label}" in legend
    assert "chọn 4 «Hài lòng» hoặc 5 «Rất hài lòng»" in legend
    assert re.findall(r'<span class="scale-(\d)">(.+?)</span>', legend) == [
        ("1", "< 50 %"), ("2", "50–65 %"), ("3", "65–80 %"), ("4", "80–90 %"), ("5", "≥ 90 %")]


def test_group_values_carry_their_scale_class(admin_client: FlaskClient,
                                              units: list[Unit]) -> None:
    html = admin_client.get("/staff/").get_data(as_text=True)
    report = _report("sipas-dichvu")
    for group in report.summary["groups"]:
        step = report.scale_of(group["value"])
        assert step is not None
        cell = re.search(rf"<td>{group['id']}\. [^<]*</td><td class=\"num([^\"]*)\">", html)
        assert cell is not None
        assert cell.group(1) == f" scale-{step}"
    # The verdict keeps its own colours on the index cells.
    assert re.search(r'<td class="num (met|not-met|undecided)">', html)


def test_pdf_report_prints_the_legend(admin_client: FlaskClient, units: list[Unit],
                                      tmp_path: Path) -> None:
    pdf = admin_client.get("/staff/export.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.data)
    pdf.close()
    pdftotext = require_program("pdftotext")
    text = " ".join(subprocess.run([pdftotext, str(path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Cách đọc các bảng." in text
    assert "KTC 95 %: " + KTC in text
    scale = text[text.index("Thang màu xanh lam ở ô giá trị yếu tố"):text.index("Các yếu tố:")]
    for label in ("< 50 %", "50–65 %", "65–80 %", "80–90 %", "≥ 90 %"):
        assert label in scale
    assert "Các yếu tố: E1 Tiếp cận; E2 Thủ tục hành chính;" in text
    assert "«Chưa đủ cơ sở kết luận» khi mục tiêu nằm trong khoảng" in text
