"""The XLSX workbook: typed numbers with formats, print set-up, labels, and the re-import."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from survey.reporting import pdf, xlsx
from survey.reporting.filters import Filters
from tests.conftest import report_of, summary_of
from tests.survey.test_reports import QID, _csv_export, import_into_empty, seed


def _workbook(app: Flask, path: Path, *, labels: bool = False, **filters: Any) -> Any:
    with app.app_context():
        report = report_of(Filters(QID, **filters), targets={QID: 80})
        assert report is not None
        xlsx.write_xlsx(report, path, labels=labels)
    return load_workbook(path)


def _row_of(sheet: Any, label: str) -> int:
    return next(cell.row for cell in sheet["A"] if cell.value == label)


def test_xlsx_stores_numbers_with_formats_not_text(app_factory: Callable[..., Flask],
                                                  tmp_path: Path) -> None:
    app = app_factory()
    seed(app, 40)
    with app.app_context():
        summary = summary_of(Filters(QID))
    assert summary is not None
    book = _workbook(app, tmp_path / "x.xlsx")
    first = book["Tổng hợp"]
    assert book.sheetnames[0] == "Tổng hợp"
    index = first.cell(_row_of(first, "Chỉ số"), 2)
    # 72.2 % is stored as 0.722, unrounded, and shown rounded by the reader's spreadsheet.
    assert index.data_type == "n"
    assert index.value == pytest.approx(summary["index"]["value"] / 100, rel=1e-12)
    assert index.number_format == "0.0%"
    assert index.fill.fgColor.rgb.endswith(("D8F0DF", "FBE0DE", "FFF3C4"))  # its verdict
    low = first.cell(_row_of(first, "Khoảng tin cậy 95 %: cận dưới"), 2)
    assert low.value == pytest.approx(summary["index"]["ci95"][0] / 100, rel=1e-12)
    assert low.number_format == "0.0%"
    count = first.cell(_row_of(first, "Số phiếu"), 2)
    assert (count.value, count.number_format) == (40, "#,##0")
    made = first.cell(_row_of(first, "Lập lúc"), 2)
    assert isinstance(made.value, datetime)
    # Each group's value, as a number; no text such as "72,2 %" anywhere in the column.
    head = _row_of(first, "Yếu tố")
    for offset, group in enumerate(summary["groups"], start=1):
        cell = first.cell(head + offset, 2)
        assert first.cell(head + offset, 1).value.startswith(group["id"] + ". ")
        assert cell.value == pytest.approx(group["value"] / 100, rel=1e-12)
        assert cell.number_format == "0.0%"
    assert not any(isinstance(c.value, str) and "%" in c.value for c in first["B"])
    items = book["Theo câu hỏi"]
    assert [c.value for c in items[1]][:6] == ["Yếu tố", "Câu", "Nội dung", "Số trả lời",
                                                 "Hài lòng", "Tỷ lệ hài lòng"]
    q15 = next(r for r in items.iter_rows(min_row=2) if r[1].value == "q15")
    item = summary["groups"][0]["items"][0]
    assert q15[5].value == pytest.approx(item["rate"] / 100, rel=1e-12)
    assert q15[5].number_format == "0.0%"
    assert [q15[6].value, q15[7].value] == pytest.approx(
        [item["rate_ci95"][0] / 100, item["rate_ci95"][1] / 100], rel=1e-12)
    assert q15[8].value == pytest.approx(item["mean"], rel=1e-12)
    assert q15[8].number_format == "0.00"
    channels = book["Theo kênh"]
    assert {channels.cell(r, 1).value for r in range(2, channels.max_row + 1)} <= {
        "Mã QR", "Phiếu giấy"}
    profile = book["Theo đặc điểm"]
    share = next(r for r in profile.iter_rows(min_row=2) if r[1].value is not None)[2]
    assert share.number_format == "0.0%"
    assert 0 <= share.value <= 1


def test_papi_values_show_one_decimal_and_item_mean_scores_two(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    """Contract §6: people read values with one decimal, in XLSX summary sheets too; only an
    item's mean score keeps two. Values stay unrounded numbers."""
    app = app_factory()
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init-db", "--demo"]).exit_code == 0
        report = report_of(Filters("papi-phuong"))
        assert report is not None
        summary = report.summary
        xlsx.write_xlsx(report, tmp_path / "p.xlsx")
    book = load_workbook(tmp_path / "p.xlsx")
    first = book["Tổng hợp"]
    index = first.cell(_row_of(first, "Chỉ số"), 2)
    assert index.value == pytest.approx(summary["index"]["value"], rel=1e-12)
    assert index.value != round(index.value, 1)  # unrounded: the format rounds it
    assert index.number_format == "0.0"
    for label in ("Khoảng tin cậy 95 %: cận dưới", "Khoảng tin cậy 95 %: cận trên"):
        assert first.cell(_row_of(first, label), 2).number_format == "0.0", label
    values = [c for c in first["B"] if isinstance(c.value, float)]
    assert len(values) >= 3 + len(summary["groups"])
    assert {c.number_format for c in values} == {"0.0"}
    groups = book["Theo yếu tố"]
    rows = list(groups.iter_rows(min_row=2))
    subgroups = [s for g in summary["groups"] for s in g["subgroups"]]
    assert len(rows) == len(summary["groups"]) + len(subgroups) > len(summary["groups"])
    assert {r[2].number_format for r in rows if r[2].value is not None} == {"0.0"}
    for name in ("Theo đơn vị", "Theo tháng", "Theo quý", "Theo kênh", "Theo đặc điểm"):
        sheet = book[name]
        formats = {c.number_format for r in sheet.iter_rows(min_row=2, min_col=3 if name !=
                                                             "Theo đặc điểm" else 4)
                   for c in r if isinstance(c.value, float)}
        assert formats == {"0.0"}, name
    items = book["Theo câu hỏi"]
    means = [r[8] for r in items.iter_rows(min_row=2) if r[8].value is not None]
    assert means
    assert {c.number_format for c in means} == {"0.00"}


def test_xlsx_sheets_are_ready_to_filter_and_print(app_factory: Callable[..., Flask],
                                                   tmp_path: Path) -> None:
    app = app_factory()
    seed(app, 12)
    book = _workbook(app, tmp_path / "x.xlsx")
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.page_setup.paperSize == 9, name  # A4
        assert sheet.freeze_panes is not None, name
        assert sheet.freeze_panes.endswith("2"), name  # the header row stays in view
        if name == "Tổng hợp":  # labels and values, then a table: the title stays in view
            assert sheet.freeze_panes == "A2"
            assert sheet.page_setup.orientation == "portrait"
            assert sheet.sheet_properties.pageSetUpPr.fitToPage
            continue
        assert sheet.print_title_rows == "$1:$1", name  # and is printed on every page
        assert sheet.auto_filter.ref, name  # every table with a header row filters
        assert sheet.auto_filter.ref.startswith("A1:"), name
    profile = book["Theo đặc điểm"]
    assert profile.auto_filter.ref == (
        f"A1:{profile.cell(1, profile.max_column).column_letter}{profile.max_row}")
    assert book["Theo câu hỏi"].page_setup.orientation == "landscape"
    items = book["Theo câu hỏi"]
    assert items.sheet_properties.pageSetUpPr.fitToPage
    assert items.page_setup.fitToWidth in (None, 1)  # one page wide (1 is the default) ...
    assert items.page_setup.fitToHeight == 0  # ... and as many pages long as it takes
    assert book["Theo câu hỏi"].column_dimensions["C"].width > 60  # the item texts
    data = book["Dữ liệu"]
    assert data.auto_filter.ref == f"A1:{data.cell(1, data.max_column).column_letter}13"
    setup = data.sheet_properties.pageSetUpPr
    assert setup is None or not setup.fitToPage  # forty columns are not shrunk onto a page


def test_xlsx_data_sheet_with_labels_shows_names_and_the_default_keeps_codes(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    app = app_factory()
    seed(app, 15)
    codes = _workbook(app, tmp_path / "codes.xlsx")["Dữ liệu"]
    named = _workbook(app, tmp_path / "labels.xlsx", labels=True)["Dữ liệu"]
    header = [c.value for c in codes[1]]
    assert header == [c.value for c in named[1]]  # the same columns, in contract order
    q15, unit, channel = header.index("q15"), header.index("unit"), header.index("channel")
    labels = {1: "Rất không hài lòng", 2: "Không hài lòng", 3: "Bình thường", 4: "Hài lòng",
              5: "Rất hài lòng"}
    names = {"Q1": "Đơn vị Q1", "Q2": "Đơn vị Q2", "T1": "Đơn vị T1"}
    rows = list(zip(codes.iter_rows(min_row=2, values_only=True),
                    named.iter_rows(min_row=2, values_only=True), strict=True))
    assert len(rows) == 15
    for coded, labelled in rows:
        assert coded[0] == labelled[0]
        assert coded[unit] in names
        assert labelled[unit] == names[coded[unit]]
        assert labelled[channel] == {"qr": "Mã QR", "paper": "Phiếu giấy"}[coded[channel]]
        if coded[q15] is None:
            assert labelled[q15] is None
        else:
            assert isinstance(coded[q15], int)
            assert labelled[q15] == labels[coded[q15]]
    assert codes.cell(1, q15 + 1).comment is not None  # the question text on its header


def test_default_xlsx_data_sheet_imports_back_to_the_same_summary(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    """Contract §5: the workbook's `Dữ liệu` re-imports; summary and CSV come back the same."""
    first = app_factory()
    seed(first, 30, 7)
    path = tmp_path / "x.xlsx"
    filters = Filters(QID)
    with first.app_context():
        original = summary_of(filters)
        csv_text = _csv_export(filters)
        report = report_of(filters)
        assert report is not None
        xlsx.write_xlsx(report, path)
    second = app_factory()
    with second.app_context():
        import_into_empty("x.xlsx", path.read_bytes(), 30, filters, original, csv_text)


def test_cli_and_staff_export_offer_labels(app_factory: Callable[..., Flask],
                                           tmp_path: Path) -> None:
    app = app_factory()
    seed(app, 6)
    runner = app.test_cli_runner()
    for extra, name in (([], "codes.xlsx"), (["--labels"], "labels.xlsx")):
        result = runner.invoke(args=["export", "--questionnaire", QID, "--format", "xlsx",
                                     "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    coded = load_workbook(tmp_path / "codes.xlsx")["Dữ liệu"]
    named = load_workbook(tmp_path / "labels.xlsx")["Dữ liệu"]
    channel = [c.value for c in coded[1]].index("channel") + 1
    assert coded.cell(2, channel).value in {"qr", "paper"}
    assert named.cell(2, channel).value in {"Mã QR", "Phiếu giấy"}
    refused = runner.invoke(args=["export", "--questionnaire", QID, "--format", "csv",
                                  "--labels", "--out", str(tmp_path / "x.csv")])
    assert refused.exit_code != 0
    assert "--labels" in refused.output


def test_dashboard_offers_the_workbook_with_labels(app: Flask, admin_client: Any) -> None:
    seed(app, 6)
    page = admin_client.get(f"/staff/?questionnaire={QID}").get_data(as_text=True)
    assert "labels=1" in page
    assert "XLSX có nhãn" in page
    labelled = admin_client.get(f"/staff/export.xlsx?questionnaire={QID}&labels=1")
    assert labelled.status_code == 200
    assert "nhan.xlsx" in labelled.headers["Content-Disposition"]
    named = load_workbook(io.BytesIO(labelled.data))["Dữ liệu"]
    labelled.close()
    plain = admin_client.get(f"/staff/export.xlsx?questionnaire={QID}")
    coded = load_workbook(io.BytesIO(plain.data))["Dữ liệu"]
    plain.close()
    channel = [c.value for c in coded[1]].index("channel") + 1
    assert {coded.cell(r, channel).value for r in range(2, 8)} <= {"qr", "paper"}
    assert {named.cell(r, channel).value for r in range(2, 8)} <= {"Mã QR", "Phiếu giấy"}


def test_papi_values_read_with_one_decimal_on_the_dashboard_and_in_the_pdf(
        app: Flask, client: Any, make_user: Callable[..., Any], tmp_path: Path) -> None:
    """Contract §6: one decimal with a decimal comma for people, PAPI-style values too."""
    import subprocess

    from analysis.formatting import number
    from tests.conftest import login

    assert app.test_cli_runner().invoke(args=["init-db", "--demo"]).exit_code == 0
    make_user("canbo", "staff")
    login(client, "canbo")
    admin_client = client
    report = report_of(Filters("papi-phuong"))
    assert report is not None
    value = report.summary["index"]["value"]
    shown = number(value, 1)
    assert re.fullmatch(r"\d+,\d", shown)
    html = admin_client.get("/staff/?questionnaire=papi-phuong").get_data(as_text=True)
    assert f">{shown}<" in html
    assert number(value, 2) not in html
    pdf.write_pdf(report, tmp_path / "p.pdf")
    text = subprocess.run(["pdftotext", str(tmp_path / "p.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert shown in text
    assert number(value, 2) not in text
