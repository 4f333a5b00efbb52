"""Scores from the database: rollups, the summary against a recomputation, export and import."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.scoring import Scheme
from analysis.wide import read_wide_csv, recompute_summary
from questionnaires import Questionnaire
from survey.extensions import db
from survey.models import Response, Unit, stat_answer, stat_group, stat_response
from survey.reporting import exports
from survey.reporting.filters import Filters
from survey.services import imports, rollups, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import delete_response, save_response
from tests.conftest import examples, require_program, summary_of

QID = "sipas-dichvu"


def random_answers(rng: random.Random, *, blanks: float = 0.1) -> dict[str, int | str]:
    answers: dict[str, int | str] = {}
    for i in range(15, 34):
        if rng.random() > blanks:
            answers[f"q{i}"] = rng.choice([1, 2, 3, 4, 4, 5, 5])
    if rng.random() < 0.7:
        answers["gioi_tinh"] = rng.choice([1, 2])
    if rng.random() < 0.5:
        answers["linh_vuc"] = rng.choice([1, 2, 3, 9])
    if rng.random() < 0.3:
        answers["y_kien"] = rng.choice(["Tốt", "=cmd|' /C calc'!A0", "Cần thêm ghế, quạt",
                                        "-chậm", 'Nói "cảm ơn"'])
    return answers


def seed(app: Flask, n: int, seed_value: int = 1, *, start: datetime | None = None) -> list[Unit]:
    """Store n random responses over three units, two channels and ~90 days."""
    rng = random.Random(seed_value)
    with app.app_context():
        ward = units.get_unit("P") or units.create_unit("P", "Phường Thử", "ward", actor="t")
        made = [units.get_unit(code) or units.create_unit(code, f"Đơn vị {code}", kind,
                                                          parent=ward, actor="t")
                for code, kind in (("Q1", "counter"), ("Q2", "counter"), ("T1", "group"))]
        questionnaire = get_questionnaire(QID)
        assert questionnaire is not None
        base = start or datetime(2026, 1, 1, tzinfo=UTC)
        for _ in range(n):
            moment = base + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
            save_response(questionnaire, rng.choice(made), rng.choice(["qr", "paper"]),
                          uuid.uuid4(), random_answers(rng), submitted_at=moment)
        db.session.commit()
    return made


def rollup_rows() -> dict[str, set[tuple[Any, ...]]]:
    return {t.name: {tuple(r) for r in db.session.execute(sa.select(t)).all() if r.n}
            for t in (stat_response, stat_answer, stat_group)}


def test_rollups_stay_in_step_and_match_a_rebuild(app: Flask) -> None:
    seed(app, 60)
    incremental = rollup_rows()
    assert rollups.in_step()
    assert sum(r[4] for r in incremental["stat_response"]) == 60
    rollups.rebuild()
    db.session.commit()
    assert rollup_rows() == incremental


def test_delete_takes_a_response_out_of_the_rollups(app: Flask) -> None:
    seed(app, 12)
    before = summary_of(Filters(QID))
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    assert before is not None
    victim = db.session.scalars(sa.select(Response).order_by(Response.id)).first()
    assert victim is not None
    delete_response(victim)
    db.session.commit()
    assert rollups.in_step()
    after = summary_of(Filters(QID))
    assert after is not None
    assert after["n_responses"] == before["n_responses"] - 1
    rollups.rebuild()
    db.session.commit()
    assert summary_of(Filters(QID)) == after


def _csv_export(filters: Filters) -> str:
    questionnaire = get_questionnaire(filters.questionnaire_id)
    assert questionnaire is not None
    return "".join(exports.csv_chunks(db.session, filters, rollups.scheme_of(questionnaire)))


def _filters(units_: list[Unit], choice: int) -> Filters:
    options = [
        Filters(QID),
        Filters(QID, date_from=date(2026, 1, 20), date_to=date(2026, 2, 10)),
        Filters(QID, units=(units_[0], units_[2])),
        Filters(QID, channels=("paper",)),
        Filters(QID, date_from=date(2026, 3, 1), units=(units_[1],), channels=("qr",)),
    ]
    return options[choice]


@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n=st.integers(min_value=0, max_value=40), seed_value=st.integers(0, 10_000),
       choice=st.integers(0, 4), excluded=st.integers(0, 8))
def test_summary_equals_a_recomputation_from_the_csv_and_codebook(
        app_factory: Callable[..., Flask], n: int, seed_value: int, choice: int,
        excluded: int) -> None:
    """Contracts §6 and §8 hold: the JSON summary is what anyone gets from the CSV and the
    codebook, excluded responses left out (and counted in n_excluded)."""
    from survey.services import integrity

    app = app_factory()
    made = seed(app, n, seed_value)
    with app.app_context():
        out = db.session.scalars(sa.select(Response).order_by(Response.id).limit(excluded)).all()
        integrity.set_excluded(out, True, "thử loại phiếu", "test")
        db.session.commit()
        filters = _filters([db.session.merge(u) for u in made], choice)
        summary = summary_of(filters)
        assert summary is not None
        frame = read_wide_csv(io.StringIO(_csv_export(filters)))
        assert len(frame) == summary["n_responses"] + summary["n_excluded"]
        assert (frame["excluded"] == "1").sum() == summary["n_excluded"]
        recomputed = recompute_summary(Scheme.from_summary(summary), frame, filters.echo(),
                                       target=80.0)  # the default SIPAS target
        # The "cases" block (contract §9) is counted from the cases, which no CSV holds:
        # test_case_figures.py recomputes it from the API's case list.
        responses_only = {k: v for k, v in summary.items() if k != "cases"}
        assert json.dumps(recomputed, sort_keys=True) == json.dumps(responses_only,
                                                                    sort_keys=True)


def without_cases(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """A summary without its "cases" block, which only cases opened here can fill."""
    return None if summary is None else {k: v for k, v in summary.items() if k != "cases"}


def import_into_empty(name: str, content: bytes, n: int, filters: Filters,
                      original: dict[str, Any] | None, csv_text: str) -> Questionnaire:
    """In an emptied app: create seed()'s units, import the file, and check that it holds n
    responses with the same summary and CSV as before (texts, times and ids survive)."""
    ward = units.create_unit("P", "Phường Thử", "ward", actor="t")
    for code, kind in (("Q1", "counter"), ("Q2", "counter"), ("T1", "group")):
        units.create_unit(code, f"Đơn vị {code}", kind, parent=ward, actor="t")
    db.session.commit()
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    imported, skipped = imports.import_file(name, questionnaire, default_unit=None,
                                            content=content)
    db.session.commit()
    assert (imported, skipped) == (n, 0)
    # An import of past data opens no case (contract §9): the "cases" block is not carried.
    assert json.dumps(without_cases(summary_of(filters)), sort_keys=True) == json.dumps(
        without_cases(original), sort_keys=True)
    assert _csv_export(filters) == csv_text
    return questionnaire


@settings(max_examples=examples(6), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(n=st.integers(min_value=0, max_value=45), seed_value=st.integers(0, 10_000))
def test_export_then_import_into_an_empty_database_gives_the_same_summary(
        app_factory: Callable[..., Flask], n: int, seed_value: int) -> None:
    """Property: export CSV, import it into an empty database, export JSON again: identical."""
    first = app_factory()
    seed(first, n, seed_value)
    filters = Filters(QID)
    with first.app_context():
        original = summary_of(filters)
        csv_text = _csv_export(filters)
    second = app_factory()  # the same database URL, emptied and set up afresh
    with second.app_context():
        questionnaire = import_into_empty("export.csv", csv_text.encode(), n, filters, original,
                                          csv_text)
        again = imports.import_file("export.csv", questionnaire, default_unit=None,
                                    content=csv_text.encode())
        assert again == (0, n)
        db.session.rollback()


def test_an_xlsx_of_more_rows_than_a_sheet_holds_goes_on_and_imports_whole(
        app_factory: Callable[..., Flask], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel's sheets stop at 1,048,576 rows: the raw responses go on in "Dữ liệu (2)" …
    (here at 4 rows a sheet), and importing the file gives back every response."""
    from openpyxl import load_workbook

    from survey.reporting import xlsx

    monkeypatch.setattr(xlsx, "SHEET_ROWS", 4)  # a header and three responses a sheet
    first = app_factory()
    seed(first, 10, 3)
    filters = Filters(QID)
    with first.app_context():
        original = summary_of(filters)
        csv_text = _csv_export(filters)
    target = tmp_path / "x.xlsx"
    result = first.test_cli_runner().invoke(args=[
        "export", "--questionnaire", QID, "--format", "xlsx", "--out", str(target)])
    assert result.exit_code == 0, result.output
    book = load_workbook(target, read_only=True)
    data = [name for name in book.sheetnames if name.startswith("Dữ liệu")]
    assert data == ["Dữ liệu", "Dữ liệu (2)", "Dữ liệu (3)", "Dữ liệu (4)"]
    assert [sum(1 for _ in book[name].iter_rows()) for name in data] == [4, 4, 4, 2]
    assert next(book["Dữ liệu (3)"].iter_rows(values_only=True))[0] == "response_id"
    book.close()
    second = app_factory()
    with second.app_context():
        import_into_empty("x.xlsx", target.read_bytes(), 10, filters, original, csv_text)


def test_the_exports_open_in_libreoffice_with_every_row_and_text_intact(
        app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Headless LibreOffice opens the XLSX (every data sheet, the continuation ones too) and
    the CSV (UTF-8 with a BOM), and reads in them the rows of the CSV export: the same ids,
    units, codes and texts, formulas shown as text, never computed."""
    from survey.reporting import xlsx

    soffice = require_program("soffice")
    monkeypatch.setattr(xlsx, "SHEET_ROWS", 5)  # a header and four responses a sheet
    seed(app, 10, 4)
    questionnaire, counter = get_questionnaire(QID), units.get_unit("Q1")
    assert questionnaire is not None
    assert counter is not None
    save_response(questionnaire, counter, "qr", uuid.uuid4(),
                  {"q15": 5, "y_kien": "=1+1 Rất tốt, cảm ơn chị Hằng"},
                  submitted_at=datetime(2026, 2, 1, 3, tzinfo=UTC))
    db.session.commit()
    for fmt in ("xlsx", "csv"):
        result = app.test_cli_runner().invoke(args=[
            "export", "--questionnaire", QID, "--format", fmt, "--out", str(tmp_path / f"x.{fmt}")])
        assert result.exit_code == 0, result.output
    ours = list(csv.reader(io.StringIO((tmp_path / "x.csv").read_text(encoding="utf-8-sig"))))
    assert len(ours) == 12
    assert any(cell.startswith("'=") for row in ours for cell in row)  # neutralised
    # Every sheet to its own CSV file (the filter's last option, -1), in UTF-8 (76).
    out = tmp_path / "lo"
    every_sheet = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    for source, target, options in (("x.xlsx", every_sheet, []),
                                    ("x.csv", "xlsx", ["--infilter=CSV:44,34,76,1"])):
        subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                        "--headless", *options, "--convert-to", target,
                        "--outdir", str(out), str(tmp_path / source)],
                       check=True, capture_output=True, timeout=180)
    sheets = [out / f"x-Dữ liệu{suffix}.csv" for suffix in ("", " (2)", " (3)")]
    read = [list(csv.reader(io.StringIO(p.read_text(encoding="utf-8")))) for p in sheets]
    assert [len(rows) for rows in read] == [5, 5, 4]
    assert all(rows[0] == ours[0] for rows in read)
    theirs = [row for rows in read for row in rows[1:]]
    skip = {ours[0].index("submitted_at")}  # LibreOffice writes the date its own way

    def cells(rows: list[list[str]]) -> list[list[str]]:
        return [[c for i, c in enumerate(row) if i not in skip] for row in rows]

    assert cells(theirs) == cells(ours[1:])
    from openpyxl import load_workbook

    book = load_workbook(out / "x.xlsx", read_only=True)
    opened = [[("" if c is None else str(c)) for c in row]
              for row in book.active.iter_rows(values_only=True)]
    book.close()
    assert opened[0] == ours[0]
    assert cells(opened[1:]) == cells(ours[1:])


def _import(app: Flask, name: str, content: bytes, unit: str | None = "Q1") -> Any:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    default = units.get_unit(unit) if unit else None
    return imports.import_file(name, questionnaire, default_unit=default, content=content)


_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.mark.parametrize(("header", "bad", "errors"), [
    ("response_id,q15,q99", ",4,1", ["row 1, column q99: unknown column"]),
    ("q15,q16", "4,7\n5,x", ["row 3, column q16: unknown code '7'",
                             "row 4, column q16: unknown code 'x'"]),
    ("q15,unit", "4,NOPE", ["row 3, column unit: unknown unit 'NOPE'"]),
    ("q15,channel", "4,fax", ["row 3, column channel: unknown channel 'fax'"]),
    ("response_id,q15", "abc,4", ["row 3, column response_id: not a UUID: 'abc'"]),
    ("submitted_at,q15", "31/12/2026,4", ["row 3, column submitted_at: not an ISO 8601"]),
    ("response_id,q15", f"{_ID},4\n{_ID},5",
     ["row 4, column response_id: same id as row 3 with other answers"]),
    ("q15,q15", "4,4", ["row 1, column q15: the column appears twice"]),
])
def test_import_is_all_or_nothing_with_row_and_column(app: Flask, header: str, bad: str,
                                                      errors: list[str]) -> None:
    """Valid rows around the bad ones: the file stores nothing, and says where each error is.

    The same file without its bad lines imports every row, so the valid rows really are.
    """
    seed(app, 0)
    good = {"response_id": [f"{uuid.uuid4()},5", f"{uuid.uuid4()},3"],
            "q15": ["5,4", "2,1"], "submitted_at": ["2026-01-02,5", "2026-03-04T08:00:00,3"]}
    before, after = good.get(header.split(",")[0], ["5,4", "2,1"])
    if header in ("q15,unit", "q15,channel"):
        before, after = ("5,Q2", "2,T1") if header.endswith("unit") else ("5,paper", "2,qr")
    if header.startswith("response_id,q15,"):
        before, after = f"{uuid.uuid4()},5,", f"{uuid.uuid4()},2,"
    content = f"{header}\n{before}\n{bad}\n{after}\n"
    with pytest.raises(imports.ImportFailed) as info:
        _import(app, "x.csv", content.encode())
    for expected in errors:
        assert any(line.startswith(expected) for line in info.value.errors), info.value.errors
    assert len(info.value.errors) == len(errors), info.value.errors  # the valid rows: no error
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    if errors[0].startswith("row 1"):
        return  # a header error: no row of that file can be stored
    imported, skipped = _import(app, "x.csv", f"{header}\n{before}\n{after}\n".encode())
    db.session.commit()
    assert (imported, skipped) == (2, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 2


def test_import_of_an_empty_file_says_so(app: Flask) -> None:
    seed(app, 0)
    with pytest.raises(imports.ImportFailed) as info:
        _import(app, "x.csv", b"")
    assert info.value.errors[0].startswith("row 1: the file is empty")


def test_import_refuses_a_file_that_is_not_utf8(app: Flask) -> None:
    seed(app, 0)
    with pytest.raises(imports.ImportFailed, match="not UTF-8"):
        _import(app, "x.csv", "q15,y_kien\n4,Góp ý\n".encode("cp1258", errors="replace"))


def test_import_reads_xlsx_with_the_data_sheet(app: Flask, tmp_path: Path) -> None:
    from openpyxl import Workbook

    seed(app, 0)
    book = Workbook()
    book.active.title = "Tổng hợp"
    sheet = book.create_sheet("Dữ liệu")
    sheet.append(["response_id", "submitted_at", "unit", "channel", "q15", "q16", "y_kien"])
    sheet.append(["", datetime(2026, 3, 5, 9, 30), "Q2", "paper", 4, 5.0, "'=1+1"])
    sheet.append(["", "2026-03-06T10:00:00+07:00", "", "", 2, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    imported, skipped = _import(app, "x.xlsx", buffer.getvalue(), unit="Q1")
    db.session.commit()
    assert (imported, skipped) == (2, 0)
    rows = db.session.scalars(sa.select(Response).order_by(Response.id)).all()
    assert [r.channel for r in rows] == ["paper", "import"]
    assert rows[0].submitted_at == datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # 09:30 Vietnam
    assert {a.question_id: a.value for a in rows[0].answers} == {"q15": 4, "q16": 5,
                                                                 "y_kien": "=1+1"}
    assert units.get_unit("Q1").id == rows[1].unit_id  # type: ignore[union-attr]


def test_csv_export_neutralises_formulas_and_has_a_bom(app: Flask) -> None:
    seed(app, 3, 5)
    questionnaire = get_questionnaire(QID)
    unit = units.get_unit("Q1")
    assert questionnaire is not None
    assert unit is not None
    for text in ("=cmd|' /C calc'!A0", "-chậm", "@SUM(1)", "+84 912", "bình thường, ổn"):
        save_response(questionnaire, unit, "qr", uuid.uuid4(), {"q15": 4, "y_kien": text})
    db.session.commit()
    text = _csv_export(Filters(QID))
    assert text.startswith(
        "\ufeffresponse_id,submitted_at,unit,channel,flags,excluded,linh_vuc,q15")
    assert "'=cmd|" in text
    assert "'-chậm" in text
    assert "'@SUM(1)" in text
    assert "'+84 912" in text
    assert '"bình thường, ổn"' in text
    assert ",=cmd" not in text


def test_summary_filters_by_vietnam_day(app: Flask) -> None:
    seed(app, 0)
    questionnaire = get_questionnaire(QID)
    unit = units.get_unit("Q1")
    assert questionnaire is not None
    assert unit is not None
    # 23:30 UTC on 31 January is 06:30 on 1 February in Vietnam.
    save_response(questionnaire, unit, "qr", uuid.uuid4(), {"q15": 5},
                  submitted_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    db.session.commit()
    january = summary_of(Filters(QID, date_from=date(2026, 1, 1),
                                          date_to=date(2026, 1, 31)))
    february = summary_of(Filters(QID, date_from=date(2026, 2, 1),
                                           date_to=date(2026, 2, 1)))
    assert january is not None
    assert february is not None
    assert (january["n_responses"], february["n_responses"]) == (0, 1)
    assert exports.count_responses(db.session, Filters(QID, date_from=date(2026, 2, 1),
                                                 date_to=date(2026, 2, 1))) == 1


def test_cli_json_export_equals_a_recomputation_from_the_cli_csv_export(
        app: Flask, tmp_path: Path) -> None:
    """The acceptance check, through the command line exactly as a user runs it."""
    seed(app, 80, 21)
    runner = app.test_cli_runner()
    args = ["--questionnaire", QID, "--from", "2026-01-10", "--to", "2026-03-20",
            "--unit", "Q1", "--unit", "T1"]
    for fmt in ("json", "csv"):
        result = runner.invoke(args=["export", *args, "--format", fmt, "--out",
                                     str(tmp_path / f"out.{fmt}")])
        assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert summary["n_responses"] > 10
    frame = read_wide_csv(tmp_path / "out.csv")
    recomputed = recompute_summary(Scheme.from_summary(summary), frame, summary["filters"],
                                   target=80.0)
    assert recomputed == without_cases(summary)


# --- review findings: versions, deletes, limits, robust import ---------------------------

def _definitions_copy(tmp_path: Path) -> Path:
    from questionnaires import DEFINITIONS_DIR

    copy = tmp_path / "definitions"
    for path in DEFINITIONS_DIR.glob("*/v*.yaml"):
        target = copy / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def test_a_new_version_rescores_old_responses_consistently(app: Flask, tmp_path: Path) -> None:
    """A new version makes answer 3 not count; old and new responses are then scored alike."""

    made = seed(app, 30, 8)
    copy = _definitions_copy(tmp_path)
    before_csv = _csv_export(Filters(QID))
    latest = max(int(p.stem[1:]) for p in (copy / QID).glob("v*.yaml"))
    old = (copy / QID / f"v{latest}.yaml").read_text(encoding="utf-8")
    new = old.replace(f"version: {latest}", f"version: {latest + 1}").replace(
        "{code: 3, score: 3, satisfied: false, label: {vi: Bình thường, en: Neutral}}",
        "{code: 3, score: null, satisfied: false, label: {vi: Bình thường, en: Neutral}}")
    assert new != old
    (copy / QID / f"v{latest + 1}.yaml").write_text(new, encoding="utf-8")
    app.config["QUESTIONNAIRE_DIR"] = str(copy)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert f"sipas-dichvu v{latest + 1}: added" in result.output
    assert "scoring the stored responses with the new version" in result.output
    seed(app, 20, 9)  # newer responses answer the new version
    summary = summary_of(Filters(QID))
    assert summary is not None
    assert summary["questionnaire"]["version"] == latest + 1
    frame = read_wide_csv(io.StringIO(_csv_export(Filters(QID))))
    assert recompute_summary(Scheme.from_summary(summary), frame, summary["filters"],
                             target=80.0) == without_cases(summary)
    rows = rollup_rows()
    rollups.rebuild(rescore="all")
    db.session.commit()
    assert rollup_rows() == rows
    # The version-1 export imports again as "already stored", not as a conflict.
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    assert imports.import_file("old.csv", questionnaire, default_unit=None,
                               content=before_csv.encode()) == (0, 30)
    victim = db.session.scalars(sa.select(Response).where(
        Response.questionnaire_version == latest)).first()  # an older version's response
    assert victim is not None
    delete_response(victim)
    db.session.commit()
    rows = rollup_rows()
    rollups.rebuild(rescore="none")
    db.session.commit()
    assert rollup_rows() == rows
    assert made


@pytest.mark.parametrize(("content", "expected"), [
    ("q15\n²\n", "row 2, column q15: unknown code '²'"),
    ("q15\n" + "9" * 5000 + "\n", "row 2, column q15: unknown code"),
    ("q15,y_kien\n4,Cần thêm ghế, quạt\n", "row 2, column #3: more cells than the header"),
    ('q15,y_kien\n4,"' + "x" * 200_000 + '"\n', "row 2, column -: the file cannot be read"),
])
def test_import_reports_odd_cells_by_row_and_column(app: Flask, content: str,
                                                    expected: str) -> None:
    seed(app, 0)
    with pytest.raises(imports.ImportFailed) as info:
        _import(app, "x.csv", content.encode())
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors


def test_import_of_a_broken_xlsx_is_an_error_not_a_crash(app: Flask) -> None:
    import zipfile

    from openpyxl import Workbook

    seed(app, 0)
    book = Workbook()
    book.active.append(["q15"])
    book.active.append([4])
    buffer = io.BytesIO()
    book.save(buffer)
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(
            broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = data[: len(data) // 2]  # cut the sheet's XML in half
            target.writestr(item, data)
    with pytest.raises(imports.ImportFailed) as info:
        _import(app, "x.xlsx", broken.getvalue())
    assert "not a readable XLSX workbook" in " ".join(info.value.errors)


def test_import_stops_checking_at_the_error_cap_and_says_where(app: Flask) -> None:
    """Past 200 errors nothing more is read (a file of bad rows costs no more than its first
    200); the last line says where checking stopped."""
    seed(app, 0)
    content = "q15\n" + "7\n" * 250
    with pytest.raises(imports.ImportFailed) as info:
        _import(app, "x.csv", content.encode())
    assert len(info.value.errors) == 201
    assert info.value.errors[-1] == "... checking stopped after 200 errors (row 202)"


def test_a_conflict_found_while_storing_rolls_everything_back(app: Flask) -> None:
    seed(app, 0)
    questionnaire = get_questionnaire(QID)
    unit = units.get_unit("Q1")
    assert questionnaire is not None
    assert unit is not None
    taken = uuid.uuid4()
    save_response(questionnaire, unit, "qr", taken, {"q15": 5})
    db.session.commit()
    rows_before = rollup_rows()
    content = f"response_id,unit,q15\n,Q1,4\n,Q1,3\n{taken},Q1,2\n".encode()
    with pytest.raises(imports.ImportFailed, match="row 4, column response_id: already stored"):
        _import(app, "x.csv", content)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    assert rollup_rows() == rows_before


@pytest.mark.parametrize("text", ["'=1+1", "''quoted", "=SUM(A1)", "-2 giờ", "a\tb"])
def test_texts_survive_export_and_import(app: Flask, text: str) -> None:
    seed(app, 0)
    questionnaire = get_questionnaire(QID)
    unit = units.get_unit("Q1")
    assert questionnaire is not None
    assert unit is not None
    save_response(questionnaire, unit, "qr", uuid.uuid4(), {"q15": 4, "y_kien": text})
    db.session.commit()
    exported = _csv_export(Filters(QID))
    assert _import(app, "x.csv", exported.encode()) == (0, 1)


def test_imported_texts_are_cleaned_like_the_form(app: Flask) -> None:
    seed(app, 0)
    _import(app, "x.csv", "q15,y_kien\n4,\"  Tho\u0302\u0300ng\x01 tin\u200b \"\n".encode())
    db.session.commit()
    stored = db.session.scalars(sa.select(Response)).one()
    assert {a.question_id: a.value for a in stored.answers}["y_kien"] == "Thồng tin"


def test_dates_out_of_range_are_refused(app: Flask, admin_client: Any, tmp_path: Path) -> None:
    seed(app, 3)
    for query in ("to=9999-12-31", "from=0001-01-01", "from=1999-12-31"):
        for url in ("/staff/", "/staff/export.csv", "/staff/suggestions", "/staff/follow-up"):
            response = admin_client.get(f"{url}?{query}")
            assert response.status_code == 400, (url, query)
    result = app.test_cli_runner().invoke(args=[
        "export", "--questionnaire", QID, "--format", "csv", "--to", "9999-12-31", "--out",
        str(tmp_path / "x.csv")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_json_export_refuses_the_pooled_option(app: Flask, tmp_path: Path) -> None:
    seed(app, 3)
    result = app.test_cli_runner().invoke(args=[
        "export", "--questionnaire", QID, "--format", "json", "--aggregation", "pooled",
        "--out", str(tmp_path / "x.json")])
    assert result.exit_code != 0
    assert "contract §6.1" in result.output
    pooled = app.test_cli_runner().invoke(args=[
        "export", "--questionnaire", QID, "--format", "xlsx", "--aggregation", "pooled",
        "--out", str(tmp_path / "x.xlsx")])
    assert pooled.exit_code == 0, pooled.output


PAPI_YAML = """
id: papi-thu
version: 1
index: papi
title: Thử PAPI
groups:
  - id: D1
    label: Tham gia
    subgroups: [{id: D1a, label: Tri thức}, {id: D1b, label: Bầu cử}]
  - id: D2
    label: Công khai
    subgroups: [{id: D2a, label: Ngân sách}, {id: D2b, label: Đất đai}, {id: D2c, label: Hộ nghèo}]
scales:
  cokhong:
    options:
      - {code: 1, label: Có, score: 1}
      - {code: 2, label: Không, score: 0}
      - {code: 9, label: Không biết, score: null}
  muc:
    options:
      - {code: 1, label: Kém, score: 0}
      - {code: 2, label: Trung bình, score: 0.5}
      - {code: 3, label: Tốt, score: 1}
sections:
  - id: s1
    title: Câu hỏi
    questions:
      - {id: a1, text: Câu a1, scale: cokhong, subgroup: D1a}
      - {id: a2, text: Câu a2, scale: muc, subgroup: D1a}
      - {id: b1, text: Câu b1, scale: cokhong, subgroup: D1b}
      - {id: c1, text: Câu c1, scale: muc, subgroup: D2a}
      - {id: d1, text: Câu d1, scale: cokhong, subgroup: D2b}
      - {id: e1, text: Câu e1, scale: muc, subgroup: D2c}
      - {id: gt, text: Giới tính, options: [{code: 1, label: Nam}, {code: 2, label: Nữ}]}
"""


def test_papi_and_null_scores_through_the_database(app: Flask, tmp_path: Path) -> None:
    """A PAPI-style questionnaire with "không biết" answers: summary equals recomputation."""
    from survey.services.questionnaires import sync_questionnaires

    copy = _definitions_copy(tmp_path)
    (copy / "papi-thu").mkdir()
    (copy / "papi-thu" / "v1.yaml").write_text(PAPI_YAML, encoding="utf-8")
    sync_questionnaires(copy)
    db.session.commit()
    seed(app, 0)
    questionnaire = get_questionnaire("papi-thu")
    assert questionnaire is not None
    rng = random.Random(4)
    made = [units.get_unit(c) for c in ("Q1", "Q2", "T1")]
    for _ in range(70):
        answers: dict[str, int | str] = {}
        for qid in ("a1", "b1", "d1"):
            if rng.random() < 0.9:
                answers[qid] = rng.choice([1, 2, 9])
        for qid in ("a2", "c1", "e1"):
            if rng.random() < 0.9:
                answers[qid] = rng.choice([1, 2, 3])
        answers["gt"] = rng.choice([1, 2])
        moment = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(600))
        save_response(questionnaire, rng.choice(made), "paper", uuid.uuid4(),  # type: ignore[arg-type]
                      answers, submitted_at=moment)
    db.session.commit()
    filters = Filters("papi-thu")
    summary = summary_of(filters)
    assert summary is not None
    assert summary["questionnaire"]["index"] == "papi"
    assert summary["index"]["value"] is not None
    assert 2 <= summary["index"]["value"] <= 20
    assert all(g["items"] == [] and len(g["subgroups"]) >= 2 for g in summary["groups"])
    csv_text = "".join(exports.csv_chunks(db.session, filters, rollups.scheme_of(questionnaire)))
    frame = read_wide_csv(io.StringIO(csv_text))
    assert recompute_summary(Scheme.from_summary(summary), frame,
                             summary["filters"]) == without_cases(summary)
    rows = rollup_rows()
    rollups.rebuild(rescore="all")
    db.session.commit()
    assert rollup_rows() == rows


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "pdf"])
def test_export_into_a_missing_folder_says_so(app: Flask, tmp_path: Path, fmt: str) -> None:
    """XlsxWriter raised its own error (no OSError): a traceback, before."""
    seed(app, 3)
    out = tmp_path / "no-such-folder" / f"x.{fmt}"
    result = app.test_cli_runner().invoke(args=[
        "export", "--questionnaire", QID, "--format", fmt, "--out", str(out)])
    assert result.exit_code == 1
    assert f"cannot write {out}: no folder {out.parent}" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
