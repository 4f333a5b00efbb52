"""Questionnaires for the analysis tests: the shipped SIPAS form and small inline ones."""

from __future__ import annotations

from typing import Any

from analysis.scoring import Scheme
from questionnaires import DEFINITIONS_DIR, load, parse

SIPAS_DICHVU = Scheme.from_questionnaire(load(DEFINITIONS_DIR / "sipas-dichvu" / "v1.yaml"))
SIPAS_ITEMS = [f"q{i}" for i in range(15, 34)]

_HAILONG_KCYK = [
    {"code": 1, "label": "Rất không hài lòng", "score": 1, "satisfied": False},
    {"code": 2, "label": "Không hài lòng", "score": 2, "satisfied": False},
    {"code": 3, "label": "Bình thường", "score": 3, "satisfied": False},
    {"code": 4, "label": "Hài lòng", "score": 4, "satisfied": True},
    {"code": 5, "label": "Rất hài lòng", "score": 5, "satisfied": True},
    # Does not count: excluded from n, like a blank.
    {"code": 9, "label": "Không có ý kiến", "score": None, "satisfied": False},
]

# A SIPAS form whose scale has a null-scored option; element A has two items, B one.
SIPAS_KCYK_DEF: dict[str, Any] = {
    "id": "thu-kcyk",
    "version": 1,
    "index": "sipas",
    "title": "Phiếu thử có lựa chọn không có ý kiến",
    "scales": {"hailong": {"options": _HAILONG_KCYK}},
    "groups": [{"id": "A", "label": "Tiếp cận"}, {"id": "B", "label": "Kết quả"}],
    "sections": [
        {"id": "a", "group": "A", "title": "Tiếp cận", "questions": [
            {"id": "a1", "scale": "hailong", "text": "Thông tin dễ hiểu"},
            {"id": "a2", "scale": "hailong", "text": "Trụ sở dễ tìm"},
        ]},
        {"id": "b", "group": "B", "title": "Kết quả", "questions": [
            {"id": "b1", "scale": "hailong", "text": "Kết quả đúng hẹn"},
        ]},
    ],
}
SIPAS_KCYK = Scheme.from_questionnaire(parse(SIPAS_KCYK_DEF))

_CO_KHONG = [
    {"code": 1, "label": "Có", "score": 1},
    {"code": 2, "label": "Không", "score": 0},
    {"code": 9, "label": "Không biết", "score": None},
]
_MUC3 = [
    {"code": 1, "label": "Tốt", "score": 1},
    {"code": 2, "label": "Trung bình", "score": 0.5},
    {"code": 3, "label": "Kém", "score": 0},
    {"code": 9, "label": "Không biết", "score": None},
]

# Two dimensions: D1 with k = 2 sub-dimensions, D2 with k = 3; index range 2-20.
PAPI_DEF: dict[str, Any] = {
    "id": "papi-thu",
    "version": 1,
    "index": "papi",
    "title": "Phiếu thử PAPI",
    "scales": {"co_khong": {"options": _CO_KHONG}, "muc3": {"options": _MUC3}},
    "groups": [
        {"id": "D1", "label": "Tham gia của người dân ở cấp cơ sở", "subgroups": [
            {"id": "D1a", "label": "Tri thức công dân"},
            {"id": "D1b", "label": "Cơ hội tham gia"},
        ]},
        {"id": "D2", "label": "Công khai, minh bạch", "subgroups": [
            {"id": "D2a", "label": "Tiếp cận thông tin"},
            {"id": "D2b", "label": "Công khai danh sách hộ nghèo"},
            {"id": "D2c", "label": "Công khai ngân sách"},
        ]},
    ],
    "sections": [
        {"id": "chung", "title": "Thông tin chung", "questions": [
            {"id": "gioi_tinh", "text": "Giới tính",
             "options": [{"code": 1, "label": "Nam"}, {"code": 2, "label": "Nữ"}]},
            {"id": "gop_y", "type": "text", "text": "Góp ý"},
        ]},
        {"id": "d1", "title": "Tham gia", "questions": [
            {"id": "p1", "subgroup": "D1a", "scale": "co_khong", "text": "Biết khẩu hiệu"},
            {"id": "p2", "subgroup": "D1a", "scale": "muc3", "text": "Hiểu quy chế"},
            {"id": "p3", "subgroup": "D1b", "scale": "co_khong", "text": "Đi bầu"},
        ]},
        {"id": "d2", "title": "Công khai", "questions": [
            {"id": "p4", "subgroup": "D2a", "scale": "muc3", "text": "Thông tin"},
            {"id": "p5", "subgroup": "D2b", "scale": "co_khong", "text": "Danh sách"},
            {"id": "p6", "subgroup": "D2c", "scale": "co_khong", "text": "Ngân sách"},
            {"id": "p7", "subgroup": "D2c", "scale": "muc3", "text": "Thu chi"},
        ]},
    ],
}
PAPI = Scheme.from_questionnaire(parse(PAPI_DEF))
PAPI_ITEMS = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"]
# Codes of the best and of the worst answer per item.
PAPI_BEST = {"p1": 1, "p2": 1, "p3": 1, "p4": 1, "p5": 1, "p6": 1, "p7": 1}
PAPI_WORST = {"p1": 2, "p2": 3, "p3": 2, "p4": 3, "p5": 2, "p6": 2, "p7": 3}

# The worked SIPAS example used in several files (sipas-dichvu):
#   R1: q15=5 q16=4 q19=2 q23=3       R2: q15=3 q19=4 q23=4 (q16 blank)
#   R3: q15=4 q16=1 q19=5             R4: no scored answer (profile and text only)
SIPAS_EXAMPLE: list[dict[str, int | str]] = [
    {"q15": 5, "q16": 4, "q19": 2, "q23": 3, "gioi_tinh": 1,
     "y_kien": 'Tốt, nhưng "chờ lâu"'},
    {"q15": 3, "q16": "", "q19": 4, "q23": 4},
    {"q15": 4, "q16": 1, "q19": 5, "gioi_tinh": 2},
    {"y_kien": "Ý kiến, khác"},
]
