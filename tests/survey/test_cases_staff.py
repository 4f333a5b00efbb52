"""Staff pages of cases: the list and its filters, bulk assignment, a case, roles, retention."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import AuditLog, Case, CaseContact, CaseNote, Unit, User
from survey.services import case_list, cases, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import csrf_token_from, login, sipas_answers

FINE = {f"q{i}": 4 for i in range(15, 34)}
LOW = FINE | {"q20": 2}
CASE_LINK = re.compile(r'href="/staff/cases/([A-Z2-7]{4}-[A-Z2-7]{4})"')


@dataclass
class Office:
    """A ward with a counter and two residential groups, and their accounts."""

    counter: Unit
    tdp1: Unit
    tdp2: Unit
    staff: User
    other: User
    leader1: User
    leader2: User
    admin: User


@pytest.fixture
def office(app: Flask, make_unit: Callable[..., Unit], make_user: Callable[..., User]
           ) -> Office:
    counter = make_unit("QUAY-1", "Quầy Tư pháp - Hộ tịch")
    tdp1 = make_unit("TDP-1", "Tổ dân phố số 1", "group")
    tdp2 = make_unit("TDP-2", "Tổ dân phố số 2", "group")
    return Office(counter, tdp1, tdp2, make_user("canbo"), make_user("an"),
                  make_user("totruong1", "leader", [tdp1]),
                  make_user("totruong2", "leader", [tdp2]), make_user("quantri", "admin"))


def client_of(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def store(unit: Unit, answers: dict[str, Any], *, contact: cases.Contact | None = None,
          **options: Any) -> str:
    """Store a response as a citizen would; return its receipt."""
    q = get_questionnaire("sipas-dichvu")
    assert q is not None
    stored = save_response(q, unit, "qr", uuid.uuid4(), answers, contact=contact, **options)
    db.session.commit()
    return stored.response.receipt


def case_of(receipt: str) -> Case:
    """Return a receipt's case as stored now (changes of this test kept, requests' seen)."""
    db.session.flush()
    db.session.expire_all()
    case = cases.find_by_receipt(receipt)
    assert case is not None
    return case


def make_overdue(receipt: str, days: int = 20) -> None:
    case = case_of(receipt)
    case.opened_at = datetime.now(UTC) - timedelta(days=days * 2)
    case.due = date.today() - timedelta(days=days)
    db.session.commit()


def listed(client: FlaskClient, query: str = "") -> list[str]:
    """Return the receipts of the cases a list page shows, in order."""
    response = client.get(f"/staff/cases{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(dict.fromkeys(CASE_LINK.findall(response.get_data(as_text=True))))


def case_entries(receipt: str, action: str | None = None) -> list[AuditLog]:
    query = sa.select(AuditLog).where(AuditLog.target == f"case:{receipt}")
    if action:
        query = query.where(AuditLog.action == action)
    return list(db.session.scalars(query.order_by(AuditLog.id)))


@pytest.fixture
def three(office: Office) -> dict[str, str]:
    """A suggestion at the counter, a low rating in group 1, an overdue case in group 2."""
    found = {
        "chair": store(office.counter, FINE | {"y_kien": "Ghế chờ ở tầng 1 bị hỏng"}),
        "low": store(office.tdp1, LOW),
        "late": store(office.tdp2, FINE | {"y_kien": "Thủ tục cấp phép xây dựng quá chậm"}),
    }
    make_overdue(found["late"])
    return found


# --- the citizen's submission opens a case that staff see ---------------------------------


def test_a_citizens_low_rating_with_a_suggestion_opens_a_case_staff_see(
        app: Flask, office: Office) -> None:
    code = units.ensure_link(office.counter, "sipas-dichvu", actor="test").code
    db.session.commit()
    citizen = app.test_client()
    posted = citizen.post(f"/s/{code}", data=sipas_answers(
        q_q20="1", q_y_kien="Ghế chờ ở tầng 1 bị hỏng, nhờ phường sửa."))
    assert posted.status_code == 200
    receipt = re.search(r"<strong>([A-Z2-7]{4}-[A-Z2-7]{4})</strong>",
                        posted.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    case = case_of(receipt)
    assert (case.status, case.reasons) == ("new", "low_rating suggestion")

    staff = client_of(app, "canbo")
    html = staff.get("/staff/cases").get_data(as_text=True)
    assert listed(staff) == [receipt]
    assert "Ghế chờ ở tầng 1 bị hỏng, nhờ phường sửa." in html
    # Ten working days from the day it came in (a case opened on a day off counts from the
    # next working day: opened on a Saturday, 11 are left that Saturday).
    from survey.services import case_list
    from survey.services import cases as case_service

    left = case_service.work_calendar().working_days_between(case_list.today(), case.due)
    assert left in (10, 11)
    for words in ("Đánh giá 1–2", "Có góp ý", "Mới", "QUAY-1", "chưa giao",
                  case.due.strftime("%d/%m/%Y"), f"còn {left} ngày làm việc"):
        assert words in html, words
    assert "1 đang mở" in html  # the header's badge
    page = staff.get(f"/staff/cases/{receipt}").get_data(as_text=True)
    # The low-rated item with its question and the option's label, and the suggestion.
    assert "Câu 20" in page
    assert "Rất không hài lòng (1)" in page
    assert "Ghế chờ ở tầng 1 bị hỏng, nhờ phường sửa." in page
    assert "Tự mở hồ sơ từ phiếu của người dân" in page


# --- the list ------------------------------------------------------------------------------


def test_the_list_puts_open_overdue_cases_first_and_says_how_late(
        app: Flask, three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    assert listed(staff)[0] == three["late"]
    html = staff.get("/staff/cases").get_data(as_text=True)
    late = cases.work_calendar().working_days_between(case_of(three["late"]).due,
                                                      case_list.today())
    assert f"quá hạn {late} ngày làm việc" in html
    assert set(listed(staff, "?sort=new")) == set(three.values())


def test_the_list_filters_by_status_overdue_and_assignee(
        app: Flask, office: Office, three: dict[str, str]) -> None:
    cases.assign(case_of(three["low"]), office.admin, office.staff)
    cases.reply(case_of(three["chair"]), office.admin, "Đã thay ghế.", status="closed")
    db.session.commit()
    staff = client_of(app, "canbo")
    assert listed(staff, "?status=closed") == [three["chair"]]
    assert listed(staff, "?status=new&status=in_progress") == [three["late"], three["low"]]
    assert listed(staff, "?status=in_progress") == [three["low"]]
    assert listed(staff, "?overdue=1") == [three["late"]]
    assert listed(staff, "?assignee=me") == [three["low"]]
    assert listed(staff, "?assignee=none") == [three["late"], three["chair"]]
    assert listed(staff, "?assignee=canbo") == [three["low"]]
    assert listed(client_of(app, "an"), "?assignee=me") == []


def test_the_list_filters_by_unit_or_handling_unit(
        app: Flask, office: Office, three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    assert listed(staff, "?unit=TDP-1") == [three["low"]]
    cases.assign(case_of(three["chair"]), office.admin, None, office.tdp1)
    db.session.commit()
    assert set(listed(staff, "?unit=tdp-1")) == {three["low"], three["chair"]}
    assert listed(staff, "?unit=QUAY-1") == [three["chair"]]


@pytest.mark.parametrize("search", ["ghe cho", "GHẾ CHỜ", "  ghế   chờ "])
def test_the_search_ignores_case_and_diacritics(app: Flask, three: dict[str, str],
                                                search: str) -> None:
    assert listed(client_of(app, "canbo"), f"?q={search}") == [three["chair"]]


def test_the_search_finds_a_receipt_and_a_reply(app: Flask, office: Office,
                                                three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    typed = three["low"].replace("-", "").lower()
    assert listed(staff, f"?q={typed}") == [three["low"]]
    cases.reply(case_of(three["late"]), office.admin, "Phường đã rút ngắn thời gian xử lý.")
    db.session.commit()
    assert listed(staff, "?q=rut ngan") == [three["late"]]
    assert listed(staff, "?q=khong co chu nay") == []


@pytest.mark.parametrize(("query", "status", "words"), [
    ("?status=open", 400, "Không có trạng thái “open”"),
    ("?assignee=nobody-here", 400, "Không có tài khoản “nobody-here”"),
    ("?unit=NOPE", 400, "Không có đơn vị “NOPE”"),
])
def test_a_bad_filter_says_why_and_lists_nothing(app: Flask, three: dict[str, str], query: str,
                                                 status: int, words: str) -> None:
    response = client_of(app, "canbo").get(f"/staff/cases{query}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert words in html
    assert not CASE_LINK.findall(html)


def walk(client: FlaskClient, path: str) -> list[list[str]]:
    """Follow the list's "Sau" links from ``path``; return each page's receipts."""
    pages = []
    while path:
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(list(dict.fromkeys(CASE_LINK.findall(html))))
        assert f"Trang {len(pages)} /" in html
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        path = found.group(1).replace("&amp;", "&") if found else ""
        assert len(pages) < 30
    return pages


def test_the_list_pages_by_key(app_factory: Callable[..., Flask],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page starts after the last case of the page before (no OFFSET), in either order:
    walking "Sau" shows every case once, in the order of the whole list; a bad key starts
    at the top."""
    app = app_factory()
    with app.app_context():
        ward = units.create_unit("P", "Phường", "ward", actor="test")
        unit = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
        from survey.services import accounts

        accounts.create_user("canbo", "correct horse battery", "staff", [], actor="test")
        db.session.commit()
        receipts = [store(unit, FINE | {"y_kien": f"Góp ý số {i}"}) for i in range(23)]
        # Ties on the due day and every rank: open, answered and closed cases.
        for i, receipt in enumerate(receipts):
            case = case_of(receipt)
            case.due = date(2026, 12, 1) + timedelta(days=i % 3)
            case.opened_at = datetime(2026, 11, 20, 8, tzinfo=UTC) + timedelta(hours=i % 4)
            if i % 5 == 1:
                case.status, case.answered_at = "answered", datetime.now(UTC)
            elif i % 5 == 2:
                case.status, case.closed_at = "closed", datetime.now(UTC)
        db.session.commit()
        staff = client_of(app, "canbo")
        assert sorted(listed(staff)) == sorted(receipts)
        monkeypatch.setattr(case_list, "PAGE_SIZE", 5)
        me = db.session.scalars(sa.select(User).where(User.username == "canbo")).one()
        for query in ("", "?sort=new"):
            flt = case_list.parse_filter(me, sort="new" if query else None)
            rows, total, _ = case_list.search_cases(flt, me, page_size=100)
            whole = [r.case.receipt for r in rows]
            assert len(whole) == total == 23
            pages = walk(staff, f"/staff/cases{query}")
            assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
            assert [r for p in pages for r in p] == whole
        assert "Trang 1 / 5" in staff.get("/staff/cases").get_data(as_text=True)
        for bad in ("x", "0~2026-13-01~1", "~~", "1~2026-12-01~abc", "9" * 300,
                    "0~9999-12-31~" + "9" * 30):
            html = staff.get(f"/staff/cases?after={bad}&page=4").get_data(as_text=True)
            assert "Trang 1 / 5" in html
            assert listed(staff, f"?after={bad}") == listed(staff)
        for bad in ("9999-12-31T23:59:59-05:00~1", "0001-01-01T00:00:00%2B05:00~1"):
            assert listed(staff, f"?sort=new&after={bad}") == listed(staff, "?sort=new")


# --- bulk assignment -----------------------------------------------------------------------


def bulk(client: FlaskClient, receipts: list[str], assignee: str, follow: bool = True) -> Any:
    return client.post("/staff/cases/assign", data={"case": receipts, "assignee": assignee,
                                                    "next": "/staff/cases?assignee=none"},
                       follow_redirects=follow)


def test_bulk_assignment_changes_only_the_chosen_cases_and_is_audited(
        app: Flask, office: Office, three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    response = bulk(staff, [three["chair"], three["late"]], "an", follow=False)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/cases?assignee=none")
    html = staff.get("/staff/cases").get_data(as_text=True)
    assert "Đã giao 2 hồ sơ cho an." in html
    assert case_of(three["chair"]).assignee_id == office.other.id
    assert case_of(three["late"]).assignee_id == office.other.id
    assert case_of(three["chair"]).status == "in_progress"
    assert case_of(three["low"]).assignee_id is None
    for receipt in (three["chair"], three["late"]):
        [entry] = case_entries(receipt, "case.assign")
        assert (entry.actor, entry.details["assignee"]) == ("canbo", [None, "an"])
    assert case_entries(three["low"], "case.assign") == []
    html = bulk(staff, [three["chair"]], "-").get_data(as_text=True)
    assert "Đã bỏ người xử lý của 1 hồ sơ." in html
    assert case_of(three["chair"]).assignee_id is None


def test_bulk_assignment_is_all_or_nothing(app: Flask, office: Office,
                                           three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    # A leader handles their own group's cases only: the counter's case refuses, so neither.
    html = bulk(staff, [three["low"], three["chair"]], "totruong1").get_data(as_text=True)
    assert "Tổ trưởng totruong1 chỉ xử lý hồ sơ của tổ mình." in html
    assert "Chưa hồ sơ nào được giao." in html
    html = bulk(staff, [three["low"], "AAAA-AAAA"], "an").get_data(as_text=True)
    assert "Không tìm thấy hồ sơ: AAAA-AAAA." in html
    html = bulk(staff, [three["low"]], "khong-co-ai").get_data(as_text=True)
    assert "Không giao được cho tài khoản “khong-co-ai”." in html
    html = bulk(staff, [], "an").get_data(as_text=True)
    assert "Chọn ít nhất một hồ sơ trong danh sách." in html
    html = bulk(staff, [three["low"]], "").get_data(as_text=True)
    assert "Chọn người nhận hồ sơ." in html
    assert all(case_of(r).assignee_id is None for r in three.values())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "case.assign")) == 0


# --- a leader's limits ---------------------------------------------------------------------


def test_a_leader_sees_and_handles_only_own_groups_cases(
        app: Flask, office: Office, three: dict[str, str]) -> None:
    leader = client_of(app, "totruong1")
    assert listed(leader) == [three["low"]]
    html = leader.get("/staff/cases").get_data(as_text=True)
    header = html[html.index('class="nav-cases"'):html.index("</nav>")]
    assert "1 đang mở" in header
    assert "quá hạn" not in header  # group 2's overdue case is not theirs
    assert not re.search(r'<tr class="[^"]*\blate\b', html)
    assert leader.get(f"/staff/cases/{three['low']}").status_code == 200
    for receipt in (three["chair"], three["late"]):
        assert leader.get(f"/staff/cases/{receipt}").status_code == 404
        for data in ({"action": "assign", "assign-assignee": "totruong1",
                      "assign-handling_unit": "TDP-1"},
                     {"action": "reply", "reply-text": "Trả lời", "reply-status": "answered"},
                     {"action": "status", "status-status": "closed"},
                     {"action": "note", "note-text": "Ghi chú"}):
            assert leader.post(f"/staff/cases/{receipt}", data=data).status_code == 404
        assert bulk(leader, [receipt], "totruong1").status_code == 403
        response = leader.post("/staff/cases/open", data={"receipt": receipt})
        assert response.status_code == 403
    assert leader.get("/staff/cases?unit=QUAY-1").status_code == 403
    for receipt in (three["chair"], three["late"]):
        case = case_of(receipt)
        assert (case.assignee_id, case.status, case.reply) == (None, "new", None)
        assert case.notes == []
        assert case_entries(receipt) == []


def test_a_leader_handles_own_groups_case_and_gives_it_only_to_who_may(
        app: Flask, office: Office, three: dict[str, str]) -> None:
    leader = client_of(app, "totruong1")
    page = leader.get(f"/staff/cases/{three['low']}").get_data(as_text=True)
    assert 'value="totruong1"' in page
    assert 'value="totruong2"' not in page  # another group's leader is no choice
    assert 'value="TDP-2"' not in page
    response = leader.post(f"/staff/cases/{three['low']}", data={
        "action": "assign", "assign-assignee": "totruong2", "assign-handling_unit": "TDP-1"})
    assert response.status_code == 400
    assert "Không giao được cho tài khoản “totruong2”." in response.get_data(as_text=True)
    response = leader.post(f"/staff/cases/{three['low']}", data={
        "action": "assign", "assign-assignee": "totruong1", "assign-handling_unit": "TDP-2"})
    assert response.status_code == 400
    assert case_of(three["low"]).assignee_id is None
    response = leader.post(f"/staff/cases/{three['low']}", data={
        "action": "assign", "assign-assignee": "totruong1", "assign-handling_unit": "TDP-1"})
    assert response.status_code == 302
    assert case_of(three["low"]).assignee_id == office.leader1.id


# --- the contact ---------------------------------------------------------------------------


def test_the_contact_is_shown_only_to_the_assignee_and_admins(
        app: Flask, office: Office) -> None:
    receipt = store(office.tdp1, LOW, contact=cases.Contact("phone", "0912345678"))
    assert "0912345678" in client_of(app, "quantri").get(
        f"/staff/cases/{receipt}").get_data(as_text=True)
    for name in ("canbo", "totruong1"):
        html = client_of(app, name).get(f"/staff/cases/{receipt}").get_data(as_text=True)
        assert "0912345678" not in html, name
        assert "chỉ người được giao hồ sơ (và quản trị) xem được" in html
        assert "Sẽ tự xóa 30 ngày sau khi đóng hồ sơ." in html
    cases.assign(case_of(receipt), office.admin, office.leader1)
    db.session.commit()
    html = client_of(app, "totruong1").get(f"/staff/cases/{receipt}").get_data(as_text=True)
    assert 'href="tel:0912345678"' in html
    assert "0912345678" not in client_of(app, "canbo").get(
        f"/staff/cases/{receipt}").get_data(as_text=True)
    # A case without a contact says nothing about one.
    plain = store(office.tdp1, LOW)
    html = client_of(app, "quantri").get(f"/staff/cases/{plain}").get_data(as_text=True)
    assert "Liên hệ" not in html
    assert "Sẽ tự xóa" not in html


# --- handling a case -----------------------------------------------------------------------


def post(client: FlaskClient, receipt: str, action: str, **fields: str) -> Any:
    return client.post(f"/staff/cases/{receipt}", data={
        "action": action, **{f"{action}-{k}": v for k, v in fields.items()}})


def test_assign_reply_close_reopen_and_note_make_the_history(
        app: Flask, office: Office, three: dict[str, str]) -> None:
    receipt = three["chair"]
    staff = client_of(app, "canbo")
    assert post(staff, receipt, "assign", assignee="canbo",
                handling_unit="QUAY-1").status_code == 302
    response = post(staff, receipt, "reply", text="Phường đã thay ghế chờ mới.",
                    status="answered", publish="y")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{receipt}#reply")
    case = case_of(receipt)
    assert (case.status, case.reply, case.published) == ("answered", "Phường đã thay ghế chờ mới.",
                                                         True)
    assert case.answered_at is not None
    assert post(staff, receipt, "status", status="closed").status_code == 302
    assert case_of(receipt).status == "closed"
    assert case_of(receipt).closed_at is not None
    assert post(staff, receipt, "status", status="in_progress").status_code == 302
    assert (case_of(receipt).status, case_of(receipt).closed_at) == ("in_progress", None)
    assert post(staff, receipt, "note", text="Đã gọi điện cho tổ bảo trì.").status_code == 302
    assert [n.text for n in case_of(receipt).notes] == ["Đã gọi điện cho tổ bảo trì."]
    assert [e.action for e in case_entries(receipt)] == [
        "case.assign", "case.reply", "case.status", "case.status", "case.note"]

    html = staff.get(f"/staff/cases/{receipt}").get_data(as_text=True)
    history = html[html.index("Lịch sử hồ sơ"):]
    order = [history.index(label) for label in (
        "Tự mở hồ sơ từ phiếu của người dân", "Giao hồ sơ", "Trả lời người dân",
        "Đổi trạng thái hồ sơ", "Ghi chú nội bộ")]
    assert order == sorted(order)
    for line in ("<dt>Người xử lý</dt><dd>— → canbo</dd>",
                 "<dt>Trạng thái</dt><dd>Mới → Đang xử lý</dd>",
                 "<dt>Nội dung trả lời</dt><dd>Phường đã thay ghế chờ mới.</dd>",
                 "<dt>Trạng thái</dt><dd>Đang xử lý → Đã trả lời</dd>",
                 "<dt>Đăng công khai</dt><dd>có</dd>",
                 "<dt>Trạng thái</dt><dd>Đã trả lời → Đã đóng</dd>",
                 "<dt>Trạng thái</dt><dd>Đã đóng → Đang xử lý</dd>",
                 "<dt>Ghi chú</dt><dd>Đã gọi điện cho tổ bảo trì.</dd>",
                 "<dt>Lý do mở hồ sơ</dt><dd>Có góp ý</dd>"):
        assert line in history, line
    # The audit page reads the same entries.
    audit_page = client_of(app, "quantri").get("/staff/audit").get_data(as_text=True)
    assert f"hồ sơ {receipt}" in audit_page
    assert "case.assign" not in audit_page.replace('value="case.assign"', "")


def test_a_reply_can_close_the_case_at_once(app: Flask, three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    post(staff, three["late"], "reply", text="Đã chuyển phòng Quản lý đô thị.", status="closed")
    case = case_of(three["late"])
    assert (case.status, case.published) == ("closed", False)
    assert case.closed_at is not None
    html = staff.get(f"/staff/cases/{three['late']}").get_data(as_text=True)
    assert "Mở lại hồ sơ" in html
    assert "quá hạn" not in html.split("Lịch sử hồ sơ")[0].split("</h1>")[0]


@pytest.mark.parametrize(("action", "fields", "words"), [
    ("reply", {"text": "   ", "status": "answered"}, "Xin nhập nội dung trả lời."),
    ("reply", {"text": "x" * 4001, "status": "answered"}, "Câu trả lời dài quá 4000 ký tự."),
    ("reply", {"text": "Được", "status": "new"}, "Lựa chọn không hợp lệ."),
    ("assign", {"assignee": "khong-co-ai", "handling_unit": "TDP-1"},
     "Không giao được cho tài khoản “khong-co-ai”."),
    ("assign", {"assignee": "canbo", "handling_unit": "NOPE"},
     "Ông/Bà không chọn được đơn vị xử lý “NOPE”."),
    ("status", {"status": "answered"}, "Lựa chọn không hợp lệ."),
    ("note", {"text": ""}, "Xin nhập ghi chú."),
    ("note", {"text": "y" * 4001}, "Ghi chú dài quá 4000 ký tự."),
])
def test_bad_input_on_a_case_says_why_and_stores_nothing(
        app: Flask, three: dict[str, str], action: str, fields: dict[str, str],
        words: str) -> None:
    receipt = three["low"]
    response = post(client_of(app, "canbo"), receipt, action, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert words in html
    assert "Chưa lưu" in html
    case = case_of(receipt)
    assert (case.status, case.reply, case.assignee_id) == ("new", None, None)
    assert case.notes == []
    assert case_entries(receipt) == []


def test_a_stale_status_button_changes_nothing(app: Flask, three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    assert post(staff, three["low"], "status", status="closed").status_code == 302
    response = post(staff, three["low"], "status", status="closed")
    assert response.status_code == 400
    assert "Hồ sơ đang ở trạng thái “Đã đóng”" in response.get_data(as_text=True)
    assert len(case_entries(three["low"], "case.status")) == 1


def test_unknown_cases_and_actions(app: Flask, three: dict[str, str]) -> None:
    staff = client_of(app, "canbo")
    assert staff.get("/staff/cases/AAAA-AAAA").status_code == 404
    assert staff.get("/staff/cases/not-a-receipt").status_code == 404
    assert staff.post("/staff/cases/AAAA-AAAA", data={"action": "note",
                                                      "note-text": "x"}).status_code == 404
    assert staff.post(f"/staff/cases/{three['low']}", data={"action": "delete"}).status_code == 400
    typed = three["low"].replace("-", "").lower()
    response = staff.get(f"/staff/cases/{typed}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{three['low']}")
    assert app.test_client().get(f"/staff/cases/{three['low']}").status_code == 302  # login


# --- the header, opening by hand, other lists ----------------------------------------------


def test_the_header_counts_open_and_overdue_cases(app: Flask, office: Office,
                                                  three: dict[str, str]) -> None:
    def header(name: str) -> str:
        html = client_of(app, name).get("/staff/units").get_data(as_text=True)
        return html[html.index('class="nav-cases"'):html.index("</nav>")]

    assert "Phản ánh, kiến nghị" in header("canbo")
    assert "3 đang mở" in header("canbo")
    assert '<b class="late">1 quá hạn</b>' in header("canbo")
    assert "1 đang mở" in header("totruong1")
    assert "quá hạn" not in header("totruong1")
    assert '<b class="late">1 quá hạn</b>' in header("totruong2")
    cases.reply(case_of(three["late"]), office.admin, "Đã xử lý.")
    db.session.commit()
    assert "2 đang mở" in header("canbo")
    assert "quá hạn" not in header("canbo")
    assert "đang mở" not in header("totruong2")


def test_staff_open_a_case_from_any_response(app: Flask, office: Office) -> None:
    receipt = store(office.counter, FINE | {"y_kien": "Không có ý kiến"})
    assert cases.find_by_receipt(receipt) is None
    staff = client_of(app, "canbo")
    # The suggestions list offers to open one; the receipt is typed as from a slip.
    page = staff.get("/staff/suggestions").get_data(as_text=True)
    assert "Mở hồ sơ" in page
    response = staff.post("/staff/cases/open", data={
        "receipt": receipt.replace("-", "").lower(), "next": "/staff/suggestions"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{receipt}")
    case = case_of(receipt)
    assert (case.opened_by, case.reasons, case.status) == ("canbo", "", "new")
    assert [e.action for e in case_entries(receipt)] == ["case.open"]
    page = staff.get("/staff/suggestions").get_data(as_text=True)
    assert f'href="/staff/cases/{receipt}"' in page
    again = staff.post("/staff/cases/open", data={"receipt": receipt}, follow_redirects=True)
    assert "đã có hồ sơ" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
    unknown = staff.post("/staff/cases/open", data={"receipt": "AAAA-AAAA",
                                                    "next": "/staff/suggestions"},
                         follow_redirects=True)
    assert "Không có phiếu nào mang mã “AAAA-AAAA”." in unknown.get_data(as_text=True)
    away = staff.post("/staff/cases/open", data={"receipt": "AAAA-AAAA",
                                                 "next": "https://example.com/"})
    assert away.headers["Location"].endswith("/staff/cases")


def test_follow_up_links_a_case_or_offers_to_open_one(app: Flask, office: Office) -> None:
    with_case = store(office.counter, LOW)
    without = store(office.counter, LOW, open_case=False)
    html = client_of(app, "canbo").get("/staff/follow-up").get_data(as_text=True)
    assert f'href="/staff/cases/{with_case}"' in html
    assert f'href="/staff/cases/{without}"' not in html
    assert f'name="receipt" value="{without}"' in html


def test_a_leader_opens_a_case_for_own_groups_response(app: Flask, office: Office) -> None:
    receipt = store(office.tdp1, FINE)
    response = client_of(app, "totruong1").post("/staff/cases/open", data={"receipt": receipt})
    assert response.status_code == 302
    assert case_of(receipt).opened_by == "totruong1"


# --- retention -----------------------------------------------------------------------------


def contacts() -> set[str]:
    return set(db.session.scalars(sa.select(CaseContact.value)))


def test_pages_purge_contacts_of_cases_closed_long_ago(app: Flask, office: Office) -> None:
    old = store(office.counter, LOW, contact=cases.Contact("phone", "0911111111"))
    recent = store(office.counter, LOW, contact=cases.Contact("email", "an@gmail.com"))
    for receipt in (old, recent):
        cases.set_status(case_of(receipt), office.admin, "closed")
    db.session.commit()
    long_ago, lately = case_of(old), case_of(recent)
    long_ago.closed_at = datetime.now(UTC) - timedelta(days=31)
    lately.closed_at = datetime.now(UTC) - timedelta(days=29)
    db.session.commit()
    admin = client_of(app, "quantri")
    assert contacts() == {"0911111111", "an@gmail.com"}
    html = admin.get(f"/staff/cases/{recent}").get_data(as_text=True)
    assert "an@gmail.com" in html
    assert "Sẽ tự xóa ngày" in html
    assert admin.get("/staff/cases").status_code == 200
    db.session.expire_all()
    assert contacts() == {"an@gmail.com"}
    [entry] = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "case.contact_purge")).all()
    assert entry.details == {"count": 1}
    assert admin.get("/staff/cases").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "case.contact_purge")) == 1  # nothing more to purge, no entry


def test_case_forms_carry_csrf_tokens_and_refuse_a_post_without(
        app_factory: Callable[..., Flask]) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        ward = units.create_unit("P", "Phường", "ward", actor="test")
        unit = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="test")
        from survey.services import accounts

        accounts.create_user("canbo", "correct horse battery", "staff", [], actor="test")
        db.session.commit()
        receipt = store(unit, LOW)
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": "canbo", "password": "correct horse battery",
                                    "csrf_token": token})
        html = client.get(f"/staff/cases/{receipt}").get_data(as_text=True)
        assert html.count('name="csrf_token"') >= 1
        for prefix in ("assign", "reply", "status", "note"):
            assert f'name="{prefix}-csrf_token"' in html
        response = client.post(f"/staff/cases/{receipt}", data={"action": "note",
                                                               "note-text": "x"})
        assert response.status_code == 400
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)) == 0
        token = re.search(r'name="note-csrf_token" type="hidden" value="([^"]+)"', html)
        token = token or re.search(r'id="note-csrf_token" name="note-csrf_token" type="hidden" '
                                   r'value="([^"]+)"', html)
        assert token
        response = client.post(f"/staff/cases/{receipt}", data={
            "action": "note", "note-text": "Ghi chú", "note-csrf_token": token.group(1)})
        assert response.status_code == 302
