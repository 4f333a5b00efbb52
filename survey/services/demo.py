"""Demo data: Phường Trần Liễu (Hải Phòng), its service centre counters and groups.

A second ward, Phường An Biên, lets a city's instance and its comparison be tried.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from analysis.vietnam import VIETNAM, vietnam_day
from questionnaires import Question, Questionnaire

from ..extensions import db
from ..models import (
    Answer,
    Case,
    CaseContact,
    CaseNote,
    Response,
    Unit,
    User,
    demo_response,
    response_flag,
)
from . import accounts, audit, cases, rollups, units
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
SECOND_WARD = ("ANBIEN", "Phường An Biên")
SECOND_UNITS = (
    ("AB-HCC-TPHT", "Phường An Biên - Quầy Tư pháp - Hộ tịch", "counter", ("sipas-dichvu",)),
    ("AB-HCC-DDXD", "Phường An Biên - Quầy Đất đai - Xây dựng", "counter", ("sipas-dichvu",)),
    ("AB-TDP-01", "Phường An Biên - Tổ dân phố số 1", "group", GROUP_QUESTIONNAIRES),
    ("AB-TDP-02", "Phường An Biên - Tổ dân phố số 2", "group", GROUP_QUESTIONNAIRES),
)


def is_new_database() -> bool:
    """Return whether the database holds no unit and no account yet."""
    has_units = db.session.scalar(sa.select(sa.func.count()).select_from(Unit))
    has_users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    return not has_units and not has_users


def seed_demo() -> str:
    """Create the demo ward, its units and links, and an admin; return the admin's password."""
    for (ward_code, ward_name), members in ((WARD, UNITS), (SECOND_WARD, SECOND_UNITS)):
        ward = units.create_unit(ward_code, ward_name, "ward", actor="demo")
        for code, name, kind, questionnaire_ids in members:
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
    # The second ward, after the first (the first ward's sample stays the same).
    ("AB-HCC-TPHT", "sipas-dichvu", 55, 0.0, 0.9, 0.0),
    ("AB-HCC-DDXD", "sipas-dichvu", 45, 0.0, 0.74, 0.01),
    ("AB-TDP-01", "sipas-chinhsach", 18, 0.6, 0.8, 0.0),
    ("AB-TDP-02", "sipas-chinhsach", 16, 0.6, 0.7, 0.0),
)
FIELDS = {"HCC-TPHT": "Hộ tịch", "HCC-DDXD": "Đất đai", "HCC-CT": "Chứng thực",
          "PVHXH": "Văn hóa - Xã hội", "AB-HCC-TPHT": "Hộ tịch", "AB-HCC-DDXD": "Đất đai"}
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
                             tzinfo=VIETNAM)
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
    today = today or datetime.now(VIETNAM).date()
    first = today - timedelta(days=SAMPLE_MONTHS * 30)
    rng = random.Random(f"{WARD[0]}-sample")  # noqa: S311 - made-up data, not a secret
    serial = 0
    responses: list[Response] = []
    sampled: list[tuple[Questionnaire, dict[str, int | str]]] = []
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
            sampled.append((questionnaire, answers))
            responses.append(Response(
                response_id=response_id, questionnaire_id=questionnaire.id,
                questionnaire_version=questionnaire.version, unit_id=unit.id, channel=channel,
                submitted_at=_moment(rng, day, office and channel == "qr"),
                receipt=receipt_for(response_id),
                digest=digest_of(questionnaire, unit, channel, answers),
                link_id=link.id if link is not None and channel == "qr" else None,
                score_milli=rollups.score_milli(questionnaire.id, answers),
                low=rollups.is_low(questionnaire.id, answers),
                answers=[Answer(question_id=qid,
                                option_code=value if isinstance(value, int) else None,
                                text_value=value if isinstance(value, str) else None)
                         for qid, value in answers.items()]))
    db.session.add_all(responses)
    db.session.flush()
    if responses:
        db.session.execute(sa.insert(demo_response),
                           [{"response_pk": r.id} for r in responses])
    rollups.rebuild(rescore="none")
    opened = _seed_cases([(r, q, a) for r, (q, a) in zip(responses, sampled, strict=True)],
                         today)
    audit.record("demo", "demo.seed", WARD[0], responses=len(responses), cases=opened)
    return len(responses)


# --- the sample's cases: opened by the rule, handled the way a busy office handles them -------

REPLIES = {
    "Phải chờ lâu, nên có thêm ghế ngồi.":
        "Cảm ơn Ông/Bà đã góp ý. Trung tâm đã kê thêm một dãy ghế chờ và đặt máy lấy số thứ "
        "tự, nên người đến sau không phải đứng chờ như trước.",
    "Hồ sơ phải bổ sung nhiều lần, đề nghị hướng dẫn rõ một lần.":
        "Phường xin lỗi vì Ông/Bà phải đi lại nhiều lần. Từ nay cán bộ một cửa đưa phiếu hướng "
        "dẫn in sẵn thành phần hồ sơ của từng thủ tục ngay lần đầu, và ghi rõ giấy tờ còn thiếu "
        "vào một phiếu duy nhất.",
    "Trả kết quả chậm so với giấy hẹn.":
        "Phường xin lỗi Ông/Bà vì trả kết quả chậm. Hồ sơ phải chờ ý kiến của cơ quan cấp trên; "
        "phường đã nhắc bộ phận theo dõi hạn và sẽ gọi điện báo trước cho người dân khi có thể "
        "trễ hẹn.",
    "Nên niêm yết rõ phí, lệ phí tại quầy.":
        "Cảm ơn Ông/Bà. Bảng phí, lệ phí của từng thủ tục nay đã dán ở mỗi quầy và đăng trên "
        "trang thông tin điện tử của phường.",
    "Khó gọi điện thoại tới bộ phận một cửa.":
        "Phường đã thêm một số máy và cử cán bộ trực nghe điện thoại suốt giờ làm việc. Ông/Bà "
        "cũng có thể gọi số đường dây nóng in trên giấy hẹn.",
    "Chỗ để xe chật, trời mưa không có mái che.":
        "Phường đã dựng mái che tạm cho khu để xe và đang xin kinh phí mở rộng bãi xe trong năm "
        "nay. Cảm ơn Ông/Bà đã thông cảm.",
    "Đề nghị sửa đèn đường trong ngõ.":
        "Tổ dân phố đã báo Ủy ban phường; đơn vị chiếu sáng đã thay bóng đèn và sửa dây điện "
        "trong ngõ. Ông/Bà thấy đèn hỏng lại xin báo tổ trưởng.",
    "Nên họp tổ dân phố vào buổi tối để mọi người đi được.":
        "Tổ dân phố tiếp thu ý kiến: từ tháng này các buổi họp tổ tổ chức lúc 19 giờ 30 tại nhà "
        "văn hóa, để bà con đi làm về kịp tham dự.",
    "Thông tin về chính sách nên dán ở nhà văn hóa tổ.":
        "Cảm ơn Ông/Bà. Bảng tin ở nhà văn hóa tổ đã có các văn bản chính sách mới và được cập "
        "nhật mỗi tháng.",
    "Cần nạo vét cống thoát nước trước mùa mưa.":
        "Phường đã đưa tuyến cống của tổ vào kế hoạch nạo vét năm nay; việc nạo vét làm xong "
        "trước mùa mưa. Cảm ơn Ông/Bà đã phản ánh.",
}
REPLY_THANKS = ("Cảm ơn Ông/Bà đã dành lời khen cho cán bộ của phường. Chúng tôi sẽ tiếp tục "
                "giữ tinh thần phục vụ tận tình như vậy.")
REPLY_LOW = {
    "group": "Cảm ơn Ông/Bà đã đánh giá. Tổ dân phố đã trao đổi lại với Ủy ban phường về các "
             "nội dung Ông/Bà chưa hài lòng; mong Ông/Bà tiếp tục góp ý tại các buổi họp tổ.",
    "other": "Cảm ơn Ông/Bà đã đánh giá thẳng thắn. Phường đã xem lại việc tiếp nhận hồ sơ tại "
             "quầy và nhắc cán bộ về thái độ phục vụ và thời gian giải quyết. Mong Ông/Bà tiếp "
             "tục góp ý để phường làm tốt hơn.",
}
CLOSED_OUTSIDE = ("Nội dung không thuộc thẩm quyền của phường; đã hướng dẫn người dân gửi đến "
                  "cơ quan có thẩm quyền.")
NOTES = (
    "Đã chuyển bộ phận chuyên môn kiểm tra, chờ báo cáo.",
    "Đã gọi điện cho người dân để hỏi thêm thông tin.",
    "Chờ ý kiến của lãnh đạo phường trước khi trả lời.",
)


def _office_moment(rng: random.Random, day: date) -> datetime:
    """Return a time on ``day`` in office hours, Vietnam time, as UTC."""
    minute = rng.randrange(8 * 60, 16 * 60 + 30)
    return datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)),
                            tzinfo=VIETNAM).astimezone(UTC)


def _history(action: str, case: Case, at: datetime, actor: User | str, **details: Any) -> None:
    """Write a past step of a sample case to its history (the audit log), at its time."""
    entry = audit.record(actor, action, f"case:{case.receipt}", **details)
    entry.at = at


def _seed_cases(sample: list[tuple[Response, Questionnaire, dict[str, int | str]]],
                today: date) -> int:
    """Open the sample responses' cases by the rule and handle them; return how many opened.

    Most cases past their due day were answered on time, some late, a few are still waiting
    (overdue) and a few were closed as outside the ward's competence; recent ones are new or
    in progress. Some replies are published, and some citizens said whether they were
    satisfied. Deterministic, like the sample.
    """
    rng = random.Random(f"{WARD[0]}-cases")  # noqa: S311 - made-up data, not a secret
    now = min(datetime.now(UTC), datetime.combine(today, time(23, 59), VIETNAM))
    handler = accounts.get_user(ADMIN_USERNAME)
    calendar = cases.work_calendar()
    days_allowed = int(current_app.config["CASE_DUE_DAYS"])
    opened = 0
    for response, questionnaire, answers in sorted(sample, key=lambda s: s[0].submitted_at):
        reasons = cases.reasons_for(questionnaire, answers)
        if not cases.rule_opens(reasons):
            continue
        unit = response.unit
        case = cases.open_case(response.id, response.receipt, response.unit_id,
                               response.submitted_at, reasons)
        opened += 1
        text = next((v for k, v in answers.items() if isinstance(v, str) and k == "y_kien"), "")
        reply = REPLIES.get(text) or (REPLY_THANKS if text else "") or REPLY_LOW[
            "group" if unit.kind == "group" else "other"]
        past_due = case.due < today
        draw = rng.random()
        if past_due:
            plan = ("on_time" if draw < 0.72 else "late" if draw < 0.86 else
                    "outside" if draw < 0.89 else "waiting")
        else:
            plan = "on_time" if draw < 0.35 else "waiting" if draw < 0.75 else "new"
        if plan == "new":
            continue
        assigned_at = case.opened_at + timedelta(hours=rng.randrange(2, 30))
        if handler is not None and assigned_at < now:
            case.assignee = handler
            case.status = "in_progress"
            _history("case.assign", case, assigned_at, "demo", assignee=[None, handler.username],
                     status=["new", "in_progress"])
        if plan == "waiting":
            if rng.random() < 0.4 and handler is not None and assigned_at < now:
                note = rng.choice(NOTES)
                noted = assigned_at + timedelta(hours=rng.randrange(1, 48))
                db.session.add(CaseNote(case=case, author=handler.username, text=note,
                                        at=min(noted, now)))
                _history("case.note", case, min(noted, now), handler, note=note)
            continue
        if plan == "outside":
            closed = _office_moment(rng, calendar.add_working_days(case.opened_at, 2))
            if closed < now:
                _history("case.status", case, closed, handler or "demo",
                         status=[case.status, "closed"])
                case.status, case.closed_at = "closed", closed
                if handler is not None:
                    db.session.add(CaseNote(case=case, author=handler.username,
                                            text=CLOSED_OUTSIDE, at=closed))
            continue
        if plan == "on_time":
            # Most replies come within a few working days, a few near the due day.
            spent = min(days_allowed, 1 + int(rng.expovariate(1 / 3)))
            day = calendar.add_working_days(case.opened_at, spent)
        else:
            day = calendar.next_working_day(case.due + timedelta(days=rng.randint(1, 12)))
        answered = max(_office_moment(rng, day), case.opened_at + timedelta(hours=1))
        if answered >= now:
            continue  # still being handled
        published = bool(text) and text in REPLIES and rng.random() < 0.3
        _history("case.reply", case, answered, handler or "demo", reply=reply,
                 status=[case.status, "answered"], published=published)
        case.reply, case.answered_at, case.status = reply, answered, "answered"
        case.published = published
        if rng.random() < 0.5:
            closed = answered + timedelta(days=rng.randint(1, 5))
            if closed < now:
                case.status, case.closed_at = "closed", closed
                _history("case.status", case, closed, handler or "demo",
                         status=["answered", "closed"])
        if rng.random() < 0.45:
            rated = answered + timedelta(hours=rng.randrange(2, 96))
            if rated < now:
                case.citizen_satisfied = rng.random() < (0.85 if plan == "on_time" else 0.35)
                case.rated_at = rated
                _history("case.rate", case, rated, "citizen", satisfied=case.citizen_satisfied)
    db.session.flush()
    return opened


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
    touch_days({(q, u, vietnam_day(at)) for q, u, at in day_rows})
    ids = sa.select(Response.id).where(_in_sample()).scalar_subquery()
    # The sample's cases go with their responses (the foreign keys cascade too; said here
    # so that no database setting decides it).
    case_ids = sa.select(Case.id).where(Case.response_pk.in_(ids)).scalar_subquery()
    db.session.execute(sa.delete(CaseContact).where(CaseContact.case_id.in_(case_ids)))
    db.session.execute(sa.delete(CaseNote).where(CaseNote.case_id.in_(case_ids)))
    db.session.execute(sa.delete(Case).where(Case.response_pk.in_(ids)))
    db.session.execute(sa.delete(Answer).where(Answer.response_pk.in_(ids)))
    db.session.execute(sa.delete(response_flag).where(response_flag.c.response_pk.in_(ids)))
    pks = list(db.session.scalars(sa.select(demo_response.c.response_pk)))
    db.session.execute(sa.delete(demo_response))
    for start in range(0, len(pks), 500):
        db.session.execute(sa.delete(Response).where(Response.id.in_(pks[start:start + 500])),
                           execution_options={"synchronize_session": False})
    db.session.expire_all()
    rollups.rebuild(rescore="none")
    audit.record(actor, "demo.remove", WARD[0], responses=len(day_rows))
    return len(day_rows)
