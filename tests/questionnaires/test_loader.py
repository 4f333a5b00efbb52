"""Shipped questionnaires load and match the Ministry's form; bad files fail clearly."""

from __future__ import annotations

import copy
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from questionnaires import (
    DEFINITIONS_DIR,
    QuestionnaireError,
    definition_files,
    load,
    load_all,
    parse,
)

SIPAS_DICHVU = DEFINITIONS_DIR / "sipas-dichvu" / "v1.yaml"


def test_every_shipped_file_loads() -> None:
    files = definition_files()
    assert len(files) >= 2
    found = load_all()
    assert len(found) == len(files)
    assert {"sipas-dichvu", "mau-02"} <= {qid for qid, _ in found}


@pytest.mark.parametrize("path", definition_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_texts_are_nfc(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", text) == text


def test_sipas_dichvu_has_the_ministry_structure() -> None:
    q = load(SIPAS_DICHVU)
    assert (q.id, q.version, q.index) == ("sipas-dichvu", 1, "sipas")
    assert [g.id for g in q.groups] == ["E1", "E2", "E3", "E4", "E5"]
    scored = q.scored_questions
    assert [x.id for x in scored] == [f"q{i}" for i in range(15, 34)]
    per_group = {g.id: [x.id for x in scored if x.group == g.id] for g in q.groups}
    assert {k: len(v) for k, v in per_group.items()} == {"E1": 4, "E2": 4, "E3": 5, "E4": 3,
                                                          "E5": 3}
    for item in scored:
        assert item.required
        assert [(o.code, o.label.vi, o.score, o.satisfied) for o in item.options] == [
            (1, "Rất không hài lòng", 1.0, False),
            (2, "Không hài lòng", 2.0, False),
            (3, "Bình thường", 3.0, False),
            (4, "Hài lòng", 4.0, True),
            (5, "Rất hài lòng", 5.0, True),
        ]


@pytest.mark.parametrize(("qid", "text"), [
    ("q15", "Cơ quan cung cấp thông tin về việc giải quyết thủ tục hành chính theo nhiều hình "
            "thức, dễ tiếp cận, dễ hiểu đối với mọi người dân."),
    ("q20", "Thành phần hồ sơ người dân phải nộp là đúng quy định"),
    ("q23", "Công chức có thái độ giao tiếp lịch sự, tôn trọng đối với người dân."),
    ("q25", "Công chức hướng dẫn hồ sơ dễ hiểu, đảm bảo người dân có thể hoàn thiện hồ sơ sau "
            "một lần hướng dẫn."),
    ("q30", "Kết quả giải quyết thủ tục hành chính cho người dân đảm bảo tính công bằng."),
    ("q33", "Cơ quan thông báo kết quả xử lý phản ánh kiến nghị cho người dân kịp thời."),
])
def test_sipas_dichvu_items_use_the_exact_wording(qid: str, text: str) -> None:
    question = load(SIPAS_DICHVU).question(qid)
    assert question is not None
    assert question.text.vi == text


def test_sipas_dichvu_has_profile_field_and_suggestion() -> None:
    q = load(SIPAS_DICHVU)
    for qid in ("linh_vuc", "gioi_tinh", "do_tuoi", "dan_toc", "hoc_van", "nghe_nghiep", "y_kien"):
        question = q.question(qid)
        assert question is not None, qid
        assert not question.scored
        assert not question.required
    suggestion = q.question("y_kien")
    assert suggestion is not None
    assert (suggestion.type, suggestion.max_length) == ("text", 1000)


def test_mau_02_has_three_groups_and_nine_items() -> None:
    q = load(DEFINITIONS_DIR / "mau-02" / "v1.yaml")
    assert [g.id for g in q.groups] == ["G1", "G2", "G3"]
    assert [x.id for x in q.scored_questions] == [f"q{i}" for i in range(1, 10)]
    assert [len([x for x in q.scored_questions if x.group == g]) for g in ("G1", "G2", "G3")] == [
        3, 2, 4]
    q1 = q.question("q1")
    assert q1 is not None
    assert q1.text.vi == "Công chức có thái độ giao tiếp lịch sự."
    field = q.question("linh_vuc")
    assert field is not None
    assert (field.type, field.required, field.max_length) == ("text", True, 500)


def test_codebook_lists_every_question_with_options() -> None:
    q = load(SIPAS_DICHVU)
    codebook = q.codebook()
    assert [c["id"] for c in codebook] == [x.id for x in q.questions]
    q15 = next(c for c in codebook if c["id"] == "q15")
    assert q15["group"] == "E1"
    assert q15["subgroup"] is None
    assert q15["options"][0] == {"code": 1, "label": "Rất không hài lòng", "score": 1.0,
                                 "satisfied": False}
    profile = next(c for c in codebook if c["id"] == "gioi_tinh")
    assert profile["group"] is None
    assert all(o["score"] is None for o in profile["options"])


def test_questionnaire_is_hashable_and_frozen() -> None:
    q = load(SIPAS_DICHVU)
    assert hash(q) == hash(load(SIPAS_DICHVU))
    with pytest.raises(AttributeError):
        q.version = 2  # type: ignore[misc]


# --- bad files: every error names the file and, where there is one, the question ----------

def _base() -> dict[str, Any]:
    return yaml.safe_load(SIPAS_DICHVU.read_text(encoding="utf-8"))


def _question(data: dict[str, Any], qid: str) -> dict[str, Any]:
    for section in data["sections"]:
        for question in section["questions"]:
            if question["id"] == qid:
                return question
    raise KeyError(qid)


def _break(change: str) -> dict[str, Any]:
    data = copy.deepcopy(_base())
    if change == "duplicate":
        _question(data, "q16")["id"] = "q15"
    elif change == "unknown_scale":
        _question(data, "q17")["scale"] = "hailong7"
    elif change == "unknown_group":
        _question(data, "q18")["group"] = "E9"
    elif change == "score_range":
        data["scales"]["hailong5"]["options"][4]["score"] = 7
    elif change == "nfd":
        _question(data, "q19")["text"]["vi"] = unicodedata.normalize("NFD", "Thủ tục rõ ràng")
    elif change == "unknown_key":
        _question(data, "q20")["requird"] = True
    elif change == "no_options":
        del _question(data, "q21")["scale"]
    elif change == "empty_group":
        data["groups"].append({"id": "E6", "label": "Trống"})
    elif change == "bad_id":
        _question(data, "q22")["id"] = "22 bad"
    elif change == "duplicate_code":
        _question(data, "gioi_tinh")["options"][1]["code"] = 1
    elif change == "scored_text":
        _question(data, "y_kien")["group"] = "E1"
    elif change == "bad_version":
        data["version"] = 0
    elif change == "scale_list":
        _question(data, "q23")["scale"] = ["hailong5"]
    elif change == "long_id":
        _question(data, "q27")["id"] = "q" * 65
    return data


@pytest.mark.parametrize(("change", "where", "reason"), [
    ("duplicate", "question q15", "duplicate question id"),
    ("unknown_scale", "question q17", "unknown scale 'hailong7'"),
    ("unknown_group", "question q18", "unknown group 'E9'"),
    ("score_range", "", "outside 1-5"),
    ("nfd", "question q19", "not in Unicode NFC"),
    ("unknown_key", "question q20", "unknown key(s) in the question: requird"),
    ("no_options", "question q21", "needs either scale or options"),
    ("empty_group", "", "group E6 has no scored question"),
    ("bad_id", "section thu_tuc_hanh_chinh, question 4", "invalid question id '22 bad'"),
    ("duplicate_code", "question gioi_tinh", "duplicate option code 1"),
    ("scored_text", "question y_kien", "a text question cannot be scored"),
    ("bad_version", "", "version must be an integer from 1 to 9999"),
    ("scale_list", "question q23", "scale must be a single id, got ['hailong5']"),
    ("long_id", "section cong_chuc, question 5", "invalid question id"),
])
def test_loader_names_file_and_question(tmp_path: Path, change: str, where: str,
                                        reason: str) -> None:
    path = tmp_path / "sipas-dichvu" / "v1.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(_break(change), allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert where in message
    assert reason in message


def test_loader_reports_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="invalid YAML"):
        load(path)


def test_load_all_checks_file_name_against_version(tmp_path: Path) -> None:
    target = tmp_path / "sipas-dichvu" / "v2.yaml"
    target.parent.mkdir()
    target.write_text(SIPAS_DICHVU.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="file name says version 2"):
        load_all(tmp_path)


def test_load_all_checks_folder_against_id(tmp_path: Path) -> None:
    target = tmp_path / "other" / "v1.yaml"
    target.parent.mkdir()
    target.write_text(SIPAS_DICHVU.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="must be stored as sipas-dichvu/v1.yaml"):
        load_all(tmp_path)


def test_inline_definition_for_papi_needs_subgroups() -> None:
    data = {
        "id": "papi-thu", "version": 1, "index": "papi", "title": "Thử",
        "groups": [{"id": "D1", "label": "Tham gia"}],
        "sections": [{"id": "s", "title": "S", "questions": [
            {"id": "a", "text": "Câu a", "group": "D1",
             "options": [{"code": 1, "label": "Có", "score": 1},
                         {"code": 2, "label": "Không", "score": 0}]}]}],
    }
    with pytest.raises(QuestionnaireError, match="a papi dimension needs subgroups"):
        parse(data)
    data["groups"][0]["subgroups"] = [{"id": "D1.1", "label": "Tri thức"}]
    data["sections"][0]["questions"][0]["subgroup"] = "D1.1"
    q = parse(data)
    assert q.scored_questions[0].subgroup == "D1.1"
    assert q.scored_questions[0].group == "D1"
