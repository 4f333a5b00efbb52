"""Rollups by profile answer: a breakdown by field, sex or age read from them adds up exactly.

A breakdown by a profile question reads whole months from the rollups by profile answer and
the days at the ends of its period from the answers themselves (reporting/summaries.py);
every writer keeps the rollups in step (services/rollups.py). Here, for periods, units and
channels of every shape, the counts equal those read from the answers alone, also after
edits, exclusions and deletions; and ``init-db`` fills the rollups when they are missing
(as after migration 0015).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.vietnam import VIETNAM
from survey.extensions import db
from survey.models import PROFILE_TABLES, Response, Unit, stat_profile, stat_profile_answer
from survey.reporting import summaries
from survey.reporting.filters import Filters
from survey.reporting.report import build_report
from survey.reporting.settings import Settings
from survey.services import integrity, rollups, submissions, units
from survey.services.questionnaires import get_questionnaire

QID = "sipas-dichvu"
YEAR = 2025
PROFILE = ("linh_vuc", "gioi_tinh", "do_tuoi", "nghe_nghiep")


def _from_answers(filters: Filters, question_id: str) -> dict[int, Any]:
    """The breakdown read from the answers alone, over the whole period."""
    cells: dict[int, dict[str, Any]] = {}
    summaries._answer_counts(db.session, filters, question_id, cells)
    return {code: summaries.Counts(**v) for code, v in cells.items() if v["n_responses"]}


@pytest.fixture
def spread(app: Flask, ward: Unit) -> list[Unit]:
    """Responses on days spread over a year, at two units, on two channels, with profiles.

    Some leave a profile question or an item unanswered; one in eleven is then excluded,
    one in thirteen deleted, and one in seven has its answers changed.
    """
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    made = [units.create_unit(code, code, "counter", parent=ward, actor="t")
            for code in ("P-A", "P-B")]
    rng = random.Random(11)  # noqa: S311 - test data
    stored = []
    for i in range(150):
        day = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
        moment = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)),
                                  tzinfo=VIETNAM).astimezone(UTC)
        answers: dict[str, int | str] = {
            f"q{q}": rng.choice((1, 2, 3, 4, 5)) for q in range(15, 34) if rng.random() > 0.1}
        answers["linh_vuc"] = rng.choice((1, 2, 3, 9))
        if rng.random() > 0.2:
            answers["gioi_tinh"] = rng.choice((1, 2))
        if rng.random() > 0.3:
            answers["do_tuoi"] = rng.choice((1, 2, 3, 4, 5))
        stored.append(submissions.save_response(
            questionnaire, made[i % 2], ("qr", "paper")[i % 3 == 0], uuid.uuid4(), answers,
            submitted_at=moment, open_case=False).pk)
    db.session.commit()
    responses = [db.session.get(Response, pk) for pk in stored]
    integrity.set_excluded([r for k, r in enumerate(responses) if k % 11 == 5 and r],
                           True, "kiểm thử", "t")
    for k, response in enumerate(responses):
        assert response is not None
        if k % 13 == 7 and not response.excluded:
            submissions.delete_response(response)
        elif k % 7 == 3:
            rollups.record(response, sign=-1)
            for answer in response.answers:
                if answer.question_id == "gioi_tinh":
                    answer.option_code = 3 - answer.option_code  # type: ignore[operator]
                elif answer.question_id == "q15":
                    answer.option_code = 1
            rollups.record(response, sign=1)
    db.session.commit()
    assert rollups.in_step()  # the rollups by profile answer included
    return made


days_of_year = st.integers(0, 364).map(lambda n: date(YEAR, 1, 1) + timedelta(days=n))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.none() | days_of_year, end=st.none() | days_of_year,
       question=st.sampled_from(PROFILE), unit=st.sampled_from([None, 0, 1]),
       channel=st.sampled_from([(), ("qr",), ("paper",)]))
def test_months_from_the_rollups_and_end_days_from_the_answers_add_up(
        spread: list[Unit], start: date | None, end: date | None, question: str,
        unit: int | None, channel: tuple[str, ...]) -> None:
    if start and end and start > end:
        start, end = end, start
    chosen = () if unit is None else (spread[unit],)
    filters = Filters(QID, start, end, chosen, channel)
    found = summaries.counts_by_answer(db.session, filters, question)
    assert found == _from_answers(filters, question)
    if question == "nghe_nghiep":  # nobody answered it
        assert found == {}


def test_a_year_is_read_from_the_rollups_alone(spread: list[Unit]) -> None:
    """Whole months read no answer: emptying the answers' profile rows changes nothing."""
    filters = Filters(QID, date(YEAR, 1, 1), date(YEAR, 12, 31))
    before = summaries.counts_by_answer(db.session, filters, "gioi_tinh")
    assert sum(c.n_responses for c in before.values()) > 50
    db.session.execute(sa.text("DELETE FROM answer WHERE question_id = 'gioi_tinh'"))
    assert summaries.counts_by_answer(db.session, filters, "gioi_tinh") == before
    db.session.rollback()


def test_the_dashboard_breakdown_equals_a_summary_of_each_answer(spread: list[Unit]) -> None:
    """A row of the "by profile" table is the summary of the responses giving that answer."""
    filters = Filters(QID, date(YEAR, 2, 10), date(YEAR, 11, 20))
    report = build_report(db.session, filters, Settings(min_cell=1))
    assert report is not None
    report.add_profile("linh_vuc")
    rows = {row["key"]: row for row in report.by_profile["linh_vuc"]}
    assert set(rows) == {1, 2, 3, 9}
    from analysis.scoring import counts_of, summarize
    scheme = rollups.scheme_of(get_questionnaire(QID))  # type: ignore[arg-type]
    for code, row in rows.items():
        answers = []
        for response in db.session.scalars(sa.select(Response).where(
                Response.excluded.is_(False))):
            day = response.submitted_at.replace(tzinfo=UTC).astimezone(VIETNAM).date()
            given = rollups.answers_of(response)
            if filters.date_from <= day <= filters.date_to and given.get("linh_vuc") == code:  # type: ignore[operator]
                answers.append(given)
        expected = summarize(scheme, counts_of(scheme, answers))
        assert row["n"] == expected["n_responses"] == len(answers)
        assert row["index"] == pytest.approx(expected["index"]["value"])


def test_init_db_fills_the_rollups_by_profile_when_they_are_missing(
        app: Flask, spread: list[Unit]) -> None:
    def nonzero() -> dict[str, list[tuple[Any, ...]]]:  # deletions leave rows of 0
        return {t.name: sorted(tuple(r) for r in db.session.execute(sa.select(t)) if r.n)
                for t in PROFILE_TABLES}

    rows = nonzero()
    assert rows["stat_profile_answer"]
    for table in reversed(PROFILE_TABLES):
        db.session.execute(table.delete())
    db.session.commit()
    assert not rollups.profiles_in_step()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "profile" in result.output
    assert rollups.profiles_in_step()
    assert rollups.in_step()
    assert nonzero() == rows


def test_a_submission_writes_one_row_per_profile_answer(app: Flask, ward: Unit) -> None:
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    counter = units.create_unit("P-C", "P-C", "counter", parent=ward, actor="t")
    submissions.save_response(questionnaire, counter, "qr", uuid.uuid4(),
                              {"q15": 4, "q16": 2, "gioi_tinh": 1, "do_tuoi": 3,
                               "y_kien": "Tốt."}, open_case=False)
    db.session.commit()
    heads = db.session.execute(sa.select(stat_profile.c.profile_id, stat_profile.c.profile_code,
                                         stat_profile.c.n)).all()
    assert sorted(heads) == [("do_tuoi", 3, 1), ("gioi_tinh", 1, 1)]
    items = db.session.execute(sa.select(stat_profile_answer.c.question_id).where(
        stat_profile_answer.c.profile_id == "gioi_tinh")).scalars().all()
    assert sorted(items) == ["q15", "q16"]  # scored items only, not the other profile answers
