"""sipas-chinhsach v1 matches the Ministry form (domain.md §3.3) and scores as contract §6.1."""

from __future__ import annotations

import pytest

from analysis.scoring import Scheme, counts_of, summarize
from questionnaires import DEFINITIONS_DIR, Question, Questionnaire, load

SIPAS_CHINHSACH = DEFINITIONS_DIR / "sipas-chinhsach" / "v1.yaml"

HAILONG5 = [
    (1, "Rất không hài lòng", 1.0, False),
    (2, "Không hài lòng", 2.0, False),
    (3, "Bình thường", 3.0, False),
    (4, "Hài lòng", 4.0, True),
    (5, "Rất hài lòng", 5.0, True),
]

# Copied from shared/docs/domain.md §3.3, Câu 9 part I (the "Item (exact)" column).
EXACT = {
    "q1": "Cơ quan nhà nước cung cấp, giải thích thông tin về các chính sách theo nhiều hình "
          "thức, giúp mọi người dân dễ tìm, dễ thấy",
    "q5": "Chính sách về phát triển kinh tế - xã hội ở địa phương phù hợp. (Gồm các quy định "
          "về thu hút đầu tư, kinh doanh, việc làm, tín dụng…)",
    "q12": "Chính sách về an sinh xã hội phù hợp. (... BHXH, bảo hiểm thất nghiệp, trợ cấp "
           "người có công, người nghèo, người khuyết tật…, hỗ trợ đột xuất khi thiên tai…)",
    "q14": "Chính sách của địa phương đã góp phần giúp cho chất lượng cuộc sống của người dân "
           "địa phương ngày càng tốt hơn trong thời gian qua.",
}


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    return load(SIPAS_CHINHSACH)


def _question(q: Questionnaire, qid: str) -> Question:
    found = q.question(qid)
    assert found is not None, qid
    return found


def test_identity(questionnaire: Questionnaire) -> None:
    q = questionnaire
    assert (q.id, q.version, q.index) == ("sipas-chinhsach", 1, "sipas")
    assert q.title.vi.startswith("Phiếu khảo sát sự hài lòng")
    assert q.title.en
    assert q.intro is not None
    assert "1001/QĐ-BNV" in q.source
    assert "[S20]" in q.source


def test_four_elements_with_fourteen_items(questionnaire: Questionnaire) -> None:
    q = questionnaire
    assert [(g.id, g.label.vi) for g in q.groups] == [
        ("A", "Trách nhiệm giải trình của cơ quan"),
        ("B", "Sự tham gia của người dân"),
        ("C", "Chất lượng chính sách"),
        ("D", "Kết quả, tác động của chính sách"),
    ]
    scored = q.scored_questions
    assert [x.id for x in scored] == [f"q{i}" for i in range(1, 15)]
    assert [x.number for x in scored] == [str(i) for i in range(1, 15)]
    per_group = {g.id: [x.id for x in scored if x.group == g.id] for g in q.groups}
    assert per_group == {
        "A": ["q1", "q2"],
        "B": ["q3", "q4"],
        "C": [f"q{i}" for i in range(5, 13)],
        "D": ["q13", "q14"],
    }
    for item in scored:
        assert not item.required, item.id
        assert item.display == "row"
        assert item.type == "choice"
        assert [(o.code, o.label.vi, o.score, o.satisfied) for o in item.options] == HAILONG5


@pytest.mark.parametrize(("qid", "text"), sorted(EXACT.items()))
def test_exact_ministry_wording(questionnaire: Questionnaire, qid: str, text: str) -> None:
    assert _question(questionnaire, qid).text.vi == text


def test_unscored_questions_carry_no_scores(questionnaire: Questionnaire) -> None:
    unscored = [x for x in questionnaire.questions if not x.scored]
    assert len(unscored) == len(questionnaire.questions) - 14
    for x in unscored:
        assert x.group is None
        assert x.subgroup is None
        assert all(o.score is None and not o.satisfied for o in x.options), x.id
        assert not x.required, x.id


def test_perception_experience_and_priority_questions(questionnaire: Questionnaire) -> None:
    q = questionnaire
    interest = [_question(q, f"quan_tam_{i}") for i in range(1, 9)]
    for x in interest:
        assert [o.label.vi for o in x.options] == [
            "Không quan tâm", "Quan tâm một chút", "Rất quan tâm"]
    experience = [_question(q, f"trai_nghiem_{i}") for i in range(1, 8)]
    for x in experience:
        assert [o.label.vi for o in x.options] == ["Đã từng/Có", "Chưa từng/Không có"]
    # Câu 10 item 8 is missing from the transcription: items 1-7, 9 and 10 only.
    priorities = [x for x in q.questions if x.id.startswith("uu_tien_")]
    assert [x.id for x in priorities] == [f"uu_tien_{i}" for i in (1, 2, 3, 4, 5, 6, 7, 9, 10)]
    for x in priorities:
        assert [o.label.vi for o in x.options] == ["Rất nhiều", "Nhiều", "Ít"]
    assert len(_question(q, "kenh_thong_tin").options) == 7
    assert [o.label.vi for o in _question(q, "tien_ngoai_quy_dinh").options] == [
        "Không có người dân nào phải đưa tiền ngoài quy định cho công chức",
        "Một số người dân phải đưa tiền ngoài quy định cho công chức",
        "Nhiều người dân phải đưa tiền ngoài quy định cho công chức",
    ]
    stems = {s.id: s.intro.vi for s in q.sections if s.intro is not None}
    assert stems["cau1"] == ("Xin Ông/Bà cho biết mức độ quan tâm của Ông/Bà đối với các chính "
                             "sách của cơ quan nhà nước trong bảng dưới đây?")
    assert stems["cau10"] == ("Xin Ông/Bà cho biết mức độ Ông/Bà mong muốn cơ quan nhà nước tập "
                              "trung ưu tiên nguồn lực để cải thiện chất lượng các vấn đề trong "
                              "bảng dưới đây?")
    free = _question(q, "y_kien")
    assert (free.type, free.max_length, free.text.vi) == (
        "text", 1000, "Ý kiến khác (xin ghi cụ thể)")


def test_form_order_ends_with_the_profile(questionnaire: Questionnaire) -> None:
    ids = [x.id for x in questionnaire.questions]
    assert ids.index("quan_tam_8") < ids.index("kenh_thong_tin") < ids.index("trai_nghiem_7")
    assert ids.index("trai_nghiem_7") < ids.index("q1") < ids.index("q14")
    assert ids.index("q14") < ids.index("uu_tien_1") < ids.index("y_kien")
    assert ids[-5:] == ["gioi_tinh", "do_tuoi", "dan_toc", "hoc_van", "nghe_nghiep"]
    do_tuoi = _question(questionnaire, "do_tuoi")
    assert do_tuoi.options[0].label.vi == "18 - 24 tuổi"


def test_half_satisfied_scores_fifty_everywhere(questionnaire: Questionnaire) -> None:
    scheme = Scheme.from_questionnaire(questionnaire)
    items = [x.id for x in questionnaire.scored_questions]
    pleased: dict[str, int | str] = dict.fromkeys(items, 5)
    displeased: dict[str, int | str] = dict.fromkeys(items, 2)
    # Unscored answers must not move any rate.
    pleased.update({"quan_tam_1": 3, "trai_nghiem_4": 1, "uu_tien_10": 1, "y_kien": "Tốt"})
    displeased.update({"quan_tam_1": 1, "trai_nghiem_4": 2, "uu_tien_9": 3})
    summary = summarize(scheme, counts_of(scheme, [pleased, displeased]))
    assert summary["n_responses"] == 2
    assert summary["index"]["value"] == 50.0
    assert [g["id"] for g in summary["groups"]] == ["A", "B", "C", "D"]
    for group in summary["groups"]:
        assert group["value"] == 50.0, group["id"]
        assert group["n"] == 2
        for item in group["items"]:
            assert (item["n"], item["satisfied"], item["rate"]) == (2, 1, 50.0), item["id"]
            assert item["mean"] == 3.5
    assert sum(len(g["items"]) for g in summary["groups"]) == 14
