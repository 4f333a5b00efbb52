"""The citizen's form: rendering, storing exactly once, refusing bad input, languages, limits."""

from __future__ import annotations

import re
import threading
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.vietnam import vietnam_day
from survey.extensions import db
from survey.models import Answer, Response, Unit
from survey.services import rollups, units
from tests.conftest import (
    Outcomes,
    a_writer_is_waiting,
    examples,
    first_writer_holds,
    seed_link,
    sipas_answers,
    wait_until,
)


def count_responses() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0)


def count_answers() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) or 0)


def receipt_in(html: str) -> str:
    match = re.search(r"<strong>([A-Z2-7]{4}-[A-Z2-7]{4})</strong>", html)
    assert match, "no receipt code on the page"
    return match.group(1)


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_form_shows_nineteen_items_in_vietnamese(client: FlaskClient, link_code: str) -> None:
    response = client.get(f"/s/{link_code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert unicodedata.is_normalized("NFC", html)
    assert '<html lang="vi">' in html
    assert "Phiếu khảo sát sự hài lòng về việc cung ứng dịch vụ hành chính công" in html
    assert "Quầy Tư pháp - Hộ tịch" in html
    for i in range(15, 34):
        assert f'<fieldset id="f-q{i}"' in html
        assert len(re.findall(rf'name="q_q{i}" value="[1-5]"', html)) == 5
    assert html.count("<legend>") == len(re.findall(r"<fieldset", html))
    assert "Công chức có thái độ giao tiếp lịch sự, tôn trọng đối với người dân." in html
    assert "Rất không hài lòng" in html
    assert "Rất hài lòng" in html
    assert re.search(r'name="response_id" value="[0-9a-f-]{36}"', html)
    assert "<script" not in html
    assert response.headers["Cache-Control"] == "private, no-store"


def test_each_visit_gets_a_fresh_response_id(client: FlaskClient, link_code: str) -> None:
    ids = {re.search(r'name="response_id" value="([^"]+)"',
                     client.get(f"/s/{link_code}").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
           for _ in range(3)}
    assert len(ids) == 3


def test_submission_is_stored_with_receipt(client: FlaskClient, link_code: str,
                                           counter: Unit) -> None:
    data = sipas_answers(q_q15=5, q_q16=1)
    response = client.post(f"/s/{link_code}", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Cảm ơn Ông/Bà đã góp ý!" in html
    receipt = receipt_in(html)
    stored = db.session.scalars(sa.select(Response)).one()
    assert stored.response_id == uuid.UUID(data["response_id"])
    assert stored.receipt == receipt
    assert (stored.questionnaire_id, stored.questionnaire_version) == ("sipas-dichvu", 1)
    assert (stored.unit_id, stored.channel) == (counter.id, "qr")
    assert stored.submitted_at.tzinfo is not None
    answers = {a.question_id: a.value for a in stored.answers}
    assert answers["q15"] == 5
    assert answers["q16"] == 1
    assert answers["q33"] == 4
    assert answers["y_kien"] == "Cán bộ nhiệt tình, cần thêm ghế chờ."
    assert "hoc_van" not in answers  # a blank is not stored
    assert len(answers) == 19 + 4


def test_repeated_post_stores_once_and_shows_same_receipt(client: FlaskClient,
                                                          link_code: str) -> None:
    data = sipas_answers()
    first = client.post(f"/s/{link_code}", data=data)
    second = client.post(f"/s/{link_code}", data=data)
    assert first.status_code == second.status_code == 200
    assert receipt_in(first.get_data(as_text=True)) == receipt_in(second.get_data(as_text=True))
    assert count_responses() == 1
    assert count_answers() == 23


def test_same_id_with_other_answers_is_409(client: FlaskClient, link_code: str) -> None:
    data = sipas_answers()
    assert client.post(f"/s/{link_code}", data=data).status_code == 200
    changed = dict(data, q_q20="1")
    response = client.post(f"/s/{link_code}", data=changed)
    assert response.status_code == 409
    assert "Phiếu này đã được gửi trước đó" in response.get_data(as_text=True)
    assert count_responses() == 1
    stored = db.session.scalars(sa.select(Answer).where(Answer.question_id == "q20")).one()
    assert stored.option_code == 4


def test_same_id_at_another_unit_is_409(client: FlaskClient, link_code: str,
                                        make_unit: Callable[..., Unit]) -> None:
    other = units.ensure_link(make_unit("QUAY-2"), "sipas-dichvu", actor="test")
    db.session.commit()
    data = sipas_answers()
    assert client.post(f"/s/{link_code}", data=data).status_code == 200
    assert client.post(f"/s/{other.code}", data=data).status_code == 409
    assert count_responses() == 1


def _assert_reshown(response: Any, *messages: str) -> str:
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<form method="post"' in html
    for message in messages:
        assert message in html
    assert count_responses() == 0
    return html


def test_missing_required_answer_reshows_form_with_answers_kept(client: FlaskClient,
                                                                link_code: str) -> None:
    data = sipas_answers(q_q17=None, q_q30=None, q_q16=2)
    html = _assert_reshown(client.post(f"/s/{link_code}", data=data),
                           "Xin Ông/Bà chọn một câu trả lời.", "Còn 2 câu cần xem lại:")
    assert 'href="#f-q17">17</a>' in html
    assert 'href="#f-q30"' in html
    assert re.search(r'name="q_q16" value="2" checked', html)
    assert re.search(r'name="q_q15" value="4" checked', html)
    assert "Cán bộ nhiệt tình, cần thêm ghế chờ." in html
    assert f'value="{data["response_id"]}"' in html


@pytest.mark.parametrize("value", ["7", "0", "abc", "4.0", "", " 4"])
def test_unknown_option_code_is_refused(client: FlaskClient, link_code: str, value: str) -> None:
    data = sipas_answers(q_q21=value)
    html = _assert_reshown(client.post(f"/s/{link_code}", data=data))
    assert 'href="#f-q21"' in html


def test_unknown_question_is_refused(client: FlaskClient, link_code: str) -> None:
    data = sipas_answers(q_q99="4")
    _assert_reshown(client.post(f"/s/{link_code}", data=data),
                    "Phiếu có trường lạ không thuộc bảng hỏi")


@pytest.mark.parametrize(("field", "value"), [
    ("response_id", "not-a-uuid"),
    ("response_id", ""),
    ("version", "99"),
    ("version", "x"),
    ("hp_url", "http://spam.example"),
])
def test_tampered_hidden_field_is_refused(client: FlaskClient, link_code: str, field: str,
                                          value: str) -> None:
    data = sipas_answers(**{field: value})
    html = _assert_reshown(client.post(f"/s/{link_code}", data=data))
    assert re.search(r'name="q_q15" value="4" checked', html)


def test_text_is_limited_and_normalised(client: FlaskClient, link_code: str) -> None:
    _assert_reshown(client.post(f"/s/{link_code}", data=sipas_answers(q_y_kien="x" * 1001)),
                    "Câu trả lời dài quá 1000 ký tự.")
    decomposed = unicodedata.normalize("NFD", "Thủ tục nhanh\x00 gọn ")
    assert client.post(f"/s/{link_code}", data=sipas_answers(q_y_kien=decomposed)).status_code \
        == 200
    text = db.session.scalars(sa.select(Answer.text_value).where(Answer.question_id == "y_kien"))
    assert text.one() == "Thủ tục nhanh gọn"


def test_a_blank_text_is_not_stored(client: FlaskClient, link_code: str) -> None:
    assert client.post(f"/s/{link_code}", data=sipas_answers(q_y_kien="   ")).status_code == 200
    assert db.session.scalar(sa.select(Answer).where(Answer.question_id == "y_kien")) is None


def test_unknown_link_is_404_and_closed_link_is_410(client: FlaskClient, link_code: str) -> None:
    for code in ("nope99", "x" * 300, "%E2%82%AC", "..%2f"):
        assert client.get(f"/s/{code}").status_code == 404
    link = units.get_link(link_code)
    assert link is not None
    units.set_link_active(link, False, actor="test")
    db.session.commit()
    response = client.get(f"/s/{link_code}")
    assert response.status_code == 410
    assert "Khảo sát đã đóng" in response.get_data(as_text=True)
    assert client.post(f"/s/{link_code}", data=sipas_answers()).status_code == 410
    assert count_responses() == 0


def test_inactive_unit_closes_its_links(client: FlaskClient, link_code: str,
                                        counter: Unit) -> None:
    units.update_unit(counter, name=counter.name, active=False, parent=counter.parent,
                      actor="test")
    db.session.commit()
    assert client.get(f"/s/{link_code}").status_code == 410


def test_english_switch_is_remembered(client: FlaskClient, link_code: str) -> None:
    response = client.get(f"/s/{link_code}?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Survey of satisfaction with public administrative services" in html
    assert "Very dissatisfied" in html
    assert "Send" in html
    assert "lang=en" in response.headers["Set-Cookie"]
    again = client.get(f"/s/{link_code}").get_data(as_text=True)
    assert '<html lang="en">' in again
    missing = client.post(f"/s/{link_code}", data=sipas_answers(q_q15=None))
    assert "Please choose an answer." in missing.get_data(as_text=True)
    back = client.get(f"/s/{link_code}?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in back
    assert client.get(f"/s/{link_code}?lang=xx").status_code == 200


def test_english_receipt_page(client: FlaskClient, link_code: str) -> None:
    client.get(f"/s/{link_code}?lang=en")
    html = client.post(f"/s/{link_code}", data=sipas_answers()).get_data(as_text=True)
    assert "Thank you" in html
    receipt_in(html)


def test_mau_02_requires_its_field_question(client: FlaskClient, counter: Unit) -> None:
    link = units.ensure_link(counter, "mau-02", actor="test")
    db.session.commit()
    data = {f"q_q{i}": "5" for i in range(1, 10)}
    data.update(response_id=str(uuid.uuid4()), version="1")
    html = _assert_reshown(client.post(f"/s/{link.code}", data=data),
                           "Xin Ông/Bà điền câu trả lời.")
    assert 'href="#f-linh_vuc"' in html
    data["q_linh_vuc"] = "Chứng thực bản sao"
    assert client.post(f"/s/{link.code}", data=data).status_code == 200
    assert count_responses() == 1


def test_nothing_identifies_the_citizen(app: Flask, link_code: str) -> None:
    client = app.test_client()
    response = client.post(f"/s/{link_code}", data=sipas_answers(),
                           environ_base={"REMOTE_ADDR": "203.0.113.77"},
                           headers={"User-Agent": "Nokia-C21/Test"})
    assert response.status_code == 200
    dumped = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            dumped.append(repr(tuple(row)))
    text = "\n".join(dumped)
    assert "203.0.113.77" not in text
    assert "Nokia" not in text
    assert {c.name for c in Response.__table__.columns}.isdisjoint(
        {"ip", "ip_address", "remote_addr", "user_agent", "device_id"})


def test_submit_is_rate_limited_without_losing_answers(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per minute")
    code = seed_link(app)
    with app.app_context():
        # Three citizens behind one address (the counter's Wi-Fi): the limit is per address.
        for _ in range(2):
            assert app.test_client().post(f"/s/{code}", data=sipas_answers()).status_code == 200
        client = app.test_client()
        blocked = client.post(f"/s/{code}", data=sipas_answers(q_q18=2))
        assert blocked.status_code == 429
        html = blocked.get_data(as_text=True)
        assert "xin đợi một phút" in html
        assert re.search(r'name="q_q18" value="2" checked', html)
        assert count_responses() == 2
        assert client.get(f"/s/{code}").status_code == 200  # reading the form is not limited
        from survey.extensions import limiter

        storage = limiter.storage
        keys = " ".join(str(k) for k in getattr(storage, "storage", {}))
        assert keys, "the in-memory limiter should hold keys"
        assert "127.0.0.1" not in keys


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_fields = st.sampled_from(["q_q15", "q_q16", "q_q33", "q_linh_vuc", "q_y_kien", "q_gioi_tinh",
                           "response_id", "version", "hp_url", "csrf_token", "q_x", "q_q15[]"])


@settings(max_examples=examples(80), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(_fields, st.one_of(_text, st.sampled_from(["1", "5", "9", ""])),
                               max_size=4),
       drop=st.lists(_fields, max_size=3), multipart=st.booleans())
def test_fuzzed_posts_never_fail_or_store_invalid_data(app: Flask, link_code: str,
                                                       changes: dict[str, str], drop: list[str],
                                                       multipart: bool) -> None:
    """Mutate a valid submission: never a 5xx, and whatever is stored is valid."""
    data = sipas_answers()
    data.update(changes)
    for name in drop:
        data.pop(name, None)
    before = count_responses()
    client = app.test_client()  # a phone of its own: one visit, one response per browser
    response = client.post(f"/s/{link_code}", data=data,
                           content_type="multipart/form-data" if multipart else None)
    assert response.status_code in (200, 400, 409)
    if response.status_code != 200:
        assert count_responses() == before
        return
    stored = db.session.scalars(sa.select(Response).where(
        Response.response_id == uuid.UUID(data["response_id"]))).one()
    answers = {a.question_id: a for a in stored.answers}
    for i in range(15, 34):
        assert answers[f"q{i}"].option_code in {1, 2, 3, 4, 5}
    for answer in answers.values():
        if answer.text_value is not None:
            assert answer.text_value
            assert unicodedata.is_normalized("NFC", answer.text_value)
            assert answer.text_value == answer.text_value.strip()


def test_a_file_upload_is_refused(client: FlaskClient, link_code: str) -> None:
    import io

    data: dict[str, Any] = dict(sipas_answers())
    data["q_y_kien"] = (io.BytesIO(b"hello"), "a.txt")
    response = client.post(f"/s/{link_code}", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert count_responses() == 0


@pytest.mark.parametrize("blank", ["   ", "\x01", "\u200b", "\n\t", "\u00ad"])
def test_a_required_text_of_blanks_is_missing(client: FlaskClient, counter: Unit,
                                              blank: str) -> None:
    link = units.ensure_link(counter, "mau-02", actor="test")
    db.session.commit()
    data = {f"q_q{i}": "5" for i in range(1, 10)}
    data.update(response_id=str(uuid.uuid4()), version="1", q_linh_vuc=blank)
    _assert_reshown(client.post(f"/s/{link.code}", data=data), "Xin Ông/Bà điền câu trả lời.")


def test_text_length_counts_what_is_stored(client: FlaskClient, link_code: str) -> None:
    decomposed = "e\u0301" * 1000  # 2000 code points, 1000 characters once composed
    assert client.post(f"/s/{link_code}", data=sipas_answers(q_y_kien=decomposed)
                       ).status_code == 200
    stored = db.session.scalars(sa.select(Answer.text_value).where(Answer.question_id == "y_kien"))
    assert stored.one() == "é" * 1000


def test_identical_posts_at_the_same_time_store_one_response(
        app: Flask, link_code: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = sipas_answers()

    def post(_: int) -> tuple[int, str]:
        response = app.test_client().post(f"/s/{link_code}", data=data)
        return response.status_code, receipt_in(response.get_data(as_text=True))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, range(16)))
    assert {status for status, _ in results} == {200}
    assert len({receipt for _, receipt in results}) == 1
    assert count_responses() == 1
    assert count_answers() == 23


def test_a_race_lost_at_insert_returns_the_winner(app: Flask, counter: Unit,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The id is taken at insert, but the row is not found at first (as when staff delete it
    between the two statements): the insert is tried again; a retry of the same answers gets
    the stored response, other answers a 409."""
    from survey.services import questionnaires, submissions

    q = questionnaires.get_questionnaire("sipas-dichvu")
    assert q is not None
    rid = uuid.uuid4()
    first = submissions.save_response(q, counter, "qr", rid, {"q15": 4})
    db.session.commit()
    real_find = submissions.find_response
    calls: list[int] = []

    def blind_first_time(response_id: uuid.UUID) -> Response | None:
        calls.append(1)
        return None if len(calls) == 1 else real_find(response_id)

    monkeypatch.setattr(submissions, "find_response", blind_first_time)
    again = submissions.save_response(q, counter, "qr", rid, {"q15": 4})
    assert again.created is False
    assert again.response.id == first.response.id
    calls.clear()
    with pytest.raises(submissions.ResponseConflict):
        submissions.save_response(q, counter, "qr", rid, {"q15": 5})
    db.session.rollback()
    assert count_responses() == 1


def test_two_writers_of_one_id_store_it_once(app: Flask, counter: Unit) -> None:
    """A second writer of the same id while the first has not committed yet (a phone's retry
    reaching another worker) waits for it, then gets the first one's response."""
    from survey.services import questionnaires, submissions
    from survey.services.transactions import committed

    q = questionnaires.get_questionnaire("sipas-dichvu")
    assert q is not None
    rid, unit_id = uuid.uuid4(), counter.id

    def first_writer() -> int:
        unit = db.session.get(Unit, unit_id)
        assert unit is not None
        # The row is written, not yet committed: held until the second writer waits.
        return submissions.save_response(q, unit, "qr", rid, {"q15": 4, "q16": 5}).pk

    thread, results = first_writer_holds(app, first_writer,
                                         "the second writer to wait for the first")
    second = committed(lambda: submissions.save_response(q, db.session.get(Unit, unit_id), "qr",
                                                         rid, {"q15": 4, "q16": 5}))
    thread.join(10)
    assert results == [second.pk]
    assert second.created is False
    assert count_responses() == 1
    assert count_answers() == 2
    assert rollups.in_step()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_writers_of_one_rollup_key_queue_on_its_first_row(app: Flask, counter: Unit) -> None:
    """PostgreSQL: a submission waiting for a rollup row that an edit holds (same unit, day
    and channel) holds no row of the later rollup tables meanwhile, so the edit can take them:
    no deadlock. (SQLite has one writer at a time.)"""
    from survey.models import stat_answer, stat_group, stat_response
    from survey.services import questionnaires, submissions
    from survey.services.transactions import committed

    q = questionnaires.get_questionnaire("sipas-dichvu")
    assert q is not None
    moment = submissions.utcnow()
    answers = {"q15": 4, "q16": 5, "q20": 3}
    submissions.save_response(q, counter, "qr", uuid.uuid4(), answers, submitted_at=moment)
    db.session.commit()
    key = {"questionnaire_id": q.id, "day": vietnam_day(moment), "unit_id": counter.id,
           "channel": "qr"}
    unit_id, results = counter.id, []

    def submission() -> None:
        with app.app_context():
            try:
                results.append(committed(lambda: submissions.save_response(
                    q, db.session.get(Unit, unit_id), "qr", uuid.uuid4(), answers,
                    submitted_at=moment)).created)
            except Exception as error:  # noqa: BLE001 - shown by the assertion below
                results.append(error)

    def where(table: sa.Table) -> list[Any]:
        return [table.c[name] == value for name, value in key.items()]

    with db.engine.connect() as edit:
        edit.execute(stat_response.update().where(*where(stat_response))
                     .values(n=stat_response.c.n))
        thread = threading.Thread(target=submission)
        thread.start()
        wait_until(a_writer_is_waiting, "the submission to wait for the stat_response row")
        for table in (stat_answer, stat_group):
            locked = edit.execute(sa.select(sa.func.count()).select_from(
                sa.select(table).where(*where(table)).with_for_update(nowait=True).subquery()))
            assert locked.scalar_one() > 0
        edit.commit()
    thread.join(10)
    assert results == [True]
    assert count_responses() == 2
    assert rollups.in_step()


def test_a_retry_after_the_link_closed_still_shows_the_receipt(client: FlaskClient,
                                                               link_code: str) -> None:
    data = sipas_answers()
    first = receipt_in(client.post(f"/s/{link_code}", data=data).get_data(as_text=True))
    link = units.get_link(link_code)
    assert link is not None
    units.set_link_active(link, False, actor="test")
    db.session.commit()
    retry = client.post(f"/s/{link_code}", data=data)
    assert retry.status_code == 200
    assert receipt_in(retry.get_data(as_text=True)) == first
    assert client.post(f"/s/{link_code}", data=sipas_answers()).status_code == 410
    assert count_responses() == 1


def test_a_new_version_is_offered_only_once_stored(app: Flask, client: FlaskClient,
                                                   link_code: str, tmp_path: Path) -> None:
    from questionnaires import DEFINITIONS_DIR

    copy = tmp_path / "definitions"
    for path in DEFINITIONS_DIR.glob("*/v*.yaml"):
        target = copy / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    latest = max(int(p.stem[1:]) for p in (copy / "sipas-dichvu").glob("v*.yaml"))
    old = (copy / "sipas-dichvu" / f"v{latest}.yaml").read_text(encoding="utf-8")
    (copy / "sipas-dichvu" / f"v{latest + 1}.yaml").write_text(
        old.replace(f"version: {latest}", f"version: {latest + 1}").replace(
            "Phiếu khảo sát sự hài lòng về việc cung ứng",
            "Phiếu khảo sát (bản mới) về việc cung ứng"),
        encoding="utf-8")
    app.config["QUESTIONNAIRE_DIR"] = str(copy)
    seen = client.get(f"/s/{link_code}").get_data(as_text=True)
    assert f'name="version" value="{latest}"' in seen  # deployed, but init-db has not run
    rid = re.search(r'name="response_id" value="([^"]+)"', seen).group(1)  # type: ignore[union-attr]
    from survey.services.questionnaires import sync_questionnaires

    assert f"sipas-dichvu v{latest + 1}: added" in sync_questionnaires(copy)  # as init-db does
    db.session.commit()
    assert "(bản mới)" in client.get(f"/s/{link_code}").get_data(as_text=True)
    # The citizen who opened the older version before the upgrade answers that version.
    answered = client.post(f"/s/{link_code}", data=sipas_answers(response_id=rid,
                                                                  version=latest))
    assert answered.status_code == 200
    stored = db.session.scalars(sa.select(Response)).one()
    assert stored.questionnaire_version == latest


_quick_values = st.one_of(_text, st.sampled_from(["1", "2", "4", "5", "05", "6", "0", "", " 4",
                                                  "٣", "4.0", "x" * 1001]))


def test_the_quick_path_takes_only_what_the_form_takes(app: Flask) -> None:
    """Whatever quick_answers accepts, the WTForms form accepts with the same answers.

    Each example is a valid submission of one questionnaire (random codes, optional answers
    given or not) with at most a few changes, so that most examples reach the quick path and
    the rest probe its edge; the shares are checked at the end.
    """
    from werkzeug.datastructures import MultiDict

    from survey.questionnaire_forms import HONEYPOT, build_form_class, field_name, quick_answers
    from survey.services.questionnaires import get_questionnaire
    from survey.services.text import clean_text

    outcomes = Outcomes()
    qids = ["sipas-dichvu", "mau-02", "sipas-chinhsach", "papi-phuong"]
    loaded = {qid: get_questionnaire(qid) for qid in qids}

    @settings(max_examples=examples(150), deadline=None)
    @given(qid=st.sampled_from(qids), data=st.data())
    def check(qid: str, data: st.DataObject) -> None:
        questionnaire = loaded[qid]
        assert questionnaire is not None
        post: dict[str, str] = {}
        for q in questionnaire.questions:
            if q.type == "choice":
                if q.required or data.draw(st.booleans()):
                    post[field_name(q)] = str(data.draw(st.sampled_from(
                        [o.code for o in q.options])))
            else:
                text = data.draw(st.one_of(st.just(""), _text))
                if q.required and not clean_text(text):
                    text = "Ý kiến của tôi"
                if text:
                    post[field_name(q)] = text
        post.update(response_id=str(uuid.uuid4()), version=str(questionnaire.version))
        names = st.sampled_from([*post, HONEYPOT, "csrf_token", "q_x", f"{next(iter(post))}[]"])
        # Two examples in five are left clean; the others get one to three changes.
        size = data.draw(st.sampled_from([0, 0, 1, 2, 3]), label="changes")
        changes = data.draw(st.dictionaries(names, _quick_values, min_size=min(size, 1),
                                            max_size=size))
        drop = data.draw(st.lists(names, max_size=1)) if size > 1 else []
        twice = data.draw(st.lists(names, max_size=1)) if size > 2 else []
        post.update(changes)
        for name in drop:
            post.pop(name, None)
        formdata = MultiDict(list(post.items()) + [(n, post.get(n, "4")) for n in twice])
        with app.test_request_context("/", method="POST", data=formdata):
            quick = quick_answers(questionnaire, formdata)
            form = build_form_class(questionnaire, "vi")()
            valid = form.validate() and not form.unknown_fields(formdata.keys())
            outcomes.add("quick path" if quick is not None else "form only" if valid
                         else "refused")
            if quick is not None:
                assert valid, form.errors
                assert quick == form.answers()
        if not changes and not drop and not twice:
            assert quick is not None, "a clean, complete submission takes the quick path"

    check()
    outcomes.require_share("quick path", 0.4)
    outcomes.require_share("refused", 0.1)


def test_the_quick_path_checks_the_csrf_token(app_factory: Callable[..., Flask]) -> None:
    from flask_wtf.csrf import generate_csrf
    from werkzeug.datastructures import MultiDict

    from survey.questionnaire_forms import quick_answers
    from survey.services.questionnaires import get_questionnaire

    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.test_request_context("/", method="POST"):
        questionnaire = get_questionnaire("sipas-dichvu", 1)  # the version sipas_answers posts
        assert questionnaire is not None
        good = sipas_answers(csrf_token=generate_csrf())
        assert quick_answers(questionnaire, MultiDict(good)) is not None
        assert quick_answers(questionnaire, MultiDict(sipas_answers(csrf_token="x"))) is None
        assert quick_answers(questionnaire, MultiDict(sipas_answers())) is None


# --- One visit, one response (issue 10, item 3) -------------------------------------------

ALREADY = "Ông/Bà đã gửi phiếu này"
ANOTHER = "Gửi thêm một phiếu khác"


def _form_fields(html: str) -> dict[str, str]:
    """The hidden response id and CSRF token of a form page (the token only with CSRF on)."""
    rid = re.search(r'name="response_id" value="([^"]+)"', html)
    assert rid, "no answer form on the page"
    fields = {"response_id": rid.group(1)}
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if token:
        fields["csrf_token"] = token.group(1)
    return fields


def _assert_receipt_page(response: Any, receipt: str, status: int = 200) -> str:
    """The receipt of an earlier response and the choice to send another; no answer form."""
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    assert unicodedata.is_normalized("NFC", html)
    assert ALREADY in html
    assert receipt_in(html) == receipt
    assert ANOTHER in html
    assert 'name="response_id"' not in html
    assert 'name="q_' not in html
    assert len(re.findall(r"<form ", html)) == 1  # only the button's form
    assert re.search(r'<form method="post" action="/s/[a-z0-9]+/another"', html)
    return html


def _token(html: str) -> dict[str, str]:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return {"csrf_token": match.group(1)} if match else {}


@pytest.mark.parametrize("with_csrf", [False, True], ids=["csrf-off", "csrf-on"])
def test_one_visit_one_response_until_the_citizen_asks_to_send_another(
        app_factory: Callable[..., Flask], with_csrf: bool) -> None:
    app = app_factory(WTF_CSRF_ENABLED=with_csrf)
    code = seed_link(app)
    url = f"/s/{code}"
    with app.app_context():
        phone = app.test_client()
        # 1. Answer: the receipt.
        first = sipas_answers(**_form_fields(phone.get(url).get_data(as_text=True)))
        stored = phone.post(url, data=first)
        assert stored.status_code == 200
        assert "Cảm ơn Ông/Bà đã góp ý!" in stored.get_data(as_text=True)
        receipt = receipt_in(stored.get_data(as_text=True))
        assert count_responses() == 1

        # 2. The form again (Back, reload, the QR code again): the receipt and a choice.
        page = _assert_receipt_page(phone.get(url), receipt)
        assert "máy này đã gửi phiếu" in page  # why this page appears
        _assert_receipt_page(phone.get(f"{url}?another=1"), receipt)  # not by the URL alone
        _assert_receipt_page(phone.get(f"/s/{code.upper()}"), receipt)

        # 3. The filled form brought back with a new id (Back + "Gửi phiếu"): nothing stored.
        again = dict(sipas_answers(q_q15=1, q_q16=2), **{
            k: v for k, v in first.items() if k == "csrf_token"})
        refused = phone.post(url, data=again)
        html = _assert_receipt_page(refused, receipt, status=409)
        assert "không được lưu thêm" in html
        assert count_responses() == 1
        assert find(again["response_id"]) is None

        # 4. The same POST again (a phone's retry): the same receipt, nothing new.
        retry = phone.post(url, data=first)
        assert retry.status_code == 200
        assert receipt_in(retry.get_data(as_text=True)) == receipt
        assert count_responses() == 1

        # 5. Another browser is not affected.
        other = app.test_client()
        theirs = sipas_answers(**_form_fields(other.get(url).get_data(as_text=True)))
        assert other.post(url, data=theirs).status_code == 200
        assert count_responses() == 2

        # 6. "Send another": a fresh form, the same one on reload, stored once.
        chosen = phone.post(f"{url}/another", data=_token(page))
        assert chosen.status_code == 303
        assert chosen.headers["Location"].endswith(f"{url}?another=1")
        form_page = phone.get(f"{url}?another=1").get_data(as_text=True)
        fields = _form_fields(form_page)
        assert fields["response_id"] != first["response_id"]
        assert _form_fields(phone.get(f"{url}?another=1").get_data(as_text=True))[
            "response_id"] == fields["response_id"]
        _assert_receipt_page(phone.get(url), receipt)  # the plain link still shows the receipt
        second = sipas_answers(q_q20=2, **fields)
        answered = phone.post(url, data=second)
        assert answered.status_code == 200
        receipt_2 = receipt_in(answered.get_data(as_text=True))
        assert receipt_2 != receipt
        assert count_responses() == 3
        assert find(second["response_id"]) is not None

        # 7. Afterwards the link shows the newest receipt, and the offer is used up.
        _assert_receipt_page(phone.get(url), receipt_2)
        _assert_receipt_page(phone.get(f"{url}?another=1"), receipt_2)
        assert phone.post(url, data=dict(second, q_q21=1)).status_code == 409  # same id
        assert phone.post(url, data=dict(again, response_id=str(uuid.uuid4()))
                          ).status_code == 409
        # A retry of the first response still gets its own receipt, and changes nothing.
        assert receipt_in(phone.post(url, data=first).get_data(as_text=True)) == receipt
        _assert_receipt_page(phone.get(url), receipt_2)
        assert count_responses() == 3


def find(response_id: str) -> Response | None:
    return db.session.scalar(sa.select(Response).where(
        Response.response_id == uuid.UUID(response_id)))


def _post_losing_the_answer(client: FlaskClient, url: str, data: dict[str, str]) -> None:
    """Store a response, but lose its answer: the phone keeps the cookie it had before."""
    before = client.get_cookie("session")
    assert client.post(url, data=data).status_code == 200
    if before is None:
        client.delete_cookie("session")
    else:
        client.set_cookie("session", before.value)


def test_a_retry_after_a_lost_answer_gets_its_receipt(client: FlaskClient,
                                                      link_code: str) -> None:
    """The response is stored but its answer (and the cookie in it) never reaches the phone."""
    url = f"/s/{link_code}"
    data = sipas_answers(**_form_fields(client.get(url).get_data(as_text=True)))
    _post_losing_the_answer(client, url, data)
    assert 'name="response_id"' in client.get(url).get_data(as_text=True)  # nothing known
    retry = client.post(url, data=data)
    assert retry.status_code == 200
    receipt = receipt_in(retry.get_data(as_text=True))
    assert count_responses() == 1
    page = _assert_receipt_page(client.get(url), receipt)

    # The same after "send another": the offered form's retry is taken, once.
    assert client.post(f"{url}/another", data=_token(page)).status_code == 303
    fields = _form_fields(client.get(f"{url}?another=1").get_data(as_text=True))
    second = sipas_answers(q_q15=2, **fields)
    _post_losing_the_answer(client, url, second)
    retry = client.post(url, data=second)
    assert retry.status_code == 200
    receipt_2 = receipt_in(retry.get_data(as_text=True))
    assert receipt_2 != receipt
    assert count_responses() == 2
    _assert_receipt_page(client.get(url), receipt_2)

    # Lost again, and the phone reloads the offered form instead: its receipt, not the form.
    page = _assert_receipt_page(client.get(url), receipt_2)
    assert client.post(f"{url}/another", data=_token(page)).status_code == 303
    fields = _form_fields(client.get(f"{url}?another=1").get_data(as_text=True))
    _post_losing_the_answer(client, url, sipas_answers(q_q15=3, **fields))
    receipt_3 = receipt_in(client.get(f"{url}?another=1").get_data(as_text=True))
    assert receipt_3 not in (receipt, receipt_2)
    _assert_receipt_page(client.get(url), receipt_3)
    assert count_responses() == 3


def test_send_another_with_an_expired_token_shows_the_choice_again(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    code = seed_link(app)
    url = f"/s/{code}"
    with app.app_context():
        phone = app.test_client()
        stored = phone.post(url, data=sipas_answers(
            **_form_fields(phone.get(url).get_data(as_text=True))))
        receipt = receipt_in(stored.get_data(as_text=True))
        for token in ({}, {"csrf_token": "expired-or-forged"}):
            refused = phone.post(f"{url}/another", data=token)
            html = _assert_receipt_page(refused, receipt, status=400)
            assert "Trang đã mở quá lâu" in html
            _assert_receipt_page(phone.get(f"{url}?another=1"), receipt)  # nothing offered
        assert phone.post(f"{url}/another", data=_token(html)).status_code == 303
        assert 'name="response_id"' in phone.get(f"{url}?another=1").get_data(as_text=True)
        # Without a session at all (cookies cleared), the link simply gives the form.
        fresh = app.test_client()
        assert fresh.post(f"{url}/another").status_code == 400
        assert fresh.post(f"{url}/another").get_data(as_text=True).count('name="q_q15"') == 5
        assert count_responses() == 1


def test_the_session_remembers_a_few_links_for_one_visit(
        client: FlaskClient, counter: Unit, make_unit: Callable[..., Unit],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.public import views

    codes = [units.ensure_link(make_unit(f"QUAY-{n}"), "sipas-dichvu", actor="test").code
             for n in range(2, 2 + views.SENT_LINKS + 1)]
    db.session.commit()
    for code in codes:
        assert client.post(f"/s/{code}", data=sipas_answers()).status_code == 200
    # Each link has its own receipt; the oldest is forgotten, so the cookie stays small.
    assert 'name="response_id"' in client.get(f"/s/{codes[0]}").get_data(as_text=True)
    for code in codes[1:]:
        assert ALREADY in client.get(f"/s/{code}").get_data(as_text=True)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert len(cookie.value) < 600
    # After the visit (eight hours), the link gives the form again.
    monkeypatch.setattr(views, "SENT_SECONDS", 0)
    assert 'name="response_id"' in client.get(f"/s/{codes[-1]}").get_data(as_text=True)
    assert client.post(f"/s/{codes[-1]}", data=sipas_answers()).status_code == 200
    assert count_responses() == len(codes) + 1
