"""The PAPI-style ward questionnaire: structure, wording of papi-indicators.md §3.2, scoring."""

from __future__ import annotations

import math
from typing import Any

import pytest

from analysis.scoring import Scheme, counts_of, summarize
from questionnaires import DEFINITIONS_DIR, Question, Questionnaire, load

PAPI_PHUONG = DEFINITIONS_DIR / "papi-phuong" / "v1.yaml"

SUBGROUPS: dict[str, list[str]] = {
    "D1": ["D1.1", "D1.2", "D1.3", "D1.4"],
    "D2": ["D2.1", "D2.2", "D2.3", "D2.4"],
    "D3": ["D3.1", "D3.2", "D3.3"],
    "D4": ["D4.1", "D4.2", "D4.3", "D4.4"],
    "D5": ["D5.1", "D5.2", "D5.3"],
    "D6": ["D6.1", "D6.2", "D6.3", "D6.4"],
    "D7": ["D7.1", "D7.2", "D7.3"],
    "D8": ["D8.1", "D8.2", "D8.3"],
}


@pytest.fixture(scope="module")
def papi() -> Questionnaire:
    return load(PAPI_PHUONG)


def _question(q: Questionnaire, qid: str) -> Question:
    item = q.question(qid)
    assert item is not None, qid
    return item


def test_identity(papi: Questionnaire) -> None:
    assert (papi.id, papi.version, papi.index) == ("papi-phuong", 1, "papi")
    assert papi.title.vi.startswith("Phiếu khảo sát hộ gia đình")
    assert papi.title.en
    assert "PAPI" in papi.source
    assert "NOT the official PAPI instrument" in papi.notes


def test_dimensions_and_sub_dimensions(papi: Questionnaire) -> None:
    assert {g.id: [s.id for s in g.subgroups] for g in papi.groups} == SUBGROUPS
    assert [len(g.subgroups) for g in papi.groups] == [4, 4, 3, 4, 3, 4, 3, 3]
    labels = {g.id: g.label.vi for g in papi.groups}
    assert labels["D1"] == "Tham gia của người dân ở cấp cơ sở"
    assert labels["D2"] == "Công khai, minh bạch trong việc ra quyết định ở địa phương"
    assert labels["D8"] == "Quản trị điện tử"
    sub_labels = {s.id: s.label.vi for g in papi.groups for s in g.subgroups}
    assert len(sub_labels) == 28
    assert sub_labels["D1.1"] == "Tri thức công dân"
    assert sub_labels["D6.4"] == "An ninh, trật tự tại địa bàn khu dân cư"
    assert sub_labels["D8.3"] == "Phản hồi của chính quyền qua kênh điện tử"


def test_every_sub_dimension_has_a_scored_question(papi: Questionnaire) -> None:
    used = {x.subgroup for x in papi.scored_questions}
    assert used == {s for subs in SUBGROUPS.values() for s in subs}
    for x in papi.scored_questions:
        assert x.subgroup is not None
        assert x.group == x.subgroup.split(".")[0]


def test_question_ids_and_numbers(papi: Questionnaire) -> None:
    expected = [f"q{i}" for i in range(1, 26)]
    expected += ["q26a", "q26b", "q26c", "q26d", "q27", "q28", "q29a", "q29b", "q29c", "q29d"]
    expected += [f"q{i}" for i in range(30, 43)]
    expected += ["gioi_tinh", "do_tuoi"]
    assert [x.id for x in papi.questions] == expected
    for x in papi.questions:
        assert not x.required
        assert x.display == "list"
        assert x.type == "choice"
        if x.id.startswith("q"):
            assert x.number == x.id[1:]
    assert len(papi.scored_questions) == 44


def test_option_scores_and_codes(papi: Questionnaire) -> None:
    for x in papi.questions:
        assert [o.code for o in x.options] == list(range(1, len(x.options) + 1)), x.id
        for o in x.options:
            assert o.score is None or 0.0 <= o.score <= 1.0, x.id
            assert not o.satisfied
        if x.scored:
            scores = [o.score for o in x.options if o.score is not None]
            assert max(scores) == 1.0, x.id
            assert min(scores) == 0.0, x.id


@pytest.mark.parametrize(("qid", "subgroup", "text", "options"), [
    ("q1", "D1.1",
     'Ông/Bà có biết phương châm "Dân biết, dân bàn, dân làm, dân kiểm tra, dân giám sát, '
     'dân thụ hưởng" không?',
     [("Có biết", 1.0), ("Không biết", 0.0)]),
    ("q9", "D2.2",
     "Trong 12 tháng qua, danh sách hộ nghèo, hộ cận nghèo của phường có được công bố công "
     "khai không?",
     [("Có", 1.0), ("Không", 0.0), ("Không biết", 0.0)]),
    ("q20", "D4.1",
     'Người dân phải chi thêm tiền "lót tay" để được cấp giấy chứng nhận quyền sử dụng đất.',
     [("Không đồng ý", 1.0), ("Đồng ý", 0.0), ("Không biết", None)]),
    ("q24", "D4.4",
     "Chính quyền địa phương nghiêm túc trong phòng, chống tham nhũng.",
     [("Đồng ý", 1.0), ("Không đồng ý", 0.0), ("Không biết", None)]),
    ("q28", "D5.2",
     "Với thủ tục cấp giấy chứng nhận quyền sử dụng đất: Ông/Bà có nhận được kết quả đúng "
     "hẹn không?",
     [("Đúng hoặc sớm hơn hẹn", 1.0), ("Trễ hẹn", 0.0),
      ("Chưa nhận/đang chờ, còn trong hạn", None), ("Không sử dụng", None)]),
    ("q33", "D6.3",
     "Rác thải sinh hoạt của gia đình được thu gom bao lâu một lần?",
     [("Hằng ngày", 1.0), ("2–3 ngày/lần", 0.75), ("Hằng tuần", 0.5),
      ("Ít hơn 1 lần/tuần", 0.25), ("Không được thu gom", 0.0)]),
    ("q41", "D8.1",
     "Trong 12 tháng qua, Ông/Bà có sử dụng Cổng Dịch vụ công Quốc gia, cổng dịch vụ công của "
     "tỉnh/thành phố hoặc ứng dụng VNeID để tra cứu thông tin hoặc làm thủ tục không?",
     [("Có, đã nộp hồ sơ trực tuyến", 1.0), ("Có, chỉ tra cứu thông tin", 0.5),
      ("Không sử dụng", 0.0)]),
])
def test_wording_matches_papi_indicators(papi: Questionnaire, qid: str, subgroup: str, text: str,
                                         options: list[tuple[str, float | None]]) -> None:
    item = _question(papi, qid)
    assert item.subgroup == subgroup
    assert item.text.vi == text
    assert item.text.en
    assert [(o.label.vi, o.score) for o in item.options] == options


def test_q26_filter_is_four_unscored_yes_no_questions(papi: Questionnaire) -> None:
    for qid in ("q26a", "q26b", "q26c", "q26d"):
        item = _question(papi, qid)
        assert not item.scored
        assert item.group is None
        assert item.subgroup is None
        assert len(item.options) == 2
        assert all(o.score is None for o in item.options)
    assert "chứng thực, xác nhận" in _question(papi, "q26a").text.vi
    assert "giấy chứng nhận quyền sử dụng đất" in _question(papi, "q26b").text.vi
    assert "hộ tịch, cư trú" in _question(papi, "q26c").text.vi
    assert "không làm thủ tục nào" in _question(papi, "q26d").text.vi


def test_q29_items_are_scored_in_d5_3(papi: Questionnaire) -> None:
    items = [x for x in papi.scored_questions if x.subgroup == "D5.3"]
    assert [x.id for x in items] == ["q29a", "q29b", "q29c", "q29d"]
    for x in items:
        assert [(o.label.vi, o.score) for o in x.options] == [
            ("Đúng", 1.0), ("Không đúng", 0.0), ("Không sử dụng", None)]
    assert [x.text.vi for x in items] == [
        "Phí, lệ phí được niêm yết công khai.",
        "Công chức thạo việc, lịch sự.",
        "Chỉ phải đến một nơi để nộp và nhận kết quả.",
        "Không phải chi thêm ngoài quy định.",
    ]


def test_respondent_profile_is_unscored(papi: Questionnaire) -> None:
    sex = _question(papi, "gioi_tinh")
    age = _question(papi, "do_tuoi")
    assert [o.label.vi for o in sex.options] == ["Nam", "Nữ"]
    assert len(age.options) == 5
    for item in (sex, age):
        assert not item.scored
        assert all(o.score is None for o in item.options)


def _answers(q: Questionnaire, best: bool) -> dict[str, int | str]:
    answers: dict[str, int | str] = {}
    for x in q.scored_questions:
        scored = [o for o in x.options if o.score is not None]
        pick = max if best else min
        answers[x.id] = pick(scored, key=lambda o: o.score or 0.0).code
    answers.update({"q26a": 1, "q26b": 1, "q26c": 1, "q26d": 2, "gioi_tinh": 2, "do_tuoi": 3})
    return answers


def _summary(q: Questionnaire, responses: list[dict[str, int | str]]) -> dict[str, Any]:
    scheme = Scheme.from_questionnaire(q)
    return summarize(scheme, counts_of(scheme, responses))


@pytest.mark.parametrize(("best", "dimension", "index"), [(True, 10.0, 80.0),
                                                           (False, 1.0, 8.0)])
def test_extreme_respondent_reaches_the_bounds(papi: Questionnaire, best: bool,
                                               dimension: float, index: float) -> None:
    summary = _summary(papi, [_answers(papi, best)])
    assert summary["questionnaire"] == {"id": "papi-phuong", "version": 1, "index": "papi"}
    assert summary["n_responses"] == 1
    assert [g["id"] for g in summary["groups"]] == list(SUBGROUPS)
    for g in summary["groups"]:
        assert math.isclose(g["value"], dimension), g["id"]
        k = len(g["subgroups"])
        for s in g["subgroups"]:
            assert math.isclose(s["value"], dimension / k), s["id"]
    assert math.isclose(summary["index"]["value"], index)


def test_not_applicable_answers_are_left_out(papi: Questionnaire) -> None:
    answers = _answers(papi, best=True)
    # A respondent who used no procedure: Q27 and Q28 "Không sử dụng", Q29 (a)-(d) too,
    # except (a), which they answer "Không đúng": D5.3 rests on that single answer.
    answers.update({"q27": 6, "q28": 4, "q29a": 2, "q29b": 3, "q29c": 3, "q29d": 3})
    summary = _summary(papi, [answers])
    d5 = next(g for g in summary["groups"] if g["id"] == "D5")
    values = {s["id"]: s["value"] for s in d5["subgroups"]}
    assert values["D5.1"] is None
    assert values["D5.2"] is None
    assert math.isclose(values["D5.3"], 1 / 3)
    assert d5["value"] is None
    assert summary["index"]["value"] is None
