"""Staff page of the service indicators (chỉ tiêu phục vụ hành chính công).

Admins and staff only (a group leader gets 403): a month's dossier counts per counter of the
service center and for the ward, typed in (all or nothing: one bad cell saves nothing), an
XLSX import with its template, and the ratios of the month and of the last 12 months against
the plan's targets, each marked "đạt" or "chưa đạt" in words. services/indicators.py holds the
rules; this module only reads the request and shows the result.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField

from analysis.formatting import MISSING, percent
from analysis.indicators import floor_tenth

from ..extensions import db
from ..models import INDICATOR_FIGURES, Unit
from ..services import indicators, units
from ..services.indicators import Entry, Figures, Month
from .views import _me, bp, roles

MONTHS_SHOWN = 12
"""The ratios table covers the month picked and the eleven before it."""
MONTHS_OFFERED = 36
"""The month picker offers this many months back from the current one."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



class UploadForm(FlaskForm):
    """Upload monthly figures as an XLSX file."""

    file = FileField(_l("Tệp XLSX"), validators=[FileRequired(_l("Chọn tệp XLSX cần nhập."))])


def _key(unit: Unit, name: str) -> str:
    return f"u{unit.id}_{name}"


def _entry_form(shown: list[Unit]) -> FlaskForm:
    """Return a form with one text box per unit and count (checked by the service)."""

    class EntryForm(FlaskForm):
        pass

    for unit in shown:
        for name in INDICATOR_FIGURES:
            setattr(EntryForm, _key(unit, name), StringField(indicators.FIGURE_LABELS[name]))
    return EntryForm()


def _month() -> tuple[Month, str | None]:
    """Return the month asked for (``?thang=2026-03``), else the last one ended.

    A month that cannot be read or has no figures yet shows the default with a message.
    """
    latest = Month.current()
    default = latest.shift(-1)
    text = request.args.get("thang", "").strip()[:20]
    if not text:
        return default, None
    try:
        month = Month.parse(text)
    except ValueError:
        return default, _("Không đọc được tháng “%(value)s”; đang xem tháng %(month)s.",
                          value=text, month=str(default))
    why = indicators.month_problem(month, latest)
    if why:
        return default, _("Không xem được: %(reason)s; đang xem tháng %(month)s.",
                          reason=why, month=str(default))
    return month, None


def _reporting_units() -> list[Unit]:
    """Return the ward and its counters (admins and staff see every unit)."""
    return indicators.unit_choices(units.visible_units(_me()))


def _pct(value: float | None) -> str:
    """Return a ratio as "94,9 %", rounded down (analysis.indicators.floor_tenth)."""
    shown = floor_tenth(value)
    return MISSING if shown is None else percent(shown)


def _target_text(target: float) -> str:
    """Return a target as "≥ 95 %", kept on one line."""
    return "≥\u00a0" + percent(target, 0 if float(target).is_integer() else 1)


def _render(month: Month, form: FlaskForm, *, month_error: str | None = None,
            upload: UploadForm | None = None, import_errors: tuple[str, ...] = (),
            bad_cells: int = 0, status: int = 200) -> ResponseReturnValue:
    """Show the page: the month's figures (as ``form`` holds them) and the ratios."""
    reporting = _reporting_units()
    entries = indicators.month_entries(reporting, month)
    shown = [u for u in reporting if u.active or u.id in entries]
    first = month.shift(-(MONTHS_SHOWN - 1))
    per_unit = indicators.figures_for(reporting, first, month)
    by_month = indicators.overall(reporting, per_unit)
    latest = Month.current()
    months = [latest.shift(-i) for i in range(MONTHS_OFFERED)]
    if month not in months:
        months.append(month)
    return render_template(
        "staff/indicators.html", month=month, month_error=month_error,
        months_offered=months, previous=month.shift(-1),
        following=month.shift(1) if month < latest else None,
        shown=shown, entries=entries, form=form, key=_key,
        figure_names=INDICATOR_FIGURES, figure_labels=indicators.FIGURE_LABELS,
        upload=upload or UploadForm(), import_errors=import_errors, bad_cells=bad_cells,
        columns=indicators.COLUMNS,
        column_list=", ".join(f"“{title}”" for title in indicators.COLUMNS.values()),
        ratio_names=indicators.RATIOS, ratio_labels=indicators.RATIO_LABELS,
        ratio_bases=indicators.RATIO_BASES, targets=indicators.targets(current_app.config),
        month_ratios=indicators.ratios(by_month.get(month, indicators.NOTHING)),
        period_ratios=indicators.ratios(indicators.total(by_month.values())),
        first=first, months=[month.shift(-i) for i in range(MONTHS_SHOWN)],
        by_month={m: indicators.ratios(f) for m, f in by_month.items()},
        met=indicators.met, pct=_pct, target_text=_target_text), status


def _fill(form: FlaskForm, shown: list[Unit], entries: dict[int, Entry]) -> None:
    for unit in shown:
        entry = entries.get(unit.id)
        if entry is not None:
            for name, value in entry.figures.as_dict().items():
                form[_key(unit, name)].data = str(value)


def _add_error(field: Any, message: str) -> None:
    field.errors = [*field.errors, message]


def _save(form: FlaskForm, shown: list[Unit], entries: dict[int, Entry],
          month: Month) -> tuple[int, int]:
    """Save every unit whose figures changed; return how many, and how many boxes are wrong.

    All or nothing: every box is checked first, and one bad box saves nothing. A unit left
    empty is skipped, unless it has a stored total, which cannot be emptied here.
    """
    pending: list[tuple[Unit, Figures]] = []
    bad = 0
    for unit in shown:
        boxes = {name: form[_key(unit, name)] for name in INDICATOR_FIGURES}
        typed = {name: (box.data or "").strip() for name, box in boxes.items()}
        entry = entries.get(unit.id)
        if not any(typed.values()):
            if entry is not None and entry.whole:
                _add_error(boxes["received"], _("Số liệu đã lưu không xóa được ở đây; ghi lại "
                                                "các số (0 nếu không có hồ sơ)."))
                bad += 1
            continue
        counts: dict[str, int] = {}
        for name, box in boxes.items():
            try:
                counts[name] = indicators.count_value(typed[name])
            except indicators.CellError as exc:
                _add_error(box, str(exc))
                bad += 1
        problems = indicators.check(counts)  # between the boxes that hold a count
        for name, reason in problems:
            _add_error(boxes[name], reason)
            bad += 1
        if problems or len(counts) < len(INDICATOR_FIGURES):
            continue
        figures = Figures(**counts)
        if entry is None or entry.figures != figures:  # as shown: nothing to save
            pending.append((unit, figures))
    if bad:
        return 0, bad  # the errors are on the form's boxes
    for unit, figures in pending:  # a sum of fields left as shown stays a sum
        indicators.save_month(unit, month.year, month.month, indicators.ALL_FIELDS,
                              figures.as_dict(), _me())
    return len(pending), 0


@bp.route("/indicators", methods=["GET", "POST"])
@roles("admin", "staff", "city")
def indicators_page() -> ResponseReturnValue:
    """Show a month's figures and the ratios against the targets; save typed figures."""
    month, month_error = _month()
    reporting = _reporting_units()
    entries = indicators.month_entries(reporting, month)
    shown = [u for u in reporting if u.active or u.id in entries]
    form = _entry_form(shown)
    if request.method == "GET":
        _fill(form, shown, entries)
        return _render(month, form, month_error=month_error)
    bad = 0
    if month_error is None and form.validate():
        try:
            saved, bad = _save(form, shown, entries, month)
            if not bad:
                db.session.commit()
        except indicators.IndicatorError as exc:
            db.session.rollback()
            month_error = "; ".join(why for _what, why in exc.problems)
        except sa.exc.IntegrityError:
            # Someone else stored the same unit and month in the meantime.
            db.session.rollback()
            month_error = _("Số liệu vừa được người khác lưu; xin tải lại trang và nhập lại.")
        else:
            if not bad:
                if saved:
                    flash(_("Đã lưu số liệu tháng %(month)s của %(n)d đơn vị.",
                            month=str(month), n=saved), "success")
                else:
                    flash(_("Không có số liệu nào thay đổi."), "success")
                return redirect(url_for("staff.indicators_page", thang=month.iso))
    return _render(month, form, month_error=month_error, bad_cells=bad, status=400)


@bp.post("/indicators/import")
@roles("admin", "staff")
def indicators_import() -> ResponseReturnValue:
    """Import figures from an XLSX file: all or nothing, every error by row and column."""
    month, _month_error = _month()
    upload = UploadForm()
    reporting = _reporting_units()
    entries = indicators.month_entries(reporting, month)
    shown = [u for u in reporting if u.active or u.id in entries]
    form = _entry_form(shown)
    _fill(form, shown, entries)
    if not upload.validate():
        return _render(month, form, upload=upload, status=400)
    file = upload.file.data
    result = indicators.import_xlsx(file.stream, _me(), filename=(file.filename or "")[:200])
    if not result.ok:
        db.session.rollback()
        return _render(month, form, upload=upload, import_errors=result.errors, status=400)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return _render(month, form, upload=upload, status=400, import_errors=(
            _("Số liệu vừa được người khác lưu; xin nhập lại tệp."),))
    flash(_("Đã nhập %(rows)d dòng số liệu: %(added)d dòng mới, %(updated)d dòng thay số liệu "
            "cũ, %(unchanged)d dòng không đổi.", rows=result.rows, added=result.added,
            updated=result.updated, unchanged=result.unchanged), "success")
    return redirect(url_for("staff.indicators_page", thang=result.months[-1].iso))


@bp.get("/indicators/template.xlsx")
@roles("admin", "staff", "city")
def indicators_template() -> ResponseReturnValue:
    """Send the XLSX template: the header row, an example row and a guide sheet."""
    reporting = [u for u in _reporting_units() if u.active]
    codes = [u.code for u in reporting if u.kind == "counter"] + [u.code for u in reporting]
    response = Response(indicators.template_xlsx(codes), mimetype=XLSX)
    response.headers["Content-Disposition"] = 'attachment; filename="mau-chi-tieu-phuc-vu.xlsx"'
    return response
