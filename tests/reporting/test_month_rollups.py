"""Month rollups: a period read as whole months plus the days at its ends adds up exactly.

The summaries read whole months from the month tables and the days at either end of a period
from the day tables (reporting/summaries.py); every writer keeps both (services/rollups.py).
Here, for periods of every shape, the counts equal those read from the day tables alone.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.vietnam import VIETNAM
from survey.extensions import db
from survey.models import Unit
from survey.reporting import summaries
from survey.reporting.filters import Filters
from survey.services import rollups, submissions, units
from survey.services.questionnaires import get_questionnaire

QID = "sipas-dichvu"
YEAR = 2025


def _day_only(filters: Filters, by: summaries.Breakdown | None) -> dict[object, object]:
    """Counts read from the day tables alone (the reading before month tables)."""
    original = summaries._parts
    try:
        summaries._parts = lambda f: [summaries._Part(  # type: ignore[assignment]
            "day", f.date_from.isoformat() if f.date_from else None,
            f.date_to.isoformat() if f.date_to else None)]
        return dict(summaries.counts_by(db.session, filters, by))
    finally:
        summaries._parts = original  # type: ignore[assignment]


@pytest.fixture
def spread(app: Flask, ward: Unit) -> list[Unit]:
    """Responses on days spread over a year, at two units, on two channels."""
    questionnaire = get_questionnaire(QID)
    assert questionnaire is not None
    made = [units.create_unit(code, code, "counter", parent=ward, actor="t")
            for code in ("Q-A", "Q-B")]
    rng = random.Random(7)  # noqa: S311 - test data
    for i in range(160):
        day = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
        moment = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)),
                                  tzinfo=VIETNAM).astimezone(UTC)
        answers = {f"q{q}": rng.choice((1, 2, 3, 4, 5)) for q in range(15, 34)}
        submissions.save_response(questionnaire, made[i % 2], ("qr", "paper")[i % 3 == 0],
                                  uuid.uuid4(), answers, submitted_at=moment, open_case=False)
    db.session.commit()
    assert rollups.in_step()
    return made


days_of_year = st.integers(0, 364).map(lambda n: date(YEAR, 1, 1) + timedelta(days=n))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.none() | days_of_year, end=st.none() | days_of_year,
       by=st.sampled_from([None, "unit", "month", "channel", "unit_month"]))
def test_months_and_end_days_add_up_to_the_days(spread: list[Unit], start: date | None,
                                                end: date | None, by: str | None) -> None:
    if start and end and start > end:
        start, end = end, start
    filters = Filters(QID, start, end)
    assert summaries.counts_by(db.session, filters, by) == _day_only(filters, by)  # type: ignore[arg-type]
    assert summaries.excluded_count(db.session, filters) == 0


def test_whole_months_are_read_from_the_month_tables() -> None:
    parts = summaries._parts(Filters(QID, date(2025, 3, 15), date(2025, 6, 10)))
    assert parts == [summaries._Part("day", "2025-03-15", "2025-03-31"),
                     summaries._Part("month", "2025-04", "2025-05"),
                     summaries._Part("day", "2025-06-01", "2025-06-10")]
    assert summaries._parts(Filters(QID, date(2025, 3, 1), date(2025, 3, 31))) == [
        summaries._Part("month", "2025-03", "2025-03")]
    assert summaries._parts(Filters(QID, date(2025, 3, 2), date(2025, 4, 30))) == [
        summaries._Part("day", "2025-03-02", "2025-03-31"),
        summaries._Part("month", "2025-04", "2025-04")]
    assert summaries._parts(Filters(QID, date(2025, 3, 2), date(2025, 3, 30))) == [
        summaries._Part("day", "2025-03-02", "2025-03-30")]
    assert summaries._parts(Filters(QID, date(2025, 12, 5), None)) == [
        summaries._Part("day", "2025-12-05", "2025-12-31"),
        summaries._Part("month", "2026-01", None)]
    assert summaries._parts(Filters(QID)) == [summaries._Part("month", None, None)]
