"""Demo data: Phường Trần Liễu (Hải Phòng), its service centre counters and groups."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from questionnaires import Question, Questionnaire

from ..extensions import db
from ..models import Answer, Response, Unit, User, demo_response, response_flag
from . import accounts, audit, stats, units
from .questionnaires import get_questionnaire
from .submissions import digest_of, receipt_for

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


# --- a sample of responses, so that a newcomer's dashboard is not empty ----------------------
# Deterministic (a seeded generator; the ids below), clearly marked and removable: every sample
# response is listed in the table demo_response when it is seeded, so that `flask demo remove`
# takes out exactly these. Their ids lie in one reserved range (the top 64 bits are
# SAMPLE_PREFIX, a UUID version no browser makes) only so that the sample is the same each time;
# the range decides nothing: a real response may carry such an id (the public form's hidden
# field, an import, a CSV exported from a demo install), and it stays.

SAMPLE_PREFIX = 0xDE30_5A3F_0000_0000
SAMPLE_MONTHS = 6

# (unit code, questionnaire, responses, share on paper, satisfaction 0-1, change per month)
SAMPLE_PLAN = (
    ("HCC-TPHT", "sipas-dichvu", 70, 0.0, 0.84, 0.004),
    ("HCC-TPHT", "mau-02", 22, 0.0, 0.82, 0.0),
    ("HCC-DDXD", "sipas-dichvu", 60, 0.0, 0.58, 0.025),
    ("HCC-DDXD", "mau-02", 18, 0.0, 0.6, 0.02),
    ("HCC-CT", "sipas-dichvu", 48, 0.0, 0.78, -0.01),
    ("HCC-CT", "mau-02", 16, 0.0, 0.8, 0.0),
    ("PVHXH", "mau-02", 24, 0.0, 0.74, 0.01),
    ("TDP-01", "sipas-chinhsach", 22, 0.6, 0.72, 0.0),
    ("TDP-02", "sipas-chinhsach", 20, 0.6, 0.6, 0.015),
    ("TDP-03", "sipas-chinhsach", 18, 0.5, 0.78, 0.0),
    ("TDP-01", "papi-phuong", 16, 1.0, 0.66, 0.0),
    ("TDP-02", "papi-phuong", 15, 1.0, 0.55, 0.0),
    ("TDP-03", "papi-phuong", 14, 1.0, 0.7, 0.0),
)
FIELDS = {"HCC-TPHT": "Hộ tịch", "HCC-DDXD": "Đất đai", "HCC-CT": "Chứng thực",
          "PVHXH": "Văn hóa - Xã hội"}
PRAISE = (
    "Cán bộ hướng dẫn tận tình, dễ hiểu.",
    "Thủ tục nhanh, đúng hẹn. Cảm ơn cán bộ.",
    "Phòng chờ sạch sẽ, có nước uống.",
    "Cán bộ vui vẻ, lịch sự.",
    "Trả kết quả sớm hơn hẹn.",
)
COMPLAINTS = (
    "Phải chờ lâu, nên có thêm ghế ngồi.",
    "Hồ sơ phải bổ sung nhiều lần, đề nghị hướng dẫn rõ một lần.",
    "Trả kết quả chậm so với giấy hẹn.",
    "Nên niêm yết rõ phí, lệ phí tại quầy.",
    "Khó gọi điện thoại tới bộ phận một cửa.",
    "Chỗ để xe chật, trời mưa không có mái che.",
)
GROUP_COMMENTS = (
    "Đề nghị sửa đèn đường trong ngõ.",
    "Nên họp tổ dân phố vào buổi tối để mọi người đi được.",
    "Thông tin về chính sách nên dán ở nhà văn hóa tổ.",
    "Cần nạo vét cống thoát nước trước mùa mưa.",
    "Cảm ơn tổ trưởng đã thông báo kịp thời.",
)


def is_sample(response: Response) -> bool:
    """Return whether a stored response belongs to the demo sample."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(demo_response).where(
        demo_response.c.response_pk == response.id)) == 1


def _in_sample() -> Any:
    return Response.id.in_(sa.select(demo_response.c.response_pk))


def sample_count() -> int:
    """Return how many demo sample responses are stored (a small table, cheap)."""
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(demo_response)) or 0)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _moment(rng: random.Random, day: date, by_link: bool) -> datetime:
    """Return a time on ``day``: within office hours for a QR code at a counter."""
    if by_link:
        last = 11 * 60 + 30 if day.weekday() == 5 else 17 * 60
        minute = rng.randrange(7 * 60 + 30, last)
    else:
        minute = rng.randrange(8 * 60, 21 * 60)
    local = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)),
                             tzinfo=stats.VIETNAM)
    return local.astimezone(UTC)


def _days(first: date, last: date, office: bool) -> list[date]:
    """Return the days a response may come in: working days (no holiday) for an office."""
    from .integrity import public_holidays

    out = []
    day = first
    while day <= last:
        if not office or (day.weekday() < 6 and day not in public_holidays(day.year)):
            out.append(day)
        day += timedelta(days=1)
    return out


def _answers(rng: random.Random, questionnaire: Questionnaire, level: float, unit_code: str,
             kind: str) -> dict[str, int | str]:
    """Return plausible answers: scored items around ``level``, each item a little apart."""
    answers: dict[str, int | str] = {}
    scored: list[Question] = []
    for question in questionnaire.questions:
        if question.type == "text":
            if question.id == "linh_vuc":
                answers[question.id] = FIELDS.get(unit_code, "Khác")
            elif question.id == "y_kien" and rng.random() < 0.35:
                pool = (GROUP_COMMENTS if kind == "group"
                        else PRAISE if level > 0.72 else COMPLAINTS)
                answers[question.id] = rng.choice(pool)
            continue
        if question.group is None:
            if rng.random() < 0.92:  # a few leave a profile question blank
                answers[question.id] = rng.choice(question.options).code
            continue
        counted = [o for o in question.options if o.score is not None]
        uncounted = [o for o in question.options if o.score is None]
        if uncounted and rng.random() < 0.04:
            answers[question.id] = uncounted[0].code
            continue
        low = min(o.score or 0.0 for o in counted)
        high = max(o.score or 0.0 for o in counted)
        wanted = low + (high - low) * _clamp(level + rng.gauss(0, 0.2))
        answers[question.id] = min(counted, key=lambda o: abs((o.score or 0.0) - wanted)).code
        scored.append(question)
    codes = {answers[q.id] for q in scored}
    if len(scored) > 1 and len(codes) == 1:
        # Nobody is flagged for a straight line in the sample: one item a step apart.
        question = scored[-1]
        others = [o.code for o in question.options if o.score is not None
                  and o.code != answers[question.id]]
        answers[question.id] = min(others, key=lambda c: abs(c - int(answers[question.id])))
    return answers


def seed_sample(today: date | None = None) -> int:
    """Store the demo sample: a few hundred responses over the last six months; return n.

    QR responses at counters and the office come in within opening hours on working days,
    a few a day at most, with answers that vary, so that the flags stay quiet. The same day
    gives the same sample. The caller commits.
    """
    today = today or datetime.now(stats.VIETNAM).date()
    first = today - timedelta(days=SAMPLE_MONTHS * 30)
    rng = random.Random(f"{WARD[0]}-sample")  # noqa: S311 - made-up data, not a secret
    serial = 0
    responses: list[Response] = []
    for unit_code, questionnaire_id, n, paper_share, level, per_month in SAMPLE_PLAN:
        unit = units.get_unit(unit_code)
        questionnaire = get_questionnaire(questionnaire_id)
        if unit is None or questionnaire is None:
            continue
        link = units.link_for(unit, questionnaire_id)
        office = unit.kind != "group"
        days = _days(first, today - timedelta(days=1), office)
        for _ in range(n):
            day = rng.choice(days)
            channel = "paper" if rng.random() < paper_share else "qr"
            months = (day - first).days / 30
            # A unit's level moves month by month, and one month is a little off everywhere.
            mood = level + per_month * months + (0.04 if day.month % 4 == 0 else 0.0)
            answers = _answers(rng, questionnaire, _clamp(mood), unit_code, unit.kind)
            serial += 1
            response_id = uuid.UUID(int=(SAMPLE_PREFIX << 64) | serial)
            responses.append(Response(
                response_id=response_id, questionnaire_id=questionnaire.id,
                questionnaire_version=questionnaire.version, unit_id=unit.id, channel=channel,
                submitted_at=_moment(rng, day, office and channel == "qr"),
                receipt=receipt_for(response_id),
                digest=digest_of(questionnaire, unit, channel, answers),
                link_id=link.id if link is not None and channel == "qr" else None,
                score_milli=stats.score_milli(questionnaire.id, answers),
                answers=[Answer(question_id=qid,
                                option_code=value if isinstance(value, int) else None,
                                text_value=value if isinstance(value, str) else None)
                         for qid, value in answers.items()]))
    db.session.add_all(responses)
    db.session.flush()
    if responses:
        db.session.execute(sa.insert(demo_response),
                           [{"response_pk": r.id} for r in responses])
    stats.rebuild(rescore="none")
    audit.record("demo", "demo.seed", WARD[0], responses=len(responses))
    return len(responses)


def remove_sample(actor: str = "cli") -> int:
    """Delete the demo sample responses (units, links and accounts stay); return how many.

    The rollups are counted again and the sample's days flagged again, so that everything
    reads as if the sample had never been. The caller commits.
    """
    from .integrity import touch_days

    day_rows = db.session.execute(
        sa.select(Response.questionnaire_id, Response.unit_id, Response.submitted_at)
        .where(_in_sample())).all()
    if not day_rows:
        return 0
    touch_days({(q, u, stats.vietnam_day(at)) for q, u, at in day_rows})
    ids = sa.select(Response.id).where(_in_sample()).scalar_subquery()
    db.session.execute(sa.delete(Answer).where(Answer.response_pk.in_(ids)))
    db.session.execute(sa.delete(response_flag).where(response_flag.c.response_pk.in_(ids)))
    pks = list(db.session.scalars(sa.select(demo_response.c.response_pk)))
    db.session.execute(sa.delete(demo_response))
    for start in range(0, len(pks), 500):
        db.session.execute(sa.delete(Response).where(Response.id.in_(pks[start:start + 500])),
                           execution_options={"synchronize_session": False})
    db.session.expire_all()
    stats.rebuild(rescore="none")
    audit.record(actor, "demo.remove", WARD[0], responses=len(day_rows))
    return len(day_rows)
