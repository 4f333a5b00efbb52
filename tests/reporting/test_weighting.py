"""The index weighted by dossier volume (post-stratification) and response rates."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.scoring import Counts, Scheme, counts_of
from survey.extensions import db
from survey.models import ServiceIndicator
from survey.reporting.filters import Filters
from survey.reporting.weighting import response_rates, weighted
from survey.services import units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests.analysis.schemes import PAPI, PAPI_ITEMS, SIPAS_DICHVU, SIPAS_ITEMS
from tests.conftest import examples, summary_of


def _cell(rng: random.Random, scheme: Scheme, items: list[str], n: int,
          good: float) -> Counts:
    """Return the Counts of n random responses: the best option with probability ``good``."""
    options = {e["id"]: sorted((o for o in e["options"] if o["score"] is not None),
                               key=lambda o: o["score"])
               for e in scheme.codebook if e["id"] in items}
    answers = [{q: (opts[-1]["code"] if rng.random() < good else rng.choice(opts)["code"])
                for q, opts in options.items() if rng.random() > 0.1} for _ in range(n)]
    return counts_of(scheme, answers)


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 6), st.integers(1, 50),
       st.sampled_from(["sipas", "papi"]), st.sampled_from(["mean_of_items", "pooled"]))
def test_equal_response_rates_give_the_plain_index(seed: int, n_cells: int, rate: int,
                                                    kind: str, aggregation: str) -> None:
    """Dossiers proportional to responses in every cell: every weight is 1, nothing moves."""
    from analysis.scoring import summarize

    rng = random.Random(seed)
    scheme, items = (SIPAS_DICHVU, SIPAS_ITEMS) if kind == "sipas" else (PAPI, PAPI_ITEMS)
    cells = {(u, "2026-03"): _cell(rng, scheme, items, rng.randint(1, 30), rng.random())
             for u in range(n_cells)}
    volume = {c: counts.n_responses * rate for c, counts in cells.items()}
    total = Counts()
    for counts in cells.values():
        total = total + counts
    plain = summarize(scheme, total, aggregation=aggregation)  # type: ignore[arg-type]
    result = weighted(scheme, cells, volume,
                      plain=(plain["index"]["value"], plain["index"]["ci95"]),
                      aggregation=aggregation)
    assert result is not None
    assert all(w == pytest.approx(1.0) for w in result.weights.values())
    assert result.design_effect == pytest.approx(1.0)
    if plain["index"]["value"] is None:
        assert result.value is None
    else:
        assert result.value == pytest.approx(plain["index"]["value"], abs=1e-9)
        assert result.ci95 == pytest.approx(plain["index"]["ci95"], abs=1e-9)
    for group in plain["groups"]:
        assert result.groups[group["id"]] == pytest.approx(group["value"], abs=1e-9)


def test_a_busy_counter_with_few_forms_pulls_the_weighted_index_its_way() -> None:
    rng = random.Random(3)
    quiet = _cell(rng, SIPAS_DICHVU, SIPAS_ITEMS, 40, 0.95)  # happy, many forms
    busy = _cell(rng, SIPAS_DICHVU, SIPAS_ITEMS, 10, 0.2)  # unhappy, few forms
    cells = {(1, "2026-03"): quiet, (2, "2026-03"): busy}
    from analysis.scoring import summarize

    plain = summarize(SIPAS_DICHVU, quiet + busy)["index"]
    result = weighted(SIPAS_DICHVU, cells, {(1, "2026-03"): 100, (2, "2026-03"): 900},
                      plain=(plain["value"], plain["ci95"]))
    assert result is not None
    unhappy = summarize(SIPAS_DICHVU, busy)["index"]["value"]
    assert unhappy < result.value < plain["value"]
    assert result.weights[(2, "2026-03")] == pytest.approx((900 / 1000) / (10 / 50))
    assert result.design_effect > 1
    assert result.ci95 is not None
    assert result.ci95[1] - result.ci95[0] > plain["ci95"][1] - plain["ci95"][0]


def test_no_dossier_figures_no_weighted_index_and_rates_say_what_is_missing() -> None:
    rng = random.Random(4)
    cell = _cell(rng, SIPAS_DICHVU, SIPAS_ITEMS, 5, 0.5)
    assert weighted(SIPAS_DICHVU, {(1, "2026-03"): cell}, {}) is None
    rates = response_rates({(1, "2026-03"): cell}, {(1, "2026-03"): 50, (2, "2026-03"): 7})
    assert rates[(1, "2026-03")] == (5, 50, pytest.approx(10.0))
    assert rates[(2, "2026-03")] == (0, 7, pytest.approx(0.0))


def test_the_summary_json_carries_the_weighted_index_when_dossiers_are_known(
        app: Flask) -> None:
    """Through the database: rollups by (unit, month), dossiers from the indicators."""
    rng = random.Random(9)
    ward = units.create_unit("P", "Phường Thử", "ward", actor="t")
    q1 = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="t")
    q2 = units.create_unit("Q2", "Quầy 2", "counter", parent=ward, actor="t")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    start = datetime(2026, 3, 2, 2, tzinfo=UTC)
    for unit, n, good in ((q1, 30, 0.9), (q2, 10, 0.3)):
        for i in range(n):
            answers = {f"q{k}": (5 if rng.random() < good else 2) for k in range(15, 34)}
            save_response(questionnaire, unit, "qr", uuid.uuid4(), answers,
                          submitted_at=start + timedelta(hours=i))
    db.session.commit()
    filters = Filters("sipas-dichvu")
    plain = summary_of(filters)
    assert plain is not None
    assert "weighted" not in plain  # no dossier figures yet
    for unit, received in ((q1, 300), (q2, 100)):  # equal response rates: 10 %
        db.session.add(ServiceIndicator(unit_id=unit.id, year=2026, month=3, field=0,
                                        received=received, resolved=0, on_time=0,
                                        late_apology=0, online=0, paid_online=0, postal=0,
                                        digitised=0, recorded_by="t"))
    db.session.commit()
    same = summary_of(filters)
    assert same is not None
    assert same["weighted"]["value"] == pytest.approx(same["index"]["value"], abs=1e-9)
    assert same["weighted"]["responses_covered"] == pytest.approx(1.0)
    db.session.execute(ServiceIndicator.__table__.update().where(
        ServiceIndicator.unit_id == q2.id).values(received=900))
    db.session.commit()
    moved = summary_of(filters)
    assert moved is not None
    assert moved["weighted"]["value"] < moved["index"]["value"]
    assert moved["weighted"]["cells"] == 2
    # The báo cáo says both indices and each counter's response rate; the method note says how.
    from datetime import date

    from analysis.periods import parse_period
    from survey.reporting.admin_report import Paragraph, Section, Table
    from survey.reporting.administrative import administrative_report
    from tests.conftest import report_of, reporting_settings

    composed = administrative_report(db.session, "sipas-dichvu", parse_period("2026-03"),
                                     reporting_settings(), issued_on=date(2026, 4, 2))
    assert composed is not None

    def texts(section: Section) -> list[str]:
        found = [b.text for b in section.blocks if isinstance(b, Paragraph)]
        found += [" | ".join(r) for b in section.blocks if isinstance(b, Table) for r in b.rows]
        return found + [t for sub in section.subsections for t in texts(sub)]

    said = "\n".join(t for section in composed.sections for t in texts(section))
    assert "Tính theo trọng số số hồ sơ tiếp nhận" in said
    assert "Q1 – Quầy 1 | 30 | 300 | 10,0" in said
    assert "Q2 – Quầy 2 | 10 | 900 | 1,1" in said
    report = report_of(filters)
    assert report is not None
    from survey.reporting.wording import method_note

    assert "hậu phân tầng" in method_note(report)


def test_the_service_indicators_stand_beside_satisfaction_in_the_xlsx_and_the_report(
        app: Flask, tmp_path: Any) -> None:
    """Figures of two counters for 03/2026: summed, ratios from sums, against the plan."""
    import openpyxl

    from analysis.periods import parse_period
    from survey.reporting import xlsx
    from survey.reporting.admin_report import Section, Table
    from survey.reporting.administrative import administrative_report
    from tests.conftest import report_of, reporting_settings

    ward = units.create_unit("P", "Phường Thử", "ward", actor="t")
    q1 = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="t")
    q2 = units.create_unit("Q2", "Quầy 2", "counter", parent=ward, actor="t")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    save_response(questionnaire, q1, "qr", uuid.uuid4(), {"q15": 5},
                  submitted_at=datetime(2026, 3, 3, 2, tzinfo=UTC))
    for unit, received, resolved, on_time, online in ((q1, 100, 90, 88, 85), (q2, 50, 50, 40, 30)):
        db.session.add(ServiceIndicator(unit_id=unit.id, year=2026, month=3, field=0,
                                        received=received, resolved=resolved, on_time=on_time,
                                        late_apology=0, online=online, paid_online=0,
                                        postal=0, digitised=0, recorded_by="t"))
    db.session.commit()
    period = parse_period("2026-03")
    report = report_of(Filters("sipas-dichvu", period.start, period.end))
    assert report is not None
    assert report.service is not None
    on_time = next(r for r in report.service.rows if r.name == "on_time")
    assert (on_time.numerator, on_time.denominator) == (128, 140)  # sums, not mean of ratios
    assert on_time.met is False  # 91.4 % < 95 %
    online = next(r for r in report.service.rows if r.name == "online")
    assert (online.numerator, online.denominator, online.met) == (115, 150, False)
    path = tmp_path / "r.xlsx"
    xlsx.write_xlsx(report, path)
    sheet = openpyxl.load_workbook(path)["Chỉ tiêu phục vụ"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:4] == ["03/2026", 150, 140, 128]
    assert values[2][:2] == ["Cả kỳ", 150]
    verdicts = {row[0]: row[5] for row in values[4:] if row[0]}
    assert verdicts["Giải quyết đúng hạn"] == "Chưa đạt"
    assert verdicts["Thanh toán trực tuyến"] == "—"  # the plan sets no target
    composed = administrative_report(db.session, "sipas-dichvu", period, reporting_settings(),
                                     issued_on=date(2026, 4, 2))
    assert composed is not None

    def tables(section: Section) -> list[Table]:
        found = [b for b in section.blocks if isinstance(b, Table)]
        return found + [t for sub in section.subsections for t in tables(sub)]

    service = next(t for s in composed.sections for t in tables(s)
                   if t.caption.startswith("Bảng 2b"))
    assert service.rows[0][0] == "Giải quyết đúng hạn"
    assert service.rows[0][1].startswith("91,4")
    assert service.rows[0][4] == "Chưa đạt"


def test_the_dashboard_shows_the_service_indicators_beside_satisfaction(
        app: Flask, admin_client: Any) -> None:
    ward = units.create_unit("P", "Phường Thử", "ward", actor="t")
    q1 = units.create_unit("Q1", "Quầy 1", "counter", parent=ward, actor="t")
    questionnaire = get_questionnaire("sipas-dichvu")
    assert questionnaire is not None
    save_response(questionnaire, q1, "qr", uuid.uuid4(), {"q15": 5},
                  submitted_at=datetime(2026, 3, 3, 2, tzinfo=UTC))
    page = admin_client.get("/staff/?questionnaire=sipas-dichvu&from=2026-03-01&to=2026-03-31")
    assert "Chỉ tiêu phục vụ hành chính công" not in page.get_data(as_text=True)
    db.session.add(ServiceIndicator(unit_id=q1.id, year=2026, month=3, field=0, received=1000,
                                    resolved=1000, on_time=999, late_apology=0, online=0,
                                    paid_online=0, postal=0, digitised=0, recorded_by="t"))
    db.session.commit()
    text = admin_client.get("/staff/?questionnaire=sipas-dichvu&from=2026-03-01"
                            "&to=2026-03-31").get_data(as_text=True)
    assert "Chỉ tiêu phục vụ hành chính công" in text
    assert "99,9\u00a0%" in text  # 99.9 %, rounded down, and met
    assert "chưa có hồ sơ để tính" not in text
    assert "/staff/indicators" in text
