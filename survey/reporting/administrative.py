"""The administrative report the ward files with the city (contract §10).

From the report of one period (``report.build_report``) and the summaries of the period before
and of the same period a year earlier, this composes the text of a báo cáo in the form of
Nghị định 30/2020/NĐ-CP, Phụ lục I (``admin_report.AdminReport``): heading, căn cứ, results,
comparisons (each change weighed against its uncertainty), the handling of phản ánh, kiến
nghị when there are cases, headed places for the officer's own text, Nơi nhận and signature.
``admin_report.write_docx`` writes it as DOCX; the statistical appendix is the PDF report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from analysis.formatting import interval, number, percent
from analysis.periods import Period

from ..models import Unit
from .admin_report import AdminReport, Block, Paragraph, Placeholder, Section, Signature, Table
from .db import Db
from .filters import Filters
from .report import Report, build_report
from .service import service_figures
from .settings import Settings
from .summaries import strata, summary
from .weighting import dossiers, response_rates
from .wording import (
    CHANNEL_NAMES,
    RATIO_NAMES,
    VERDICT_TEXT,
    group_word,
    organisation_name,
    running_name,
    unit_label,
    value_text,
)

Z95 = 1.959963984540054
TITLES = {
    "sipas": "Kết quả đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ "
             "quan hành chính nhà nước {period}",
    "papi": "Kết quả khảo sát hiệu quả quản trị và hành chính công cấp phường {period}",
}
OWN_TEXT = (
    ("Tồn tại, hạn chế", "Đơn vị điền: những tồn tại, hạn chế qua kết quả khảo sát và ý kiến "
                         "của người dân."),
    ("Nguyên nhân", "Đơn vị điền: nguyên nhân khách quan, chủ quan của các tồn tại, hạn chế."),
    ("Giải pháp trong thời gian tới", "Đơn vị điền: các giải pháp, nhiệm vụ cụ thể, đơn vị "
                                      "chủ trì và thời hạn."),
    ("Kiến nghị, đề xuất", "Đơn vị điền: kiến nghị, đề xuất với UBND thành phố, các sở, "
                           "ngành."),
)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


@dataclass(frozen=True)
class Change:
    """A value now and in an earlier period, and whether the change exceeds its uncertainty.

    ``significant`` is None when either value or its interval is missing: nothing to weigh.
    """

    now: float | None
    then: float | None
    now_ci: Sequence[float] | None = None
    then_ci: Sequence[float] | None = None

    @property
    def delta(self) -> float | None:
        return None if self.now is None or self.then is None else self.now - self.then

    @property
    def significant(self) -> bool | None:
        """Whether |change| > 1.96 × its standard error, the two periods being independent.

        Each period's standard error is read off its 95 % interval (half its width / 1.96),
        so the asymmetric Wilson intervals count with their mean half-width.
        """
        if self.delta is None or not self.now_ci or not self.then_ci:
            return None
        se_now = (self.now_ci[1] - self.now_ci[0]) / (2 * Z95)
        se_then = (self.then_ci[1] - self.then_ci[0]) / (2 * Z95)
        spread = math.hypot(se_now, se_then)
        return abs(self.delta) > Z95 * spread if spread > 0 else None


def _index(result: dict[str, Any] | None) -> tuple[float | None, list[float] | None]:
    if result is None or not result.get("n_responses"):
        return None, None
    return result["index"]["value"], result["index"]["ci95"]


def _groups(result: dict[str, Any] | None) -> dict[str, float | None]:
    if result is None or not result.get("n_responses"):
        return {}
    return {g["id"]: g["value"] for g in result["groups"]}


def _points(report: Report) -> str:
    """Return the unit of a change: percentage points (SIPAS) or points (PAPI-style)."""
    return "điểm %" if report.questionnaire.index == "sipas" else "điểm"


def _delta(delta: float | None) -> str:
    if delta is None:
        return "—"
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return f"{sign}{number(abs(delta), 1)}"


def _weighed(report: Report, change: Change, other: str) -> str:
    """Say a change of the index in words, with whether it exceeds its uncertainty."""
    if change.now is None:
        return f"Chưa có phiếu trong kỳ để so sánh với {other.replace(' (', ', ')}."
    if change.then is None:
        return f"Không có số liệu {other.replace(' (', ', ')} để so sánh."
    delta = change.delta or 0.0
    word = "tăng" if delta > 0 else ("giảm" if delta < 0 else "không đổi")
    said = (f"So với {other}: {value_text(report, change.then)}), chỉ số chung {word}"
            + (f" {number(abs(delta), 1)} {_points(report)}" if delta else ""))
    if change.significant is None:
        return said + "."
    if change.significant:
        return said + ": mức thay đổi lớn hơn sai số của số liệu (có ý nghĩa thống kê)."
    return said + ": mức thay đổi nằm trong sai số của số liệu, chưa đủ cơ sở kết luận chỉ số " \
                  "thực sự thay đổi."


def _results(report: Report, period: Period) -> Section:
    result = report.summary
    n = int(result["n_responses"])
    channels = ", ".join(f"{CHANNEL_NAMES.get(str(c['key']), c['key'])}: {c['n']}"
                         for c in report.by_channel if c["n"])
    count = Paragraph(f"{period.label}, phường thu được {n} phiếu hợp lệ"
                      + (f" ({channels})" if channels else "") + "."
                      + (f" Có {result['n_excluded']} phiếu bị loại khỏi số liệu sau khi kiểm "
                         "tra (phiếu trùng lặp, bất thường)." if result.get("n_excluded") else ""))
    value, ci = _index(result)
    if value is None:
        return Section("I. KẾT QUẢ KHẢO SÁT", [count, Paragraph(
            "Chưa đủ phiếu để tính chỉ số trong kỳ báo cáo.")])
    verdict = VERDICT_TEXT.get(report.status or "", "")
    target = (f" Mục tiêu của phường: {value_text(report, report.target)}; đánh giá: "
              f"{verdict.lower()}." if report.target is not None and verdict else "")
    overall = Paragraph(f"Chỉ số chung đạt {value_text(report, value)} (khoảng tin cậy 95 %: "
                        f"{interval(ci)}).{target}")
    weighted_blocks: list[Block] = []
    w = report.weighted
    if w is not None and w.value is not None:
        weighted_blocks.append(Paragraph(
            f"Tính theo trọng số số hồ sơ tiếp nhận của từng quầy, từng tháng (hậu phân tầng), "
            f"chỉ số chung là {value_text(report, w.value)} (khoảng tin cậy xấp xỉ "
            f"{interval(w.ci95)}); các quầy, tháng có số liệu hồ sơ chiếm "
            f"{percent(100 * w.responses_covered)} số phiếu và "
            f"{percent(100 * w.dossiers_covered)} số hồ sơ."))
    word = group_word(report)
    groups = Table(["STT", word, "Số phiếu", "Kết quả"],
                   [[str(i), g["label"], str(g["n"]), value_text(report, g["value"])]
                    for i, g in enumerate(result["groups"], start=1)],
                   widths_cm=[1.2, 10.3, 2.2, 2.8], numeric={2, 3},
                   caption=f"Bảng 1. Kết quả theo {word.lower()}, {period.label}")
    units = Table(["Đơn vị", "Số phiếu", "Chỉ số"],
                  [[unit_label(report, int(c["key"])), str(c["n"]),
                    f"ẩn (dưới {report.min_cell} phiếu)" if c["suppressed"]
                    else value_text(report, c["index"])] for c in report.by_unit],
                  widths_cm=[10.5, 2.5, 3.5], numeric={1, 2},
                  caption=f"Bảng 2. Kết quả theo đơn vị, {period.label}")
    return Section("I. KẾT QUẢ KHẢO SÁT", subsections=[
        Section("1. Số phiếu khảo sát", [count]),
        Section("2. Chỉ số chung và các " + word.lower(), [overall, *weighted_blocks, groups]),
        Section("3. Theo đơn vị", [units] if report.by_unit else [Paragraph(
            "Chưa có phiếu theo đơn vị.")]),
    ])


def _response_rates(session: Db, report: Report, period: Period) -> Section | None:
    """Responses ÷ dossiers received, per counter over the period (when dossiers are known)."""
    volume = dossiers(session, report.filters)
    if not volume:
        return None
    by_unit: dict[int, list[int]] = {}
    for (unit_id, _month), (n, d, _rate) in response_rates(strata(session, report.filters),
                                                           volume).items():
        totals = by_unit.setdefault(unit_id, [0, 0])
        totals[0] += n
        totals[1] += d or 0
    names = {u.id: f"{u.code} – {u.name}" for u in report.session.scalars(
        sa.select(Unit).where(Unit.id.in_(list(by_unit))))}
    rows = [[names.get(uid, str(uid)), str(n), str(d) if d else "—",
             percent(100 * n / d) if d else "—"] for uid, (n, d) in sorted(
                 by_unit.items(), key=lambda item: names.get(item[0], ""))]
    return Section("Tỷ lệ phản hồi", [
        Paragraph("Tỷ lệ phản hồi là số phiếu chia cho số hồ sơ tiếp nhận (theo số liệu chỉ "
                  "tiêu phục vụ của từng quầy)."),
        Table(["Đơn vị", "Số phiếu", "Hồ sơ tiếp nhận", "Tỷ lệ phản hồi"], rows,
              widths_cm=[8.5, 2.4, 2.8, 2.8], numeric={1, 2, 3},
              caption=f"Bảng 2a. Tỷ lệ phản hồi theo đơn vị, {period.label}")])


def _service(session: Db, report: Report, period: Period, settings: Settings
             ) -> Section | None:
    """Return the section of the plan's service indicators against their targets."""
    found = service_figures(session, report.filters, settings)
    if found is None:
        return None
    rows = [[RATIO_NAMES[r.name], percent(r.shown), f"{r.numerator}/{r.denominator}",
             "—" if r.target is None else f"≥ {percent(r.target)}",
             {True: "Đạt", False: "Chưa đạt", None: "—"}[r.met]] for r in found.rows]
    whole = found.whole
    return Section("Chỉ tiêu phục vụ hành chính công", [
        Paragraph(f"{period.label}, các quầy tiếp nhận {whole.received} hồ sơ, giải quyết "
                  f"{whole.resolved} hồ sơ, trong đó {whole.on_time} hồ sơ đúng hạn."),
        Table(["Chỉ tiêu", "Kết quả", "Số hồ sơ", "Kế hoạch", "Đánh giá"], rows,
              widths_cm=[6.3, 2.4, 2.8, 2.6, 2.4], numeric={1, 2},
              caption=f"Bảng 2b. Chỉ tiêu phục vụ hành chính công, {period.label}")])


def _comparison(report: Report, period: Period, previous: dict[str, Any] | None,
                last_year: dict[str, Any] | None) -> Section:
    before, year = period.previous(), period.same_period_last_year()
    now_value, now_ci = _index(report.summary)
    changes = []
    blocks: list[Block] = []
    for label, other in ((f"{before.label} (kỳ trước", previous),
                         (f"{year.label} (cùng kỳ năm trước", last_year)):
        then_value, then_ci = _index(other)
        change = Change(now_value, then_value, now_ci, then_ci)
        changes.append(change)
        blocks.append(Paragraph(_weighed(report, change, label)))
    before_groups, year_groups = _groups(previous), _groups(last_year)
    rows = [["Số phiếu", str(report.summary["n_responses"]),
             str(previous["n_responses"]) if previous else "—", "",
             str(last_year["n_responses"]) if last_year else "—", ""],
            ["Chỉ số chung", value_text(report, now_value), value_text(report, changes[0].then),
             _delta(changes[0].delta), value_text(report, changes[1].then),
             _delta(changes[1].delta)]]
    for g in report.summary["groups"]:
        was, last = before_groups.get(g["id"]), year_groups.get(g["id"])
        rows.append([g["label"], value_text(report, g["value"]), value_text(report, was),
                     _delta(None if g["value"] is None or was is None
                            else g["value"] - was),
                     value_text(report, last),
                     _delta(None if g["value"] is None or last is None
                            else g["value"] - last)])
    heading = f"Thay đổi ({_points(report)})"
    blocks.append(Table(["Nội dung", period.label, before.label, heading, year.label, heading],
                        rows, widths_cm=[5.5, 2.2, 2.2, 2.1, 2.2, 2.3],
                        numeric={1, 2, 3, 4, 5},
                        caption="Bảng 3. So sánh với kỳ trước và cùng kỳ năm trước"))
    blocks.append(Paragraph("Mức thay đổi được coi là lớn hơn sai số khi vượt quá 1,96 lần sai "
                            "số chuẩn của hiệu hai kỳ (tính từ khoảng tin cậy 95 % của mỗi kỳ).",
                            italic=True))
    return Section("II. SO SÁNH VỚI KỲ TRƯỚC VÀ CÙNG KỲ NĂM TRƯỚC", blocks)


def _cases(report: Report) -> Section | None:
    cases = report.cases
    if cases is None or not cases.overall["opened"]:
        return None
    o = cases.overall
    on_time = o["on_time_rate"]
    satisfied = o["satisfaction_rate"]
    text = (f"Trong kỳ, phường tiếp nhận {o['opened']} phản ánh, kiến nghị qua phiếu khảo sát; "
            f"đã trả lời {o['answered']}, trong đó {o['answered_on_time']} đúng hạn; "
            f"{o['overdue']} quá hạn chưa trả lời. Tỷ lệ xử lý đúng hạn "
            f"{percent(on_time)}, tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị "
            f"{percent(satisfied)} (mục tiêu {percent(cases.target)}, Quyết định 766/QĐ-TTg).")
    rows = [[cases.unit_label(code), str(f["opened"]), str(f["answered_on_time"]),
             str(f["overdue"]), percent(f["on_time_rate"])]
            for code, f in cases.by_unit.items()]
    return Section("III. TIẾP NHẬN, XỬ LÝ PHẢN ÁNH, KIẾN NGHỊ", [
        Paragraph(text),
        Table(["Đơn vị", "Tiếp nhận", "Đúng hạn", "Quá hạn", "Tỷ lệ đúng hạn"], rows,
              widths_cm=[8.0, 2.1, 2.1, 2.1, 2.2], numeric={1, 2, 3, 4},
              caption="Bảng 4. Xử lý phản ánh, kiến nghị theo đơn vị")])


def _place(settings: Settings, ward: str) -> str:
    if settings.report_place:
        return settings.report_place
    for prefix in ("Phường ", "phường ", "Xã ", "xã ", "UBND phường ", "UBND "):
        if ward.startswith(prefix):
            return ward[len(prefix):]
    return ward


def administrative_report(session: Db, questionnaire_id: str, period: Period,
                          settings: Settings, *, units: Sequence[Unit] = (),
                          issued_on: date, number: str = "") -> AdminReport | None:
    """Compose the báo cáo of a questionnaire for ``period``; None for an unknown questionnaire.

    ``units`` narrows it (all units when empty); ``number`` is the document number, left
    blank for the office to fill in by default.
    """
    filters = Filters(questionnaire_id, period.start, period.end, tuple(units))
    report = build_report(session, filters, settings)
    if report is None:
        return None
    before, year = period.previous(), period.same_period_last_year()
    previous = summary(session, Filters(questionnaire_id, before.start, before.end,
                                        tuple(units)), settings)
    last_year = summary(session, Filters(questionnaire_id, year.start, year.end, tuple(units)),
                        settings)
    ward = organisation_name(report)
    results = _results(report, period)
    for extra in (_response_rates(session, report, period),
                  _service(session, report, period, settings)):
        if extra is not None:
            results.subsections.append(Section(
                f"{len(results.subsections) + 1}. {extra.heading}", extra.blocks))
    sections = [results, _comparison(report, period, previous, last_year)]
    handled = _cases(report)
    if handled is not None:
        sections.append(handled)
    for heading, hint in OWN_TEXT:
        sections.append(Section(f"{ROMAN[len(sections)]}. {heading.upper()}",
                                [Placeholder(hint)]))
    sections.append(Section("", [Paragraph("Số liệu chi tiết tại phụ lục thống kê kèm theo "
                                           "(báo cáo PDF của hệ thống)./.", italic=True)]))
    kind = report.questionnaire.index if report.questionnaire.index in TITLES else "sipas"
    return AdminReport(
        upper_authority=settings.report_upper_authority,
        issuer="ỦY BAN NHÂN DÂN\n" + ward.upper().removeprefix("UBND ").strip(),
        place=_place(settings, ward), issued_on=issued_on, number=number,
        title=TITLES[kind].format(period=period.label),
        basis=list(settings.report_basis),
        intro=f"Ủy ban nhân dân {running_name(ward)} báo cáo kết quả như sau:",
        sections=sections, recipients=list(settings.report_recipients),
        signature=Signature(title=settings.report_signer_title,
                            name=settings.report_signer_name,
                            deputy=settings.report_signer_deputy))


def key_figures(session: Db, report: Report, period: Period, settings: Settings) -> str:
    """Return the key figures of a period as plain text, for the body of an e-mail."""
    result = report.summary
    value, ci = _index(result)
    before = period.previous()
    previous = summary(session, Filters(report.filters.questionnaire_id, before.start,
                                        before.end, report.filters.units), settings)
    then, then_ci = _index(previous)
    lines = [f"{report.questionnaire.title.get('vi')} – {period.label}",
             f"- Số phiếu hợp lệ: {result['n_responses']}"]
    if value is not None:
        verdict = VERDICT_TEXT.get(report.status or "", "")
        goal = (f"; {verdict.lower()} {value_text(report, report.target)}"
                if verdict and report.target is not None else "")
        lines.append(f"- Chỉ số chung: {value_text(report, value)} (khoảng tin cậy 95 %: "
                     f"{interval(ci)}){goal}")
        lines.append("- " + _weighed(report, Change(value, then, ci, then_ci),
                                     f"{before.label} (kỳ trước"))
    if report.cases is not None and report.cases.overall["opened"]:
        o = report.cases.overall
        lines.append(f"- Phản ánh, kiến nghị: tiếp nhận {o['opened']}, trả lời đúng hạn "
                     f"{o['answered_on_time']}, quá hạn chưa trả lời {o['overdue']}; tỷ lệ "
                     f"xử lý đúng hạn {percent(o['on_time_rate'])}")
    return "\n".join(lines)
