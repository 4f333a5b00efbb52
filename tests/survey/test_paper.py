"""Paper forms: batches, printed sheets, keyboard entry, double entry, scoping and progress."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, Batch, Response, Sheet, SheetEntry, Unit, User
from survey.reporting.filters import Filters
from survey.services import paper, rollups, units
from tests.conftest import login, require_program, summary_of

QID = "sipas-dichvu"


@pytest.fixture
def groups(app: Flask, ward: Unit) -> tuple[Unit, Unit]:
    one = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", parent=ward, actor="t")
    two = units.create_unit("TDP-02", "Tổ dân phố số 2", "group", parent=ward, actor="t")
    db.session.commit()
    return one, two


@pytest.fixture
def people(make_user: Callable[..., User], groups: tuple[Unit, Unit]) -> dict[str, User]:
    return {"staff": make_user("canbo", "staff"),
            "leader1": make_user("totruong1", "leader", [groups[0]]),
            "helper1": make_user("thuky1", "leader", [groups[0]]),
            "leader2": make_user("totruong2", "leader", [groups[1]])}


def make_batch(unit: Unit, count: int = 3, *, double: bool = False,
               leader: User | None = None) -> Batch:
    batch = paper.create_batch(QID, unit, count, leader=leader, double_entry=double,
                               actor="test")
    db.session.commit()
    return batch


def sheet_data(**codes: Any) -> dict[str, str]:
    """A filled sheet as the entry form posts it: every item 4 unless changed."""
    data = {f"q_q{i}": "4" for i in range(15, 34)}
    data.update({"q_linh_vuc": "1", "q_gioi_tinh": "2", "q_y_kien": "Đường tổ bị ngập"})
    data.update({f"q_{k}": str(v) for k, v in codes.items()})
    return data


def serials(batch: Batch) -> list[str]:
    return [paper.format_serial(s.serial) for s in batch.sheets]


def test_a_batch_allocates_consecutive_unique_serials(app: Flask, groups: tuple[Unit, Unit],
                                                      people: dict[str, User]) -> None:
    first = make_batch(groups[0], 3, leader=people["leader1"])
    second = make_batch(groups[1], 2)
    numbers = [s.serial for s in first.sheets + second.sheets]
    assert numbers == list(range(numbers[0], numbers[0] + 5))
    assert serials(first)[0] == f"{numbers[0]:06d}"
    with pytest.raises(paper.PaperError, match="không phụ trách đơn vị TDP-02"):
        paper.create_batch(QID, groups[1], 2, leader=people["leader1"], double_entry=False,
                           actor="test")
    db.session.rollback()
    with pytest.raises(paper.PaperError, match="Số phiếu phải từ 1 đến 2000"):
        paper.create_batch(QID, groups[1], 0, leader=None, double_entry=False, actor="test")


def test_staff_issue_a_batch_and_print_it(client: FlaskClient, groups: tuple[Unit, Unit],
                                          people: dict[str, User], tmp_path: Path) -> None:
    login(client, "canbo")
    response = client.post("/staff/batches", data={
        "questionnaire": QID, "unit": "TDP-01", "leader": "totruong1", "sheet_count": "2",
        "double_entry": "y", "note": "Đợt tháng 11"})
    assert response.status_code == 302
    batch = db.session.scalars(sa.select(Batch)).one()
    assert (batch.sheet_count, batch.double_entry, batch.leader_id) == (
        2, True, people["leader1"].id)
    pdf = client.get(f"/staff/batches/{batch.id}/forms.pdf")
    assert pdf.status_code == 200
    content = pdf.data
    pdf.close()
    path = tmp_path / "forms.pdf"
    path.write_bytes(content)
    pdftotext = require_program("pdftotext")
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for serial in serials(batch):
        assert serial in text
    assert "Công chức có thái độ giao tiếp lịch sự, tôn trọng đối với người dân." in text
    assert "Tổ dân phố số 1" in text
    pdftoppm, zbarimg = require_program("pdftoppm"), require_program("zbarimg")
    subprocess.run([pdftoppm, "-png", "-r", "150", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run([zbarimg, "-q", "--raw", str(page)], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert decoded == f"http://survey.test/staff/sheets/{serials(batch)[0]}"


def test_single_entry_stores_once(client: FlaskClient, groups: tuple[Unit, Unit],
                                  people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 2)
    first, second = serials(batch)
    login(client, "totruong1")
    page = client.get(f"/staff/sheets/{first}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'inputmode="numeric"' in html
    assert "autofocus" in html
    assert "js/entry.js" in html
    saved = client.post(f"/staff/sheets/{first}", data=sheet_data(q15=5))
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/staff/sheets/{second}")  # on to the next
    again = client.post(f"/staff/sheets/{first}", data=sheet_data(q15=1))
    assert again.status_code == 409
    assert "đã được nhập và lưu" in again.get_data(as_text=True)
    stored = db.session.scalars(sa.select(Response)).one()
    assert (stored.channel, stored.entered_by_id) == ("paper", people["leader1"].id)
    assert {a.question_id: a.value for a in stored.answers}["q15"] == 5
    assert stored.sheet_id == batch.sheets[0].id
    assert rollups.in_step()


def test_bad_codes_are_shown_by_field_and_nothing_is_stored(client: FlaskClient,
                                                            groups: tuple[Unit, Unit],
                                                            people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1)
    login(client, "totruong1")
    response = client.post(f"/staff/sheets/{serials(batch)[0]}",
                           data=sheet_data(q20="7", gioi_tinh="x"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "mã “7” không có trong câu này" in html
    assert 'href="#i-gioi_tinh"' in html
    assert 'value="7"' in html  # what was typed stays, to be corrected
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SheetEntry)) == 0


def test_double_entry_agreeing_typings_store_one_response(
        client: FlaskClient, app: Flask, groups: tuple[Unit, Unit],
        people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1, double=True)
    serial = serials(batch)[0]
    login(client, "totruong1")
    assert client.post(f"/staff/sheets/{serial}", data=sheet_data()).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    same_person = client.get(f"/staff/sheets/{serial}").get_data(as_text=True)
    assert "cần người khác nhập lần hai" in same_person
    other = app.test_client()
    login(other, "thuky1")
    blind = other.get(f"/staff/sheets/{serial}").get_data(as_text=True)
    assert "nhập lần 2" in blind
    assert "Đường tổ bị ngập" not in blind  # the first typing is not shown
    assert 'value="4"' not in blind
    assert other.post(f"/staff/sheets/{serial}", data=sheet_data()).status_code == 302
    sheet = db.session.scalars(sa.select(Sheet)).one()
    assert paper.status_of(sheet) == "verified"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_double_entry_mismatch_is_reconciled_field_by_field(
        client: FlaskClient, app: Flask, groups: tuple[Unit, Unit],
        people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1, double=True)
    serial = serials(batch)[0]
    login(client, "totruong1")
    client.post(f"/staff/sheets/{serial}", data=sheet_data(q17=2, q30=5))
    other = app.test_client()
    login(other, "thuky1")
    response = other.post(f"/staff/sheets/{serial}", data=sheet_data(q17=3, q30=5, q31=""))
    assert response.status_code == 302
    sheet = db.session.scalars(sa.select(Sheet)).one()
    assert paper.status_of(sheet) == "mismatch"
    assert [(d.question_id, d.first, d.second) for d in paper.differences(sheet)] == [
        ("q17", 2, 3), ("q31", 4, None)]
    summary = summary_of(Filters(QID))
    assert summary is not None
    assert summary["n_responses"] == 0  # out of the scores until reconciled
    page = client.get(f"/staff/sheets/{serial}/reconcile").get_data(as_text=True)
    assert "q_q17" in page
    assert "q_q31" in page
    assert "q_q15" not in page
    bad = client.post(f"/staff/sheets/{serial}/reconcile", data={"q_q17": "9", "q_q31": "4"})
    assert bad.status_code == 400
    done = client.post(f"/staff/sheets/{serial}/reconcile", data={"q_q17": "2", "q_q31": "4"})
    assert done.status_code == 302
    stored = db.session.scalars(sa.select(Response)).one()
    answers = {a.question_id: a.value for a in stored.answers}
    assert (answers["q17"], answers["q31"], answers["q30"]) == (2, 4, 5)
    db.session.expire_all()
    assert paper.status_of(db.session.scalars(sa.select(Sheet)).one()) == "verified"
    log = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "sheet.reconcile")).one()
    assert log.details["fields"]["q17"] == [2, 3, 2]
    assert rollups.in_step()


def counting_first(app_factory: Callable[..., Flask], flag: object
                   ) -> tuple[Flask, str, FlaskClient, FlaskClient]:
    """An app counting double entries from their first typing, one double-entry sheet and
    two leaders of its group, logged in."""
    app = app_factory(PAPER_COUNT_BEFORE_VERIFIED=flag)
    assert app.config["PAPER_COUNT_BEFORE_VERIFIED"] is True
    with app.app_context():
        from survey.services import accounts

        ward = units.create_unit("P", "Phường", "ward", actor="t")
        unit = units.create_unit("TDP-01", "Tổ 1", "group", parent=ward, actor="t")
        accounts.create_user("aa", "correct horse battery", "leader", [unit], actor="t")
        accounts.create_user("bb", "correct horse battery", "leader", [unit], actor="t")
        batch = paper.create_batch(QID, unit, 1, leader=None, double_entry=True, actor="t")
        db.session.commit()
        serial = paper.format_serial(batch.sheets[0].serial)
    first, second = app.test_client(), app.test_client()
    login(first, "aa")
    login(second, "bb")
    return app, serial, first, second


def test_counting_before_verification_is_configurable(
        app_factory: Callable[..., Flask]) -> None:
    app, serial, first, second = counting_first(app_factory, True)
    first.post(f"/staff/sheets/{serial}", data=sheet_data(q17=2))
    with app.app_context():
        summary = summary_of(Filters(QID))
        assert summary is not None
        assert summary["n_responses"] == 1  # counted at once ...
    second.post(f"/staff/sheets/{serial}", data=sheet_data(q17=3))
    first.post(f"/staff/sheets/{serial}/reconcile", data={"q_q17": "3"})
    with app.app_context():
        stored = db.session.scalars(sa.select(Response)).one()  # ... and corrected, not doubled
        assert {a.question_id: a.value for a in stored.answers}["q17"] == 3
        assert rollups.in_step()


def test_edits_are_audited_with_old_and_new(client: FlaskClient, groups: tuple[Unit, Unit],
                                            people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1)
    serial = serials(batch)[0]
    login(client, "totruong1")
    client.post(f"/staff/sheets/{serial}", data=sheet_data(q20=2))
    form = client.get(f"/staff/sheets/{serial}/edit").get_data(as_text=True)
    assert re.search(r'name="q_q20" value="2"', form)
    response = client.post(f"/staff/sheets/{serial}/edit", data=sheet_data(q20=5, y_kien=""))
    assert response.status_code == 302
    stored = db.session.scalars(sa.select(Response)).one()
    answers = {a.question_id: a.value for a in stored.answers}
    assert answers["q20"] == 5
    assert "y_kien" not in answers
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "response.edit")
                               ).one()
    assert entry.actor == "totruong1"
    assert entry.details["changes"] == {"q20": [2, 5], "y_kien": ["Đường tổ bị ngập", None]}
    summary = summary_of(Filters(QID))
    assert summary is not None
    q20 = next(i for g in summary["groups"] for i in g["items"] if i["id"] == "q20")
    assert (q20["n"], q20["satisfied"]) == (1, 1)
    assert rollups.in_step()


def test_a_leader_cannot_read_or_write_another_groups_paper(
        client: FlaskClient, groups: tuple[Unit, Unit], people: dict[str, User]) -> None:
    own = make_batch(groups[0], 1)
    other = make_batch(groups[1], 1)
    login(client, "totruong2")
    client.post(f"/staff/sheets/{serials(other)[0]}", data=sheet_data())
    client.post("/logout")
    login(client, "totruong1")
    theirs = serials(other)[0]
    for method, url, data in [
        ("GET", f"/staff/batches/{other.id}", None),
        ("POST", f"/staff/batches/{other.id}", {"returned": "1"}),
        ("GET", f"/staff/batches/{other.id}/forms.pdf", None),
        ("GET", f"/staff/sheets/{theirs}", None),
        ("POST", f"/staff/sheets/{theirs}", sheet_data()),
        ("GET", f"/staff/sheets/{theirs}/edit", None),
        ("POST", f"/staff/sheets/{theirs}/edit", sheet_data(q15=1)),
        ("GET", f"/staff/sheets/{theirs}/reconcile", None),
        ("POST", f"/staff/sheets/{theirs}/reconcile", {"q_q15": "1"}),
        ("POST", "/staff/batches", {"questionnaire": QID, "unit": "TDP-01",
                                    "sheet_count": "5"}),
    ]:
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url)
    listing = client.get("/staff/batches").get_data(as_text=True)
    assert f"Lô {own.id}" in listing
    assert f"Lô {other.id}" not in listing
    progress = client.get("/staff/progress").get_data(as_text=True)
    assert "TDP-01" in progress
    assert "TDP-02" not in progress
    assert "Cả phường" not in progress
    stored = db.session.scalars(sa.select(Response)).one()
    assert {a.question_id: a.value for a in stored.answers}["q15"] == 4  # untouched


def test_entry_start_opens_a_sheet_by_serial(client: FlaskClient, groups: tuple[Unit, Unit],
                                             people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1)
    login(client, "totruong1")
    number = batch.sheets[0].serial
    response = client.post("/staff/entry", data={"serial": str(number)})
    assert response.headers["Location"].endswith(f"/staff/sheets/{number:06d}")
    missing = client.post("/staff/entry", data={"serial": "999999"})
    assert missing.status_code == 400
    assert "Không có phiếu số này." in missing.get_data(as_text=True)
    for odd in ("abc", "0", "%00", "9" * 20):
        assert client.get(f"/staff/sheets/{odd}").status_code == 404


def test_progress_counts_issued_returned_entered_verified(
        client: FlaskClient, app: Flask, groups: tuple[Unit, Unit],
        people: dict[str, User]) -> None:
    single = make_batch(groups[0], 4)
    double = make_batch(groups[1], 3, double=True)
    login(client, "canbo")
    client.post(f"/staff/batches/{single.id}", data={"returned": "3"})
    for serial in serials(single)[:2]:
        client.post(f"/staff/sheets/{serial}", data=sheet_data())
    client.post(f"/staff/sheets/{serials(double)[0]}", data=sheet_data())
    rows, total = paper.progress([groups[0], groups[1]], ward_target=200)
    by_code = {r.unit.code: r for r in rows if r.unit}
    assert (by_code["TDP-01"].issued, by_code["TDP-01"].returned, by_code["TDP-01"].entered,
            by_code["TDP-01"].verified, by_code["TDP-01"].target) == (4, 3, 2, 2, 100)
    assert (by_code["TDP-02"].issued, by_code["TDP-02"].entered,
            by_code["TDP-02"].verified) == (3, 1, 0)
    assert (total.issued, total.verified, total.target) == (7, 2, 200)
    html = client.get("/staff/progress").get_data(as_text=True)
    assert "Cả phường" in html
    assert "1,0\u00a0%" in html  # 2 of 200
    bad = client.post(f"/staff/batches/{single.id}", data={"returned": "9"})
    assert bad.status_code == 400


def test_template_xlsx_has_code_lists_and_imports_back(client: FlaskClient,
                                                       groups: tuple[Unit, Unit],
                                                       people: dict[str, User]) -> None:
    from openpyxl import load_workbook

    login(client, "canbo")
    response = client.get(f"/staff/template.xlsx?questionnaire={QID}")
    assert response.status_code == 200
    content = response.data
    response.close()
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Dữ liệu", "Danh mục", "Hướng dẫn", "Mã hóa"]
    assert book["Danh mục"].sheet_state == "hidden"
    sheet = book["Dữ liệu"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["response_id", "submitted_at", "unit", "channel"]
    validations = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    q15 = header.index("q15") + 1
    from openpyxl.utils import get_column_letter

    column = get_column_letter(q15)
    assert validations[f"{column}2:{column}1001"] == '"1,2,3,4,5"'
    assert "'Danh mục'!$A$1:$A$2" in validations.values()
    assert [c.value for c in book["Danh mục"]["A"]] == ["TDP-01", "TDP-02"]
    ids = [sheet.cell(row=r, column=1).value for r in range(2, 1002)]
    assert len(set(ids)) == 1000  # every row has its own id
    sheet.cell(row=2, column=header.index("unit") + 1, value="TDP-01")
    sheet.cell(row=2, column=q15, value=5)
    sheet.cell(row=3, column=header.index("unit") + 1, value="TDP-02")
    sheet.cell(row=3, column=q15, value=2)
    filled = io.BytesIO()
    book.save(filled)
    uploaded = client.post("/staff/import", data={
        "questionnaire": QID, "unit": "", "channel": "paper",
        "file": (io.BytesIO(filled.getvalue()), "mau.xlsx")},
        content_type="multipart/form-data")
    assert uploaded.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 2
    again = client.post("/staff/import", data={
        "questionnaire": QID, "unit": "", "channel": "paper",
        "file": (io.BytesIO(filled.getvalue()), "mau.xlsx")},
        content_type="multipart/form-data")
    assert again.status_code == 302
    assert "2 phiếu đã có nên bỏ qua" in client.get("/staff/import").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 2


def test_every_paper_route_needs_login(client: FlaskClient, groups: tuple[Unit, Unit]) -> None:
    batch = make_batch(groups[0], 1)
    serial = serials(batch)[0]
    for url in ("/staff/batches", f"/staff/batches/{batch.id}", f"/staff/sheets/{serial}",
                f"/staff/batches/{batch.id}/forms.pdf", "/staff/progress", "/staff/entry",
                f"/staff/sheets/{serial}/edit", f"/staff/sheets/{serial}/reconcile",
                "/staff/template.xlsx"):
        assert client.get(url).status_code == 302, url


def test_papi_phuong_json_gives_dimensions_and_total_per_group_and_ward(
        app: Flask, groups: tuple[Unit, Unit], people: dict[str, User], tmp_path: Path) -> None:
    """Contract §6.2 through the CLI: dimensions on 1–10, the total on 8–80."""
    import json
    import random

    from survey.services.questionnaires import get_questionnaire

    questionnaire = get_questionnaire("papi-phuong")
    assert questionnaire is not None
    rng = random.Random(12)
    for unit in groups:
        batch = paper.create_batch("papi-phuong", unit, 8, leader=None, double_entry=False,
                                   actor="test")
        for sheet in batch.sheets:
            raw = {q.id: str(rng.choice([o.code for o in q.options]))
                   for q in questionnaire.questions if q.type == "choice"}
            paper.enter_sheet(sheet, raw, people["staff"])
    db.session.commit()
    runner = app.test_cli_runner()
    for args in ([], ["--unit", "TDP-01"], ["--unit", "TDP-02"]):
        out = tmp_path / "papi.json"
        result = runner.invoke(args=["export", "--questionnaire", "papi-phuong", "--format",
                                     "json", "--out", str(out), *args])
        assert result.exit_code == 0, result.output
        summary = json.loads(out.read_text(encoding="utf-8"))
        assert summary["questionnaire"]["index"] == "papi"
        assert summary["n_responses"] == (16 if not args else 8)
        assert len(summary["groups"]) == 8
        for group in summary["groups"]:
            assert group["items"] == []
            assert 1 <= group["value"] <= 10, group["id"]
            k = len(group["subgroups"])
            for sub in group["subgroups"]:
                assert 1 / k - 1e-9 <= sub["value"] <= 10 / k + 1e-9
            assert abs(group["value"] - sum(s["value"] for s in group["subgroups"])) < 1e-9
        assert 8 <= summary["index"]["value"] <= 80
        assert abs(summary["index"]["value"] - sum(g["value"] for g in summary["groups"])) < 1e-9


def test_a_leader_walking_every_route_never_meets_another_groups_data(
        app: Flask, client: FlaskClient, groups: tuple[Unit, Unit],
        people: dict[str, User]) -> None:
    """Every /staff/ and /api/ route, as the leader of group 1, aimed at group 2's objects."""
    own_batch, other_batch = make_batch(groups[0], 1), make_batch(groups[1], 1)
    other_link = units.ensure_link(groups[1], QID, actor="test")
    units.ensure_link(groups[0], QID, actor="test")
    db.session.commit()
    secret = "Bí mật của tổ 2"
    login(client, "canbo")
    client.post(f"/staff/sheets/{serials(other_batch)[0]}", data=sheet_data(y_kien=secret))
    client.post("/logout")
    other_receipt = db.session.scalars(sa.select(Response)).one().receipt
    login(client, "totruong1")
    client.post(f"/staff/sheets/{serials(own_batch)[0]}", data=sheet_data(y_kien="Tổ 1"))
    from survey.models import ApiToken
    from survey.services import accounts

    accounts.create_token(people["leader2"], "tổ 2", actor="test")
    db.session.commit()
    other_token = db.session.scalars(sa.select(ApiToken.id)).one()
    values = {"code": other_link.code, "batch_id": str(other_batch.id),
              "serial": serials(other_batch)[0], "user_id": str(people["leader2"].id),
              "kind": "groups", "fmt": "csv", "group_id": "1", "receipt": other_receipt,
              "token_id": str(other_token)}
    unit_pages = {"/staff/units/<code>", "/staff/units/<code>/links"}
    walked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/staff", "/api")):
            continue
        url = rule.rule
        for name in rule.arguments:
            value = "TDP-02" if rule.rule in unit_pages and name == "code" else values[name]
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
        names_an_object = bool(set(rule.arguments) - {"kind", "fmt"})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for query in ("?unit=TDP-02&questionnaire=sipas-dichvu", ""):
                walked += 1
                response = client.open(url + query, method=method, data=sheet_data(q15=1))
                body = response.get_data().decode("utf-8", errors="replace")
                response.close()
                if names_an_object or query:
                    # Aimed at group 2 (its unit, link, batch, sheet or leader): refused,
                    # unless the page ignores the unit named and shows only group 1's.
                    # Bulk assignment and opening a case name their cases in the form, and
                    # the walk posts none: the officer is sent back with a message (group 2's
                    # cases are refused with 403 in test_cases_staff.py).
                    assert response.status_code in (400, 401, 403, 404, 405) or (
                        not names_an_object and response.status_code == 200) or (
                        url in ("/staff/cases/assign", "/staff/cases/open")
                        and response.status_code == 302), (method, url)
                assert response.status_code >= 300 or (
                    secret not in body and other_receipt not in body
                    and "TDP-02" not in body), (method, url + query)
    assert walked >= 40
    stored = db.session.scalars(sa.select(Response).where(Response.receipt == other_receipt)
                                ).one()
    answers = {a.question_id: a.value for a in stored.answers}
    assert (answers["q15"], answers["y_kien"]) == (4, secret)  # nothing written
    assert other_batch.returned_count == 0


# --- review findings -----------------------------------------------------------------------

def _threads(*calls: Callable[[], Any]) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_simultaneous_edits_keep_rollups_and_audit_true(app: Flask, groups: tuple[Unit, Unit],
                                                        people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1)
    serial = serials(batch)[0]
    staff, leader = app.test_client(), app.test_client()
    login(staff, "canbo")
    login(leader, "totruong1")
    staff.post(f"/staff/sheets/{serial}", data=sheet_data(q17=2))
    for _ in range(3):
        statuses = _threads(
            lambda: staff.post(f"/staff/sheets/{serial}/edit", data=sheet_data(q17=5)).status_code,
            lambda: leader.post(f"/staff/sheets/{serial}/edit", data=sheet_data(q17=1)).status_code)
        assert set(statuses) == {302}
        assert rollups.in_step()
        rows = {tuple(r) for r in db.session.execute(sa.select(rollups.stat_answer)) if r.n}
        rollups.rebuild(rescore="none")
        db.session.commit()
        assert {tuple(r) for r in db.session.execute(sa.select(rollups.stat_answer)) if r.n} == rows
    edits = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "response.edit")
                               .order_by(AuditLog.id)).all()
    values = [2] + [e.details["changes"]["q17"][1] for e in edits]
    for previous, entry in zip(values, edits, strict=False):
        assert entry.details["changes"]["q17"][0] == previous  # each edit saw the last one


def test_simultaneous_reconciliations_never_fail(app: Flask, groups: tuple[Unit, Unit],
                                                 people: dict[str, User]) -> None:
    batch = make_batch(groups[0], 1, double=True)
    serial = serials(batch)[0]
    first, second = app.test_client(), app.test_client()
    login(first, "totruong1")
    login(second, "thuky1")
    first.post(f"/staff/sheets/{serial}", data=sheet_data(q17=2))
    second.post(f"/staff/sheets/{serial}", data=sheet_data(q17=3))
    statuses = _threads(
        lambda: first.post(f"/staff/sheets/{serial}/reconcile", data={"q_q17": "2"}).status_code,
        lambda: second.post(f"/staff/sheets/{serial}/reconcile", data={"q_q17": "3"}
                            ).status_code)
    assert set(statuses) == {302}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    assert rollups.in_step()


def test_no_one_sees_a_double_entry_before_it_is_settled(app_factory: Callable[..., Flask]
                                                         ) -> None:
    app, serial, first, second = counting_first(app_factory, "1")
    first.post(f"/staff/sheets/{serial}", data=sheet_data(y_kien="Ý riêng lần 1"))
    for client in (first, second):
        peek = client.get(f"/staff/sheets/{serial}/edit")
        assert peek.status_code == 302
        assert "Ý riêng lần 1" not in client.get(peek.headers["Location"]).get_data(
            as_text=True)


def test_config_flags_are_read_as_flags(tmp_path: Path) -> None:
    from survey.config import ConfigError
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", PAPER_COUNT_BEFORE_VERIFIED="False",
                   SAMPLE_TARGET="150")
    assert app.config["PAPER_COUNT_BEFORE_VERIFIED"] is False
    assert app.config["SAMPLE_TARGET"] == 150
    for bad in ({"PAPER_COUNT_BEFORE_VERIFIED": "maybe"}, {"SAMPLE_TARGET": "many"},
                {"SAMPLE_TARGET": 0}, {"TARGETS": {"sipas-dichvu": 120}}, {"MIN_CELL": "-1"}):
        with pytest.raises(ConfigError):
            make_app(f"sqlite:///{tmp_path / 'x.db'}", **bad)


def test_progress_shares_the_target_between_all_groups(client: FlaskClient, app: Flask,
                                                       groups: tuple[Unit, Unit],
                                                       people: dict[str, User]) -> None:
    make_batch(groups[0], 2)
    rows, _ = paper.progress([groups[0]], ward_target=200)
    assert [(r.unit.code, r.target) for r in rows if r.unit] == [("TDP-01", 100)]
    staff_rows, _ = paper.progress([groups[0], groups[1]], ward_target=200)
    assert [(r.unit.code, r.issued, r.target) for r in staff_rows if r.unit] == [
        ("TDP-01", 2, 100), ("TDP-02", 0, 100)]  # a group without a batch is listed too
    login(client, "canbo")
    assert client.get("/staff/progress?questionnaire=%00").status_code == 404
    assert client.get("/staff/progress?questionnaire=papi-phuong").status_code == 200


def test_targets_are_shared_within_each_ward_and_a_group_s_own_target_wins(
        client: FlaskClient, app: Flask, groups: tuple[Unit, Unit],
        people: dict[str, User]) -> None:
    """A city instance holds several wards: each ward's target is shared between its own
    active groups, in the batch form's default count and on Tiến độ alike."""
    other = units.create_unit("PHUONG-2", "Phường Khác", "ward", actor="t")
    # Four groups in the other ward (one of them under a unit of it), one inactive.
    area = units.create_unit("KV-2", "Khu vực 2", "office", parent=other, actor="t")
    far = [units.create_unit(f"TDP-2{i}", f"Tổ {i}", "group",
                             parent=area if i == 3 else other, actor="t") for i in range(1, 5)]
    far[3].active = False
    db.session.commit()
    assert paper.default_sheet_count(200, groups[0]) == 100  # 200 / 2 groups of its ward
    assert paper.default_sheet_count(200, far[0]) == 67  # 200 / 3 active groups, rounded up
    far[1].sample_target = 40
    other.sample_target = 300
    db.session.commit()
    assert paper.default_sheet_count(200, far[1]) == 40  # its own target
    assert paper.default_sheet_count(200, far[0]) == 100  # 300 / 3
    rows, total = paper.progress([groups[0], groups[1], *far], ward_target=200)
    assert [(r.unit.code, r.target) for r in rows if r.unit] == [
        ("TDP-01", 100), ("TDP-02", 100), ("TDP-21", 100), ("TDP-22", 40), ("TDP-23", 100)]
    assert total.target == 200 + 300
    # The form offers the first group's count, its ward's share, not 200 / every group.
    login(client, "canbo")
    html = client.get("/staff/batches").get_data(as_text=True)
    assert re.search(r'name="sheet_count"[^>]*value="100"', html)


def test_the_batches_search_box_keeps_what_was_typed(client: FlaskClient,
                                                     people: dict[str, User]) -> None:
    """A receipt code that finds nothing is shown again in the box, to be corrected."""
    login(client, "canbo")
    page = client.get("/staff/batches?q=K7QF-3MZ\"X").get_data(as_text=True)
    assert "Không có phiếu giấy nào mang mã" in page
    box = re.search(r'<input type="search" id="f-receipt"[^>]*>', page)
    assert box
    assert 'value="K7QF-3MZ&#34;X"' in box.group(0) or 'value="K7QF-3MZ&quot;X"' in box.group(0)
    empty = re.search(r'<input type="search" id="f-receipt"[^>]*>',
                      client.get("/staff/batches").get_data(as_text=True))
    assert empty
    assert 'value=""' in empty.group(0)


def test_printed_qr_survives_a_printer_margin_and_parts(client: FlaskClient,
                                                        groups: tuple[Unit, Unit],
                                                        people: dict[str, User],
                                                        tmp_path: Path) -> None:
    from PIL import Image

    from survey.services.paper_forms import SHEETS_PER_PDF

    batch = make_batch(groups[0], SHEETS_PER_PDF + 2)
    login(client, "canbo")
    page = client.get(f"/staff/batches/{batch.id}").get_data(as_text=True)
    assert "forms.pdf?part=2" in page
    part = client.get(f"/staff/batches/{batch.id}/forms.pdf?part=2")
    content = part.data
    part.close()
    assert client.get(f"/staff/batches/{batch.id}/forms.pdf?part=3").status_code == 404
    for odd in ("²", "٣", "0", "-1", "9" * 40, ""):  # "²".isdigit() is true (a 500, issue 15)
        assert client.get(f"/staff/batches/{batch.id}/forms.pdf?part={odd}").status_code == 404
    pdf = tmp_path / "part2.pdf"
    pdf.write_bytes(content)
    pdftoppm, zbarimg = require_program("pdftoppm"), require_program("zbarimg")
    subprocess.run([pdftoppm, "-png", "-r", "150", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) >= 2
    decoded = set()
    for png in pages:
        image = Image.open(png).convert("RGB")
        margin = int(5 / 25.4 * 150)  # a printer's 5 mm unprintable edge
        image.paste((255, 255, 255), (0, 0, image.width, margin))
        image.save(png)
        result = subprocess.run([zbarimg, "-q", "--raw", str(png)], capture_output=True,
                                text=True, check=False).stdout.strip()
        assert result, png  # the QR reads on every page, margin or not
        decoded.add(result)
    assert decoded == {f"http://survey.test/staff/sheets/{s}" for s in serials(batch)[10:]}


def _pdf_pages(path: Path) -> int:
    info = subprocess.run([require_program("pdfinfo"), str(path)], capture_output=True,
                          text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]


def _decoded_qr_per_page(path: Path, tmp_path: Path) -> list[str]:
    pdftoppm, zbarimg = require_program("pdftoppm"), require_program("zbarimg")
    subprocess.run([pdftoppm, "-png", "-r", "100", str(path), str(tmp_path / "pg")], check=True)
    return [subprocess.run([zbarimg, "-q", "--raw", str(png)], capture_output=True, text=True,
                           check=False).stdout.strip()
            for png in sorted(tmp_path.glob("pg*.png"))]


def _words_outside(path: Path, margin_mm: float = 5) -> list[str]:
    """Return the words of a PDF that reach into the outer ``margin_mm`` of their page."""
    html = subprocess.run([require_program("pdftotext"), "-bbox", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    margin = margin_mm / 25.4 * 72
    outside = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html,
                            re.DOTALL):
        width, height = float(page.group(1)), float(page.group(2))
        for word in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                r'yMax="([\d.]+)">([^<]*)</word>', page.group(3)):
            x0, y0, x1, y1 = (float(word.group(i)) for i in range(1, 5))
            if x0 < margin or y0 < margin or x1 > width - margin or y1 > height - margin:
                outside.append(word.group(5))
    return outside


def _inked_margins(path: Path, tmp_path: Path, margin_mm: float = 5) -> list[int]:
    """Return the pages (from 1) with anything drawn in their outer ``margin_mm``: a box or a
    rule cut by the printer shows here, where words (``_words_outside``) do not."""
    from PIL import Image

    subprocess.run([require_program("pdftoppm"), "-gray", "-r", "72", str(path),
                    str(tmp_path / "mg")], check=True)
    inked: list[int] = []
    for number, pgm in enumerate(sorted(tmp_path.glob("mg*.pgm")), start=1):
        with Image.open(pgm) as image:
            strip = round(margin_mm / 25.4 * 72)
            width, height = image.size
            for box in ((0, 0, width, strip), (0, height - strip, width, height),
                        (0, 0, strip, height), (width - strip, 0, width, height)):
                darkest = image.crop(box).getextrema()[0]
                assert isinstance(darkest, int)  # one grey channel
                if darkest < 200:  # darker than a light grey
                    inked.append(number)
                    break
    return inked


def _items_missing_boxes(path: Path, numbers: list[int], codes: list[str]) -> list[int]:
    """Return the item numbers whose printed row lacks one of its option ``codes``.

    A row of a grid spans from its number ("15.") down to the next item's number; each
    option's code is printed beside its box, right of the number, within that span.
    """
    html = subprocess.run([require_program("pdftotext"), "-f", "1", "-l", "1", "-bbox",
                           str(path), "-"], capture_output=True, text=True, check=True).stdout
    words = [(float(m[1]), float(m[2]), float(m[3]), float(m[4]), m[5]) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html)]
    tops = {}
    for number in [*numbers, numbers[-1] + 1]:
        found = [w for w in words if w[4] == f"{number}."]
        if found:
            tops[number] = (found[0][0], found[0][1])
    missing = []
    for number in numbers:
        if number not in tops:
            missing.append(number)
            continue
        x, top = tops[number]
        bottom = tops.get(number + 1, (0.0, top + 40.0))[1]
        inside = {w[4] for w in words if w[0] > x + 100 and top - 2 <= w[1] < bottom - 2}
        if not set(codes) <= inside:
            missing.append(number)
    return missing


def test_sheet_layout_puts_scale_items_in_grids_and_keeps_the_numbering(app: Flask) -> None:
    from survey.services.paper_forms import sheet_blocks
    from survey.services.questionnaires import get_questionnaire

    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    blocks = sheet_blocks(questionnaire)
    grids = [b for b in blocks if b["kind"] == "grid"]
    rows = [[r["question"].id for r in g["rows"] if "question" in r] for g in grids]
    # One grid for the 16 five-level items across elements I-IV, one for element V (six boxes).
    assert rows == [[f"q{i}" for i in range(15, 31)], ["q31", "q32", "q33"]]
    assert [len(g["options"]) for g in grids] == [5, 6]
    assert [r["section"].id for r in grids[0]["rows"] if "section" in r] == [
        "thu_tuc_hanh_chinh", "cong_chuc", "ket_qua"]
    # Every question prints once, in the questionnaire's order and with its number (the typing
    # page shows the same numbers in the same order).
    printed = [r["question"] for b in blocks for r in b.get("rows", []) if "question" in r]
    asked = [q for s in questionnaire.sections for q in s.questions]
    assert [q.id for q in printed] == [q.id for q in asked]
    # Short profile questions share a line; a long one does not.
    short = {b["question"].id for b in blocks if b["kind"] == "question" and b["short"]}
    assert "gioi_tinh" in short
    assert "linh_vuc" not in short


def test_sipas_dichvu_sheets_print_one_page_each_with_serial_qr_and_nothing_clipped(
        client: FlaskClient, groups: tuple[Unit, Unit], people: dict[str, User],
        tmp_path: Path) -> None:
    from survey.services.paper_forms import SHEETS_PER_PDF

    batch = make_batch(groups[0], SHEETS_PER_PDF)
    login(client, "canbo")
    response = client.get(f"/staff/batches/{batch.id}/forms.pdf")
    path = tmp_path / "forms.pdf"
    path.write_bytes(response.data)
    response.close()
    assert _pdf_pages(path) == SHEETS_PER_PDF  # the 19 items and the profile on one A4 page
    pdftotext = require_program("pdftotext")
    for number, serial in enumerate(serials(batch), start=1):
        text = subprocess.run([pdftotext, "-f", str(number), "-l", str(number), str(path), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert serial in text
        for label in ("Rất không hài lòng", "Rất hài lòng", "Không áp dụng", "33.",
                      "Địa hình nơi sinh sống", "Xin trân trọng cảm ơn Ông/Bà!"):
            assert label in text, (number, label)
    assert _words_outside(path) == []
    assert _decoded_qr_per_page(path, tmp_path) == [
        f"http://survey.test/staff/sheets/{s}" for s in serials(batch)]
    assert _inked_margins(path, tmp_path) == []  # no box, rule or QR code cut either
    # Each printed item row carries its boxes: 1-5 for items 15-30, and 1-5 and 9 for 31-33.
    assert _items_missing_boxes(path, list(range(15, 31)), list("12345")) == []
    assert _items_missing_boxes(path, [31, 32, 33], list("123459")) == []


def test_papi_phuong_sheets_take_at_most_four_pages_each_with_their_qr(
        client: FlaskClient, groups: tuple[Unit, Unit], people: dict[str, User],
        tmp_path: Path) -> None:
    batch = paper.create_batch("papi-phuong", groups[0], 2, leader=None, double_entry=False,
                               actor="test")
    db.session.commit()
    login(client, "canbo")
    response = client.get(f"/staff/batches/{batch.id}/forms.pdf")
    path = tmp_path / "papi.pdf"
    path.write_bytes(response.data)
    response.close()
    pages = _pdf_pages(path)
    per_sheet = pages // 2
    assert pages == 2 * per_sheet
    assert per_sheet <= 4
    assert per_sheet == 1 or per_sheet % 2 == 0  # duplex: a sheet never starts on a back page
    assert _words_outside(path) == []
    assert _inked_margins(path, tmp_path) == []
    urls = [f"http://survey.test/staff/sheets/{s}" for s in serials(batch)]
    assert _decoded_qr_per_page(path, tmp_path) == [u for u in urls for _ in range(per_sheet)]
