"""Flags on stuffed and odd responses, staff exclusions, and what travels in the files."""

from __future__ import annotations

import io
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from analysis.vietnam import VIETNAM
from survey.extensions import db
from survey.models import AuditLog, FlagGroup, Response, Unit, User
from survey.reporting import exports, summaries
from survey.reporting.filters import Filters
from survey.services import imports, integrity, paper, rollups, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import first_writer_holds, login, summary_of

QID = "sipas-dichvu"
VIETNAM = VIETNAM
ITEMS = [f"q{i}" for i in range(15, 34)]
START = datetime(2026, 3, 2, tzinfo=VIETNAM)  # a Monday


def ordinary_answers(rng: random.Random) -> dict[str, int | str]:
    """A citizen's answers: mostly one level of their own, with some spread."""
    level = rng.choice([3, 4, 4, 4, 5, 5])
    answers: dict[str, int | str] = {
        q: min(5, max(1, level + rng.choice([-1, 0, 0, 0, 1]))) for q in ITEMS}
    if rng.random() < 0.7:
        answers["gioi_tinh"] = rng.choice([1, 2])
    if rng.random() < 0.3:
        answers["y_kien"] = rng.choice(["Tốt", "Cần thêm ghế chờ", "Nhanh gọn"])
    return answers


def opening_time(rng: random.Random, day: int) -> datetime:
    """A moment within office hours on one of the working days after START."""
    moment = START + timedelta(days=day)
    if moment.weekday() == 6:
        moment += timedelta(days=1)
    last = 11 * 60 + 30 if moment.weekday() == 5 else 16 * 60 + 45
    minute = rng.randint(7 * 60 + 30, last)
    return moment + timedelta(minutes=minute, seconds=rng.randint(0, 59))


@pytest.fixture
def stuffed(app: Flask, counter: Unit) -> tuple[list[int], list[int]]:
    """Three hundred ordinary responses over a month at one counter's QR code, and forty
    identical ones in two minutes (someone filling the form over and over)."""
    rng = random.Random(20260302)
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    link = units.ensure_link(counter, QID, actor="test")
    ordinary, fake = [], []
    for _ in range(300):
        ordinary.append(save_response(
            questionnaire, counter, "qr", uuid.uuid4(), ordinary_answers(rng), link=link,
            submitted_at=opening_time(rng, rng.randint(0, 29))).pk)
    stuffing_start = START + timedelta(days=22, hours=10)  # a Tuesday, 10:00
    same = dict.fromkeys(ITEMS, 5) | {"gioi_tinh": 1, "y_kien": "Rất tốt"}
    for i in range(40):
        fake.append(save_response(
            questionnaire, counter, "qr", uuid.uuid4(), same, link=link,
            submitted_at=stuffing_start + timedelta(seconds=3 * i)).pk)
    db.session.commit()
    return ordinary, fake


def flags_of(ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(sa.select(Response.id, Response.flags).where(
        Response.id.in_(ids))).all())


def test_stuffing_is_flagged_and_ordinary_responses_are_not(
        app: Flask, stuffed: tuple[list[int], list[int]]) -> None:
    ordinary, fake = stuffed
    result = integrity.scan()
    db.session.commit()
    assert result.responses == 340
    fake_flags, ordinary_flags = flags_of(fake), flags_of(ordinary)
    flagged_fake = [pk for pk in fake if fake_flags[pk]]
    flagged_ordinary = [pk for pk in ordinary if ordinary_flags[pk]]
    print(f"\nstuffed flagged {len(flagged_fake)}/{len(fake)}, ordinary flagged "
          f"{len(flagged_ordinary)}/{len(ordinary)}")
    assert len(flagged_fake) >= 0.9 * len(fake)
    assert len(flagged_ordinary) <= 0.05 * len(ordinary), {
        pk: ordinary_flags[pk] for pk in flagged_ordinary}
    for pk in fake:
        assert {"burst", "same_answers", "straightline"} <= set(fake_flags[pk].split())
    burst = db.session.scalars(sa.select(FlagGroup).where(FlagGroup.kind == "burst")).one()
    assert burst.n == 40
    assert burst.evidence["threshold"] == 10
    assert burst.evidence["days_seen"] > 15
    sentence = integrity.describe(burst)
    assert sentence.startswith("40 phiếu trong vòng 10 phút qua cùng một mã QR")
    # A second scan finds nothing new and changes nothing (it looks at the last days again).
    again = integrity.scan()
    db.session.commit()
    assert again.responses == 0
    assert flags_of(fake) == fake_flags
    assert flags_of(ordinary) == ordinary_flags


def test_flags_page_lists_the_groups_and_staff_exclude_one_with_a_reason(
        app: Flask, admin_client: FlaskClient, stuffed: tuple[list[int], list[int]]) -> None:
    before = summary_of(Filters(QID))
    assert before is not None
    assert (before["n_responses"], before["n_excluded"]) == (340, 0)
    page = admin_client.get("/staff/flags?kind=burst")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Dồn dập" in html
    assert "40 phiếu trong vòng 10 phút qua cùng một mã QR" in html
    group = db.session.scalars(sa.select(FlagGroup).where(FlagGroup.kind == "burst")).one()
    detail = admin_client.get(f"/staff/flags/{group.id}").get_data(as_text=True)
    assert detail.count('name="responses"') == 40
    # A reason is required.
    refused = admin_client.post(f"/staff/flags/{group.id}", data={"action": "exclude",
                                                                  "reason": ""})
    assert refused.status_code == 400
    assert "Xin ghi lý do." in refused.get_data(as_text=True)
    assert summaries.excluded_count(db.session, Filters(QID)) == 0
    done = admin_client.post(f"/staff/flags/{group.id}", data={
        "action": "exclude", "reason": "Một người điền 40 phiếu trong hai phút.",
        "shown": re.findall(r'name="shown" value="([A-Z2-7-]+)"', detail)})
    assert done.status_code == 302
    after = summary_of(Filters(QID))
    assert after is not None
    assert (after["n_responses"], after["n_excluded"]) == (300, 40)
    assert after["index"]["value"] < before["index"]["value"]  # the 100 % answers are out
    assert rollups.in_step()
    entry = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "response.exclude")).one()
    assert entry.actor == "quantri"
    assert len(entry.details["receipts"]) == 40
    assert entry.details["reason"] == "Một người điền 40 phiếu trong hai phút."
    # The excluded list, and taking two back in.
    listed = admin_client.get("/staff/flags/excluded").get_data(as_text=True)
    receipts = re.findall(r'name="responses" value="([A-Z2-7-]+)"', listed)
    assert len(receipts) == 40
    assert "Một người điền 40 phiếu trong hai phút." in listed
    admin_client.post("/staff/flags/excluded", data={
        "responses": receipts[:2], "reason": "Hai phiếu này là thật, đã gọi lại hỏi."})
    back = summary_of(Filters(QID))
    assert back is not None
    assert (back["n_responses"], back["n_excluded"]) == (302, 38)
    assert rollups.in_step()


def _walk(client: FlaskClient, path: str, item: str) -> list[list[str]]:
    """Follow a list's "Sau" links from its first page; return each page's items."""
    pages = []
    while path:
        html = client.get(path).get_data(as_text=True)
        pages.append(re.findall(item, html))
        assert f"Trang {len(pages)} /" in html or len(pages) == 1
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        path = found.group(1).replace("&amp;", "&") if found else ""
        assert len(pages) < 20
    return pages


def test_flags_and_excluded_lists_page_by_key(
        app: Flask, admin_client: FlaskClient, counter: Unit,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page starts after the last row of the page before (no OFFSET), ties on the time
    broken by id: walking "Sau" shows every row once, newest first."""
    from survey.staff import integrity as pages

    start = datetime(2026, 3, 2, 2, tzinfo=UTC)
    ids = [_store(counter, start + timedelta(minutes=i)) for i in range(7)]
    for i in range(7):  # two by two at the same moment
        db.session.add(FlagGroup(key=f"test:{i}", kind="burst", questionnaire_id=QID,
                                 unit_id=counter.id, day="2025-01-15", first_at=start,
                                 last_at=start + timedelta(hours=i // 2), n=1, evidence={}))
    responses = db.session.scalars(sa.select(Response).where(Response.id.in_(ids))).all()
    integrity.set_excluded(responses, True, "Thử phân trang.", "test")
    for i, response in enumerate(responses):
        response.excluded_at = start + timedelta(hours=i // 2)
    db.session.commit()
    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    walked = _walk(admin_client, "/staff/flags", r'href="/staff/flags/(\d+)"')
    groups = [g.id for g in db.session.scalars(sa.select(FlagGroup).order_by(
        FlagGroup.last_at.desc(), FlagGroup.id.desc()))]  # with what the page's scan found
    assert len(groups) >= 7
    assert [len(p) for p in walked] == [3] * (len(groups) // 3) + (
        [len(groups) % 3] if len(groups) % 3 else [])
    assert [int(g) for p in walked for g in p] == groups
    excluded = [r.receipt for r in sorted(responses, key=lambda r: (r.excluded_at, r.id),
                                          reverse=True)]
    walked = _walk(admin_client, "/staff/flags/excluded",
                   r'name="responses" value="([A-Z2-7-]+)"')
    assert [r for p in walked for r in p] == excluded
    assert [len(p) for p in walked] == [3, 3, 1]
    for bad in ("x", "2026-13-01~1", "~", "9" * 300, "9999-12-31T23:59:59-05:00~1",
                "0001-01-01T00:00:00%2B05:00~1"):
        html = admin_client.get(f"/staff/flags/excluded?after={bad}&page=3").get_data(
            as_text=True)
        assert re.findall(r'name="responses" value="([A-Z2-7-]+)"', html) == excluded[:3]


def test_leaders_have_no_flags_page(client: FlaskClient, make_user: Callable[..., User],
                                    counter: Unit) -> None:
    make_user("totruong", "leader", [counter])
    login(client, "totruong")
    assert client.get("/staff/flags").status_code == 403
    assert client.get("/staff/flags/excluded").status_code == 403
    assert "Phiếu bất thường" not in client.get("/staff/").get_data(as_text=True)


def _store(unit: Unit, at: datetime, answers: dict[str, Any] | None = None,
           channel: str = "qr", **extra: Any) -> int:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    return save_response(questionnaire, unit, channel, uuid.uuid4(),
                         answers or {"q15": 4, "q16": 5, "q17": 3}, submitted_at=at,
                         **extra).pk


def test_off_hours_follow_the_unit_and_public_holidays(
        app: Flask, make_unit: Callable[..., Unit]) -> None:
    counter, group = make_unit("QUAY-9"), make_unit("TDP-9", kind="group")
    evening = START + timedelta(hours=21)
    holiday = datetime(2026, 9, 2, 10, tzinfo=VIETNAM)  # Quốc khánh, a Wednesday
    ids = {"evening": _store(counter, evening), "morning": _store(counter, START.replace(hour=9)),
           "holiday": _store(counter, holiday), "home": _store(group, evening),
           "paper": _store(counter, evening, channel="paper")}
    counter.opening_hours = None
    db.session.commit()
    integrity.scan()
    db.session.commit()
    flags = {name: flags_of([pk])[pk] for name, pk in ids.items()}
    assert flags == {"evening": "off_hours", "morning": "", "holiday": "off_hours",
                     "home": "", "paper": ""}
    group_row = db.session.scalars(sa.select(FlagGroup).where(
        FlagGroup.kind == "off_hours", FlagGroup.day == "2026-09-02")).one()
    assert "Ngày nghỉ lễ" in integrity.describe(group_row)
    # A unit open in the evening: after a change of hours, the day is looked at again.
    counter.opening_hours = "T2-T6 07:00-22:00"
    db.session.commit()
    response = db.session.get(Response, ids["evening"])
    assert response is not None
    integrity.touch(response)
    integrity.scan()
    db.session.commit()
    assert flags_of([ids["evening"]])[ids["evening"]] == ""


def test_an_enterer_far_from_the_others_is_flagged(app: Flask, make_unit: Callable[..., Unit],
                                                   make_user: Callable[..., User]) -> None:
    group = make_unit("TDP-1", kind="group")
    honest, odd = make_user("nhap1", "leader", [group]), make_user("nhap2", "leader", [group])
    rng = random.Random(3)
    ids: dict[str, list[int]] = {"honest": [], "odd": []}
    for i in range(30):
        ids["honest"].append(_store(group, START + timedelta(hours=i), ordinary_answers(rng),
                                    channel="paper", entered_by=honest))
    for i in range(15):
        answers = {q: rng.choice([1, 2]) for q in ITEMS}
        ids["odd"].append(_store(group, START + timedelta(hours=i), answers, channel="paper",
                                 entered_by=odd))
    db.session.commit()
    integrity.scan()
    db.session.commit()
    # Two enterers who disagree: nobody can tell which of them is odd.
    assert not any(flags_of(ids["odd"] + ids["honest"]).values())
    # Citizens' own answers at a counter side with the first enterer.
    counter = make_unit("QUAY-1")
    for i in range(20):
        _store(counter, START + timedelta(days=1, minutes=17 * i), ordinary_answers(rng))
    db.session.commit()
    integrity.scan()
    db.session.commit()
    assert all("enterer_pattern" in f for f in flags_of(ids["odd"]).values())
    assert not any("enterer_pattern" in f for f in flags_of(ids["honest"]).values())
    flagged = db.session.scalars(sa.select(FlagGroup).where(
        FlagGroup.kind == "enterer_pattern")).one()
    assert flagged.evidence["enterer"] == "nhap2"
    assert "Tài khoản nhap2 nhập 15 phiếu giấy" in integrity.describe(flagged)


def test_flags_and_exclusions_travel_through_the_csv(
        app: Flask, app_factory: Callable[..., Flask],
        stuffed: tuple[list[int], list[int]]) -> None:
    ordinary, fake = stuffed
    integrity.scan()
    integrity.set_excluded(db.session.scalars(sa.select(Response).where(
        Response.id.in_(fake[:10]))).all(), True, "thử nghiệm loại phiếu", "test")
    db.session.commit()
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    filters = Filters(QID)
    csv_text = "".join(exports.csv_chunks(db.session, filters, rollups.scheme_of(questionnaire)))
    header = csv_text.lstrip("\ufeff").split("\r\n")[0].split(",")
    assert header[:6] == ["response_id", "submitted_at", "unit", "channel", "flags", "excluded"]
    rows = csv_text.split("\r\n")[1:-1]
    assert len(rows) == 340
    assert sum(1 for r in rows if ",burst same_answers straightline,1," in r) == 10
    original = summary_of(filters)
    assert original is not None
    assert original["n_excluded"] == 10
    # Into an empty database: the same flags, the same exclusions, the same summary.
    db.session.commit()
    db.session.close()
    db.engine.dispose()  # let the next app empty the database (PostgreSQL waits otherwise)
    other = app_factory()
    with other.app_context():
        ward = units.create_unit("PHUONG", "Phường Thử Nghiệm", "ward", actor="test")
        units.create_unit("QUAY-1", "Quầy", "counter", parent=ward, actor="test")
        db.session.commit()
        copy = get_questionnaire(QID)
        assert copy is not None
        assert imports.import_file("x.csv", copy, default_unit=None,
                                   content=csv_text.encode()) == (340, 0)
        db.session.commit()
        integrity.scan()
        db.session.commit()
        again = "".join(exports.csv_chunks(db.session, filters, rollups.scheme_of(copy)))
        assert again == csv_text
        summary = summary_of(filters)
        assert summary is not None
        assert summary["n_excluded"] == 10
        assert summary["index"] == original["index"]
        assert rollups.in_step()


def test_an_import_refuses_unknown_flags_and_odd_exclusions(app: Flask, counter: Unit) -> None:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    bad = (b"q15,flags,excluded\n4,burst,0\n4,sneaky,0\n4,,yes\n")
    with pytest.raises(imports.ImportFailed) as info:
        imports.import_file("x.csv", questionnaire, default_unit=counter, content=bad)
    assert info.value.errors == [
        "row 3, column flags: unknown flag 'sneaky' (known: burst, same_answers, "
        "straightline, off_hours, enterer_pattern)",
        "row 4, column excluded: must be 1 or 0, not 'yes'"]


def test_a_leaders_import_holds_only_paper_sheets_of_the_batch_period(
        app: Flask, make_unit: Callable[..., Unit], make_user: Callable[..., User],
        client: FlaskClient) -> None:
    own = make_unit("TDP-1", kind="group")
    leader = make_user("totruong", "leader", [own])
    login(client, "totruong")

    def upload(content: str) -> Any:
        return client.post("/staff/import", data={
            "questionnaire": QID, "channel": "paper", "unit": "TDP-1",
            "file": (io.BytesIO(content.encode()), "phieu.csv")},
            content_type="multipart/form-data")

    no_batch = upload("q15,q16\n4,5\n")
    assert no_batch.status_code == 400
    assert "chưa có đợt phiếu in nào của phiếu sipas-dichvu được giao cho TDP-1" in \
        no_batch.get_data(as_text=True)
    batch = paper.create_batch(QID, own, 5, leader=leader, double_entry=False, actor="test")
    batch.created_at = datetime(2026, 3, 1, 2, tzinfo=UTC)  # 01/03/2026, Vietnam time
    db.session.commit()
    refused = upload("channel,submitted_at,q15,excluded\nqr,,4,0\n"
                     "paper,2026-02-20T09:00:00,4,0\npaper,2099-01-01T09:00:00,4,0\n"
                     "paper,,4,1\n").get_data(as_text=True)
    for expected in ("Dòng 2, cột channel: tổ trưởng chỉ nhập phiếu giấy",
                     "Dòng 3, cột submitted_at: trước ngày giao đợt phiếu in đầu tiên của "
                     "phiếu sipas-dichvu cho TDP-1 (01/03/2026)",
                     "Dòng 4, cột submitted_at: là một thời điểm trong tương lai",
                     "Dòng 5, cột excluded: chỉ cán bộ phường mới được loại phiếu"):
        assert expected in refused, refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
    assert upload("channel,submitted_at,q15\npaper,2026-03-05T09:00:00,4\n,,5\n"
                  ).status_code == 302
    stored = db.session.scalars(sa.select(Response)).all()
    assert {r.channel for r in stored} == {"paper"}
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "import")).one()
    assert sorted(entry.details["receipts"]) == sorted(r.receipt for r in stored)


def test_staff_set_a_units_opening_hours_and_its_days_are_flagged_again(
        app: Flask, admin_client: FlaskClient, counter: Unit) -> None:
    evening = _store(counter, START + timedelta(hours=20))
    db.session.commit()
    integrity.scan()
    db.session.commit()
    assert flags_of([evening])[evening] == "off_hours"
    form = {"name": counter.name, "parent": "PHUONG", "active": "y"}
    page = admin_client.get(f"/staff/units/{counter.code}").get_data(as_text=True)
    assert "T2-T6 07:00-17:30; T7 07:00-12:00" in page  # the default, shown as a hint
    refused = admin_client.post(f"/staff/units/{counter.code}",
                                data=form | {"opening_hours": "thứ hai 7 giờ"})
    assert refused.status_code == 400
    assert "Không đọc được giờ làm việc ở “thứ hai 7 giờ”" in refused.get_data(as_text=True)
    saved = admin_client.post(f"/staff/units/{counter.code}",
                              data=form | {"opening_hours": "t2-t6 7h00-21h30"})
    assert saved.status_code == 302
    db.session.refresh(counter)
    assert counter.opening_hours == "T2-T6 07:00-21:30"
    integrity.scan()
    db.session.commit()
    assert flags_of([evening])[evening] == ""
    admin_client.post(f"/staff/units/{counter.code}",
                      data=form | {"opening_hours": "không giới hạn"})
    db.session.refresh(counter)
    assert counter.opening_hours == ""
    admin_client.post(f"/staff/units/{counter.code}", data=form | {"opening_hours": ""})
    db.session.refresh(counter)
    assert counter.opening_hours is None


@pytest.mark.parametrize(("satisfied", "unsatisfied", "verdict"), [
    (2, 0, "undecided"),  # two fully satisfied responses: far from certain
    (120, 0, "met"),
    (10, 30, "not_met"),
    (80, 20, "undecided"),  # 80 % against a target of 80 %
])
def test_the_verdict_follows_the_interval_through_the_database(
        app: Flask, counter: Unit, satisfied: int, unsatisfied: int, verdict: str) -> None:
    for i in range(satisfied + unsatisfied):
        level = 5 if i < satisfied else 2
        _store(counter, START + timedelta(minutes=i), dict.fromkeys(ITEMS, level))
    db.session.commit()
    summary = summary_of(Filters(QID))
    assert summary is not None
    low, high = summary["index"]["ci95"]
    assert low < high  # never a point
    assert summary["target"] == {"value": 80.0, "verdict": verdict}
    if satisfied == 2 and not unsatisfied:
        assert summary["index"]["value"] == 100.0
        assert low < 40


def test_a_response_that_committed_late_is_still_flagged(app: Flask, counter: Unit) -> None:
    """On PostgreSQL a response may commit after one with a higher id, which a scan between
    the two has already passed: the next scan reads the last ids again."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: its ids commit in order")
    late = _store(counter, START + timedelta(hours=21))  # off hours
    db.session.commit()
    # As if a scan had passed this id before the response was visible: it noted the gap.
    db.session.execute(sa.text("INSERT INTO integrity_state (name, value) "
                               "VALUES ('last_response', :v), (:gap, :v)"),
                       {"v": late, "gap": f"gap:{late}"})
    db.session.commit()
    result = integrity.scan()
    db.session.commit()
    assert result.responses == 0  # nothing new since the last scan...
    assert flags_of([late])[late] == "off_hours"  # ...but the late one got its flag
    assert result.days == 1


def test_a_scan_notes_the_ids_it_did_not_find_and_flags_nothing_twice(
        app: Flask, counter: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a scan reads the last ids again, but flags only the days of responses it
    has not seen: the ids missing from its window last time (taken by a transaction not yet
    committed) and the new ones. Re-flagging every day of the window made each export of a
    city's data five seconds slower."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: its ids commit in order")
    stored = [_store(counter, START + timedelta(hours=9, minutes=i)) for i in range(5)]
    db.session.commit()
    first = integrity.scan()
    db.session.commit()
    assert (first.responses, first.days) == (5, 1)
    gaps = set(db.session.scalars(sa.text(
        "SELECT value FROM integrity_state WHERE name LIKE 'gap:%'")))
    assert not gaps & set(stored)
    assert len(gaps) == min(integrity.SCAN_OVERLAP, max(stored)) - len(stored)
    flagged: list[Any] = []
    real = integrity._flag_day
    monkeypatch.setattr(integrity, "_flag_day",
                        lambda key, *args: flagged.append(key) or real(key, *args))
    again = integrity.scan()
    db.session.commit()
    assert (again.responses, again.days, flagged) == (0, 0, [])  # nothing new: no day
    # An id a scan passed while its transaction was still open (the scan noted the gap)
    # appears: its day alone is flagged.
    late = _store(counter, START + timedelta(days=1, hours=21))
    db.session.execute(sa.text("UPDATE integrity_state SET value = :v "
                               "WHERE name = 'last_response'"), {"v": late + 10})
    db.session.execute(sa.text("INSERT INTO integrity_state (name, value) VALUES (:n, :v)"),
                       {"n": f"gap:{late}", "v": late})
    db.session.commit()
    third = integrity.scan()
    db.session.commit()
    assert (third.responses, third.days) == (0, 1)
    assert flagged == [(QID, counter.id, (START + timedelta(days=1)).date().isoformat())]
    assert flags_of([late])[late] == "off_hours"


def test_a_long_import_that_commits_after_a_scan_is_still_flagged(
        app: Flask, counter: Unit) -> None:
    """An import of many rows takes its ids early and commits late; a scan in between passes
    them (and more than its overlap). The import marks its days, so they are flagged anyway."""
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    rows = ["response_id,submitted_at,unit,channel,q15,q16"] + [
        f"{uuid.uuid4()},2026-03-02T21:{i:02d}:00+07:00,QUAY-1,qr,4,5" for i in range(30)]
    imports.import_file("x.csv", questionnaire, default_unit=None,
                        content="\n".join(rows).encode())
    db.session.commit()
    newest = db.session.scalar(sa.select(sa.func.max(Response.id)))
    # As if a scan had passed these ids, and far more, before the import was visible.
    db.session.execute(sa.text("INSERT INTO integrity_state (name, value) "
                               "VALUES ('last_response', :v)"),
                       {"v": newest + integrity.SCAN_OVERLAP + 1000})
    db.session.commit()
    integrity.scan()
    db.session.commit()
    flags = flags_of(list(db.session.scalars(sa.select(Response.id))))
    assert len(flags) == 30
    assert all("off_hours" in f for f in flags.values()), flags


def test_two_people_marking_one_day_at_once_both_succeed(app: Flask, counter: Unit) -> None:
    """Two edits of one day's responses at once both mark the day (one INSERT that skips a
    mark already there): the second never fails on the first one's row."""
    from survey.services.transactions import committed

    first = _store(counter, START + timedelta(hours=9))
    second = _store(counter, START + timedelta(hours=10))
    db.session.commit()
    integrity.scan()
    db.session.commit()
    thread, results = first_writer_holds(
        app, lambda: integrity.touch(db.session.get(Response, first)),
        "the second editor to wait for the first")
    committed(lambda: integrity.touch(db.session.get(Response, second)))
    thread.join(10)
    assert results == [None]
    marks = db.session.execute(sa.text("SELECT questionnaire_id, unit_id, day "
                                       "FROM integrity_dirty")).all()
    assert [tuple(m) for m in marks] == [(QID, counter.id, "2026-03-02")]


def test_two_people_excluding_one_response_at_once_move_the_counts_once(
        app: Flask, counter: Unit) -> None:
    """Two officers exclude the same response at once: the second waits for the first and
    finds it excluded already, so the rollups count it once in n_excluded."""
    from survey.services.transactions import committed

    pk = _store(counter, START + timedelta(hours=9))
    _store(counter, START + timedelta(hours=10))
    db.session.commit()
    stale = db.session.get(Response, pk)  # what the second officer's page was built from
    assert stale is not None
    assert not stale.excluded
    thread, results = first_writer_holds(
        app, lambda: integrity.set_excluded([db.session.get(Response, pk)], True,
                                            "người thứ nhất loại phiếu", "mot"),
        "the second officer to wait for the first")
    second = committed(lambda: integrity.set_excluded([stale], True, "người thứ hai loại phiếu",
                                                      "hai"))
    thread.join(10)
    assert results == [1]
    assert second == 0
    summary = summary_of(Filters(QID))
    assert summary is not None
    assert (summary["n_responses"], summary["n_excluded"]) == (1, 1)
    assert rollups.in_step()
    assert db.session.get(Response, pk).excluded_by == "mot"


def test_the_whole_group_is_what_the_officer_saw(
        app: Flask, admin_client: FlaskClient, counter: Unit) -> None:
    """"No box ticked" excludes the group as shown; when a scan has changed it since, nothing
    is excluded and the page says so."""
    ids = [_store(counter, START + timedelta(hours=20, minutes=i)) for i in range(3)]
    db.session.commit()
    integrity.scan()
    db.session.commit()
    group = db.session.scalars(sa.select(FlagGroup).where(FlagGroup.kind == "off_hours")).one()
    page = admin_client.get(f"/staff/flags/{group.id}").get_data(as_text=True)
    shown = re.findall(r'name="shown" value="([A-Z2-7-]+)"', page)
    assert len(shown) == 3
    later = _store(counter, START + timedelta(hours=21))  # joins the group at the next scan
    db.session.commit()
    integrity.scan()
    db.session.commit()
    reason = "Gửi ngoài giờ, đã kiểm tra camera."
    stale = admin_client.post(f"/staff/flags/{group.id}", data={
        "action": "exclude", "reason": reason, "shown": shown})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Nhóm này đã thay đổi từ lúc bạn mở trang" in html
    assert html.count('name="shown"') == 4  # the group as it is now
    assert not any(db.session.scalars(sa.select(Response.excluded)))
    fresh = re.findall(r'name="shown" value="([A-Z2-7-]+)"', html)
    done = admin_client.post(f"/staff/flags/{group.id}", data={
        "action": "exclude", "reason": reason, "shown": fresh})
    assert done.status_code == 302
    db.session.expire_all()
    excluded = set(db.session.scalars(sa.select(Response.id).where(Response.excluded.is_(True))))
    assert excluded == {*ids, later}


def test_a_scan_that_finds_what_it_found_before_writes_nothing(
        app: Flask, stuffed: tuple[list[int], list[int]]) -> None:
    integrity.scan()
    db.session.commit()
    before = {g.id: (g.updated_at, g.n) for g in db.session.scalars(sa.select(FlagGroup))}
    assert before
    # Every day of the month marked, as after an edit of each.
    db.session.execute(sa.text("INSERT INTO integrity_dirty (questionnaire_id, unit_id, day) "
                               "SELECT DISTINCT questionnaire_id, unit_id, day "
                               "FROM stat_response"))
    db.session.commit()
    writes: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = integrity.scan()
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert result.days >= 25
    after = {g.id: (g.updated_at, g.n) for g in db.session.scalars(sa.select(FlagGroup))}
    assert after == before
    # Only the scan's own bookkeeping: the marks cleared, the last id seen.
    assert all("integrity_dirty" in w or "integrity_state" in w for w in writes), writes


def test_a_leaders_export_leaves_out_the_flag_about_their_own_typing(
        app: Flask, client: FlaskClient, make_unit: Callable[..., Unit],
        make_user: Callable[..., User]) -> None:
    group = make_unit("TDP-1", kind="group")
    leader = make_user("totruong", "leader", [group])
    make_user("canbo", "staff")
    pk = _store(group, START + timedelta(hours=9), channel="paper", entered_by=leader)
    db.session.execute(sa.update(Response).where(Response.id == pk).values(
        imported_flags="straightline enterer_pattern"))
    db.session.commit()
    login(client, "totruong")
    mine = client.get(f"/staff/export.csv?questionnaire={QID}").get_data(as_text=True)
    row = mine.lstrip("\ufeff").split("\r\n")[1]
    assert row.split(",")[4] == "straightline"
    client.post("/logout")
    login(client, "canbo")
    theirs = client.get(f"/staff/export.csv?questionnaire={QID}").get_data(as_text=True)
    assert theirs.lstrip("\ufeff").split("\r\n")[1].split(",")[4] == (
        "straightline enterer_pattern")


def test_an_imported_exclusion_keeps_a_vietnamese_reason(app: Flask, counter: Unit) -> None:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    imports.import_file("x.csv", questionnaire, default_unit=counter,
                        content=b"q15,excluded\n4,1\n5,0\n")
    db.session.commit()
    reasons = list(db.session.scalars(sa.select(Response.excluded_reason)
                                      .where(Response.excluded.is_(True))))
    assert reasons == ["Đã loại trong tệp nhập vào (cột excluded)"]


def test_bad_opening_hours_are_shown_at_their_field_in_english_too(
        app: Flask, admin_client: FlaskClient, counter: Unit) -> None:
    form = {"name": counter.name, "parent": "PHUONG", "active": "y",
            "opening_hours": "monday 7am"}
    admin_client.get("/staff/?lang=en")
    refused = admin_client.post(f"/staff/units/{counter.code}", data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    at = html.index('name="opening_hours"')
    field = html[at:html.index("</div>", at)]  # the field's own block: input, hint, errors
    assert "“monday 7am”" in field, field
    assert 'class="errors"' in field, field
    db.session.refresh(counter)
    assert counter.opening_hours is None
