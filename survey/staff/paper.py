"""Paper forms: batches, printed sheets, keyboard entry, double entry, progress, template.

Every route belongs to the staff blueprint (login required). A leader sees and enters only the
batches of their own units; staff and admins see all; the checks are on the server.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import SelectChoice

from questionnaires import Questionnaire

from ..errors import fail
from ..extensions import db
from ..models import Batch, Sheet, User
from ..services import audit, paper, units
from ..services.questionnaires import get_questionnaire, latest_questionnaires
from ..services.rollups import answers_of
from ..services.submissions import ResponseConflict
from ..services.text import receipt_query
from ..services.transactions import DatabaseBusy, committed
from .forms import BatchForm, EmptyForm, ReturnedForm, SerialForm
from .views import _me, bp


def _batch_or_404(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        abort(404)
    if not paper.can_use(_me(), batch):
        abort(403)
    return batch


def _sheet_or_404(serial_text: str) -> tuple[Sheet, Questionnaire]:
    serial = paper.parse_serial(serial_text)
    sheet = paper.get_sheet(serial) if serial else None
    if sheet is None:
        fail(404, _("Không có phiếu số %(serial)s.", serial=serial_text[:12]))
    if not paper.can_use(_me(), sheet.batch):
        abort(403)
    return sheet, paper.questionnaire_of(sheet.batch)


@bp.route("/batches", methods=["GET", "POST"])
def batch_list() -> ResponseReturnValue:
    """List the batches this account sees; admins and staff may issue a new one."""
    me = _me()
    visible = [u for u in units.visible_units(me) if u.kind != "ward"]
    search = request.args.get("q", "").strip()[:40]
    if search and request.method == "GET":
        # A receipt read off a citizen's slip or a phone: go to its sheet's batch.
        receipt = receipt_query(search)
        sheet = None if receipt is None else db.session.scalar(
            sa.select(Sheet).join(Batch, Batch.id == Sheet.batch_id)
            .where(Sheet.response.has(receipt=receipt),
                   Batch.unit_id.in_([u.id for u in visible])))
        if sheet is not None:
            flash(_("Phiếu có mã %(receipt)s là phiếu số %(serial)s của lô này.",
                    receipt=receipt, serial=paper.format_serial(sheet.serial)), "success")
            return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
        flash(_("Không có phiếu giấy nào mang mã %(receipt)s trong các đơn vị bạn xem được.",
                receipt=search), "error")
    form = BatchForm()
    # Printed sheets go to residential groups: only groups are offered, the likeliest
    # questionnaire first (selected), and a group's share of the ward's target as the count.
    groups = [u for u in visible if u.kind == "group" and u.active]
    form.questionnaire.choices = [
        SelectChoice(q.id, f"{q.title.get(str(get_locale()))} ({q.id})")
        for q in paper.batch_questionnaires(groups)]
    form.unit.choices = [SelectChoice(u.code, f"{u.code} – {u.name}") for u in groups]
    form.unit.validate_choice = False  # checked below, with a message in Vietnamese
    if not form.is_submitted():
        # The count of the group selected first (the form's default choice).
        form.sheet_count.data = paper.default_sheet_count(
            int(current_app.config["SAMPLE_TARGET"]), groups[0] if groups else None)
    scope = me.scope_ids()
    leaders = [u for u in db.session.scalars(
        sa.select(User).where(User.role == "leader", User.active).order_by(User.username))
        if scope is None or any(x.id in scope for x in u.units)]
    form.leader.choices = [SelectChoice("", _("(chưa giao)"))] + [
        SelectChoice(u.username, f"{u.username} ({', '.join(x.code for x in u.units)})")
        for u in leaders]
    status = 200
    if form.is_submitted():
        if not me.is_office:
            abort(403)
        if form.validate():
            unit = units.get_unit(form.unit.data or "")
            leader = next((u for u in leaders if u.username == form.leader.data), None)
            try:
                if unit is None or unit not in groups:
                    raise paper.PaperError(_("Phiếu in chỉ giao cho tổ dân phố: chọn một tổ "
                                             "dân phố."))
                batch = paper.create_batch(
                    form.questionnaire.data or "", unit, form.sheet_count.data or 0,
                    leader=leader, double_entry=form.double_entry.data,
                    note=form.note.data or "", actor=me)
            except (paper.PaperError, sa.exc.IntegrityError) as exc:
                db.session.rollback()
                form.unit.errors = [str(exc) if isinstance(exc, paper.PaperError) else
                                    _("Số phiếu vừa bị lô khác dùng; xin bấm tạo lại.")]
            else:
                db.session.commit()
                flash(_("Đã tạo lô %(id)d: %(n)d phiếu.", id=batch.id, n=batch.sheet_count),
                      "success")
                return redirect(url_for("staff.batch_detail", batch_id=batch.id))
        status = 400
    batches = db.session.scalars(
        sa.select(Batch).where(Batch.unit_id.in_([u.id for u in visible]))
        .order_by(Batch.id.desc())).all()
    tallies = {b.id: Counter(paper.status_of(s) for s in b.sheets) for b in batches}
    return render_template("staff/batches.html", batches=batches, form=form,
                           can_create=me.is_office, tallies=tallies,
                           fmt=paper.format_serial, search=search), status


@bp.route("/batches/<int(max=2147483647):batch_id>", methods=["GET", "POST"])
def batch_detail(batch_id: int) -> ResponseReturnValue:
    """Show a batch: its sheets and their state; record how many sheets came back."""
    batch = _batch_or_404(batch_id)
    form = ReturnedForm()
    status = 200
    if form.is_submitted():
        if form.validate() and 0 <= (form.returned.data or 0) <= batch.sheet_count:
            old = batch.returned_count
            batch.returned_count = form.returned.data or 0
            audit.record(_me(), "batch.returned", f"batch {batch.id}", old=old,
                         new=batch.returned_count)
            db.session.commit()
            flash(_("Đã ghi số phiếu thu về."), "success")
            return redirect(url_for("staff.batch_detail", batch_id=batch.id))
        form.returned.errors = [_("Từ 0 đến %(n)d phiếu.", n=batch.sheet_count)]
        status = 400
    else:
        form.returned.data = batch.returned_count
    from ..services.paper_forms import parts_of

    questionnaire = get_questionnaire(batch.questionnaire_id, batch.questionnaire_version)
    return render_template("staff/batch.html", batch=batch, form=form,
                           questionnaire=questionnaire, status_of=paper.status_of,
                           fmt=paper.format_serial, parts=parts_of(batch)), status


@bp.get("/batches/<int(max=2147483647):batch_id>/forms.pdf")
def batch_forms(batch_id: int) -> ResponseReturnValue:
    """Send the printable A4 sheets of a batch: tick boxes, serial and QR code on every page."""
    from ..services.paper_forms import parts_of, write_sheets_pdf

    batch = _batch_or_404(batch_id)
    parts = parts_of(batch)
    part = request.args.get("part", "1")
    # "²" and "٣" are digits to str.isdigit, not to int().
    if not (part.isascii() and part.isdigit() and len(part) < 6) or not (
            1 <= int(part) <= len(parts)):
        abort(404)
    handle, path = tempfile.mkstemp(suffix=".pdf")
    os.close(handle)
    write_sheets_pdf(batch, path, base_url=current_app.config["BASE_URL"], part=int(part))
    audit.record(_me(), "batch.print", f"batch {batch.id}", part=int(part))
    db.session.commit()
    first, last = parts[int(part) - 1][1:]
    response = send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=f"phieu-{paper.format_serial(first)}-"
                                       f"{paper.format_serial(last)}.pdf")
    response.call_on_close(lambda: os.unlink(path))
    return response


@bp.route("/entry", methods=["GET", "POST"])
def entry_start() -> ResponseReturnValue:
    """Ask for a serial (typed, or scanned from the sheet's QR code) and open that sheet."""
    form = SerialForm()
    if form.validate_on_submit():
        serial = paper.parse_serial(form.serial.data or "")
        if serial is not None and paper.get_sheet(serial) is not None:
            return redirect(url_for("staff.sheet_entry", serial=paper.format_serial(serial)))
        form.serial.errors = [_("Không có phiếu số này.")]
        return render_template("staff/entry_start.html", form=form), 400
    return render_template("staff/entry_start.html", form=form)


def _raw_answers(questionnaire: Questionnaire) -> dict[str, str]:
    return {q.id: request.form.get(f"q_{q.id}", "") for q in questionnaire.questions}


def _next_sheet(sheet: Sheet) -> Sheet | None:
    """Return the batch's next sheet this account can still type, if any."""
    me = _me()
    for other in sheet.batch.sheets:
        if other.serial <= sheet.serial:
            continue
        try:
            paper.next_pass(other, me)
        except paper.PaperError:
            continue
        return other
    return None


def _entry_page(sheet: Sheet, questionnaire: Questionnaire, form: EmptyForm,
                values: dict[str, Any], pass_no: int | None, mode: str,
                errors: dict[str, str] | None = None, status: int | None = None) -> Response:
    """Return the typing page of a sheet (``mode`` "entry" or "edit"), with what was typed."""
    return current_app.make_response((render_template(
        "staff/sheet_entry.html", sheet=sheet, questionnaire=questionnaire, form=form,
        errors=errors or {}, values=values, pass_no=pass_no, fmt=paper.format_serial,
        mode=mode), status or (400 if errors else 200)))


def _busy(sheet: Sheet, questionnaire: Questionnaire, form: EmptyForm,
          values: dict[str, Any], pass_no: int | None, mode: str) -> ResponseReturnValue:
    """Show the typed sheet again, nothing stored, when the database stayed busy (503)."""
    flash(_("Hệ thống đang bận nên phiếu chưa được lưu. Các ô đã nhập vẫn còn, xin đợi một "
            "lát rồi bấm “Lưu phiếu” lại."), "error")
    response = _entry_page(sheet, questionnaire, form, values, pass_no, mode, status=503)
    response.headers["Retry-After"] = "5"
    return response


@bp.route("/sheets/<serial>", methods=["GET", "POST"])
def sheet_entry(serial: str) -> ResponseReturnValue:
    """Type one sheet in, from the keyboard; the serial can be stored only once."""
    sheet, questionnaire = _sheet_or_404(serial)
    me = _me()
    try:
        pass_no = paper.next_pass(sheet, me)
    except paper.PaperError as exc:
        return render_template("staff/sheet_done.html", sheet=sheet, message=str(exc),
                               status=paper.status_of(sheet), fmt=paper.format_serial,
                               next_sheet=_next_sheet(sheet)), (
            409 if request.method == "POST" else 200)
    form = EmptyForm()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if form.is_submitted():
        if not form.validate():
            abort(400)
        values = _raw_answers(questionnaire)
        try:
            # Tried again from the start when the database is only busy (see transactions.py).
            result = committed(lambda: paper.enter_sheet(
                sheet, values, me,
                count_before_verified=current_app.config["PAPER_COUNT_BEFORE_VERIFIED"]))
        except DatabaseBusy:
            return _busy(sheet, questionnaire, form, values, pass_no, "entry")
        except paper.InvalidAnswers as exc:
            db.session.rollback()
            errors = exc.errors
        except paper.PaperError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("staff.sheet_entry", serial=serial))
        except (sa.exc.IntegrityError, ResponseConflict):
            db.session.rollback()
            flash(_("Phiếu số %(serial)s vừa được người khác nhập.",
                    serial=paper.format_serial(sheet.serial)), "error")
            return redirect(url_for("staff.sheet_entry", serial=serial))
        else:
            flash({"stored": _("Đã lưu phiếu số %(serial)s."),
                   "waiting": _("Đã nhập lần 1 phiếu số %(serial)s; cần người khác nhập lần 2."),
                   "mismatch": _("Phiếu số %(serial)s: hai lần nhập khác nhau, cần đối chiếu."),
                   }[result.outcome] % {"serial": paper.format_serial(sheet.serial)},
                  "success" if result.outcome != "mismatch" else "error")
            following = _next_sheet(sheet)
            if following is not None:
                return redirect(url_for("staff.sheet_entry",
                                        serial=paper.format_serial(following.serial)))
            return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
    return _entry_page(sheet, questionnaire, form, values, pass_no, "entry", errors)


@bp.route("/sheets/<serial>/reconcile", methods=["GET", "POST"])
def sheet_reconcile(serial: str) -> ResponseReturnValue:
    """List the fields two typings disagree on; store the values read again from the paper."""
    sheet, questionnaire = _sheet_or_404(serial)
    if paper.status_of(sheet) != "mismatch":
        flash(_("Phiếu này không cần đối chiếu."), "info")
        return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
    diffs = paper.differences(sheet)
    form = EmptyForm()
    errors: dict[str, str] = {}
    if form.is_submitted():
        if not form.validate():
            abort(400)
        try:
            response = paper.reconcile(sheet, {d.question_id: request.form.get(
                f"q_{d.question_id}", "") for d in diffs}, _me())
        except paper.InvalidAnswers as exc:
            db.session.rollback()
            errors = exc.errors
        except (paper.PaperError, ResponseConflict, sa.exc.IntegrityError) as exc:
            # Someone settled the sheet meanwhile: show them what is stored now.
            db.session.rollback()
            flash(str(exc) if isinstance(exc, paper.PaperError) else _(
                "Phiếu số %(serial)s vừa được người khác đối chiếu.",
                serial=paper.format_serial(sheet.serial)), "error")
            return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
        else:
            db.session.commit()
            flash(_("Đã lưu phiếu số %(serial)s sau đối chiếu (mã phiếu %(receipt)s).",
                    serial=paper.format_serial(sheet.serial), receipt=response.receipt),
                  "success")
            return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
    questions = {q.id: q for q in questionnaire.questions}
    return render_template("staff/sheet_reconcile.html", sheet=sheet, diffs=diffs,
                           questions=questions, form=form, errors=errors,
                           fmt=paper.format_serial), 400 if errors else 200


@bp.route("/sheets/<serial>/edit", methods=["GET", "POST"])
def sheet_edit(serial: str) -> ResponseReturnValue:
    """Correct a stored sheet; the audit log keeps who, when, the old and the new values."""
    sheet, questionnaire = _sheet_or_404(serial)
    response = sheet.response
    if response is None:
        return redirect(url_for("staff.sheet_entry", serial=serial))
    if sheet.batch.double_entry and sheet.verified_at is None:
        # Blind double entry: nobody sees (or changes) the first typing before the second.
        flash(_("Phiếu số %(serial)s đang chờ nhập lần 2 hoặc đối chiếu, chưa sửa được.",
                serial=paper.format_serial(sheet.serial)), "error")
        return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
    form = EmptyForm()
    errors: dict[str, str] = {}
    values: dict[str, Any] = dict(answers_of(response))
    if form.is_submitted():
        if not form.validate():
            abort(400)
        values = _raw_answers(questionnaire)
        me = _me()
        try:
            changes = committed(lambda: paper.edit_response(response, values, me))
        except DatabaseBusy:
            return _busy(sheet, questionnaire, form, values, None, "edit")
        except paper.InvalidAnswers as exc:
            db.session.rollback()
            errors = exc.errors
            values = dict(values)
        else:
            flash(_("Đã sửa %(n)d ô của phiếu số %(serial)s.", n=len(changes),
                    serial=paper.format_serial(sheet.serial)) if changes else
                  _("Không có gì thay đổi."), "success")
            return redirect(url_for("staff.batch_detail", batch_id=sheet.batch_id))
    return _entry_page(sheet, questionnaire, form, values, None, "edit", errors)


@bp.get("/progress")
def progress() -> ResponseReturnValue:
    """Show sheets issued, returned, entered and verified per group and for the ward."""
    me = _me()
    questionnaire_id = request.args.get("questionnaire") or None
    if questionnaire_id is not None and get_questionnaire(questionnaire_id) is None:
        abort(404)
    visible = [u for u in units.visible_units(me) if u.kind != "ward"]
    rows, total = paper.progress(visible, ward_target=int(current_app.config["SAMPLE_TARGET"]),
                                 questionnaire_id=questionnaire_id)
    # What the dashboard calls "Phiếu giấy": paper responses counted in the results.
    counted = paper.paper_counted([r.unit.id for r in rows if r.unit], questionnaire_id)
    return render_template("staff/progress.html", rows=rows, total=total, counted=counted,
                           questionnaires=latest_questionnaires(),
                           chosen=questionnaire_id, show_total=me.role != "leader")


@bp.get("/template.xlsx")
def entry_template() -> ResponseReturnValue:
    """Send an XLSX template (contract §5 layout, drop-down lists of codes) for import."""
    from ..services.paper_forms import write_template

    questionnaire = get_questionnaire(request.args.get("questionnaire", "") or "sipas-dichvu")
    if questionnaire is None:
        abort(404)
    visible = [u for u in units.visible_units(_me()) if u.kind != "ward"]
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    write_template(questionnaire, visible, path)
    response: Response = send_file(
        path, as_attachment=True, download_name=f"mau-nhap-{questionnaire.id}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(lambda: os.unlink(path))
    return response
