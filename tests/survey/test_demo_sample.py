"""The demo ward's sample responses (issue 11): seeded with `init-db --demo` on a new database,
realistic enough to fill the dashboard without tripping the flags, marked on every staff page,
and taken out with `flask demo remove`.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from analysis.vietnam import VIETNAM, vietnam_day
from survey.extensions import db
from survey.models import Answer, AuditLog, Response, Unit, User
from survey.reporting import exports
from survey.reporting.filters import Filters
from survey.services import demo, integrity, rollups, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.conftest import PASSWORD, login, sipas_answers, summary_of

BANNER = "Dữ liệu mẫu."


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def seeded(app: Flask) -> Any:
    result = run(app, "init-db", "--demo")
    assert result.exit_code == 0, result.output
    return result


def test_init_db_demo_seeds_a_realistic_sample_that_the_flags_leave_alone(app: Flask) -> None:
    result = seeded(app)
    n = demo.sample_count()
    assert 400 <= n <= 650
    assert f"sample responses: {n} made-up responses" in result.output
    assert "flask --app wsgi demo remove" in result.output
    responses = db.session.scalars(sa.select(Response)).all()
    assert len(responses) == n
    assert all(demo.is_sample(r) for r in responses)
    by_unit = Counter(r.unit.code for r in responses)
    assert set(by_unit) == {"HCC-TPHT", "HCC-DDXD", "HCC-CT", "PVHXH", "TDP-01", "TDP-02",
                            "TDP-03", "AB-HCC-TPHT", "AB-HCC-DDXD", "AB-TDP-01", "AB-TDP-02"}
    # Two wards, every unit under one of them: the city's comparison has something to show.
    assert {r.unit.ward.code for r in responses} == {"TRANLIEU", "ANBIEN"}
    assert Counter(r.channel for r in responses).keys() == {"qr", "paper"}
    assert {r.questionnaire_id for r in responses} == {"sipas-dichvu", "mau-02",
                                                       "sipas-chinhsach", "papi-phuong"}
    # Spread over the last six months, in every one of them.
    today = datetime.now(VIETNAM).date()
    days = [date.fromisoformat(vietnam_day(r.submitted_at)) for r in responses]
    assert min(days) >= today - timedelta(days=183)
    assert max(days) < today
    assert len({(d.year, d.month) for d in days}) >= 6
    # QR codes at counters and the office are scanned in opening hours on working days.
    for r in responses:
        hours = integrity.hours_of(r.unit)
        if r.channel == "qr" and hours is not None:
            local = r.submitted_at.astimezone(VIETNAM)
            assert hours.is_open(local), (r.unit.code, local)
            assert local.date() not in integrity.public_holidays(local.year)
    # Satisfaction differs by unit (land affairs lag behind civil status) and moves by month.
    means: dict[str, list[int]] = defaultdict(list)
    monthly: dict[str, list[int]] = defaultdict(list)
    for r in responses:
        if r.questionnaire_id == "sipas-dichvu" and r.score_milli is not None:
            means[r.unit.code].append(r.score_milli)
            monthly[r.submitted_at.strftime("%Y-%m")].append(r.score_milli)
    mean = {code: sum(v) / len(v) for code, v in means.items()}
    assert mean["HCC-TPHT"] - mean["HCC-DDXD"] > 8_000  # points × 1000
    month_means = [sum(v) / len(v) for v in monthly.values() if len(v) >= 5]
    assert max(month_means) - min(month_means) > 2_000
    # Every 5-level answer appears, and comments in Vietnamese.
    codes = Counter(db.session.scalars(sa.select(Answer.option_code).where(
        Answer.question_id == "q20")))
    assert {1, 2, 3, 4, 5} <= set(codes) or {2, 3, 4, 5} <= set(codes)
    comments = [c or "" for c in db.session.scalars(sa.select(Answer.text_value).where(
        Answer.question_id == "y_kien"))]
    assert len(comments) >= 30
    assert any("cán bộ" in c.lower() for c in comments)
    # Rollups and flags as the real writers leave them; hardly anything is flagged.
    assert rollups.in_step()
    integrity.scan()
    flagged = sum(1 for r in db.session.scalars(sa.select(Response)) if r.flags)
    assert flagged <= n // 50
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "demo.seed")).one()
    assert (entry.details or {})["responses"] == n


def test_the_sample_is_seeded_only_on_a_new_database_and_is_the_same_each_time(
        app: Flask) -> None:
    seeded(app)
    n = demo.sample_count()
    again = run(app, "init-db", "--demo")
    assert "not seeded" in again.output
    assert demo.sample_count() == n
    first = sorted((str(r.response_id), r.digest, r.submitted_at)
                   for r in db.session.scalars(sa.select(Response)))
    # The same day gives the same sample (here: seeded again after a removal).
    assert run(app, "demo", "remove").exit_code == 0
    assert demo.seed_sample() == n
    db.session.commit()
    assert sorted((str(r.response_id), r.digest, r.submitted_at)
                  for r in db.session.scalars(sa.select(Response))) == first


def test_demo_remove_takes_out_the_sample_only_keeps_rollups_in_step_and_is_audited(
        app: Flask) -> None:
    seeded(app)
    counter = units.get_unit("HCC-CT")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert counter is not None
    assert questionnaire is not None
    real = uuid.uuid4()
    save_response(questionnaire, counter, "qr", real, {f"q{i}": 4 for i in range(15, 34)})
    db.session.commit()
    result = run(app, "demo", "remove")
    assert result.exit_code == 0, result.output
    assert "sample responses removed" in result.output
    assert demo.sample_count() == 0
    assert [r.response_id for r in db.session.scalars(sa.select(Response))] == [real]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 19
    assert rollups.in_step()
    summary = summary_of(Filters("sipas-dichvu"))
    assert summary is not None
    assert summary["n_responses"] == 1
    # Units, links and the admin stay.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 13  # two wards
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "demo.remove")).one()
    assert entry.actor == "cli"
    assert (entry.details or {})["responses"] > 300
    again = run(app, "demo", "remove")
    assert again.exit_code == 0
    assert "no sample responses" in again.output


def test_staff_pages_say_that_sample_data_is_shown_until_it_is_removed(
        app: Flask, client: FlaskClient) -> None:
    seeded(app)
    admin = db.session.scalars(sa.select(User)).one()
    admin.set_password(PASSWORD)
    db.session.commit()
    assert login(client, "admin").status_code == 302
    n = demo.sample_count()
    for path in ("/staff/", "/staff/units", "/staff/batches"):
        page = client.get(path).get_data(as_text=True)
        assert BANNER in page, path
        assert f"Có {n} phiếu trả lời do máy tạo ra" in page
        assert "flask --app wsgi demo remove" in page
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert "Chưa có phiếu" not in dashboard
    assert run(app, "demo", "remove").exit_code == 0
    assert BANNER not in client.get("/staff/").get_data(as_text=True)
    # The public form never shows it.
    link = units.link_for(units.get_unit("HCC-CT"), "sipas-dichvu")  # type: ignore[arg-type]
    assert link is not None
    assert BANNER not in client.get(f"/s/{link.code}").get_data(as_text=True)


def _sample_like_id(serial: int) -> uuid.UUID:
    """An id in the range the sample's ids are drawn from, as any client could send."""
    return uuid.UUID(int=(demo.SAMPLE_PREFIX << 64) | serial)


def test_demo_remove_keeps_real_responses_whose_id_looks_like_the_samples(
        app: Flask, client: FlaskClient) -> None:
    """The sample is what was seeded, not an id range: a real response sent through the public
    form, or imported, with an id in that range stays."""
    from survey.services import imports

    seeded(app)
    n = demo.sample_count()
    counter = units.get_unit("HCC-CT")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert counter is not None
    assert questionnaire is not None
    # One stored by the service the public form uses, one through the public form itself ...
    saved = _sample_like_id(10**6)
    save_response(questionnaire, counter, "qr", saved, {f"q{i}": 4 for i in range(15, 34)})
    db.session.commit()
    link = units.link_for(counter, "sipas-dichvu")
    assert link is not None
    posted = _sample_like_id(10**6 + 1)
    form = sipas_answers(response_id=posted)
    assert client.post(f"/s/{link.code}", data=form).status_code == 200
    # ... and one imported from a CSV.
    imported = _sample_like_id(10**6 + 2)
    header = "response_id,submitted_at,unit,channel," + ",".join(
        f"q{i}" for i in range(15, 34))
    row = f"{imported},2026-03-02T09:00:00,HCC-CT,paper," + ",".join(["3"] * 19)
    assert imports.import_file("a.csv", questionnaire, default_unit=None,
                               content=f"{header}\n{row}\n".encode()) == (1, 0)
    db.session.commit()
    real = {saved, posted, imported}
    stored = set(db.session.scalars(sa.select(Response.response_id)))
    assert real <= stored
    assert demo.sample_count() == n  # the banner counts the sample only
    assert run(app, "demo", "remove").exit_code == 0
    assert set(db.session.scalars(sa.select(Response.response_id))) == real
    assert demo.sample_count() == 0
    assert rollups.in_step()


def test_an_export_of_a_demo_install_imported_elsewhere_is_not_sample_data(
        app_factory: Any) -> None:
    """A CSV exported from a demo install carries the sample's ids; imported into another
    database its rows are real rows there: no banner, and `demo remove` leaves them."""
    from survey.services import imports

    first = app_factory()
    with first.app_context():
        assert run(first, "init-db", "--demo").exit_code == 0
        questionnaire = get_questionnaire("sipas-chinhsach")
        assert questionnaire is not None
        filters = Filters("sipas-chinhsach")
        csv_text = "".join(exports.csv_chunks(db.session, filters,
                                              rollups.scheme_of(questionnaire)))
        n = csv_text.count("\n") - 1
        assert n > 30
        db.session.remove()
    second = app_factory()
    with second.app_context():
        ward = units.create_unit("X", "Phường Khác", "ward", actor="t")
        for code in ("TDP-01", "TDP-02", "TDP-03", "AB-TDP-01", "AB-TDP-02"):
            units.create_unit(code, f"Tổ {code}", "group", parent=ward, actor="t")
        db.session.commit()
        questionnaire = get_questionnaire("sipas-chinhsach")
        assert questionnaire is not None
        assert imports.import_file("demo.csv", questionnaire, default_unit=None,
                                   content=csv_text.encode()) == (n, 0)
        db.session.commit()
        assert demo.sample_count() == 0
        assert not any(demo.is_sample(r) for r in db.session.scalars(sa.select(Response)))
        assert run(second, "demo", "remove").exit_code == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == n
