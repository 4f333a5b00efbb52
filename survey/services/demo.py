"""Demo data: Phường Trần Liễu (Hải Phòng), its service centre counters and groups."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from ..extensions import db
from ..models import Unit, User
from . import accounts, units

ADMIN_USERNAME = "admin"
WARD = ("TRANLIEU", "Phường Trần Liễu")
GROUP_QUESTIONNAIRES = ("sipas-chinhsach", "papi-phuong", "sipas-dichvu")
# (code, name, kind, questionnaires)
UNITS = (
    ("HCC-TPHT", "Trung tâm Phục vụ hành chính công - Quầy Tư pháp - Hộ tịch", "counter",
     ("sipas-dichvu", "mau-02")),
    ("HCC-DDXD", "Trung tâm Phục vụ hành chính công - Quầy Đất đai - Xây dựng", "counter",
     ("sipas-dichvu", "mau-02")),
    ("HCC-CT", "Trung tâm Phục vụ hành chính công - Quầy Chứng thực", "counter",
     ("sipas-dichvu", "mau-02")),
    ("PVHXH", "Phòng Văn hóa - Xã hội", "office", ("mau-02",)),
    ("TDP-01", "Tổ dân phố số 1", "group", GROUP_QUESTIONNAIRES),
    ("TDP-02", "Tổ dân phố số 2", "group", GROUP_QUESTIONNAIRES),
    ("TDP-03", "Tổ dân phố số 3", "group", GROUP_QUESTIONNAIRES),
)


def is_new_database() -> bool:
    """Return whether the database holds no unit and no account yet."""
    has_units = db.session.scalar(sa.select(sa.func.count()).select_from(Unit))
    has_users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    return not has_units and not has_users


def seed_demo() -> str:
    """Create the demo ward, its units and links, and an admin; return the admin's password."""
    ward = units.create_unit(WARD[0], WARD[1], "ward", actor="demo")
    for code, name, kind, questionnaire_ids in UNITS:
        unit = units.create_unit(code, name, kind, parent=ward, actor="demo")
        for questionnaire_id in questionnaire_ids:
            units.ensure_link(unit, questionnaire_id, actor="demo")
    password = secrets.token_urlsafe(12)
    accounts.create_user(ADMIN_USERNAME, password, "admin", actor="demo")
    return password
