"""The audit log of staff actions: recording, naming actions and details, and searching."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from analysis.vietnam import VIETNAM
from questionnaires import Questionnaire

from ..extensions import db
from ..labels import (
    CHANNEL_LABELS,
    INDICATOR_LABELS,
    KIND_LABELS,
    REASON_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)
from ..models import INDICATOR_FIGURES, AuditLog, Batch, Response, Sheet, User
from ..reporting import keyset

PAGE_SIZE = 100

ACTIONS: dict[str, LazyString] = {
    "auth.login": _l("Đăng nhập"),
    "auth.logout": _l("Đăng xuất"),
    "unit.create": _l("Tạo đơn vị"),
    "unit.update": _l("Sửa đơn vị"),
    "link.create": _l("Tạo đường dẫn khảo sát"),
    "link.open": _l("Mở đường dẫn khảo sát"),
    "link.close": _l("Đóng đường dẫn khảo sát"),
    "user.create": _l("Tạo tài khoản"),
    "user.update": _l("Sửa tài khoản"),
    "user.password": _l("Đổi mật khẩu"),
    "token.create": _l("Tạo mã truy cập API"),
    "token.revoke": _l("Thu hồi mã truy cập API"),
    "batch.create": _l("Giao đợt phiếu in"),
    "batch.print": _l("In phiếu của đợt"),
    "batch.returned": _l("Ghi số phiếu thu về"),
    "sheet.verify": _l("Đối chiếu phiếu nhập kép"),
    "sheet.reconcile": _l("Chọn câu trả lời khi hai lần nhập khác nhau"),
    "response.edit": _l("Sửa phiếu đã lưu"),
    "response.exclude": _l("Loại phiếu khỏi kết quả"),
    "response.include": _l("Đưa phiếu trở lại kết quả"),
    "import": _l("Nhập phiếu từ tệp"),
    "export.json": _l("Tải bản tóm tắt (JSON)"),
    "export.csv": _l("Tải dữ liệu thô (CSV)"),
    "export.xlsx": _l("Tải bảng tính (XLSX)"),
    "export.pdf": _l("Tải báo cáo (PDF)"),
    "export.suggestions": _l("Tải ý kiến của người dân"),
    "report.send": _l("Gửi báo cáo qua thư điện tử"),
    "indicator.save": _l("Lưu số liệu chỉ tiêu phục vụ"),
    "indicator.import": _l("Nhập số liệu chỉ tiêu phục vụ từ tệp"),
    "database.backup": _l("Sao lưu cơ sở dữ liệu"),
    "database.restore": _l("Khôi phục cơ sở dữ liệu"),
    "demo.seed": _l("Tạo dữ liệu mẫu"),
    "demo.remove": _l("Xóa dữ liệu mẫu"),
    "case.open": _l("Mở hồ sơ phản ánh, kiến nghị"),
    "case.assign": _l("Giao hồ sơ"),
    "case.reply": _l("Trả lời người dân"),
    "case.status": _l("Đổi trạng thái hồ sơ"),
    "case.note": _l("Ghi chú nội bộ"),
    "case.rate": _l("Người dân đánh giá câu trả lời"),
    "case.contact_purge": _l("Tự xóa thông tin liên hệ hết hạn lưu"),
}
"""What people call each action; an action missing here is shown by its code."""

DETAIL_LABELS: dict[str, LazyString] = {
    **INDICATOR_LABELS,
    "field": _l("Lĩnh vực"),
    "rows": _l("Số dòng"),
    "added": _l("Số dòng mới"),
    "updated": _l("Số dòng thay số liệu cũ"),
    "months": _l("Tháng"),
    "previous": _l("Số liệu cũ đã thay"),
    "name": _l("Tên"),
    "kind": _l("Loại"),
    "parent": _l("Thuộc"),
    "active": _l("Đang hoạt động"),
    "hours": _l("Giờ làm việc"),
    "unit": _l("Đơn vị"),
    "units": _l("Đơn vị"),
    "questionnaire": _l("Phiếu khảo sát"),
    "role": _l("Vai trò"),
    "receipts": _l("Mã phiếu"),
    "reason": _l("Lý do"),
    "file": _l("Tệp"),
    "imported": _l("Số phiếu đã nhập"),
    "skipped": _l("Số phiếu bỏ qua (đã có)"),
    "old": _l("Trước"),
    "new": _l("Sau"),
    "part": _l("Phần"),
    "from": _l("Từ ngày"),
    "to": _l("Đến ngày"),
    "channels": _l("Kênh"),
    "sheet_count": _l("Số phiếu in"),
    "sheets": _l("Số phiếu in"),
    "serials": _l("Số phiếu (đầu, cuối)"),
    "receipt": _l("Mã phiếu"),
    "fields": _l("Các câu đối chiếu (lần 1, lần 2, chọn)"),
    "at": _l("Lúc"),
    "returned": _l("Số phiếu thu về"),
    "double_entry": _l("Nhập kép"),
    "leader": _l("Tổ trưởng"),
    "serial": _l("Số phiếu"),
    "changes": _l("Thay đổi"),
    "code": _l("Mã"),
    "path": _l("Tệp"),
    "note": _l("Ghi chú"),
    "assignee": _l("Người xử lý"),
    "handling_unit": _l("Đơn vị xử lý"),
    "status": _l("Trạng thái"),
    "reply": _l("Nội dung trả lời"),
    "published": _l("Đăng công khai"),
    "satisfied": _l("Hài lòng với câu trả lời"),
    "count": _l("Số lượng"),
    "reasons": _l("Lý do mở hồ sơ"),
    "names": _l("Tên các mã"),
    "why": _l("Vì"),
}
"""What people call the keys of an entry's details; other keys are shown as written."""

CHANGES: dict[str, frozenset[str] | None] = {
    "unit.update": None,
    "indicator.save": frozenset(INDICATOR_FIGURES),
    "user.update": None,
    "response.edit": frozenset({"changes"}),
    "case.assign": None,
    "case.status": None,
    "case.reply": frozenset({"status"}),
}
"""Actions whose details record a change as ``[old, new]``: every detail (None) or these.

Any other list is a list ("TO-01, TO-02"), even of two items.
"""

TOKEN_REVOKED_WHY: dict[str, LazyString] = {
    "password": _l("mật khẩu được đặt lại"),
    "disabled": _l("tài khoản bị khóa"),
    "cli": _l("thu hồi bằng dòng lệnh"),
}
"""Why every token of an account was revoked at once (``accounts.revoke_tokens``)."""

VALUE_LABELS: dict[str, dict[str, LazyString]] = {
    "why": TOKEN_REVOKED_WHY,
    "role": ROLE_LABELS,
    "kind": KIND_LABELS,
    "channel": CHANNEL_LABELS,
    "channels": CHANNEL_LABELS,
}
"""Details whose values are stored codes, shown by what people call them."""

QUESTION_DETAILS = frozenset({"changes", "fields"})
"""Details keyed by question id (response.edit, sheet.reconcile): keys shown as "Câu 15"."""

CASE_VALUES = frozenset({"status", "reasons"})
"""Details holding a case's codes (labels.py: STATUS_LABELS, REASON_LABELS)."""

BATCH_TARGET = re.compile(r"^batch (\d+)$")
CASE_TARGET = re.compile(r"^case:([A-Z2-7]{4}-[A-Z2-7]{4})$")


def record(actor: User | str | None, action: str, target: str, **details: Any) -> AuditLog:
    """Add one entry: ``actor`` is an account, or a name such as ``"cli"`` for the shell."""
    if isinstance(actor, User):
        entry = AuditLog(user_id=actor.id, actor=actor.username, action=action,
                         target=target[:200], details=details)
    else:
        entry = AuditLog(user_id=None, actor=actor or "system", action=action,
                         target=target[:200], details=details)
    db.session.add(entry)
    return entry


def action_label(code: str) -> str:
    """Return what people call an action (its code when it has no name yet)."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def target_label(target: str) -> str:
    """Return an entry's target as people read it ("batch 3" is "đợt 3", a case "hồ sơ …")."""
    found = BATCH_TARGET.match(target)
    if found:
        return _("đợt %(id)s", id=found.group(1))
    case = CASE_TARGET.match(target)
    return _("hồ sơ %(receipt)s", receipt=case.group(1)) if case else target


def value_labels(key: str) -> dict[str, LazyString] | None:
    """Return what people call the stored codes a detail holds, or None."""
    if key in CASE_VALUES:
        return STATUS_LABELS if key == "status" else REASON_LABELS
    return VALUE_LABELS.get(key)


def value_text(value: Any, labels: dict[str, LazyString] | None = None) -> str:
    """Return a detail's value as readable text: no JSON escapes, Vietnamese yes/no.

    ``labels``: what people call the stored codes the value holds (roles, kinds, channels).
    A list is joined with commas; only :func:`detail_lines` knows which pairs are changes.
    """
    if value is None or value == "":
        return "—"
    if value is True:
        return _("có")
    if value is False:
        return _("không")
    if isinstance(value, list):
        return ", ".join(value_text(v, labels) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{detail_label(k)}: {value_text(v, value_labels(k))}"
                         for k, v in value.items())
    if isinstance(value, str):
        label = labels.get(value) if labels else None
        return str(label) if label is not None else value
    return json.dumps(value, ensure_ascii=False)


def change_text(value: Any, labels: dict[str, LazyString] | None = None) -> str:
    """Return a change stored as ``[old, new]`` as "old → new" (anything else as a value)."""
    if isinstance(value, list) and len(value) == 2:
        return f"{value_text(value[0], labels)} → {value_text(value[1], labels)}"
    return value_text(value, labels)


def detail_label(key: str) -> str:
    """Return what people call a detail's key."""
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key


def _entry_questionnaire(action: str, target: str,
                         details: dict[str, Any]) -> Questionnaire | None:
    """Return the questionnaire an entry's question ids belong to, when it can be found.

    The entry's response (response.edit: the receipt) or sheet (sheet.reconcile: the serial)
    says which questionnaire and version; entries recorded with ``questionnaire`` say it too.
    """
    from .questionnaires import get_questionnaire

    found: tuple[str, int | None] | None = None
    if action == "response.edit":
        row = db.session.execute(
            sa.select(Response.questionnaire_id, Response.questionnaire_version)
            .where(Response.receipt == target).limit(1)).first()
        found = (row[0], row[1]) if row else None
    elif action == "sheet.reconcile" and target.isdigit() and len(target) < 10:
        row = db.session.execute(
            sa.select(Batch.questionnaire_id, Batch.questionnaire_version)
            .join(Sheet, Sheet.batch_id == Batch.id).where(Sheet.serial == int(target))).first()
        found = (row[0], row[1]) if row else None
    if found is None and isinstance(details.get("questionnaire"), str):
        found = (details["questionnaire"], None)
    return get_questionnaire(*found) if found else None


def _question_text(questionnaire: Questionnaire | None, question_id: str,
                   stored: Callable[[], list[Questionnaire]]) -> str:
    """Return what people call a question ("Câu 15") named in an entry's details.

    From the entry's questionnaire or, when its response is gone, from the ``stored``
    questionnaires if they all call it the same; else the id is all there is.
    """
    from .questionnaires import question_name

    if questionnaire is not None and questionnaire.question(question_id) is not None:
        return question_name(questionnaire, question_id)
    names = {question_name(q, question_id) for q in stored()
             if q.question(question_id) is not None}
    return names.pop() if len(names) == 1 else question_id


def _moment(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


def _hours(value: Any) -> Any:
    if value is None:
        return _("theo mặc định")
    return _("không giới hạn") if value == "" else value


def detail_lines(details: dict[str, Any] | None, action: str = "",
                 target: str = "") -> list[tuple[str, str]]:
    """Return an entry's details as (label, value) pairs to show in a definition list.

    Only the details that ``action`` records as changes read "old → new" (:data:`CHANGES`);
    stored codes are shown by their labels, question ids as "Câu 15".
    """
    details = details or {}
    changes = CHANGES.get(action, frozenset())
    questionnaire = (_entry_questionnaire(action, target, details)
                     if QUESTION_DETAILS & details.keys() else None)
    from .questionnaires import latest_questionnaires

    stored = functools.cache(latest_questionnaires)  # read once, and only when needed
    lines = []
    for key, value in details.items():
        changed = changes is None or key in changes
        show = change_text if changed else value_text
        labels = value_labels(key)
        if key == "reasons" and isinstance(value, str):  # a case's: "low_rating suggestion"
            value = [r for r in value.split() if r != "-"]
        elif key == "hours":  # a unit's opening hours: None is its kind's, "" none at all
            value = [_hours(v) for v in value] if isinstance(value, list) else _hours(value)
        elif key == "at" and isinstance(value, str):  # a moment in UTC: Vietnam time
            value = _moment(value)
        if key in QUESTION_DETAILS and isinstance(value, dict):
            text = "; ".join(f"{_question_text(questionnaire, str(qid), stored)}: {show(v)}"
                             for qid, v in value.items()) or "—"
        else:
            text = show(value, labels)
        lines.append((detail_label(key), text))
    return lines


class AuditFilterError(ValueError):
    """A filter of the audit log cannot be read; the message says why (translated)."""


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: by person, action and Vietnam calendar days (inclusive)."""

    actor: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None


def _day(value: str, label: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise AuditFilterError(_("%(label)s không hợp lệ: “%(value)s” (cần một ngày dạng "
                                 "YYYY-MM-DD, từ năm 2000 đến 2100).", label=label,
                                 value=value[:20]))
    return day


def parse_filter(actor: str | None, action: str | None, start: str | None,
                 end: str | None) -> AuditFilter:
    """Read the audit log's filters from a query string; AuditFilterError when bad."""
    action = (action or "").strip()
    if action and action not in ACTIONS and action not in actions_used():
        raise AuditFilterError(_("Không có thao tác “%(action)s”.", action=action[:40]))
    first = _day(start or "", _("Từ ngày"))
    last = _day(end or "", _("Đến ngày"))
    if first and last and first > last:
        raise AuditFilterError(_("“Từ ngày” phải trước hoặc bằng “Đến ngày”."))
    return AuditFilter((actor or "").strip()[:64], action, first, last)


def actions_used() -> list[str]:
    """Return the action codes present in the log (old codes included)."""
    return list(db.session.scalars(sa.select(AuditLog.action).distinct()
                                   .order_by(AuditLog.action)))


def actors_used(user_ids: Sequence[int] | None = None) -> list[str]:
    """Return the names of everyone who has an entry in the log (of these accounts)."""
    query = sa.select(AuditLog.actor).distinct().order_by(AuditLog.actor)
    if user_ids is not None:
        query = query.where(AuditLog.user_id.in_(user_ids))
    return list(db.session.scalars(query))


def _start_of(day: date) -> datetime:
    """Return the moment a Vietnam calendar day starts."""
    return datetime.combine(day, time(), tzinfo=VIETNAM)


def search(flt: AuditFilter, *, after: str = "", page_size: int | None = None,
           user_ids: Sequence[int] | None = None) -> tuple[list[AuditLog], int, str]:
    """Return a page of entries matching ``flt`` (newest first), the total, the next key.

    The next key is where the next page starts ("" on the last page).

    The page holds the entries older than the one at ``after`` (read by key, no OFFSET).
    ``user_ids``: only what these accounts did (an admin limited to a ward reads what the
    accounts of the ward did); None: everything.
    """
    page_size = page_size or PAGE_SIZE
    conditions: list[sa.ColumnElement[bool]] = []
    if user_ids is not None:
        conditions.append(AuditLog.user_id.in_(user_ids))
    if flt.actor:
        conditions.append(AuditLog.actor == flt.actor)
    if flt.action:
        conditions.append(AuditLog.action == flt.action)
    if flt.start:
        conditions.append(AuditLog.at >= _start_of(flt.start))
    if flt.end:
        conditions.append(AuditLog.at < _start_of(flt.end + timedelta(days=1)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                              .where(*conditions)) or 0
    order: keyset.Order = [(AuditLog.id, True)]
    place = keyset.parse(after, [int])
    if place is not None:
        conditions.append(keyset.after(order, place))
    entries = list(db.session.scalars(sa.select(AuditLog).where(*conditions)
                                      .order_by(*keyset.order_by(order)).limit(page_size + 1)))
    more = len(entries) > page_size
    return (entries[:page_size], total,
            keyset.token(entries[page_size - 1].id) if more else "")
