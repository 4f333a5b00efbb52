"""The app's summary, through the database and the API, against an independent reference scorer.

``tests/reference_scorer.py`` recomputes contract §6 from the exported CSV (§5) and the
questionnaire YAML with its own code, so a wrong formula in ``analysis/scoring.py`` (option 3
counted as satisfied, the pooled rate for an element, a wrong PAPI sub-dimension value…) fails
here even though the summary and the older recomputation in test_reports.py share that code.

Random responses are stored with the app's own services over four units, four channels and five
months, with blanks, null-scored options and texts; every filtered cell is then compared three
ways (service, ``/api/v1/summary``, reference on the filtered export and on the full export
filtered by the reference itself), and once more after importing the export into an empty
database.
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import Response
from survey.reporting import exports
from survey.reporting.filters import Filters
from survey.services import accounts, imports, integrity, rollups, units
from survey.services.questionnaires import get_questionnaire
from survey.services.submissions import save_response
from tests import reference_scorer as ref
from tests.conftest import PASSWORD, login, summary_of

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "questionnaires" / "definitions"
UNITS = (("Q1", "counter"), ("Q2", "counter"), ("T1", "group"), ("T2", "group"))
CHANNELS = ("qr", "paper", "kiosk", "import")
START = datetime(2025, 11, 1, tzinfo=UTC)
DAYS = 150
TEXTS = ("Tốt", "=cmd|' /C calc'!A0", "Cần thêm ghế, quạt", "-chậm", 'Nói "cảm ơn"', "@ghi chú")
# Just inside and just outside the Vietnam days of the "jan-feb" cell (UTC+7).
EDGES = (datetime(2025, 12, 31, 16, 59, 59, tzinfo=UTC), datetime(2025, 12, 31, 17, tzinfo=UTC),
         datetime(2026, 2, 28, 16, 59, 59, tzinfo=UTC), datetime(2026, 2, 28, 17, tzinfo=UTC))

NO_OPINION = "      - {code: 9, score: null, satisfied: false, " \
             "label: {vi: Không có ý kiến, en: No opinion}}\n"
LAST_LEVEL = "      - {code: 5, score: 5, satisfied: true, " \
             "label: {vi: Rất hài lòng, en: Very satisfied}}\n"


@dataclass(frozen=True)
class Cell:
    """One set of filters, as the reference, the service and the API each take it."""

    name: str
    date_from: date | None = None
    date_to: date | None = None
    units: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def filters(self, questionnaire_id: str) -> Filters:
        found = tuple(units.get_unit(code) for code in self.units)
        assert all(found)
        return Filters(questionnaire_id, self.date_from, self.date_to,
                             found, self.channels)  # type: ignore[arg-type]

    def query(self, questionnaire_id: str) -> str:
        params: list[tuple[str, str]] = [("questionnaire", questionnaire_id)]
        if self.date_from:
            params.append(("from", self.date_from.isoformat()))
        if self.date_to:
            params.append(("to", self.date_to.isoformat()))
        params += [("unit", u) for u in self.units] + [("channel", c) for c in self.channels]
        return "/api/v1/summary?" + urlencode(params)

    def reference_filters(self) -> dict[str, Any]:
        return {"date_from": self.date_from, "date_to": self.date_to, "units": self.units,
                "channels": self.channels}

    def echo(self) -> dict[str, Any]:
        return {"from": self.date_from and self.date_from.isoformat(),
                "to": self.date_to and self.date_to.isoformat(),
                "units": sorted(self.units), "channels": sorted(self.channels)}


CELLS = (
    Cell("all"),
    Cell("jan-feb", date(2026, 1, 1), date(2026, 2, 28)),
    Cell("unit Q2", units=("Q2",)),
    Cell("unit T2", units=("T2",)),
    Cell("paper", channels=("paper",)),
    Cell("mixed", date_from=date(2026, 1, 15), units=("Q1", "T1"), channels=("qr", "kiosk")),
    Cell("small", date(2026, 3, 1), date(2026, 3, 31), units=("T2",), channels=("paper",)),
    Cell("empty", date_to=date(2025, 10, 1)),
)


# --- data -----------------------------------------------------------------------------------

def definitions_dir(tmp_path: Path) -> Path:
    """The shipped questionnaires plus ``sipas-thu``: sipas-dichvu with a null-scored option."""
    copy = tmp_path / "definitions"
    shutil.copytree(SHIPPED, copy)
    text = (SHIPPED / "sipas-dichvu" / "v1.yaml").read_text(encoding="utf-8")
    assert text.count(LAST_LEVEL) == 1
    text = text.replace("id: sipas-dichvu", "id: sipas-thu", 1).replace(
        LAST_LEVEL, LAST_LEVEL + NO_OPINION)
    (copy / "sipas-thu").mkdir()
    (copy / "sipas-thu" / "v1.yaml").write_text(text, encoding="utf-8")
    return copy


def make_units() -> None:
    ward = units.create_unit("P", "Phường Thử", "ward", actor="t")
    for code, kind in UNITS:
        units.create_unit(code, f"Đơn vị {code}", kind, parent=ward, actor="t")
    db.session.commit()


def left_blank(definition: ref.Definition, unit: str, channel: str) -> set[str]:
    """Items never answered in some units and channels, so that filtered cells have n = 0.

    Unit Q2: the first item of the first group. Unit T2: the first item of every group (PAPI:
    subgroup) with several items. Paper: the whole last group (PAPI: its last subgroup), so
    that a group or the index is null there.
    """
    blank: set[str] = set()
    first_group, _ = definition.groups[0]
    last_group, last_subgroups = definition.groups[-1]
    if unit == "Q2":
        blank.add(definition.items_of_group(first_group)[0])
    if unit == "T2":
        parts = ([definition.items_of_subgroup(s) for _, subs in definition.groups for s in subs]
                 if definition.index == "papi"
                 else [definition.items_of_group(g) for g, _ in definition.groups])
        blank.update(items[0] for items in parts if len(items) > 1)
    if channel == "paper":
        blank.update(definition.items_of_subgroup(last_subgroups[-1]) if last_subgroups
                     else definition.items_of_group(last_group))
    return blank


def seed(definition: ref.Definition, n: int, seed_value: int) -> None:
    """Store n responses with the app's own service.

    The first responses sweep every option of every question (so every item has satisfied and
    unsatisfied answers, a 3 and every null-scored option); then four at the edges of Vietnam
    days; the rest are random, with a blank rate that differs from item to item.
    """
    rng = random.Random(seed_value)
    questionnaire = get_questionnaire(definition.id)
    assert questionnaire is not None
    unit_of = {code: units.get_unit(code) for code, _ in UNITS}
    choices = [e for e in definition.codebook if e["type"] == "choice"]
    sweep = max(len(e["options"]) for e in choices)
    blank_rate = {e["id"]: rng.choice((0.05, 0.2, 0.5)) for e in definition.codebook}
    for i in range(n):
        unit = rng.choice([code for code, _ in UNITS])
        channel = rng.choice(CHANNELS)
        moment = START + timedelta(seconds=rng.randrange(DAYS * 24 * 3600))
        answers: dict[str, int | str] = {}
        if i < sweep:
            unit, channel = "Q1", "qr"
            for e in choices:
                answers[e["id"]] = e["options"][i % len(e["options"])]["code"]
        else:
            if i - sweep < len(EDGES):
                moment = EDGES[i - sweep]
            skip = left_blank(definition, unit, channel)
            for e in definition.codebook:
                if e["id"] in skip or rng.random() < blank_rate[e["id"]]:
                    continue
                if e["type"] == "choice":
                    answers[e["id"]] = rng.choice(e["options"])["code"]
                else:
                    answers[e["id"]] = rng.choice(TEXTS)
        save_response(questionnaire, unit_of[unit], channel, uuid.uuid4(), answers,
                      submitted_at=moment)
    db.session.commit()


def csv_export(filters: Filters) -> str:
    """The CSV export, through the service the CLI and the staff pages use."""
    questionnaire = get_questionnaire(filters.questionnaire_id)
    assert questionnaire is not None
    return "".join(exports.csv_chunks(db.session, filters, rollups.scheme_of(questionnaire)))


# --- checks ---------------------------------------------------------------------------------

def assert_agrees(summary: Mapping[str, Any] | None, reference: Mapping[str, Any],
                  what: str) -> None:
    assert summary is not None, what
    problems = ref.differences(summary, reference)
    assert not problems, f"{what}: " + "\n".join(problems[:20])


def assert_data_is_telling(definition: ref.Definition, rows: list[dict[str, str]],
                           cells: Mapping[str, Mapping[str, Any]]) -> None:
    """The data can tell the formulas apart (else a planted bug could pass unseen)."""
    for entry in definition.codebook:
        if entry["group"] is None:
            continue
        scores = {o["code"]: o["score"] for o in entry["options"]}
        given = [int(r[entry["id"]]) for r in rows if r[entry["id"]]]
        counted = [scores[c] for c in given if scores[c] is not None]
        assert len(set(counted)) >= 2, entry["id"]  # the lowest and the highest score
        if definition.index == "sipas":
            satisfied = {o["code"] for o in entry["options"] if o["satisfied"]}
            assert any(c in satisfied for c in given), entry["id"]
            assert 3 in given, entry["id"]  # "Bình thường": neutral, not satisfied
        if any(s is None for s in scores.values()):
            assert any(scores[c] is None for c in given), entry["id"]
    # Items with n = 0 beside items with data, and a null group, in some filtered cells.
    assert any(item["n"] == 0 for c in cells.values() if c["n_responses"]
               for item in c["items"].values())
    assert any(g["value"] is None for c in cells.values() if c["n_responses"]
               for g in c["groups"].values())
    whole = cells["all"]
    if definition.index == "sipas":
        # Items of a group differ in n and rate: the pooled rate is not the mean of item rates.
        pooled = []
        for gid, _ in definition.groups:
            items = [whole["items"][q] for q in definition.items_of_group(gid)]
            total = sum(i["n"] for i in items)
            pooled.append(100 * sum(i["satisfied"] for i in items) / total)
        assert any(abs(p - whole["groups"][g]["value"]) > 1e-6
                   for p, (g, _) in zip(pooled, definition.groups, strict=True))
    else:
        assert whole["index"]["value"] is not None


def check_questionnaires(app_factory: Callable[..., Flask], tmp_path: Path,
                         sizes: Mapping[str, int], seed_value: int) -> None:
    qdir = definitions_dir(tmp_path)
    first = app_factory(QUESTIONNAIRE_DIR=str(qdir))
    full_csv: dict[str, str] = {}
    with first.app_context():
        make_units()
        accounts.create_user("quantri", PASSWORD, "admin", [], actor="test")
        db.session.commit()
        client: FlaskClient = first.test_client()
        assert login(client, "quantri").status_code == 302
        for qid, n in sizes.items():
            definition = ref.load_definition(qdir, qid)
            seed(definition, n, seed_value)
            # Staff excluded some: they count nowhere, only in n_excluded (contract §8).
            out = db.session.scalars(sa.select(Response).where(
                Response.questionnaire_id == qid).order_by(Response.id)).all()[::17]
            integrity.set_excluded(out, True, "thử loại phiếu", "test")
            db.session.commit()
            whole = summary_of(Filters(qid))
            assert whole is not None
            assert whole["n_excluded"] == len(out)
            assert whole is not None
            # The codebook the summary publishes is the one in the YAML file.
            assert not ref.codebook_differences(definition, ref.definition_from_summary(whole))
            full_csv[qid] = csv_export(Filters(qid))
            rows = ref.read_csv(full_csv[qid])
            assert len(rows) == n
            if definition.index == "sipas":
                # The verdict on either side of each end of the interval.
                low, high = whole["index"]["ci95"]
                for target in (low - 0.01, low + 0.01, high - 0.01, high + 0.01):
                    first.config["TARGETS"] = {qid: target}
                    assert_agrees(summary_of(Filters(qid)),
                                  ref.score(definition, rows, target=target),
                                  f"{qid}, target {target}")
                first.config["TARGETS"] = {}
            cells: dict[str, dict[str, Any]] = {}
            for cell in CELLS:
                what = f"{qid}, cell {cell.name}"
                filters = cell.filters(qid)
                summary = summary_of(filters)
                assert summary is not None
                assert summary["filters"] == cell.echo(), what
                api = client.get(cell.query(qid))
                assert api.status_code == 200, (what, api.get_data(as_text=True))
                assert api.get_json() == summary, what
                exported = ref.read_csv(csv_export(filters))
                mine = ref.filter_rows(rows, **cell.reference_filters())
                # The export holds exactly the responses the reference's own filter keeps.
                assert sorted(r["response_id"] for r in exported) == sorted(
                    r["response_id"] for r in mine), what
                cells[cell.name] = ref.score(definition, mine)
                assert_agrees(summary, ref.score(definition, exported), f"{what}, export")
                assert_agrees(summary, cells[cell.name], f"{what}, full export filtered")
                assert_agrees(api.get_json(), cells[cell.name], f"{what}, API")
            assert cells["empty"]["n_responses"] == 0
            assert_data_is_telling(definition, rows, cells)

    # Round trip: the full export imported into an empty database gives the same numbers.
    second = app_factory(QUESTIONNAIRE_DIR=str(qdir))
    with second.app_context():
        make_units()
        for qid, n in sizes.items():
            definition = ref.load_definition(qdir, qid)
            questionnaire = get_questionnaire(qid)
            assert questionnaire is not None
            assert imports.import_file("export.csv", questionnaire, default_unit=None,
                                       content=full_csv[qid].encode()) == (n, 0)
            db.session.commit()
            rows = ref.read_csv(full_csv[qid])
            for cell in CELLS:
                reference = ref.score(definition, ref.filter_rows(rows, **cell.reference_filters()))
                assert_agrees(summary_of(cell.filters(qid)), reference,
                              f"{qid}, cell {cell.name}, after import")


# --- tests ----------------------------------------------------------------------------------

def test_sipas_dichvu_summary_equals_the_reference_scorer(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    check_questionnaires(app_factory, tmp_path, {"sipas-dichvu": 140}, 19)


def test_papi_phuong_summary_equals_the_reference_scorer(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    check_questionnaires(app_factory, tmp_path, {"papi-phuong": 90}, 4)


def test_other_questionnaires_and_null_scored_options_equal_the_reference_scorer(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    check_questionnaires(app_factory, tmp_path,
                         {"mau-02": 45, "sipas-chinhsach": 45, "sipas-thu": 60}, 7)


# --- the reference scorer itself, on numbers worked out by hand -----------------------------

SIPAS_YAML = """
id: tay
version: 1
index: sipas
groups: [{id: A, label: A}, {id: B, label: B}]
scales:
  h5:
    options:
      - {code: 1, score: 1, label: x}
      - {code: 2, score: 2, label: x}
      - {code: 3, score: 3, label: x}
      - {code: 4, score: 4, satisfied: true, label: x}
      - {code: 5, score: 5, satisfied: true, label: x}
      - {code: 9, score: null, label: x}
sections:
  - id: s
    group: A
    questions:
      - {id: a1, text: a1, scale: h5}
      - {id: a2, text: a2, scale: h5}
  - id: t
    questions:
      - {id: b1, text: b1, scale: h5, group: B}
      - {id: gt, text: gt, options: [{code: 1, label: Nam}, {code: 2, label: Nữ}]}
      - {id: y, type: text, text: y}
"""

PAPI_YAML = """
id: tay-papi
version: 1
index: papi
groups:
  - {id: D1, label: D1, subgroups: [{id: D1a, label: a}, {id: D1b, label: b}]}
  - {id: D2, label: D2, subgroups: [{id: D2a, label: a}]}
sections:
  - id: s
    questions:
      - {id: p1, text: p1, subgroup: D1a, options: [{code: 1, score: 1, label: c},
                                                    {code: 2, score: 0, label: k},
                                                    {code: 3, score: null, label: kb}]}
      - {id: p2, text: p2, subgroup: D1a, options: [{code: 1, score: 1, label: t},
                                                    {code: 2, score: 0.5, label: b}]}
      - {id: p3, text: p3, subgroup: D1b, options: [{code: 1, score: 1, label: c},
                                                    {code: 2, score: 0, label: k}]}
      - {id: p4, text: p4, subgroup: D2a, options: [{code: 1, score: 1, label: c},
                                                    {code: 2, score: 0, label: k}]}
"""


def _csv(header: str, *lines: str) -> str:
    head = "\ufeffresponse_id,submitted_at,unit,channel," + header + "\r\n"
    return head + "".join(f"{i},2026-01-0{i}T10:00:00+07:00,Q1,qr,{line}\r\n"
                          for i, line in enumerate(lines, start=1))


def test_reference_scorer_sipas_by_hand() -> None:
    import yaml

    definition = ref.definition_from_yaml(yaml.safe_load(SIPAS_YAML))
    text = _csv("a1,a2,b1,gt,y", "5,3,4,1,ok", "4,,2,,", "3,9,9,2,", ",,,1,\"a, b\"")
    got = ref.score_csv(definition, text)
    # a1: 5 4 3 -> n 3, satisfied 2; a2: 3 (9 does not count) -> n 1, satisfied 0;
    # b1: 4 2 (9 does not count) -> n 2, satisfied 1.
    assert got["n_responses"] == 4
    assert got["items"]["a1"] == {"n": 3, "satisfied": 2, "rate": 200 / 3,
                                  "rate_ci95": ref.wilson(2, 3), "mean": 4.0}
    assert got["items"]["a2"]["n"] == 1
    assert got["items"]["a2"]["rate"] == 0.0
    assert got["items"]["b1"]["mean"] == 3.0
    # A = mean(66.67, 0) = 33.33 (the pooled rate would be 50); B = 50; index = mean = 41.67.
    assert got["groups"]["A"] == {"value": pytest.approx(100 / 3), "n": 3}
    assert got["groups"]["B"] == {"value": 50.0, "n": 2}  # row 3's 9 counts nowhere
    assert got["index"]["value"] == pytest.approx((100 / 3 + 50) / 2)
    assert "gt" not in got["items"]
    assert "y" not in got["items"]
    # Respondent scores: 100·mean(1/2, 1) = 75, 100·mean(1, 0) = 50, 100·mean(0) = 0.
    # p = 0.41667; SS = (0.75 − 0.41667)² + (0.5 − 0.41667)² + 0.41667² = 0.29167;
    # c = (p² + (1 − p)²)/2 = 0.25694; v = (SS + c)/3 = 0.18287; n_eff = 3·p(1 − p)/v = 3.9873;
    # Wilson(0.41667, 3.9873): centre 0.45756, half 0.34776 -> [10.98, 80.53].
    assert got["index"]["ci95"] == pytest.approx([10.98, 80.53], abs=0.01)
    low, high = ref.wilson(2, 3) or [0, 0]
    assert (low, high) == pytest.approx((20.77, 93.85), abs=5e-3)  # textbook Wilson, 2 of 3
    filtered = ref.score_csv(definition, text, date_from=date(2026, 1, 3), channels=("qr",))
    assert filtered["n_responses"] == 2
    assert filtered["groups"]["B"]["value"] is None
    assert filtered["index"]["value"] == 0.0  # only A has data: a1 = 0 % (one 3)


def test_reference_scorer_papi_by_hand() -> None:
    import yaml

    definition = ref.definition_from_yaml(yaml.safe_load(PAPI_YAML))
    got = ref.score_csv(definition, _csv("p1,p2,p3,p4", "1,2,2,1", "3,1,1,", "2,1,1,2"))
    # p1: 1, (3 does not count), 0 -> n 2, mean 0.5; p2: 0.5, 1, 1 -> mean 5/6;
    # x(D1a) = mean(0.5, 5/6) = 2/3 (the pooled mean would be 3.5/5 = 0.7) -> (1 + 6)/2 = 3.5;
    # p3: 0, 1, 1 -> x(D1b) = 2/3 -> 3.5; D1 = 7; p4: 1, 0 -> x = 0.5 -> (1 + 4.5)/1 = 5.5 = D2;
    # index = 12.5.
    assert got["items"]["p1"] == {"n": 2, "satisfied": None, "rate": None, "rate_ci95": None,
                                  "mean": 0.5}
    assert got["items"]["p2"]["mean"] == pytest.approx(5 / 6)
    assert got["subgroups"]["D1a"] == {"value": pytest.approx(3.5), "n": 3}
    assert got["subgroups"]["D1b"] == {"value": pytest.approx(3.5), "n": 3}
    assert got["groups"]["D1"] == {"value": pytest.approx(7.0), "n": 3}
    assert got["subgroups"]["D2a"] == {"value": pytest.approx(5.5), "n": 2}
    assert got["index"]["value"] == pytest.approx(12.5)
    # Respondent scores: row 1 (1 + 9·0.75)/2 + (1 + 0)/2 + 10 = 14.375; row 2 has no D2a
    # answer (none); row 3 (1 + 4.5)/2 + 5 + 1 = 8.75. On [0, 1] with the range [2, 20]:
    # p = 0.58333, scores 0.68750 and 0.37500, SS = 0.048828, c = 0.256944, v = 0.152886,
    # n_eff = 3.17956; Wilson(0.58333, 3.17956) on [2, 20] = [5.0641, 18.2945].
    assert got["index"]["ci95"] == pytest.approx([5.0641, 18.2945], abs=1e-4)
    none = ref.score_csv(definition, _csv("p1,p2,p3,p4", "1,1,1,"))
    assert none["subgroups"]["D2a"] == {"value": None, "n": 0}
    assert none["groups"]["D2"]["value"] is None
    assert none["groups"]["D1"]["value"] == pytest.approx(10.0)
    assert none["index"] == {"value": None, "ci95": None, "range": [2.0, 20.0]}
    with pytest.raises(ValueError, match="unknown code 7"):
        ref.score_csv(definition, _csv("p1", "7"))
