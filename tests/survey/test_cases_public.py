"""The citizen's side of cases: the optional contact, the receipt, /tra-cuu and /ket-qua."""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import brotli
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from analysis.formatting import number, percent
from survey.extensions import db
from survey.models import Answer, AuditLog, Case, CaseContact, Response, Unit, User
from survey.reporting import summaries
from survey.reporting.filters import Filters
from survey.services import cases, results, rollups, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from survey.services.text import clean_text
from tests.conftest import csrf_token_from, seed_link, sipas_answers, summary_of

PHONE = "0912 345 678"
SUGGESTION = "Cần thêm ghế chờ ở tầng 1, người già phải đứng lâu."
VIETNAM_OFFSET = timedelta(hours=7)


def count(model: Any) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def receipt_in(html: str) -> str:
    match = re.search(r"<strong>([A-Z2-7]{4}-[A-Z2-7]{4})</strong>", html)
    assert match, "no receipt on the page"
    return match.group(1)


def without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def case_of(receipt: str) -> Case:
    case = cases.find_by_receipt(receipt)
    assert case is not None
    return case


# --- The optional contact on the form ------------------------------------------------------


def test_form_offers_the_contact_after_the_suggestion(client: FlaskClient,
                                                      link_code: str) -> None:
    html = client.get(f"/s/{link_code}").get_data(as_text=True)
    assert "Số điện thoại hoặc thư điện tử (không bắt buộc)" in html
    assert "Để phường trả lời Ông/Bà" in html
    # The consent says what for, who sees it, how long it is kept, and that blank is fine.
    assert "Chỉ để phường trả lời góp ý này" in html
    assert "Chỉ cán bộ được giao xử lý góp ý được xem" in html
    assert "được xóa 30 ngày sau khi góp ý được giải quyết xong" in html
    assert "không công bố và không chia sẻ" in html
    assert "Bỏ trống nếu Ông/Bà muốn giữ ẩn danh" in html
    assert 'name="consent" value="1"' in html
    # Right after the suggestion's section, before the respondent's profile.
    assert html.index('id="i-y_kien"') < html.index('id="i-contact"') < html.index(
        'name="q_gioi_tinh"')
    assert "<script" not in html


def test_contact_is_stored_with_the_case_only_never_in_the_answers(
        client: FlaskClient, link_code: str) -> None:
    data = sipas_answers(q_y_kien=SUGGESTION, contact=PHONE, consent="1")
    response = client.post(f"/s/{link_code}", data=data)
    assert response.status_code == 200
    receipt = receipt_in(response.get_data(as_text=True))
    case = case_of(receipt)
    assert case.contact is not None
    assert (case.contact.kind, case.contact.value) == ("phone", "0912345678")
    stored = db.session.scalars(sa.select(Answer)).all()
    assert stored
    assert all("0912" not in (a.text_value or "") for a in stored)
    assert {a.question_id for a in stored}.isdisjoint({"contact", "consent"})
    # A retry with the same answers and contact is the same response: 200, same receipt.
    again = client.post(f"/s/{link_code}", data=data)
    assert again.status_code == 200
    assert receipt_in(again.get_data(as_text=True)) == receipt
    assert (count(Response), count(Case), count(CaseContact)) == (1, 1, 1)
    # The digest does not see the contact: the same answers without it are a retry too.
    bare = {k: v for k, v in data.items() if k not in ("contact", "consent")}
    assert client.post(f"/s/{link_code}", data=bare).status_code == 200
    assert count(Response) == 1


@pytest.mark.parametrize(("contact", "message"), [
    ("0912", "Số điện thoại chưa đúng"),
    ("091234567890123", "Số điện thoại chưa đúng"),
    ("ten@", "Địa chỉ thư điện tử chưa đúng"),
    ("ten@gmail", "Địa chỉ thư điện tử chưa đúng"),
])
def test_a_bad_phone_or_email_is_refused_with_answers_kept(
        client: FlaskClient, link_code: str, contact: str, message: str) -> None:
    response = client.post(f"/s/{link_code}", data=sipas_answers(
        q_q18=2, q_y_kien=SUGGESTION, contact=contact, consent="1"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'href="#f-contact"' in html
    assert re.search(r'name="q_q18" value="2" checked', html)
    assert SUGGESTION in html
    assert f'value="{contact}"' in html
    assert 'name="consent" value="1" checked' in html
    assert (count(Response), count(Case), count(CaseContact)) == (0, 0, 0)


def test_a_contact_without_consent_is_refused_and_nothing_stored(
        client: FlaskClient, link_code: str) -> None:
    response = client.post(f"/s/{link_code}", data=sipas_answers(
        q_y_kien=SUGGESTION, contact="ten@gmail.com"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Xin đánh dấu ô đồng ý" in html
    assert 'value="ten@gmail.com"' in html
    assert (count(Response), count(Case), count(CaseContact)) == (0, 0, 0)
    # Ticking the box then stores it, as an e-mail address with its domain in lower case.
    ok = client.post(f"/s/{link_code}", data=sipas_answers(
        q_y_kien=SUGGESTION, contact="Ten.Ho@Gmail.COM", consent="1"))
    assert ok.status_code == 200
    contact = db.session.scalars(sa.select(CaseContact)).one()
    assert (contact.kind, contact.value) == ("email", "Ten.Ho@gmail.com")


def test_consent_without_contact_keeps_nothing(client: FlaskClient, link_code: str) -> None:
    response = client.post(f"/s/{link_code}", data=sipas_answers(
        q_y_kien=SUGGESTION, contact="  ", consent="1"))
    assert response.status_code == 200
    assert count(Case) == 1
    assert count(CaseContact) == 0


def test_a_contact_with_nothing_to_answer_is_not_kept_and_the_receipt_says_so(
        client: FlaskClient, link_code: str) -> None:
    response = client.post(f"/s/{link_code}", data=sipas_answers(
        q_y_kien="Không có ý kiến", contact=PHONE, consent="1"))
    assert response.status_code == 200
    assert (count(Response), count(Case), count(CaseContact)) == (1, 0, 0)
    assert "phường không lưu số điện thoại hoặc thư điện tử" in response.get_data(as_text=True)


def test_questionnaire_without_a_case_rule_offers_no_contact(app_factory: Callable[..., Flask]
                                                             ) -> None:
    app = app_factory(CASE_RULE=[])
    code = seed_link(app)
    html = app.test_client().get(f"/s/{code}").get_data(as_text=True)
    assert 'name="contact"' not in html


# --- The receipt ---------------------------------------------------------------------------


def test_receipt_points_to_the_lookup_the_results_and_the_phone_lines(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(PAKN_PHONE="0225 3 821 234", PAKN_HOTLINE="1022", CASE_DUE_DAYS=7)
    code = seed_link(app)
    with app.app_context():
        html = app.test_client().post(f"/s/{code}", data=sipas_answers(
            q_y_kien=SUGGESTION)).get_data(as_text=True)
        receipt = receipt_in(html)
        assert f'href="/tra-cuu?ma={receipt}"' in html
        assert "trong vòng 7 ngày làm việc" in html
        assert 'href="/ket-qua"' in html
        assert 'href="tel:02253821234">0225 3 821 234</a>' in html
        assert 'href="tel:1022">1022</a>' in html
    plain = app_factory()
    code = seed_link(plain)
    html = plain.test_client().post(f"/s/{code}", data=sipas_answers(
        q_y_kien=SUGGESTION)).get_data(as_text=True)
    assert "tel:" not in html
    assert "Phản ánh, kiến nghị" not in html


# --- /tra-cuu -------------------------------------------------------------------------------


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user("canbo", "staff")


def submit(client: FlaskClient, link_code: str, **changes: Any) -> str:
    """Send a response from a browser of its own (one visit, one response); return the receipt."""
    response = client.application.test_client().post(f"/s/{link_code}",
                                                     data=sipas_answers(**changes))
    assert response.status_code == 200
    return receipt_in(response.get_data(as_text=True))


def test_lookup_shows_the_status_and_the_public_reply_and_nothing_else(
        client: FlaskClient, link_code: str, officer: User) -> None:
    receipt = submit(client, link_code, q_q20=1, q_y_kien=SUGGESTION, contact=PHONE,
                     consent="1")
    waiting = client.get(f"/tra-cuu?ma={receipt}")
    assert waiting.status_code == 200
    assert "Tình trạng: <b>Mới</b>" in waiting.get_data(as_text=True)
    case = case_of(receipt)
    cases.add_note(case, officer, "Ghi chú nội bộ: gọi lại cho người dân")
    cases.reply(case, officer, "Phường đã bố trí thêm 10 ghế chờ ở tầng 1.")
    db.session.commit()
    for typed in (receipt, receipt.lower(), receipt.replace("-", ""), f" {receipt.lower()} "):
        response = client.get("/tra-cuu", query_string={"ma": typed})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Tình trạng: <b>Đã trả lời</b>" in html
        assert "Phường đã bố trí thêm 10 ghế chờ ở tầng 1." in html
        answered = (case.answered_at + VIETNAM_OFFSET).strftime("%d/%m/%Y")
        assert f"({answered})" in html
        assert "Phường Thử Nghiệm" in html  # the ward's name, and no other unit detail
        for secret in ("Ghi chú nội bộ", SUGGESTION, "0912", "Quầy Tư pháp", "QUAY-1",
                       "Rất không hài lòng"):
            assert secret not in html
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "<script" not in html


def test_lookup_gives_one_neutral_page_for_unknown_malformed_and_caseless_codes(
        client: FlaskClient, link_code: str) -> None:
    caseless = submit(client, link_code, q_y_kien="")
    with_case = submit(client, link_code, q_y_kien=SUGGESTION)
    assert cases.find_by_receipt(caseless) is None
    assert cases.find_by_receipt(with_case) is not None
    other = client.application.test_client()  # no session: like anyone guessing
    pages = []
    for typed in ("AAAA-BBBB", "zzzz2222", "xyz", "<script>alert(1)</script>", "1" * 200,
                  "K7QF-3MZ0", caseless, caseless.lower()):
        response = other.get("/tra-cuu", query_string={"ma": typed})
        pages.append((response.status_code, without_token(response.get_data(as_text=True))))
    assert len(set(pages)) == 1, "the neutral page must not depend on the code"
    status, html = pages[0]
    assert status == 200
    assert "Chưa có thông tin trả lời cho mã phiếu này" in html
    assert "<script>alert" not in html
    assert other.get("/tra-cuu", query_string={"ma": with_case}).get_data(
        as_text=True) != html


def test_lookup_is_rate_limited_with_a_page_in_vietnamese(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_LOOKUP="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/tra-cuu?ma=AAAA-BBBB").status_code == 200
    blocked = client.get("/tra-cuu?ma=AAAA-CCCC")
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "Ông/Bà đã tra cứu nhiều lần liên tiếp" in html
    assert 'name="ma"' in html  # the form is still there
    assert client.get("/tra-cuu").status_code == 200  # the empty form costs no guess
    assert client.post("/tra-cuu", data={"ma": "AAAA-BBBB", "hai_long": "1"}
                       ).status_code == 429
    assert app.test_client(use_cookies=False).get("/ket-qua").status_code == 200


def test_citizen_rates_the_reply_once_with_a_token(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    code = seed_link(app)
    citizen = app.test_client()
    form = citizen.get(f"/s/{code}").get_data(as_text=True)
    data = sipas_answers(q_y_kien=SUGGESTION, csrf_token=csrf_token_from(form),
                         response_id=re.search(r'name="response_id" value="([^"]+)"',
                                               form).group(1))  # type: ignore[union-attr]
    thanks = citizen.post(f"/s/{code}", data=data).get_data(as_text=True)
    receipt = receipt_in(thanks)
    with app.app_context():
        from survey.services import accounts

        staff = accounts.create_user("canbo", "correct horse battery", "staff", actor="test")
        case = case_of(receipt)
        # Not answered yet: nothing to rate, and a forged verdict is refused.
        page = citizen.get(f"/tra-cuu?ma={receipt}").get_data(as_text=True)
        assert "Ông/Bà có hài lòng với cách phường giải quyết không?" not in page
        early = citizen.post("/tra-cuu", data={"ma": receipt, "hai_long": "1",
                                               "csrf_token": csrf_token_from(thanks)})
        assert early.status_code == 409
        cases.reply(case, staff, "Đã thêm ghế chờ.")
        db.session.commit()
        page = citizen.get(f"/tra-cuu?ma={receipt}").get_data(as_text=True)
        assert "Ông/Bà có hài lòng với cách phường giải quyết không?" in page
        assert 'name="hai_long" value="1"' in page
        assert 'name="hai_long" value="0"' in page
        token = csrf_token_from(page)
        # Without the token (or with another's), nothing is recorded.
        assert citizen.post("/tra-cuu", data={"ma": receipt, "hai_long": "0"}
                            ).status_code == 400
        assert app.test_client().post("/tra-cuu", data={
            "ma": receipt, "hai_long": "0", "csrf_token": token}).status_code == 400
        db.session.expire_all()
        assert case_of(receipt).citizen_satisfied is None
        rated = citizen.post("/tra-cuu", data={"ma": receipt, "hai_long": "0",
                                               "csrf_token": token})
        assert rated.status_code == 303
        assert rated.headers["Location"].endswith(f"/tra-cuu?ma={receipt}")
        db.session.expire_all()
        assert case_of(receipt).citizen_satisfied is False
        after = citizen.get(f"/tra-cuu?ma={receipt}").get_data(as_text=True)
        assert "đã được ghi nhận" in after
        assert 'name="hai_long"' not in after
        second = citizen.post("/tra-cuu", data={"ma": receipt, "hai_long": "1",
                                                "csrf_token": token})
        assert second.status_code == 409
        assert "đã được ghi nhận trước đó" in second.get_data(as_text=True)
        db.session.expire_all()
        assert case_of(receipt).citizen_satisfied is False
        rates = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "case.rate"))
        assert len(rates.all()) == 1


def test_lookup_in_english_keeps_the_code(client: FlaskClient, link_code: str) -> None:
    receipt = submit(client, link_code, q_y_kien=SUGGESTION)
    html = client.get(f"/tra-cuu?ma={receipt}&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert f'href="?ma={receipt}&amp;lang=vi"' in html
    assert f"{receipt}" in html


# --- /ket-qua -------------------------------------------------------------------------------


def vietnam_today() -> date:
    return (datetime.now(UTC) + VIETNAM_OFFSET).date()


def moment(day: date) -> datetime:
    """Ten in the morning, Vietnam time, of ``day``, in UTC."""
    return datetime.combine(day, time(10)).replace(tzinfo=UTC) - VIETNAM_OFFSET


SIPAS_ITEMS = [f"q{i}" for i in range(15, 34)]


def store(unit: Unit, day: date, answers: dict[str, Any],
          questionnaire: str = "sipas-dichvu") -> Response:
    q = get_questionnaire(questionnaire)
    assert q is not None
    stored = save_response(q, unit, "qr", uuid.uuid4(), answers, submitted_at=moment(day))
    db.session.commit()
    return stored.response


def quarter_filters(questionnaire: str, quarter: results.Quarter, unit_list: tuple[Unit, ...]
                    ) -> Filters:
    return Filters(questionnaire, quarter.start, quarter.end, unit_list)


@pytest.fixture
def quarters() -> list[results.Quarter]:
    return results.last_quarters(vietnam_today())


def test_last_quarters_are_complete_and_in_order() -> None:
    found = results.last_quarters(date(2026, 2, 10), 6)
    assert [q.key for q in found] == ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3",
                                      "2025-Q4"]
    assert found[-1].start == date(2025, 10, 1)
    assert found[-1].end == date(2025, 12, 31)
    assert found[0].end == date(2024, 9, 30)
    assert found[-1].label == "Quý IV/2025"


def test_results_show_the_summary_figures_of_the_last_quarter_and_the_one_before(
        client: FlaskClient, counter: Unit, make_unit: Callable[..., Unit],
        quarters: list[results.Quarter], ward: Unit) -> None:
    other = make_unit("QUAY-2")
    last, before = quarters[-1], quarters[-2]
    for i in range(8):
        store(counter if i % 2 else other, last.start + timedelta(days=i),
              {q: 5 - (i + j) % 3 for j, q in enumerate(SIPAS_ITEMS)})
    for i in range(6):
        store(counter, before.start + timedelta(days=i), dict.fromkeys(SIPAS_ITEMS, 3 + i % 3))
    # Another ward's response counts nowhere here.
    far = units.create_unit("XA", "Phường Khác", "ward", actor="test")
    store(units.create_unit("XA-1", "Quầy xa", "counter", parent=far, actor="test"),
          last.start, dict.fromkeys(SIPAS_ITEMS, 1))
    response = client.get("/ket-qua/phuong")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    members = results.units_of(ward)
    assert {u.code for u in members} == {"PHUONG", "QUAY-1", "QUAY-2"}
    for quarter, n in ((last, 8), (before, 6)):
        summary = summary_of(quarter_filters("sipas-dichvu", quarter, members))
        assert summary is not None
        assert summary["n_responses"] == n
        assert percent(summary["index"]["value"]) in html
        for group in summary["groups"]:
            assert percent(group["value"]) in html
    data = results.build_results(ward, vietnam_today(), min_cell=5)
    block = next(b for b in data.blocks if b.questionnaire.id == "sipas-dichvu")
    summary = summary_of(quarter_filters("sipas-dichvu", last, members))
    assert summary is not None
    assert block.current.index == summary["index"]["value"]
    assert [g.value for g in block.current.groups] == [g["value"] for g in summary["groups"]]
    assert block.current.n == 8
    assert block.previous is not None
    assert block.previous.n == 6
    assert "Quý" in html
    assert last.label in html
    assert before.label in html
    assert [b.questionnaire.id for b in data.blocks] == ["sipas-dichvu"]  # only with data
    assert "<script" not in html
    assert "<img" not in html
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_results_hide_small_cells_as_the_dashboard_does(
        client: FlaskClient, counter: Unit, quarters: list[results.Quarter],
        ward: Unit) -> None:
    last, before = quarters[-1], quarters[-2]
    # The quarter before: 3 responses, under MIN_CELL (5): no value at all.
    for i in range(3):
        store(counter, before.start + timedelta(days=i), dict.fromkeys(SIPAS_ITEMS, 1))
    # The last quarter: 6 responses, but only 2 answered element 5 (q31-q33).
    e5 = {"q31", "q32", "q33"}
    for i in range(6):
        answers = {q: 4 if i % 2 else 5 for q in SIPAS_ITEMS if q not in e5 or i < 2}
        if i < 2:
            answers.update(dict.fromkeys(e5, 1))
        store(counter, last.start + timedelta(days=i), answers)
    data = results.build_results(ward, vietnam_today(), min_cell=5)
    block = data.blocks[0]
    assert block.previous is not None
    assert block.previous.hidden
    assert block.previous.index is None
    assert all(g.value is None and g.hidden for g in block.previous.groups)
    # The dashboard's own rule on the same cell agrees.
    from analysis.breakdown import summarize_cells

    cells = summaries.counts_by(db.session, quarter_filters("sipas-dichvu", before, (counter,)))
    assert summarize_cells(rollups.scheme_of(block.questionnaire), cells, min_n=5)[0]["suppressed"]
    hidden_group = block.current.groups[-1]
    assert (hidden_group.n, hidden_group.hidden, hidden_group.value) == (2, True, None)
    assert not block.current.hidden
    summary = summary_of(quarter_filters("sipas-dichvu", last, results.units_of(ward)))
    assert summary is not None
    e5_value = summary["groups"][-1]["value"]
    assert e5_value == 0.0  # what would show: both answered 1
    html = client.get("/ket-qua").get_data(as_text=True)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', html))
    row = rows[hidden_group.label]
    assert percent(e5_value) not in row
    assert row.count("ẩn") == 2  # the quarter before (small) and this one (E5 n=2)
    assert rows[block.current.groups[0].label].count("ẩn") == 1  # the quarter before only
    assert percent(summary["index"]["value"]) in html
    assert f"<td class=\"num\">{number(3, 0)}</td>" in html  # n itself is shown
    assert "dưới 5 phiếu" in html


def test_results_show_only_replies_marked_public_with_their_suggestion(
        client: FlaskClient, counter: Unit, officer: User, quarters: list[results.Quarter]
        ) -> None:
    day = quarters[-1].start
    public = store(counter, day, dict.fromkeys(SIPAS_ITEMS, 4) | {"y_kien": SUGGESTION})
    private = store(counter, day, dict.fromkeys(SIPAS_ITEMS, 4)
                    | {"y_kien": "Chị Lan ở quầy 2 nói chuyện thiếu tôn trọng."})
    store(counter, day, dict.fromkeys(SIPAS_ITEMS, 4) | {"y_kien": "Một góp ý chưa trả lời."})
    low = store(counter, day, dict.fromkeys(SIPAS_ITEMS, 4) | {"q20": 1})
    shown = case_of(public.receipt)
    cases.reply(shown, officer, "Phường đã bố trí thêm 10 ghế chờ.", publish=True)
    cases.add_note(shown, officer, "Ghi chú nội bộ không công bố.")
    cases.reply(case_of(private.receipt), officer, "Đã nhắc nhở cán bộ Lan.", publish=False)
    cases.reply(case_of(low.receipt), officer, "Phường đã rút ngắn thời gian chờ.",
                publish=True, status="closed")
    db.session.commit()
    html = client.get("/ket-qua").get_data(as_text=True)
    assert "Ông/Bà góp ý – phường đã làm" in html
    assert SUGGESTION in html
    assert "Phường đã bố trí thêm 10 ghế chờ." in html
    assert "Phường đã rút ngắn thời gian chờ." in html
    assert "không kèm lời góp ý" in html  # the low rating had no text
    for secret in ("Chị Lan", "Đã nhắc nhở", "Một góp ý chưa trả lời", "Ghi chú nội bộ"):
        assert secret not in html
    # Every free text on the page is one of the two published pairs.
    texts = {clean_text(a.text_value) for a in db.session.scalars(sa.select(Answer))
             if a.text_value}
    assert [t for t in texts if t in html] == [SUGGESTION]


def test_long_published_texts_are_shortened(client: FlaskClient, counter: Unit, officer: User,
                                            quarters: list[results.Quarter]) -> None:
    long_text = " ".join(["Phường cần sửa con đường trước cổng trụ sở"] * 40)
    made = store(counter, quarters[-1].start, dict.fromkeys(SIPAS_ITEMS, 4)
                 | {"y_kien": long_text[:1000]})
    cases.reply(case_of(made.receipt), officer, long_text * 2, publish=True)
    db.session.commit()
    html = client.get("/ket-qua").get_data(as_text=True)
    assert long_text[:1000] not in html
    assert "…" in html
    assert len(html.encode()) < 20_000


@pytest.mark.parametrize("setting", ["", "https://tranlieu.haiphong.gov.vn https://x.vn:8443"])
def test_only_the_results_page_may_be_framed_by_the_sites_named(
        app_factory: Callable[..., Flask], setting: str) -> None:
    app = app_factory(RESULTS_FRAME_ANCESTORS=setting)
    code = seed_link(app)
    client = app.test_client()
    results_headers = client.get("/ket-qua").headers
    if setting:
        assert ("frame-ancestors https://tranlieu.haiphong.gov.vn https://x.vn:8443"
                in results_headers["Content-Security-Policy"])
        assert "X-Frame-Options" not in results_headers
    else:
        assert "frame-ancestors 'none'" in results_headers["Content-Security-Policy"]
        assert results_headers["X-Frame-Options"] == "DENY"
    for url in ("/", f"/s/{code}", "/tra-cuu", "/tra-cuu?ma=AAAA-BBBB", "/login", "/nope"):
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], url
        assert headers["X-Frame-Options"] == "DENY", url


def test_a_frame_setting_that_is_not_an_origin_cannot_widen_the_policy(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RESULTS_FRAME_ANCESTORS="https://ok.vn/ script-src * javascript:x "
                                              "'unsafe-inline' https://bad.vn;")
    seed_link(app)
    csp = app.test_client().get("/ket-qua").headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors https://ok.vn")
    assert "*" not in csp
    assert "unsafe-inline" not in csp
    assert "bad.vn" not in csp
    assert csp.count("script-src") == 1


def test_results_page_is_light_on_the_wire_with_every_questionnaire(
        client: FlaskClient, make_unit: Callable[..., Unit], officer: User, ward: Unit,
        quarters: list[results.Quarter]) -> None:
    """Four questionnaires with data, the longest texts published: still within 14 KB."""
    counter = make_unit("QUAY-1")
    group = make_unit("TDP-01", "Tổ dân phố 1", "group")
    for questionnaire, unit in (("sipas-dichvu", counter), ("mau-02", counter),
                                ("sipas-chinhsach", group), ("papi-phuong", group)):
        q = get_questionnaire(questionnaire)
        assert q is not None
        for quarter in quarters:
            for i in range(6):
                answers = {question.id: question.options[(i + k) % len(question.options)].code
                           for k, question in enumerate(q.questions)
                           if question.type == "choice" and question.options}
                store(unit, quarter.start + timedelta(days=i), answers, questionnaire)
    for i in range(results.REPLIES + 2):
        made = store(counter, quarters[-1].start, dict.fromkeys(SIPAS_ITEMS, 2)
                     | {"y_kien": f"Góp ý số {i}: " + "ghế chờ quá ít, " * 70})
        cases.reply(case_of(made.receipt), officer, f"Trả lời {i}: " + "đã xử lý xong, " * 260,
                    publish=True)
    db.session.commit()
    plain = client.get("/ket-qua", headers={"Accept-Encoding": "identity"})
    html = plain.get_data(as_text=True)
    assert html.count("<section") == 4
    assert html.count('class="card"') == results.REPLIES
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        served = client.get("/ket-qua", headers={"Accept-Encoding": encoding})
        assert served.headers["Content-Encoding"] == encoding
        assert len(served.data) <= 14 * 1024, (encoding, len(served.data))
        assert decode(served.data) == plain.data
    assert len(plain.data) <= 40 * 1024


def test_results_of_several_wards_and_of_none(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    with app.app_context():
        client = app.test_client()
        page = client.get("/ket-qua")
        assert page.status_code == 200  # no ward: the whole instance
        assert "Kết quả khảo sát sự hài lòng" in page.get_data(as_text=True)
        units.create_unit("P1", "Phường Một", "ward", actor="test")
        db.session.commit()
        assert "Phường Một" in client.get("/ket-qua").get_data(as_text=True)
        units.create_unit("P2", "Phường Hai", "ward", actor="test")
        db.session.commit()
        chooser = client.get("/ket-qua").get_data(as_text=True)
        assert 'href="/ket-qua/P1"' in chooser
        assert 'href="/ket-qua/P2"' in chooser
        assert "Phường Hai" in client.get("/ket-qua/p2").get_data(as_text=True)
        assert client.get("/ket-qua/NOPE").status_code == 404
        assert client.get("/ket-qua/%00").status_code == 404


def test_poster_names_the_phone_lines_and_the_results_address(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(PAKN_PHONE="0225 3 821 234", PAKN_HOTLINE="1022")
    code = seed_link(app)
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("quantri", "correct horse battery", "admin", actor="test")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "quantri", "password": "correct horse battery"})
    html = client.get(f"/staff/links/{code}/poster").get_data(as_text=True)
    assert "đường dây của phường <b>0225 3 821 234</b>" in html
    assert "đường dây nóng của thành phố <b>1022</b>" in html
    assert "survey.test/ket-qua" in html
    bare = app_factory()
    code = seed_link(bare)
    with bare.app_context():
        from survey.services import accounts

        accounts.create_user("quantri", "correct horse battery", "admin", actor="test")
        db.session.commit()
    client = bare.test_client()
    client.post("/login", data={"username": "quantri", "password": "correct horse battery"})
    html = client.get(f"/staff/links/{code}/poster").get_data(as_text=True)
    assert "Phản ánh, kiến nghị" not in html
    assert "survey.test/ket-qua" in html
