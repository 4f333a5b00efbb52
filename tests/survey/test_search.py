"""Staff searches the way people type: no case, no diacritics, receipts with or without dash."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import Answer, Response, Unit, User
from survey.services import integrity
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from survey.services.text import fold_text, receipt_query
from tests.conftest import login

TEXTS = ("Ghế chờ không đủ cho người già", "ĐƯỜNG vào Ủy ban khó tìm",
         "Công chức niềm nở, 100% hài lòng")


@pytest.mark.parametrize(("typed", "folded"), [
    ("GHẾ", "ghe"), ("ghế   CHỜ", "ghe cho"), ("Đường đi", "duong di"),
    ("Ủy ban ỦY BAN", "uy ban uy ban"), ("Nguyễn Thị Ánh", "nguyen thi anh"),
])
def test_fold_text_drops_case_diacritics_and_d_stroke(typed: str, folded: str) -> None:
    assert fold_text(typed) == folded


@pytest.mark.parametrize(("typed", "receipt"), [
    ("k7qf-3mzd", "K7QF-3MZD"), ("K7QF3MZD", "K7QF-3MZD"), (" k7qf 3mzd ", "K7QF-3MZD"),
    ("ghe cho", None), ("K7QF-3MZ", None), ("K7QF-3MZ1", None),
])
def test_receipt_query_accepts_any_case_and_dash(typed: str, receipt: str | None) -> None:
    assert receipt_query(typed) == receipt


@pytest.fixture
def stored(app: Flask, make_unit: Callable[..., Unit]) -> list[Response]:
    """Three responses with a suggestion each; the first rates everything 1."""
    unit = make_unit("Q1")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    made = []
    for i, text in enumerate(TEXTS):
        score = 1 if i == 0 else 5
        made.append(save_response(
            questionnaire, unit, "qr", uuid.uuid4(),
            {f"q{q}": score for q in range(15, 34)} | {"y_kien": text},
            submitted_at=datetime(2026, 2, 2 + i, 3, 0, tzinfo=UTC)).response)
    db.session.commit()
    return made


def _found(client: FlaskClient, url: str) -> set[str]:
    html = client.get(url).get_data(as_text=True)
    return {text for text in TEXTS if text in html}


@pytest.mark.parametrize(("query", "expected"), [
    ("GHẾ", {0}), ("ghe cho", {0}), ("Ghe   CHO", {0}), ("ghế chờ", {0}), ("duong", {1}),
    ("đường vào", {1}), ("UY BAN", {1}), ("niem no", {2}), ("o", {0, 1, 2}),
    ("100%", {2}), ("%", {2}), ("_", set()), ("ghe xanh", set()),
])
def test_suggestion_search_ignores_case_and_diacritics(admin_client: FlaskClient,
                                                       stored: list[Response], query: str,
                                                       expected: set[int]) -> None:
    assert _found(admin_client, f"/staff/suggestions?q={query}") == {TEXTS[i] for i in expected}
    csv = admin_client.get(f"/staff/suggestions.csv?q={query}").get_data(as_text=True)
    assert {t for t in TEXTS if t in csv} == {TEXTS[i] for i in expected}


def test_answers_store_their_folded_text(app: Flask, stored: list[Response]) -> None:
    folded = {a.text_folded for r in stored for a in r.answers if a.text_value}
    assert folded == {fold_text(t) for t in TEXTS}
    assert all(a.text_folded is None for r in stored for a in r.answers if a.text_value is None)
    assert db.session.query(Answer).filter(Answer.text_folded.is_not(None)).count() == 3


def _typed(receipt: str) -> list[str]:
    """The ways staff type a receipt read from a phone or a slip."""
    return [receipt, receipt.lower(), receipt.replace("-", ""), receipt.replace("-", "").lower()]


def test_suggestions_and_follow_up_find_a_receipt(admin_client: FlaskClient,
                                                  stored: list[Response]) -> None:
    for i, response in enumerate(stored):
        for typed in _typed(response.receipt):
            assert _found(admin_client, f"/staff/suggestions?q={typed}") == {TEXTS[i]}
    low = stored[0].receipt
    for typed in _typed(low):
        html = admin_client.get(f"/staff/follow-up?q={typed}").get_data(as_text=True)
        assert low in html
        assert "1 phiếu" in html
    # A satisfied response is not in the follow-up list, whatever is typed.
    html = admin_client.get(f"/staff/follow-up?q={stored[1].receipt}").get_data(as_text=True)
    assert "0 phiếu" in html
    html = admin_client.get("/staff/follow-up?q=ghe cho").get_data(as_text=True)
    assert "0 phiếu" in html
    assert low not in html


def test_excluded_list_finds_a_receipt(admin_client: FlaskClient,
                                       stored: list[Response]) -> None:
    integrity.set_excluded(stored[:2], True, "Thử nghiệm loại phiếu", "quantri")
    db.session.commit()
    every = admin_client.get("/staff/flags/excluded").get_data(as_text=True)
    assert stored[0].receipt in every
    assert stored[1].receipt in every
    for typed in _typed(stored[1].receipt):
        html = admin_client.get(f"/staff/flags/excluded?q={typed}").get_data(as_text=True)
        assert stored[1].receipt in html
        assert stored[0].receipt not in html
    html = admin_client.get("/staff/flags/excluded?q=zzzz").get_data(as_text=True)
    assert stored[0].receipt not in html
    assert stored[1].receipt not in html


def test_flags_list_finds_the_groups_of_a_receipt(admin_client: FlaskClient,
                                                  make_unit: Callable[..., Unit]) -> None:
    """A response sent at 2 a.m. is flagged; its receipt finds its group, another finds none."""
    unit = make_unit("Q1")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    night, day = (save_response(questionnaire, unit, "qr", uuid.uuid4(),
                                {"q15": 4, "q16": 5, "q17": 3},
                                submitted_at=datetime(2026, 3, 3, hour, 0, tzinfo=UTC)).response
                  for hour in (19, 3))  # 02:00 and 10:00 on a Wednesday in Vietnam
    db.session.commit()
    every = admin_client.get("/staff/flags").get_data(as_text=True)
    assert "0 nhóm phiếu" not in every
    for typed in _typed(night.receipt):
        html = admin_client.get(f"/staff/flags?q={typed}").get_data(as_text=True)
        assert "1 nhóm phiếu" in html
    for typed in (day.receipt, "khong-phai-ma"):
        html = admin_client.get(f"/staff/flags?q={typed}").get_data(as_text=True)
        assert "0 nhóm phiếu" in html


def test_paper_batches_find_a_typed_sheet_by_receipt(client: FlaskClient, ward: Unit,
                                                     make_user: Callable[..., User]) -> None:
    """A sheet typed in gets a receipt; the batches page takes it to the sheet's batch."""
    from survey.services import paper, units

    group = units.create_unit("TDP-01", "Tổ dân phố số 1", "group", parent=ward, actor="t")
    other = units.create_unit("TDP-02", "Tổ dân phố số 2", "group", parent=ward, actor="t")
    make_user("totruong1", "leader", [group])
    make_user("totruong2", "leader", [other])
    batch = paper.create_batch("sipas-dichvu", group, 2, leader=None, double_entry=False,
                               actor="test")
    db.session.commit()
    serial = paper.format_serial(batch.sheets[1].serial)
    login(client, "totruong1")
    answers = {f"q_q{i}": "4" for i in range(15, 34)} | {"q_y_kien": "Đường tổ bị ngập"}
    assert client.post(f"/staff/sheets/{serial}", data=answers).status_code in (200, 302)
    receipt = db.session.scalars(sa.select(Response.receipt)).one()
    for typed in _typed(receipt):
        found = client.get(f"/staff/batches?q={typed}", follow_redirects=True)
        assert found.request.path == f"/staff/batches/{batch.id}"
        assert f"Phiếu có mã {receipt} là phiếu số {serial} của lô này." in found.get_data(
            as_text=True)
    # Typed-in text is searchable as people type too.
    assert "Đường tổ bị ngập" in client.get("/staff/suggestions?q=DUONG TO bi ngap").get_data(
        as_text=True)
    # The leader of another group does not find it; nor does a text that is not a receipt.
    client.post("/logout")
    login(client, "totruong2")
    for typed in (receipt, "ngap"):
        page = client.get(f"/staff/batches?q={typed}")
        assert page.status_code == 200
        assert "Không có phiếu giấy nào mang mã" in page.get_data(as_text=True)


def test_answers_built_as_objects_fold_their_text(app: Flask) -> None:
    """Paper edits and the demo data build Answer objects: the folded copy follows the text."""
    answer = Answer(question_id="y_kien", text_value="Ghế CHỜ")
    assert answer.text_folded == "ghe cho"
    answer.text_value = "Đường vào"
    assert answer.text_folded == "duong vao"
    assert Answer(question_id="q15", option_code=4).text_folded is None
