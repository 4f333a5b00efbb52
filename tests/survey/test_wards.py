"""One instance for a city (contract §11): wards as tenants, the city role, the comparison.

Two wards, A and B, each with a counter and a residential group, their links, responses, a
case, a printed batch and accounts. Staff and admins limited to ward A walk every route and
find nothing of ward B; the city account reads both and changes nothing; a filter on a ward
covers its units; the comparison ranks the wards and hides a small one.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import Batch, Case, FlagGroup, Response, SurveyLink, Unit, User
from survey.reporting.filters import Filters, parse_filters
from survey.services import accounts, integrity, paper, units
from survey.services.text import receipt_query
from tests import reference_scorer as ref
from tests.conftest import PASSWORD, login, require_program, sipas_answers, summary_of

QID = "sipas-dichvu"
SECRET_B = "Bí mật riêng của phường Bêta"
B_MARKERS = ("PHUONG-B", "Phường Bêta", "B-QUAY", "B-TDP", SECRET_B, "totruong_b", "canbo_b")
B_NEVER = (SECRET_B, "Phường Bêta", "Quầy Bêta", "Tổ Bêta", "totruong_b", "canbo_b")
"""What no page may show staff of ward A, even a refusal (which may repeat a code asked)."""


@dataclass
class City:
    """Two wards and what each holds."""

    ward_a: Unit
    ward_b: Unit
    links: dict[str, str]  # unit code -> link code
    receipts: dict[str, list[str]]  # ward code -> receipts
    batch_b: Batch
    people: dict[str, User]


def _receipt(html: str) -> str:
    found = re.search(r"<strong>([A-Z2-7]{4}-[A-Z2-7]{4})</strong>", html)
    assert found, html[:400]
    return found.group(1)


def submit(app: Flask, link: str, **changes: Any) -> str:
    """Answer a link as a citizen (each on their own phone); return the receipt."""
    posted = app.test_client().post(f"/s/{link}", data=sipas_answers(**changes))
    assert posted.status_code == 200, posted.get_data(as_text=True)[:300]
    return _receipt(posted.get_data(as_text=True))


@pytest.fixture
def city(app: Flask) -> City:
    ward_a = units.create_unit("PHUONG-A", "Phường Alpha", "ward", actor="test")
    ward_b = units.create_unit("PHUONG-B", "Phường Bêta", "ward", actor="test")
    made = {code: units.create_unit(code, name, kind, parent=parent, actor="test")
            for code, name, kind, parent in (
                ("A-QUAY", "Quầy Alpha", "counter", ward_a),
                ("A-TDP", "Tổ Alpha", "group", ward_a),
                ("B-QUAY", "Quầy Bêta", "counter", ward_b),
                ("B-TDP", "Tổ Bêta", "group", ward_b))}
    links = {code: units.ensure_link(unit, QID, actor="test").code
             for code, unit in made.items()}
    people = {
        "canbo_a": accounts.create_user("canbo_a", PASSWORD, "staff", ward=ward_a, actor="t"),
        "quantri_a": accounts.create_user("quantri_a", PASSWORD, "admin", ward=ward_a,
                                          actor="t"),
        "canbo_b": accounts.create_user("canbo_b", PASSWORD, "staff", ward=ward_b, actor="t"),
        "totruong_a": accounts.create_user("totruong_a", PASSWORD, "leader", [made["A-TDP"]],
                                           actor="t"),
        "totruong_b": accounts.create_user("totruong_b", PASSWORD, "leader", [made["B-TDP"]],
                                           actor="t"),
        "thanhpho": accounts.create_user("thanhpho", PASSWORD, "city", actor="t"),
        "quantri": accounts.create_user("quantri", PASSWORD, "admin", actor="t"),
    }
    batch_b = paper.create_batch(QID, made["B-TDP"], 2, leader=people["totruong_b"],
                                 double_entry=False, actor="t")
    db.session.commit()
    receipts: dict[str, list[str]] = {"PHUONG-A": [], "PHUONG-B": []}
    for i in range(6):
        receipts["PHUONG-A"].append(submit(app, links["A-QUAY" if i % 2 else "A-TDP"],
                                           q_q15=str(3 + i % 3), q_y_kien="Quầy A tốt"))
        receipts["PHUONG-B"].append(submit(app, links["B-QUAY" if i % 2 else "B-TDP"],
                                           q_q15="1" if i == 0 else "5", q_y_kien=SECRET_B))
    return City(ward_a, ward_b, links, receipts, batch_b, people)


def client_of(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def readable(response: Any) -> str:
    """Return what a person could read in a response: text, or the text of an XLSX or PDF."""
    data = response.get_data()
    kind = response.mimetype or ""
    if kind.endswith("spreadsheetml.sheet") or data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist()
                            if n.endswith(".xml"))
    if data[:5] == b"%PDF-":
        require_program("pdftotext")
        return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
    return data.decode("utf-8", errors="replace")


def state_of_ward_b(city: City) -> dict[str, Any]:
    """What a change to ward B would alter: its units, links, responses, cases, accounts."""
    b_ids = city.ward_b.subtree_ids()
    db.session.expire_all()
    return {
        "units": sorted((u.code, u.name, u.active, u.opening_hours, json.dumps(u.settings))
                        for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(b_ids)))),
        "links": sorted((link.code, link.active) for link in db.session.scalars(
            sa.select(SurveyLink).where(SurveyLink.unit_id.in_(b_ids)))),
        "responses": sorted((r.receipt, r.excluded, r.flags, tuple(
            (a.question_id, a.value) for a in r.answers)) for r in db.session.scalars(
            sa.select(Response).where(Response.unit_id.in_(b_ids)))),
        "cases": sorted((c.receipt, c.status, c.assignee_id, c.reply) for c in
                        db.session.scalars(sa.select(Case).where(Case.unit_id.in_(b_ids)))),
        "users": sorted((u.username, u.role, u.active, u.ward_id, u.password_hash)
                        for u in db.session.scalars(sa.select(User).where(
                            User.username.in_(("canbo_b", "totruong_b"))))),
        "batch": (city.batch_b.returned_count, city.batch_b.sheet_count),
    }


def route_values(city: City) -> dict[str, str]:
    """Values for every route argument, each naming an object of ward B."""
    integrity.scan()  # ward B's responses are flagged (same answers, straight lines...)
    db.session.commit()
    group = db.session.scalar(sa.select(FlagGroup.id).where(
        FlagGroup.unit_id.in_(city.ward_b.subtree_ids())).order_by(FlagGroup.id).limit(1))
    from survey.models import ApiToken

    accounts.create_token(city.people["canbo_b"], "phường B", actor="test")
    db.session.commit()
    token = db.session.scalar(sa.select(sa.func.max(ApiToken.id)))
    return {"token_id": str(token),"code": city.links["B-QUAY"], "batch_id": str(city.batch_b.id),
            "serial": paper.format_serial(city.batch_b.sheets[0].serial),
            "user_id": str(city.people["canbo_b"].id), "group_id": str(group or 1),
            "receipt": city.receipts["PHUONG-B"][0], "kind": "groups", "fmt": "csv"}


UNIT_PAGES = ("/staff/units/<code>", "/staff/units/<code>/links", "/staff/units/<code>/settings")


@pytest.mark.parametrize("who", ["canbo_a", "quantri_a"])
def test_staff_of_ward_a_walking_every_route_find_nothing_of_ward_b(
        app: Flask, city: City, who: str) -> None:
    """Every /staff/ and /api/ route, as staff (then an admin) of ward A, aimed at ward B."""
    values = route_values(city)
    before = state_of_ward_b(city)
    client = client_of(app, who)
    assert values["group_id"] != "1", "ward B has a flagged group to aim at"
    seen_a = walked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/staff", "/api")):
            continue
        url = rule.rule
        for name in rule.arguments:
            value = "B-QUAY" if rule.rule in UNIT_PAGES and name == "code" else values[name]
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
        names_an_object = bool(set(rule.arguments) - {"kind", "fmt"})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for query in ("?unit=B-QUAY&questionnaire=sipas-dichvu", "?unit=PHUONG-B", ""):
                walked += 1
                response = client.open(url + query, method=method,
                                       data={"name": "Đã đổi", "role": "staff", "q_q15": "1",
                                             "reason": "Thử thay đổi dữ liệu phường B"})
                body = readable(response)
                found = [m for m in B_NEVER if m in body]
                found += [r for r in city.receipts["PHUONG-B"] if r in body]
                if response.status_code < 300:
                    found += [m for m in B_MARKERS if m in body]
                    seen_a += "PHUONG-A" in body or "A-QUAY" in body
                assert not found, (method, url + query, response.status_code, found)
                if response.status_code < 300:
                    pass
                elif names_an_object or query:
                    assert response.status_code in (302, 400, 401, 403, 404, 405, 409), (
                        method, url + query, response.status_code)
                else:
                    assert response.status_code in (302, 400, 401, 403, 404, 405, 409), (
                        method, url)
                response.close()
    assert walked >= 150
    assert seen_a >= 5  # the walk does read ward A's own pages
    assert state_of_ward_b(city) == before


def test_every_export_and_the_api_of_ward_a_holds_ward_a_only(app: Flask, city: City) -> None:
    client = client_of(app, "canbo_a")
    for fmt in ("csv", "json", "xlsx", "pdf"):
        with client.get(f"/staff/export.{fmt}?questionnaire={QID}") as response:
            assert response.status_code == 200, fmt
            body = readable(response)
        assert ("PHUONG-A" if fmt == "json" else "A-QUAY") in body or fmt == "pdf", fmt
        assert not [m for m in B_MARKERS if m in body], fmt
    summary = client.get(f"/api/v1/summary?questionnaire={QID}").get_json()
    assert summary["n_responses"] == 6
    assert summary["filters"]["units"] == ["PHUONG-A"]
    # Naming ward B, or one of its units, is refused with a reason.
    for code in ("PHUONG-B", "B-QUAY"):
        refused = client.get(f"/api/v1/summary?questionnaire={QID}&unit={code}")
        assert refused.status_code == 403
        assert code in refused.get_json()["error"]
    assert client.get(f"/api/v1/wards?questionnaire={QID}").status_code == 403
    cases = client.get("/api/v1/cases").get_json()
    assert all(c["unit"].startswith("A-") for c in cases)


def test_a_filter_on_a_ward_covers_all_its_units(app: Flask, city: City, runner: Any,
                                                  tmp_path: Path) -> None:
    whole = summary_of(parse_filters(QID, None, None, ["PHUONG-A"]))
    assert whole is not None
    assert whole["n_responses"] == 6
    assert whole["filters"]["units"] == ["PHUONG-A"]
    counter = summary_of(parse_filters(QID, None, None, ["A-QUAY"]))
    assert counter is not None
    assert counter["n_responses"] == 3
    out = tmp_path / "a.json"
    result = runner.invoke(args=["export", "--questionnaire", QID, "--unit", "PHUONG-B",
                                 "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["n_responses"] == 6


def test_the_summary_of_a_ward_equals_a_recomputation_from_its_csv(
        app: Flask, city: City, runner: Any, tmp_path: Path) -> None:
    """Contract §6 from §5: the ward's CSV export, scored by the reference scorer."""
    for i in range(20):  # enough for intervals, varied answers
        submit(app, city.links["A-QUAY" if i % 3 else "A-TDP"], q_q15=str(1 + i % 5),
               q_q20=str(1 + (i * 2) % 5), q_q30=str(5 - i % 5))
    csv_path, json_path = tmp_path / "a.csv", tmp_path / "a.json"
    for fmt, path in (("csv", csv_path), ("json", json_path)):
        result = runner.invoke(args=["export", "--questionnaire", QID, "--unit", "PHUONG-A",
                                     "--format", fmt, "--out", str(path)])
        assert result.exit_code == 0, result.output
    summary = json.loads(json_path.read_text(encoding="utf-8"))
    definition = ref.load_definition(app.config["QUESTIONNAIRE_DIR"], QID)
    rows = ref.read_csv(csv_path.read_bytes())
    assert {row["unit"] for row in rows} == {"A-QUAY", "A-TDP"}
    reference = ref.score(definition, rows)
    assert summary["n_responses"] == 26
    assert ref.differences(summary, reference) == []


def test_the_city_reads_every_ward_and_changes_nothing(app: Flask, city: City) -> None:
    client = client_of(app, "thanhpho")
    for path in ("/staff/", f"/staff/?unit=PHUONG-B&questionnaire={QID}", "/staff/wards",
                 "/staff/suggestions", "/staff/cases", "/staff/flags", "/staff/units",
                 "/staff/indicators", "/staff/units/PHUONG-B/settings"):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/staff/suggestions?questionnaire={QID}").get_data(as_text=True)
    assert SECRET_B in page
    assert "Quầy A tốt" in page
    for path in ("/staff/users", "/staff/audit"):
        assert client.get(path).status_code == 403, path
    values = route_values(city)
    before = state_of_ward_b(city)
    a_units = sorted((u.code, u.name, u.active) for u in db.session.scalars(sa.select(Unit)))
    refused = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/staff", "/api")) or "POST" not in (rule.methods or ()):
            continue
        url = rule.rule
        for name in rule.arguments:
            value = "B-QUAY" if rule.rule in UNIT_PAGES and name == "code" else values[name]
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
        response = client.post(url, data={"name": "Đã đổi", "role": "staff", "q_q15": "1",
                                          "current": PASSWORD, "new": "mot mat khau moi",
                                          "confirm": "mot mat khau moi", "text": "Trả lời",
                                          "reason": "Thành phố thử thay đổi"},
                               json=None)
        assert response.status_code == 403, (url, response.status_code)
        refused += 1
    token = accounts.create_token(city.people["thanhpho"], "thử", actor="t")
    db.session.commit()
    reply = app.test_client().post(f"/api/v1/cases/{city.receipts['PHUONG-B'][0]}/reply",
                                   json={"text": "Thành phố trả lời"},
                                   headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 403
    assert refused >= 20
    assert state_of_ward_b(city) == before
    assert sorted((u.code, u.name, u.active) for u in db.session.scalars(sa.select(Unit))
                  ) == a_units
    assert "Phường Bêta" in client.get("/staff/wards").get_data(as_text=True)


def test_the_wards_api_ranks_the_wards_and_hides_a_small_one(app: Flask, city: City) -> None:
    for _ in range(4):
        submit(app, city.links["B-QUAY"], q_q15="5")
    client = client_of(app, "thanhpho")
    wards = client.get(f"/api/v1/wards?questionnaire={QID}").get_json()
    assert [w["ward"] for w in wards] == ["PHUONG-B", "PHUONG-A"]  # B is rated higher
    assert [w["n_responses"] for w in wards] == [10, 6]
    for row in wards:
        assert set(row) >= {"ward", "name", "n_responses", "index", "verdict"}
        assert set(row["index"]) == {"value", "ci95"}
    # The comparison equals each ward's own summary.
    for row in wards:
        own = summary_of(parse_filters(QID, None, None, [row["ward"]]))
        assert own is not None
        assert row["index"]["value"] == pytest.approx(own["index"]["value"])
        assert row["index"]["ci95"] == pytest.approx(own["index"]["ci95"])
    # With a higher small-cell minimum, ward A has too few responses: counts only, last.
    app.config["MIN_CELL"] = 8
    wards = client.get(f"/api/v1/wards?questionnaire={QID}").get_json()
    assert wards[-1]["ward"] == "PHUONG-A"
    assert wards[-1]["n_responses"] == 6
    assert wards[-1]["index"] == {"value": None, "ci95": None}
    assert wards[-1]["verdict"] is None
    assert wards[-1]["suppressed"] is True
    page = client.get(f"/staff/wards?questionnaire={QID}").get_data(as_text=True)
    assert "chưa đủ phiếu" in page
    with client.get(f"/staff/wards.xlsx?questionnaire={QID}") as book:
        assert book.status_code == 200
        text = readable(book)
    assert "Chưa đủ phiếu" in text
    assert "Phường Alpha" in text
    # Who may not compare: a ward's staff, and nobody logged in.
    assert client_of(app, "canbo_a").get(f"/api/v1/wards?questionnaire={QID}"
                                         ).status_code == 403
    assert app.test_client().get(f"/api/v1/wards?questionnaire={QID}").status_code == 401
    assert client.get("/api/v1/wards?questionnaire=khong-co").status_code == 404
    assert client.get(f"/api/v1/wards?questionnaire={QID}&period=2026-Q9").status_code == 400


def test_accounts_of_a_ward_are_made_and_changed_within_it(app: Flask, city: City,
                                                           runner: Any) -> None:
    admin_a = city.people["quantri_a"]
    made = accounts.create_user("canbo_a2", PASSWORD, "staff", actor=admin_a)
    assert made.ward_id == city.ward_a.id  # limited to the admin's own ward
    b_group = units.get_unit("B-TDP")
    assert b_group is not None
    for kwargs in ({"role": "city"}, {"role": "staff", "ward": city.ward_b},
                   {"role": "leader", "units": [b_group]}):
        role = kwargs.pop("role")
        with pytest.raises(accounts.AccountError):
            accounts.create_user("khong_duoc", PASSWORD, role, actor=admin_a, **kwargs)
    db.session.rollback()
    with pytest.raises(accounts.AccountError):
        accounts.update_user(city.people["canbo_b"], role="staff", units=[], active=False,
                             actor=admin_a)
    db.session.rollback()
    page = client_of(app, "quantri_a").get("/staff/users").get_data(as_text=True)
    assert "canbo_a" in page
    assert "canbo_b" not in page
    assert "thanhpho" not in page
    # The command line: --ward, and a clear refusal of what cannot be.
    result = runner.invoke(args=["users", "create", "canbo_b2", "--role", "staff", "--ward",
                                 "PHUONG-B"], input="mot mat khau dai\n")
    assert result.exit_code == 0, result.output
    assert "ward PHUONG-B" in result.output
    result = runner.invoke(args=["users", "create", "x_b3", "--role", "leader", "--ward",
                                 "PHUONG-B"], input="mot mat khau dai\n")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    result = runner.invoke(args=["users", "create", "x_b4", "--role", "staff", "--ward",
                                 "KHONG-CO"], input="mot mat khau dai\n")
    assert result.exit_code != 0
    assert "unknown ward" in result.output


def test_with_several_wards_a_unit_names_its_ward(app: Flask, city: City, runner: Any) -> None:
    result = runner.invoke(args=["units", "create", "C-QUAY", "--name", "Quầy C", "--kind",
                                 "counter"])
    assert result.exit_code != 0
    assert "name the ward" in result.output
    assert units.get_unit("C-QUAY") is None
    client = client_of(app, "canbo_a")
    response = client.post("/staff/units", data={"code": "C-QUAY", "name": "Quầy C",
                                                 "kind": "counter", "parent": "PHUONG-B"})
    assert response.status_code in (400, 403)
    assert units.get_unit("C-QUAY") is None
    response = client.post("/staff/units", data={"code": "A-QUAY-2", "name": "Quầy A2",
                                                 "kind": "counter", "parent": "PHUONG-A"})
    assert response.status_code == 302
    made = units.get_unit("A-QUAY-2")
    assert made is not None
    assert made.ward is not None
    assert made.ward.code == "PHUONG-A"


def test_a_wards_own_settings_reach_its_reports_and_its_citizens(
        app: Flask, city: City, runner: Any, tmp_path: Path) -> None:
    client = client_of(app, "canbo_b")
    page = client.get("/staff/units/PHUONG-B/settings")
    assert page.status_code == 200
    saved = client.post("/staff/units/PHUONG-B/settings", data={
        "heading": "UBND PHƯỜNG BÊTA", "upper_authority": "UBND THÀNH PHỐ HẢI PHÒNG",
        "place": "Hải Phòng", "pakn_phone": "0225 3 999 888", "signer_title": "CHỦ TỊCH",
        "signer_name": "Nguyễn Văn Bê", "questionnaire": QID, "target": "90"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    saved = client.post("/staff/units/PHUONG-B/settings", data={
        "heading": "UBND PHƯỜNG BÊTA", "upper_authority": "UBND THÀNH PHỐ HẢI PHÒNG",
        "place": "Hải Phòng", "pakn_phone": "0225 3 999 888", "signer_title": "CHỦ TỊCH",
        "signer_name": "Nguyễn Văn Bê", "sample_target": "300", "questionnaire": QID,
        "target": "90"})
    assert saved.status_code == 302
    assert city.ward_b.sample_target == 300
    progress = client.get("/staff/progress").get_data(as_text=True)
    assert "<th class=\"num\">300</th>" in progress  # the ward's total target
    bad = client.post("/staff/units/PHUONG-B/settings", data={
        "pakn_phone": "gọi tôi", "questionnaire": QID, "target": "150", "sample_target": "0"})
    assert bad.status_code == 400
    assert "Mục tiêu là một số từ 0 đến 100." in bad.get_data(as_text=True)
    # Staff of ward A cannot read or change them.
    assert client_of(app, "canbo_a").get("/staff/units/PHUONG-B/settings").status_code == 403
    # The ward's target is its summary's target; the other ward keeps the default.
    summary = client.get(f"/api/v1/summary?questionnaire={QID}").get_json()
    assert summary["target"]["value"] == 90.0
    other = client_of(app, "canbo_a").get(f"/api/v1/summary?questionnaire={QID}").get_json()
    assert other["target"]["value"] == 80.0
    # The citizen of ward B is given its PAKN line; ward A's citizens the installation's.
    thanks = app.test_client().post(f"/s/{city.links['B-QUAY']}", data=sipas_answers())
    assert "0225 3 999 888" in thanks.get_data(as_text=True)
    thanks = app.test_client().post(f"/s/{city.links['A-QUAY']}", data=sipas_answers())
    assert "0225 3 999 888" not in thanks.get_data(as_text=True)
    # The PDF of ward B carries its heading, not "UBND PHƯỜNG".
    out = tmp_path / "b.pdf"
    result = runner.invoke(args=["export", "--questionnaire", QID, "--unit", "PHUONG-B",
                                 "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    require_program("pdftotext")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True
                          ).stdout.decode()
    assert "UBND PHƯỜNG BÊTA" in text.upper()
    # The city's comparison weighs ward B against its own target.
    wards = client_of(app, "thanhpho").get(f"/api/v1/wards?questionnaire={QID}").get_json()
    assert {w["ward"]: w["target"] for w in wards} == {"PHUONG-B": 90.0, "PHUONG-A": 80.0}


def test_a_ward_filter_in_the_case_list_covers_its_units(app: Flask, city: City) -> None:
    staff = client_of(app, "quantri")
    page = staff.get("/staff/cases?unit=PHUONG-B").get_data(as_text=True)
    low = city.receipts["PHUONG-B"][0]
    assert receipt_query(low) == low
    assert low in page
    assert all(r not in page for r in city.receipts["PHUONG-A"])


def test_a_filter_never_isolates_a_few_citizens_answers(app: Flask, city: City) -> None:
    """Below the small-cell minimum a filtered summary gives counts only (issue: anonymity)."""
    app.config["MIN_CELL"] = 5
    paper_only = f"/api/v1/summary?questionnaire={QID}&unit=A-QUAY&channel=qr"
    for who in ("canbo_a", "thanhpho", "quantri_a"):
        summary = client_of(app, who).get(paper_only).get_json()
        assert summary["n_responses"] == 3
        assert summary["suppressed"] is True
        assert summary["index"] == {"value": None, "ci95": None}
        for group in summary["groups"]:
            assert group["value"] is None
            assert group["n"] is None
            for item in group["items"]:
                assert (item["n"], item["satisfied"], item["rate"], item["mean"]) == (
                    None, None, None, None)
        page = client_of(app, who).get(f"/staff/?questionnaire={QID}&unit=A-QUAY&channel=qr")
        assert page.status_code == 200
        assert "chỉ hiện số phiếu, không hiện kết quả" in page.get_data(as_text=True)
    # The files of that filter say nothing more than the page.
    client = client_of(app, "canbo_a")
    for fmt in ("xlsx", "pdf"):
        with client.get(f"/staff/export.{fmt}?questionnaire={QID}&unit=A-QUAY&channel=qr"
                        ) as response:
            assert response.status_code == 200
            assert "None" not in readable(response)
    # A whole ward with enough responses shows its values.
    whole = client_of(app, "canbo_a").get(f"/api/v1/summary?questionnaire={QID}").get_json()
    assert whole["n_responses"] == 6
    assert whole["index"]["value"] is not None
    assert "suppressed" not in whole
    # Staff of every ward (a one-ward installation's office) see the cell as before.
    summary = client_of(app, "quantri").get(paper_only).get_json()
    assert summary["index"]["value"] is not None
    assert "suppressed" not in summary
    # The leader of a residential group with three responses: counts only too.
    leader = client_of(app, "totruong_a").get(f"/api/v1/summary?questionnaire={QID}"
                                              ).get_json()
    assert leader["n_responses"] == 3
    assert leader["suppressed"] is True


def test_a_large_dashboard_reads_profile_answers_only_on_request(
        app: Flask, city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole months come from the rollups: the breakdown shows at once. Beyond
    PROFILE_AT_ONCE responses in the days at the ends of the period, "Xem" asks for it."""
    from analysis.vietnam import VIETNAM
    from survey.reporting import summaries
    from survey.staff import dashboard

    today = datetime.now(VIETNAM).date().isoformat()

    calls: list[str] = []
    real = summaries.counts_by_answer

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr("survey.reporting.report.counts_by_answer", counting)
    client = client_of(app, "quantri")
    client.get(f"/staff/?questionnaire={QID}")
    assert calls == ["linh_vuc"]  # a ward's data: at once
    monkeypatch.setattr(dashboard, "PROFILE_ANSWERS_AT_ONCE", 5)
    calls.clear()
    page = client.get(f"/staff/?questionnaire={QID}").get_data(as_text=True)
    assert calls == ["linh_vuc"]  # every month whole: read from the rollups, at once
    assert "bấm “Xem” để tính" not in page
    calls.clear()
    day = f"/staff/?questionnaire={QID}&from={today}&to={today}"
    page = client.get(day).get_data(as_text=True)
    assert calls == []  # one day, answer by answer, of more than 5 responses: on request
    assert "Các ngày lẻ đầu và cuối kỳ có 12 phiếu" in page
    page = client.get(day + "&by=gioi_tinh").get_data(as_text=True)
    assert calls == ["gioi_tinh"]
    assert "bấm “Xem” để tính" not in page
    monkeypatch.setattr(dashboard, "PROFILE_AT_ONCE", 5)
    calls.clear()
    page = client.get(f"/staff/?questionnaire={QID}").get_data(as_text=True)
    assert calls == []  # a city's data: on request, even from the rollups
    assert "Bảng này cộng 12 phiếu" in page


def test_suggestions_page_by_key_and_count_up_to_a_cap(app: Flask, city: City) -> None:
    """The CSV/XLSX walk pages by key (no OFFSET, no count): the same rows, in order."""
    from survey.reporting import report

    for i in range(7):
        submit(app, city.links["A-QUAY"], q_y_kien=f"Góp ý số {i}", q_q15="1" if i % 2 else "4")
    filters = Filters(QID)
    every, total = report.suggestions(db.session, filters, limit=1000)
    assert total == len(every) == 19
    for size in (1, 3, 50):
        walked = list(report.iter_suggestions(db.session, filters, page_size=size))
        assert walked == every
    low = list(report.iter_suggestions(db.session, filters, only_low=True, page_size=2))
    assert low == [s for s in every if s.low]
    assert {s.text for s in low} >= {"Góp ý số 1", "Góp ý số 3", "Góp ý số 5"}
    capped, counted = report.suggestions(db.session, filters, limit=5, cap=10)
    assert (len(capped), counted) == (5, 11)  # "more than 10"
    client = client_of(app, "quantri")
    monkey = report.COUNT_CAP
    try:
        report.COUNT_CAP = 10
        page = client.get(f"/staff/suggestions?questionnaire={QID}").get_data(as_text=True)
    finally:
        report.COUNT_CAP = monkey
    assert "Hơn 10 góp ý" in page


def _walk(client: FlaskClient, path: str, item: str) -> list[list[str]]:
    """Follow a list's "Sau" links from its first page; return each page's items."""
    pages = []
    while path:
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        pages.append(re.findall(item, html))
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        path = found.group(1).replace("&amp;", "&") if found else ""
        assert len(pages) < 50
    return pages


def test_lists_page_by_key_through_their_next_links(
        app: Flask, city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Suggestions and follow-up pages start after the last row of the page before (no
    OFFSET): walking "Sau" shows every row once, newest first; a bad key starts at the top."""
    from survey.reporting import report
    from survey.staff import dashboard

    for i in range(7):
        submit(app, city.links["A-QUAY"], q_y_kien=f"Góp ý số {i}", q_q15="1" if i % 2 else "4")
    every, _ = report.suggestions(db.session, Filters(QID), limit=1000)
    lows, low_total = report.low_ratings(db.session, Filters(QID), limit=1000)
    assert len(lows) == low_total >= 4
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 3)
    client = client_of(app, "quantri")
    pages = _walk(client, f"/staff/suggestions?questionnaire={QID}",
                  r'<p class="meta">[^<]*· Mã phiếu (\w{4}-\w{4})')
    assert [len(p) for p in pages[:-1]] == [3] * (len(pages) - 1)
    assert [r for p in pages for r in p] == [s.receipt for s in every]
    assert len(pages) == -(-len(every) // 3)
    pages = _walk(client, f"/staff/follow-up?questionnaire={QID}",
                  r'<p class="meta">[^<]*· Mã phiếu (\w{4}-\w{4})')
    assert [r for p in pages for r in p] == [r.receipt for r in lows]
    second = client.get(f"/staff/suggestions?questionnaire={QID}&page=2&after="
                        + quote(every[2].key))
    assert "Trang 2 /" in second.get_data(as_text=True)
    for bad in ("x", "2026-13-01~1~a", "~~", "2026-01-01T00:00:00~abc~", "9" * 200,
                "9999-12-31T23:59:59-05:00~1~a", "0001-01-01T00:00:00%2B05:00~1~a"):
        page = client.get(f"/staff/suggestions?questionnaire={QID}&after={bad}&page=4")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert every[0].receipt in html  # from the top
        assert "Trang 1 /" in html


@pytest.mark.parametrize("who", ["canbo_a", "totruong_a", "quantri"])
def test_suggestions_csv_streams_for_a_ward_a_leader_and_a_unit_filter(
        app: Flask, city: City, who: str) -> None:
    """The streamed CSV reads the units chosen before it starts (issue: a 500 while streaming)."""
    client = client_of(app, who)
    for query in ("", "&unit=A-TDP"):
        with client.get(f"/staff/suggestions.csv?questionnaire={QID}{query}") as response:
            assert response.status_code == 200, (who, query)
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # once
            body = response.get_data(as_text=True)
        assert "Quầy A tốt" in body
        assert (SECRET_B in body) == (who == "quantri" and not query)
