"""The staff dashboard: scores with filters, charts, suggestions, low ratings and exports.

The dashboard also shows how the cases its responses opened were handled (report.cases):
the same figures as the summary JSON's ``"cases"`` block, the workbook and the PDF.

Every route belongs to the staff blueprint (login required); a leader's filters are limited to
their units by ``reporting.filters.parse_filters``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import threading
import time
from datetime import date, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from analysis.charts import figure_to_png, group_bar_chart, trend_chart
from analysis.formatting import interval, number, percent
from analysis.vietnam import VIETNAM

from ..errors import fail
from ..extensions import db
from ..i18n import translated
from ..models import CHANNELS
from ..reporting import exports, keyset, pdf, summaries, xlsx
from ..reporting import filters as report_filters
from ..reporting import report as report_data
from ..reporting.filters import Filters
from ..reporting.settings import Settings
from ..services import audit, indicators, integrity, units, wards
from ..services.questionnaires import get_questionnaire, latest_questionnaires
from ..services.rollups import scheme_of
from ..services.transactions import committed
from .views import _me, bp

PAGE_SIZE = 50
PROFILE_AT_ONCE = 50_000
"""Up to this many responses (a ward's year or two), the dashboard shows its breakdown by a
profile question at once; beyond (a city's), on request: even from the rollups by profile
answer a city's year is some ten million rows to add up."""
PROFILE_ANSWERS_AT_ONCE = 5_000
"""... and only when the days at the ends of the period (read answer by answer: whole months
come from the rollups) hold at most this many responses."""


def _default_questionnaire() -> str:
    offered = [q.id for q in latest_questionnaires()]
    return "sipas-dichvu" if "sipas-dichvu" in offered else (offered[0] if offered else "")


def _filters() -> Filters:
    """Return the filters of the query string, or abort with a clear message."""
    args = request.args
    try:
        return report_filters.parse_filters(
            args.get("questionnaire") or _default_questionnaire(), args.get("from"),
            args.get("to"), args.getlist("unit"), args.getlist("channel"), user=_me())
    except report_filters.FilterError as exc:
        fail(exc.status, translated(exc))


def _aggregation() -> str:
    return "pooled" if request.args.get("agg") == "pooled" else "mean_of_items"


def _settings(filters: Filters) -> Settings:
    """Return the reporting settings: the ward's own when the filters are of one ward."""
    return wards.settings_for(filters)


def _report(filters: Filters, only: tuple[str, ...] | None = None) -> report_data.Report:
    report = report_data.build_report(db.session, filters, _settings(filters),
                                      aggregation=_aggregation(), only=only)
    if report is None:
        abort(404)
    return report


def _presets() -> list[tuple[str, str, str]]:
    """Return quick periods as (label, from, to) in Vietnam days."""
    from datetime import datetime

    today = datetime.now(VIETNAM).date()
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        (_("30 ngày qua"), (today - timedelta(days=29)).isoformat(), today.isoformat()),
        (_("Tháng này"), month_start.isoformat(), today.isoformat()),
        (_("Tháng trước"), last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()),
        (_("Quý này"), quarter_start.isoformat(), today.isoformat()),
        (_("Năm nay"), date(today.year, 1, 1).isoformat(), today.isoformat()),
        (_("Toàn bộ"), "", ""),
    ]


def _query(**changes: Any) -> dict[str, Any]:
    """Return the current query string as a dict (lists kept), with changes."""
    args: dict[str, Any] = {k: request.args.getlist(k) for k in request.args}
    for key, value in changes.items():
        if value in (None, "", []):
            args.pop(key, None)
        else:
            args[key] = value
    return args


def _context(filters: Filters) -> dict[str, Any]:
    me = _me()
    return {
        "filters": filters,
        "questionnaires": latest_questionnaires(),
        "all_units": units.visible_units(me),
        "channels": CHANNELS,
        "presets": _presets(),
        "query": _query,
        "aggregation": _aggregation(),
        "percent": percent,
        "number": number,
        "interval": interval,
    }


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show the dashboard: the index, groups, trend, units and items, with filters."""
    filters = _filters()
    report = _report(filters)
    profile_ids = [e["id"] for e in report.profile_questions]
    chosen = request.args.get("by") or ("linh_vuc" if "linh_vuc" in profile_ids else
                                        (profile_ids[0] if profile_ids else ""))
    # The breakdown by a profile question reads whole months from rollups, the days at the
    # ends of the period from the answers: computed at once for a ward's data, on request
    # (the "Xem" button) for a city's or when those days hold many responses.
    to_read = summaries.answers_to_read(db.session, filters) if chosen in profile_ids else 0
    at_once = (report.summary["n_responses"] <= PROFILE_AT_ONCE
               and to_read <= PROFILE_ANSWERS_AT_ONCE)
    if chosen in profile_ids and (request.args.get("by") or at_once):
        report.add_profile(chosen)
    _keep_chart_data(report)
    return render_template("staff/dashboard.html", report=report, profile=chosen,
                           # Why the table waits for "Xem": the days read answer by answer,
                           # or else (None) the size of the data.
                           profile_to_read=(to_read if to_read > PROFILE_ANSWERS_AT_ONCE
                                            else None),
                           case_days=current_app.config["CASE_DUE_DAYS"],
                           case_pages="staff.case_list_page" in current_app.view_functions,
                           ratio_labels=indicators.RATIO_LABELS,
                           indicator_page=_me().role in ("admin", "staff", "city"),
                           **_context(filters))


CHART_SECONDS = 120
"""How long the numbers of a dashboard page are kept for its two charts."""
_chart_data: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
_chart_lock = threading.Lock()


def _chart_key() -> tuple[Any, ...]:
    """Return what a page's charts are computed from: the account, its filters, the language.

    The profile question (``by``) changes the page's table, not its charts.
    """
    args = tuple(sorted((k, tuple(request.args.getlist(k))) for k in request.args if k != "by"))
    return (_me().id, args, str(get_locale()))


def _chart_data_of(report: report_data.Report) -> dict[str, Any]:
    """Return what the two charts draw of a report."""
    return {"summary": report.summary, "target": report.target, "adapted": report.adapted,
            "index": report.questionnaire.index, "points": pdf.chart_points(report),
            "intervals": pdf.chart_intervals(report)}


def _keep_chart_data(report: report_data.Report) -> None:
    """Keep what the page's charts draw, so that their two requests read nothing again."""
    data = _chart_data_of(report)
    now = time.monotonic()
    with _chart_lock:
        for key in [k for k, (at, _) in _chart_data.items() if now - at > CHART_SECONDS]:
            del _chart_data[key]
        if len(_chart_data) >= 500:  # many accounts at once: forget the oldest
            del _chart_data[min(_chart_data, key=lambda k: _chart_data[k][0])]
        _chart_data[_chart_key()] = (now, data)


def _chart_numbers(filters: Filters) -> dict[str, Any]:
    """Return the numbers of the charts of these filters: the page's, else read again.

    ``filters`` are checked first, every time: an account's units may have changed since.
    """
    with _chart_lock:
        kept = _chart_data.get(_chart_key())
    if kept is not None and time.monotonic() - kept[0] <= CHART_SECONDS:
        return kept[1]
    return _chart_data_of(_report(filters, only=()))  # only the whole and the months


@bp.get("/charts/<kind>.png")
def chart(kind: str) -> ResponseReturnValue:
    """Send a chart of the current filters as PNG (its data is in the table beside it).

    Drawn from the numbers the page itself computed a moment before (kept CHART_SECONDS by
    account and filters in this process); else only what the chart shows is read (the whole
    and the months), not the page's tables.
    """
    if kind not in ("groups", "trend"):
        abort(404)
    data = _chart_numbers(_filters())
    if kind == "groups":
        figure = group_bar_chart(data["summary"], target=data["target"],
                                 title=_("Kết quả theo yếu tố") if not data["adapted"]
                                 else _("Kết quả theo chỉ số nội dung"))
    else:
        figure = trend_chart(data["points"], target=data["target"],
                             title=_("Chỉ số theo tháng"), index=data["index"],
                             intervals=data["intervals"])
    return Response(figure_to_png(figure), mimetype="image/png")


def _filename(filters: Filters, suffix: str) -> str:
    parts = [filters.questionnaire_id]
    if filters.date_from or filters.date_to:
        parts.append(f"{filters.date_from or ''}_{filters.date_to or ''}")
    return "-".join(parts) + "." + suffix


def _attachment(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/export.<fmt>")
def export(fmt: str) -> ResponseReturnValue:
    """Download the summary (json), raw data (csv), workbook (xlsx) or report (pdf)."""
    if fmt not in ("json", "csv", "xlsx", "pdf"):
        abort(404)
    filters = _filters()
    if fmt in ("csv", "xlsx"):
        committed(integrity.scan)  # the raw rows carry every response's flags (contract §8)
    audit.record(_me(), f"export.{fmt}", filters.questionnaire_id, **filters.echo())
    db.session.commit()
    if fmt == "json":
        # contract §6.1 exactly, whatever the page shows
        summary = summaries.summary(db.session, filters, _settings(filters))
        body = json.dumps(summary, ensure_ascii=False, indent=2)
        return _attachment(Response(body, mimetype="application/json"),
                           _filename(filters, "json"))
    if fmt == "csv":
        scheme = scheme_of(_report(filters).questionnaire)
        stream = stream_with_context(exports.csv_chunks(db.session, filters, scheme))
        return _attachment(Response(stream, content_type="text/csv; charset=utf-8"),
                           _filename(filters, "csv"))
    report = _report(filters)
    handle, path = tempfile.mkstemp(suffix="." + fmt)
    os.close(handle)
    labelled = fmt == "xlsx" and request.args.get("labels") == "1"
    if fmt == "xlsx":
        xlsx.write_xlsx(report, path, labels=labelled)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        pdf.write_pdf(report, path)
        mimetype = "application/pdf"
    response = send_file(path, mimetype=mimetype, as_attachment=True,
                         download_name=_filename(filters, "nhan.xlsx" if labelled else fmt))
    response.call_on_close(lambda: os.unlink(path))
    return response


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _keyset_page(rows: list[Any], total: int) -> dict[str, Any]:
    """Return a keyset page's template values from PAGE_SIZE + 1 rows read after ``after``.

    ``page`` is only the number shown ("Trang 3"), carried along by the links; the rows
    start after the ``key`` of the last row of the page before (no OFFSET).
    """
    page = _page() if report_data.parse_keyset(request.args.get("after", "")) else 1
    more = len(rows) > PAGE_SIZE
    return {"rows": rows[:PAGE_SIZE], "page": page,
            "pages": keyset.pages_shown(page, more, total, PAGE_SIZE),
            "next_after": rows[PAGE_SIZE - 1].key if more else ""}


@bp.get("/suggestions")
def suggestion_list() -> ResponseReturnValue:
    """List citizens' free-text suggestions, newest first, filterable and searchable."""
    filters = _filters()
    search = request.args.get("q", "")[:100]
    only_low = request.args.get("low") == "1"
    cap = report_data.COUNT_CAP
    rows, total = report_data.suggestions(db.session, filters, search=search,
                                          only_low=only_low, limit=PAGE_SIZE + 1,
                                          after=request.args.get("after", ""), cap=cap)
    return render_template("staff/suggestions.html", total=min(total, cap), more=total > cap,
                           search=search, only_low=only_low,
                           **_keyset_page(rows, min(total, cap)), **_context(filters))


@bp.get("/suggestions.csv")
def suggestion_export() -> ResponseReturnValue:
    """Download the filtered suggestions as CSV (UTF-8 with BOM, formulas neutralised)."""
    filters = _filters()
    search = request.args.get("q", "")[:100]
    only_low = request.args.get("low") == "1"
    audit.record(_me(), "export.suggestions", filters.questionnaire_id, **filters.echo())
    filters.unit_ids()  # read now: the units are gone from the session while the file streams
    db.session.commit()

    def generate() -> Any:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow(["submitted_at", "unit", "receipt", "question_id", "text", "low"])
        for n, s in enumerate(report_data.iter_suggestions(
                db.session, filters, search=search, only_low=only_low), start=1):
            writer.writerow([s.submitted_at.isoformat(), s.unit, s.receipt, s.question_id,
                             exports.neutralise(s.text), "1" if s.low else ""])
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return _attachment(Response(stream_with_context(generate()),
                                content_type="text/csv; charset=utf-8"),
                       _filename(filters, "gop-y.csv"))


@bp.get("/follow-up")
def follow_up() -> ResponseReturnValue:
    """List responses with any item answered 1 or 2, for staff to look into."""
    filters = _filters()
    receipt = request.args.get("q", "")[:40]
    cap = report_data.COUNT_CAP
    rows, total = report_data.low_ratings(db.session, filters, receipt=receipt,
                                          limit=PAGE_SIZE + 1,
                                          after=request.args.get("after", ""), cap=cap)
    # Only the questionnaire's texts: not a whole report (summary and breakdowns).
    questionnaire = get_questionnaire(filters.questionnaire_id)
    if questionnaire is None:
        abort(404)
    texts = {entry["id"]: entry["text"] for entry in scheme_of(questionnaire).codebook}
    return render_template("staff/follow_up.html", total=min(total, cap), more=total > cap,
                           texts=texts, questionnaire=questionnaire, search=receipt,
                           **_keyset_page(rows, min(total, cap)), **_context(filters))


@bp.route("/import", methods=["GET", "POST"])
def import_responses() -> ResponseReturnValue:
    """Import responses from a CSV or XLSX file: all or nothing, every error listed.

    A group leader imports only rows of their own units.
    """
    from wtforms import SelectChoice

    from ..services import imports
    from ..services.questionnaires import get_questionnaire
    from .forms import ImportForm

    form = ImportForm()
    form.questionnaire.choices = [SelectChoice(q.id, f"{q.title.get(str(get_locale()))} "
                                               f"({q.id})") for q in latest_questionnaires()]
    form.unit.choices = [SelectChoice("", _("(theo cột unit trong tệp)"))] + [
        SelectChoice(u.code, f"{u.code} – {u.name}") for u in units.visible_units(_me())
        if u.kind != "ward"]
    errors: list[str] = []
    if form.validate_on_submit():
        questionnaire = get_questionnaire(form.questionnaire.data or "")
        unit = units.get_unit(form.unit.data) if form.unit.data else None
        upload = form.file.data
        assert questionnaire is not None  # noqa: S101  (validated choice)
        me = _me()
        scope = me.scope_ids()
        own = None if scope is None else set(scope)
        receipts: list[str] = []
        try:
            imported, skipped = imports.import_file(
                upload.filename or "", questionnaire, default_unit=unit,
                default_channel=form.channel.data or "import", content=upload.read(),
                allowed_units=own, actor=me, receipts=receipts,
                leader=(imports.leader_limits(questionnaire.id, own)
                        if own is not None and me.role == "leader" else None))
        except imports.ImportFailed as exc:
            db.session.rollback()
            errors = exc.texts()
        else:
            # The receipts of the rows stored, so that an import can be traced and undone.
            audit.record(me, "import", questionnaire.id, file=upload.filename,
                         imported=imported, skipped=skipped, receipts=receipts)
            db.session.commit()
            flash(_("Đã nhập %(n)d phiếu; %(s)d phiếu đã có nên bỏ qua.", n=imported,
                    s=skipped), "success")
            return redirect(url_for("staff.import_responses"))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/import.html", form=form, errors=errors), status
