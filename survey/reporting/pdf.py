"""The printable PDF report: HTML from ``templates/reports/``, printed by WeasyPrint.

It comes from one ``Report`` (report.py), like the XLSX workbook. The template is rendered
with plain Jinja2 (the report is a Vietnamese document, the same whoever asks for it).
"""

from __future__ import annotations

import base64
import functools
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from analysis.charts import figure_to_png, group_bar_chart, trend_chart
from analysis.formatting import interval, number, percent
from analysis.vietnam import VIETNAM

from .admin_report import AdminReport, format_date_line, format_number_line, issuer_lines
from .report import Report, low_ratings
from .wording import (
    VERDICT_TEXT,
    cases_method,
    group_word,
    method_note,
    organisation_name,
    period_text,
    question_name,
    running_name,
    scope_text,
    unit_label,
    value_text,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def _png_data_uri(figure: Any) -> str:
    return "data:image/png;base64," + base64.b64encode(figure_to_png(figure, dpi=150)).decode()


def chart_points(report: Report) -> list[tuple[str, float | None, int]]:
    """Return the monthly trend as (month, index or None when hidden, n)."""
    return [(str(c["key"]), None if c["suppressed"] else c["index"], c["n"])
            for c in report.by_month]


def chart_intervals(report: Report) -> list[list[float] | None]:
    """Return the monthly trend's intervals (None where the month is hidden)."""
    return [None if c["suppressed"] else c["ci95"] for c in report.by_month]


def render_report_html(report: Report, *, appendix_of: str = "") -> str:
    """Return the HTML of the printable report (also the source of the PDF).

    ``appendix_of`` names the administrative report it is attached to ("số …/BC-UBND ngày
    …"): the report is then headed as its appendix.
    """
    groups_chart = _png_data_uri(group_bar_chart(
        report.summary, target=report.target,
        title=f"Kết quả theo {group_word(report).lower()}"))
    trend = _png_data_uri(trend_chart(chart_points(report), target=report.target,
                                      title="Chỉ số theo tháng",
                                      index=report.questionnaire.index,
                                      intervals=chart_intervals(report)))
    lows, low_total = low_ratings(report.session, report.filters, limit=20)
    for entry in report.profile_questions:
        report.add_profile(entry["id"])
    texts = {entry["id"]: entry["text"] for entry in report.scheme.codebook}
    return _environment().get_template("report.html").render(
        report=report, appendix_of=appendix_of, organisation=organisation_name(report),
        period=period_text(report), scope=scope_text(report), method=method_note(report),
        groups_chart=groups_chart, trend_chart=trend, value=lambda v: value_text(report, v),
        unit_label=lambda uid: unit_label(report, uid), texts=texts, lows=lows,
        low_total=low_total, generated=datetime.now(VIETNAM).strftime("%d/%m/%Y %H:%M"),
        interval=interval, percent=percent, group_word=group_word(report),
        verdict_text=VERDICT_TEXT, number=number, question_name=question_name,
        cases_method=cases_method(report.settings.case_due_days))


def render_admin_html(admin: AdminReport) -> str:
    """Return the HTML of the administrative report (Nghị định 30/2020, Phụ lục I)."""
    recipients = [r if r.lstrip().startswith("-") else f"- {r}" for r in admin.recipients]
    return _environment().get_template("admin.html").render(
        a=admin, issuer_lines=issuer_lines(admin.issuer),
        number_line=format_number_line(admin.number, admin.symbol),
        date_line=format_date_line(admin.place, admin.issued_on), recipients=recipients)


def write_pdf(report: Report, path: Path | str, *, front: AdminReport | None = None) -> None:
    """Write the A4 PDF report; with ``front``, the administrative report comes first.

    The statistical report then follows as its appendix, with its own page layout.
    """
    if front is None:
        html_to_pdf(render_report_html(report), path)
        return
    from weasyprint import HTML

    first = HTML(string=render_admin_html(front)).render()
    number = format_number_line(front.number, front.symbol).removeprefix("Số: ")
    date_line = format_date_line(front.place, front.issued_on).split(", ", 1)[-1]
    appendix = HTML(string=render_report_html(
        report, appendix_of=f"số {number} {date_line} của {running_name(front.issuer)}"
    )).render()
    first.copy([*first.pages, *appendix.pages]).write_pdf(str(path))


def html_to_pdf(html: str, path: Path | str) -> None:
    """Write an HTML page (self-contained: images inline) as PDF with WeasyPrint."""
    from weasyprint import HTML

    HTML(string=html).write_pdf(str(path))
