"""The city's pages: the wards compared, and their workbook; a ward's own settings.

The comparison is for the city role and for accounts of every ward (contract §11); a ward's
settings are changed by the admins and staff of that ward, or of every ward.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from analysis.formatting import interval, number, percent
from analysis.vietnam import vietnam_date

from ..errors import fail
from ..extensions import db
from ..i18n import translated
from ..reporting import filters as report_filters
from ..reporting.xlsx import write_wards_xlsx
from ..services import audit, units, wards
from ..services.questionnaires import latest_questionnaires
from .dashboard import _default_questionnaire
from .forms import WardSettingsForm
from .views import _me, _unit_or_404, bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def _ward_helpers() -> dict[str, Any]:
    """``ward_count()``: the menu offers the comparison where there are wards to compare."""
    return {"ward_count": lambda: len(units.wards())}


def _comparison() -> wards.Comparison:
    me = _me()
    if not me.sees_all_units:
        abort(403)
    args = request.args
    try:
        date_from, date_to = report_filters.period_days(
            args.get("period"), args.get("from"), args.get("to"), vietnam_date(datetime.now(UTC)))
        filters = report_filters.parse_filters(
            args.get("questionnaire") or _default_questionnaire(), date_from, date_to, (),
            args.getlist("channel"), user=me)
    except report_filters.FilterError as exc:
        fail(exc.status, translated(exc))
    comparison = wards.ward_figures(filters)
    if comparison is None:
        abort(404)
    return comparison


@bp.get("/wards")
def ward_comparison() -> ResponseReturnValue:
    """Rank the wards by index with intervals, counts and verdicts; small wards counted only."""
    comparison = _comparison()
    return render_template("staff/wards.html", comparison=comparison,
                           questionnaires=latest_questionnaires(), args=request.args,
                           percent=percent, number=number, interval=interval)


@bp.get("/wards.xlsx")
def ward_workbook() -> ResponseReturnValue:
    """Send the comparison as XLSX: one row per ward, and one per ward and element."""
    comparison = _comparison()
    flt = comparison.filters
    audit.record(_me(), "export.wards", flt.questionnaire_id, **flt.echo())
    db.session.commit()
    period = " – ".join(d.strftime("%d/%m/%Y") for d in (flt.date_from, flt.date_to) if d)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    write_wards_xlsx(comparison, path, period=period)
    name = f"so-sanh-phuong-{flt.questionnaire_id}"
    if flt.date_from or flt.date_to:
        name += f"-{flt.date_from or ''}_{flt.date_to or ''}"
    response = send_file(path, mimetype=XLSX, as_attachment=True, download_name=name + ".xlsx")
    response.call_on_close(lambda: os.unlink(path))
    return response


@bp.route("/units/<code>/settings", methods=["GET", "POST"])
def ward_settings(code: str) -> ResponseReturnValue:
    """Show and change a ward's own settings (heading, signature, PAKN phone, target)."""
    ward = _unit_or_404(code)
    if ward.kind != "ward":  # a counter's or a group's settings are its ward's
        if ward.ward is None or not units.can_see(_me(), ward.ward):
            abort(404)
        return redirect(url_for("staff.ward_settings", code=ward.ward.code))
    can_edit = units.can_change(_me(), ward)
    form = WardSettingsForm()
    offered = latest_questionnaires()
    form.questionnaire.choices = [SelectChoice(q.id, f"{q.id}") for q in offered]
    own = wards.settings_of(ward)
    status = 200
    if form.is_submitted():
        if not can_edit:
            abort(403)
        if form.validate():
            values: dict[str, Any] = {key: getattr(form, key).data for key in wards.TEXT_KEYS}
            values["sample_target"] = form.sample_target.data
            targets = dict(own.get("targets", {}))
            chosen = form.questionnaire.data or ""
            targets[chosen] = form.target.data if form.target.data is not None else None
            values["targets"] = targets
            try:
                wards.update_settings(ward, values, actor=_me())
            except wards.WardSettingsError as exc:
                getattr(form, exc.field if exc.field in (*wards.TEXT_KEYS, "sample_target")
                        else "target").errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Đã lưu thiết lập của %(name)s.", name=ward.name), "success")
                return redirect(url_for("staff.ward_settings", code=ward.code))
        status = 400
    else:
        for key in wards.TEXT_KEYS:
            getattr(form, key).data = own.get(key, "")
        form.sample_target.data = ward.sample_target
        chosen = request.args.get("questionnaire") or _default_questionnaire()
        form.questionnaire.data = chosen
        form.target.data = own.get("targets", {}).get(chosen)
    return render_template("staff/ward_settings.html", ward=ward, form=form,
                           can_edit=can_edit, own=own), status
