"""Staff pages of cases (phản ánh, kiến nghị): the list, bulk assignment, a case, opening one.

Every route belongs to the staff blueprint (login required). A leader sees and handles the
cases of their own groups and those assigned to them (``cases.visible_condition`` and
``cases.can_handle``); another case answers 404, whichever the method. Each change is
audited by services/cases.py with target ``case:<receipt>``, which is the case's history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from analysis.vietnam import VIETNAM

from ..errors import fail
from ..extensions import db
from ..labels import STATUS_LABELS
from ..models import Case, User
from ..reporting import keyset
from ..security import local_path
from ..services import case_list, cases, units
from .forms import (
    CaseAssignForm,
    CaseBulkAssignForm,
    CaseNoteForm,
    CaseOpenForm,
    CaseReplyForm,
    CaseStatusForm,
)
from .views import _me, bp

NOBODY = "-"  # the assignee choice "nobody" in forms (no account has a one-letter name)


@bp.context_processor
def _case_helpers() -> dict[str, Any]:
    """Helpers for the staff templates: which receipts have a case, a Vietnam day."""
    return {"case_receipts": case_list.case_receipts, "vn_day": _vn_day,
            "status_label": _status_label}


def _vn_day(value: datetime | None) -> str:
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y") if value is not None else ""


def _status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _back(target: str | None, default: str) -> str:
    """Return a relative staff address to go back to (never another site), else ``default``."""
    return local_path(target, "/staff/") or default


def _purge() -> None:
    """Delete the contacts past their retention before a page reads cases."""
    if case_list.purge_due():
        db.session.commit()


def _account_choices(accounts: list[User]) -> list[SelectChoice]:
    return [SelectChoice(NOBODY, _("(không giao cho ai)"))] + [
        SelectChoice(a.username, a.username) for a in accounts]


# --- The list ------------------------------------------------------------------------------


@bp.get("/cases")
def case_list_page() -> ResponseReturnValue:
    """List the cases the user may see: open ones first, the nearest due day on top."""
    me = _me()
    _purge()
    args = request.args
    error, status = None, 200
    try:
        flt = case_list.parse_filter(
            me, statuses=args.getlist("status"), units=args.getlist("unit"),
            overdue=args.get("overdue"), assignee=args.get("assignee"),
            search=args.get("q"), sort=args.get("sort"))
    except case_list.CaseListError as exc:
        error, status = str(exc), exc.status
        flt = case_list.CaseFilter()
    after = args.get("after", "")
    rows: list[case_list.CaseRow] = []
    total, next_after = 0, ""
    if error is None:
        rows, total, next_after = case_list.search_cases(flt, me, after=after)
    # The page's number is only shown ("Trang 3"), carried along by the links: the rows start
    # after the last case of the page before (``after``), read by key.
    page = _page() if case_list.is_key(after, flt.sort) else 1

    def query(**changes: Any) -> dict[str, Any]:
        found = {**flt.query(), "page": page, **changes}
        if found["page"] == 1:
            del found["page"]
        return {k: v for k, v in found.items() if v}

    accounts = case_list.assignable_for(me)
    bulk = CaseBulkAssignForm()
    bulk.assignee.choices = [SelectChoice("", _("— chọn người nhận —"))] + _account_choices(
        accounts)
    opened, overdue = cases.header_counts(me)
    return render_template(
        "staff/cases.html", rows=rows, total=total, page=page, next_after=next_after,
        pages=keyset.pages_shown(page, bool(next_after), total, case_list.PAGE_SIZE), flt=flt,
        query=query, error=error,
        statuses=STATUS_LABELS, accounts=accounts, bulk=bulk,
        all_units=units.visible_units(me), open_count=opened, overdue_count=overdue,
        here=request.full_path.rstrip("?")), status


@bp.post("/cases/assign")
def case_bulk_assign() -> ResponseReturnValue:
    """Give the ticked cases to one account (or nobody): all of them, or none."""
    me = _me()
    back = _back(request.form.get("next"), url_for("staff.case_list_page"))
    form = CaseBulkAssignForm()
    picked = [r for r in request.form.getlist("case") if r.strip()][:500]
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "error")
        return redirect(back)
    if not picked:
        flash(_("Chọn ít nhất một hồ sơ trong danh sách."), "error")
        return redirect(back)
    chosen = form.assignee.data or ""
    assignee = None
    if chosen != NOBODY:
        assignee = next((a for a in case_list.assignable_for(me) if a.username == chosen), None)
        if assignee is None:
            flash(_("Không giao được cho tài khoản “%(name)s”.", name=chosen[:64]), "error")
            return redirect(back)
    found, missing = case_list.cases_by_receipt(picked)
    if missing:
        flash(_("Không tìm thấy hồ sơ: %(receipts)s. Chưa hồ sơ nào được giao.",
                receipts=", ".join(m[:12] for m in missing[:10])), "error")
        return redirect(back)
    for case in found:
        if not cases.can_handle(me, case):
            fail(403, _("Ông/Bà không được giao hồ sơ %(receipt)s (không thuộc đơn vị của "
                        "mình). Chưa hồ sơ nào được giao.", receipt=case.receipt))
    try:
        changed = cases.bulk_assign(found, me, assignee)
    except cases.CaseError as exc:
        db.session.rollback()
        flash(_("%(reason)s Chưa hồ sơ nào được giao.", reason=str(exc)), "error")
        return redirect(back)
    db.session.commit()
    if not changed:
        flash(_("Các hồ sơ đã chọn vốn đã được giao như vậy; không có gì thay đổi."), "success")
    elif assignee is None:
        flash(_("Đã bỏ người xử lý của %(n)d hồ sơ.", n=changed), "success")
    else:
        flash(_("Đã giao %(n)d hồ sơ cho %(name)s.", n=changed, name=assignee.username),
              "success")
    return redirect(back)


@bp.post("/cases/open")
def case_open() -> ResponseReturnValue:
    """Open a case from any response, by its receipt (or go to the case it has)."""
    me = _me()
    back = _back(request.form.get("next"), url_for("staff.case_list_page"))
    form = CaseOpenForm()
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "error")
        return redirect(back)
    typed = form.receipt.data or ""
    response = case_list.response_by_receipt(typed)
    if response is None:
        flash(_("Không có phiếu nào mang mã “%(receipt)s”.", receipt=typed[:40]), "error")
        return redirect(back)
    if not units.can_see(me, response.unit):
        fail(403, _("Phiếu %(receipt)s không thuộc đơn vị của Ông/Bà.",
                    receipt=response.receipt))
    existing = cases.case_of_response(response.id)
    case = cases.open_by_staff(response, me)
    db.session.commit()
    if existing is None:
        flash(_("Đã mở hồ sơ cho phiếu %(receipt)s.", receipt=case.receipt), "success")
    else:
        flash(_("Phiếu %(receipt)s đã có hồ sơ.", receipt=case.receipt), "success")
    return redirect(url_for("staff.case_detail", receipt=case.receipt))


# --- One case ------------------------------------------------------------------------------


def _case_or_404(receipt: str) -> Case:
    """Return the case of a receipt, or 404: unknown, or not the user's to handle."""
    case = cases.find_by_receipt(receipt[:40])
    if case is None or not cases.can_handle(_me(), case):
        abort(404)
    return case


_STEPS = {
    "new": ("in_progress", "closed"),
    "in_progress": ("closed",),
    "answered": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
"""The status buttons a case offers in each status ("in_progress" from a later one reopens)."""


def _forms(case: Case, me: User, action: str) -> dict[str, FlaskForm]:
    """Build the page's four forms; only the one posted (``action``) reads the request."""

    def source(name: str) -> dict[str, Any]:
        return {"prefix": name} if name == action else {"prefix": name, "formdata": None}

    assign = CaseAssignForm(**source("assign"), data={
        "assignee": case.assignee.username if case.assignee else NOBODY,
        "handling_unit": (case.handling_unit or case.unit).code})
    accounts = case_list.assignable_for(me, case)
    if case.assignee is not None and case.assignee not in accounts:
        accounts.insert(0, case.assignee)
    assign.assignee.choices = _account_choices(accounts)
    assign.handling_unit.choices = [SelectChoice(u.code, f"{u.code} – {u.name}")
                                    for u in case_list.handling_units(me, case)]
    reply = CaseReplyForm(**source("reply"), data={
        "text": case.reply or "", "publish": case.published,
        "status": "closed" if case.status == "closed" else "answered"})
    return {"assign": assign, "reply": reply, "status": CaseStatusForm(**source("status")),
            "note": CaseNoteForm(**source("note"))}


def _apply(action: str, form: Any, case: Case, me: User) -> str:
    """Make the change a form asks for; return what to tell the user. CaseError if refused."""
    if action == "assign":
        chosen = form.assignee.data or ""
        assignee = None
        if chosen != NOBODY:
            assignee = next((a for a in case_list.assignable_for(me, case)
                             if a.username == chosen), None)
            if assignee is None and not (case.assignee and case.assignee.username == chosen):
                raise cases.CaseError(_("Không giao được cho tài khoản “%(name)s”.",
                                        name=chosen[:64]))
            assignee = assignee or case.assignee
        unit = next((u for u in case_list.handling_units(me, case)
                     if u.code == form.handling_unit.data), None)
        if unit is None:
            raise cases.CaseError(_("Ông/Bà không chọn được đơn vị xử lý “%(code)s”.",
                                    code=(form.handling_unit.data or "")[:32]))
        before = (case.assignee, case.handling_unit)
        cases.assign(case, me, assignee, unit)
        if before == (case.assignee, case.handling_unit):
            return _("Không có gì thay đổi.")
        if assignee is None:
            return _("Đã lưu: hồ sơ chưa giao cho ai, đơn vị xử lý %(unit)s.", unit=unit.code)
        return _("Đã giao hồ sơ cho %(name)s, đơn vị xử lý %(unit)s.",
                 name=assignee.username, unit=unit.code)
    if action == "reply":
        cases.reply(case, me, form.text.data or "", status=form.status.data or "answered",
                    publish=bool(form.publish.data))
        return (_("Đã lưu câu trả lời và đóng hồ sơ.") if case.status == "closed"
                else _("Đã lưu câu trả lời; người dân xem được khi tra cứu mã phiếu."))
    if action == "status":
        wanted = form.status.data or ""
        if wanted not in _STEPS.get(case.status, ()):
            raise cases.CaseError(_("Hồ sơ đang ở trạng thái “%(status)s”; xin tải lại trang.",
                                    status=_status_label(case.status)))
        reopened = case.status in ("answered", "closed")
        cases.set_status(case, me, wanted)
        if reopened:
            return _("Đã mở lại hồ sơ.")
        return _("Đã chuyển hồ sơ sang “%(status)s”.", status=_status_label(wanted))
    cases.add_note(case, me, form.text.data or "")
    return _("Đã thêm ghi chú.")


@bp.route("/cases/<receipt>", methods=["GET", "POST"])
def case_detail(receipt: str) -> ResponseReturnValue:
    """Show a case, and handle it: assign, reply, change status, add a note."""
    me = _me()
    _purge()
    case = _case_or_404(receipt)
    if request.method == "GET" and receipt != case.receipt:
        return redirect(url_for("staff.case_detail", receipt=case.receipt))
    action = request.form.get("action", "") if request.method == "POST" else ""
    forms = _forms(case, me, action)
    status, error, refused = 200, None, False
    if request.method == "POST":
        form = forms.get(action)
        if form is None:
            abort(400)
        if form.validate():
            try:
                message = _apply(action, form, case, me)
            except cases.CaseError as exc:
                db.session.rollback()
                error, refused = str(exc), True
                case = _case_or_404(receipt)
            else:
                db.session.commit()
                flash(message, "success")
                return redirect(url_for("staff.case_detail", receipt=case.receipt) + "#"
                                + action)
        else:
            error = next(iter(form.errors.values()))[0]
        status = 400
    day = case_list.today()
    days = int(current_app.config["CASE_CONTACT_DAYS"])
    return render_template(
        "staff/case.html", case=case, forms=forms, error=error, failed=action if refused else "",
        row=case_list.row_of(case, "", day), answers=case_list.case_answers(case),
        reasons=case_list.reason_labels(case.reasons), steps=_STEPS.get(case.status, ()),
        history=case_list.history(case), sees_contact=cases.sees_contact(me, case),
        contact_days=days,
        contact_until=case.closed_at + timedelta(days=days) if case.closed_at else None), status
