"""Service indicators (chỉ tiêu phục vụ hành chính công): monthly dossier counts and ratios.

Each month a counter of the Public Administration Service Center (or the ward as a whole)
reports how many dossiers (hồ sơ) it received, resolved, resolved on time, resolved late with
an apology letter, and how many came online end to end, were paid online, went through the
public postal service, or were digitised; in all fields (``field`` 0) or in one field, a code
of the sipas-dichvu question ``linh_vuc``. The ward's plan sets a target for the ratios.

Rules a row obeys (the same here, in the import and as CHECK constraints in models.py):

- every count is a whole number from 0;
- on time <= resolved, and late with an apology letter <= resolved - on time (the dossiers
  resolved late);
- online end to end, paid online, postal and digitised <= received;
- resolved is **not** bounded by received: a month's resolved dossiers include dossiers
  received in earlier months.

Totals never double count: a unit's row of field 0 is its total for the month, and rows of
single fields are detail, added up only when the total is missing; likewise a ward's own row
stands for the ward, and its counters are added up only for months without one. Ratios are
computed from these sums (never by averaging percentages).

Functions here change the session (add, flush); the caller commits.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from analysis.formatting import number
from analysis.indicators import (  # noqa: F401 - the service's names for them
    NOTHING,
    RATIOS,
    Figures,
    Month,
    Ratio,
    met,
    ratios,
    targets,
    total,
)

from ..extensions import db
from ..labels import INDICATOR_LABELS
from ..models import INDICATOR_FIGURES, ServiceIndicator, Unit, User
from ..reporting.service import ALL_FIELDS, indicator_rows, overall  # noqa: F401 - overall: the pages'
from ..reporting.service import figures_for as service_figures_for
from . import audit

UNIT_KINDS = ("ward", "counter")
"""Who reports figures: a counter of the service center, or the ward as a whole."""
FIELDS_FROM = ("sipas-dichvu", "linh_vuc")
"""The questionnaire and question whose option codes name the fields (lĩnh vực)."""
MAX_COUNT = 10_000_000
"""More dossiers than a ward sees in a month is a typing slip (and fits any integer column)."""

# An uploaded workbook: its size, what it unpacks to (a small file may unpack to gigabytes),
# its rows and how many errors are listed.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS = 200
SHEET = "Số liệu"
"""The sheet an import reads when the workbook has one of this name; else its first sheet."""

COLUMNS: dict[str, str] = {
    "month": "Tháng",
    "unit": "Đơn vị",
    "field": "Lĩnh vực",
    "received": "Tiếp nhận",
    "resolved": "Đã giải quyết",
    "on_time": "Đúng hạn",
    "late_apology": "Trễ hạn có thư xin lỗi",
    "online": "Trực tuyến toàn trình",
    "paid_online": "Thanh toán trực tuyến",
    "postal": "Bưu chính công ích",
    "digitised": "Số hóa",
}
"""The header of an import file (fixed, not translated: files are data), by what it holds."""
OPTIONAL_COLUMNS = frozenset({"field"})

FIGURE_LABELS = INDICATOR_LABELS  # what the page calls each count (labels.py)

"""The ratios with a target, in the order pages show them (config INDICATOR_TARGET_<NAME>)."""
RATIO_LABELS: dict[str, LazyString] = {
    "on_time": _l("Giải quyết đúng hạn"),
    "online": _l("Nộp trực tuyến toàn trình"),
    "paid_online": _l("Thanh toán trực tuyến"),
    "postal": _l("Qua bưu chính công ích"),
    "digitised": _l("Số hóa hồ sơ, kết quả"),
    "apology": _l("Trễ hạn có thư xin lỗi"),
}
RATIO_BASES: dict[str, LazyString] = {
    "on_time": _l("trên số hồ sơ đã giải quyết"),
    "online": _l("trên số hồ sơ tiếp nhận"),
    "paid_online": _l("trên số hồ sơ tiếp nhận"),
    "postal": _l("trên số hồ sơ tiếp nhận"),
    "digitised": _l("trên số hồ sơ tiếp nhận"),
    "apology": _l("trên số hồ sơ giải quyết trễ hạn"),
}
"""What each ratio divides by, said under its name."""


# --- Checking figures -----------------------------------------------------------------------


class CellError(ValueError):
    """A value that cannot be a month, a unit, a field or a count; ``str()`` says why."""


class IndicatorError(ValueError):
    """Figures that cannot be stored.

    ``problems`` lists ``(what, reason)``: what is a count's name, or ``"unit"``,
    ``"month"``, ``"field"``; the reason is worded for the reader (translated).
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{what}: {why}" for what, why in problems))


def _shown(value: Any) -> str:
    """Return a value as a person typed it, short."""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return " ".join(str(value).split())[:40]


def check(figures: Figures | Mapping[str, int]) -> list[tuple[str, str]]:
    """Return ``(count, reason)`` for each rule the figures break (module docstring).

    ``figures`` may lack some counts (a form or a row whose other cells are wrong): the
    rules between the counts it has are checked, so that every error shows at once.
    """
    counts = figures.as_dict() if isinstance(figures, Figures) else dict(figures)
    problems: list[tuple[str, str]] = []
    for name, value in counts.items():
        if value < 0:
            problems.append((name, _("“%(value)s” không phải số nguyên không âm",
                                     value=value)))
        elif value > MAX_COUNT:
            problems.append((name, _("%(value)s lớn quá mức hợp lý (tối đa %(limit)s)",
                                     value=number(value, 0), limit=number(MAX_COUNT, 0))))
    known = {name: value for name, value in counts.items()
             if name not in {what for what, _why in problems}}
    on_time, resolved = known.get("on_time"), known.get("resolved")
    apology, received = known.get("late_apology"), known.get("received")
    if on_time is not None and resolved is not None and on_time > resolved:
        problems.append(("on_time", _("%(value)s lớn hơn số đã giải quyết (%(limit)s)",
                                      value=number(on_time, 0), limit=number(resolved, 0))))
    elif (apology is not None and on_time is not None and resolved is not None
          and apology > resolved - on_time):
        problems.append(("late_apology", _(
            "%(value)s lớn hơn số hồ sơ trễ hạn (đã giải quyết trừ đúng hạn: %(limit)s)",
            value=number(apology, 0), limit=number(resolved - on_time, 0))))
    for name in ("online", "paid_online", "postal", "digitised"):
        part = known.get(name)
        if part is not None and received is not None and part > received:
            problems.append((name, _("%(value)s lớn hơn số tiếp nhận (%(limit)s)",
                                     value=number(part, 0), limit=number(received, 0))))
    return problems


def count_value(value: Any) -> int:
    """Return a count typed or read from a cell; CellError says why it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError(_("để trống; ghi 0 nếu không có hồ sơ nào"))
    count: int | None = None
    if isinstance(value, bool):
        count = None
    elif isinstance(value, int):
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        count = int(value.strip())
    if count is None or count < 0:
        raise CellError(_("“%(value)s” không phải số nguyên không âm", value=_shown(value)))
    if count > MAX_COUNT:
        raise CellError(_("%(value)s lớn quá mức hợp lý (tối đa %(limit)s)",
                          value=number(count, 0), limit=number(MAX_COUNT, 0)))
    return count


def month_value(value: Any, latest: Month | None = None) -> Month:
    """Return the month of a cell ("03/2026", or a date a spreadsheet made of it).

    A month after ``latest`` (default: this month in Vietnam) has no figures yet.
    """
    latest = latest or Month.current()
    example = str(latest.shift(-1))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellError(_("để trống; ghi tháng dạng MM/YYYY, ví dụ %(example)s",
                          example=example))
    found: Month | None = None
    if isinstance(value, datetime | date):
        found = Month.of(value)
    elif isinstance(value, str):
        try:
            found = Month.parse(value)
        except ValueError:
            found = None
    if found is None:
        raise CellError(_("“%(value)s” không phải tháng dạng MM/YYYY (ví dụ %(example)s)",
                          value=_shown(value), example=example))
    why = month_problem(found, latest)
    if why:
        raise CellError(why)
    return found


def month_problem(period: Month, latest: Month | None = None) -> str | None:
    """Return why a month can have no figures (its year, or not come yet), or None."""
    if not 2000 <= period.year <= 2100:
        return _("năm %(year)s không hợp lý", year=period.year)
    if period > (latest or Month.current()):
        return _("tháng %(month)s chưa đến", month=str(period))
    return None


def field_names() -> dict[int, str]:
    """Return the fields (lĩnh vực) by code, 0 first: the sipas-dichvu options of linh_vuc."""
    from .questionnaires import get_questionnaire

    names = {ALL_FIELDS: _("Mọi lĩnh vực")}
    questionnaire = get_questionnaire(FIELDS_FROM[0])
    question = questionnaire.question(FIELDS_FROM[1]) if questionnaire is not None else None
    lang = str(get_locale() or "vi")
    for option in question.options if question is not None else ():
        names[option.code] = option.label.get(lang)
    return names


def field_value(value: Any, codes: Iterable[int]) -> int:
    """Return the field code of a cell: empty or 0 for all fields, or a code of ``codes``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ALL_FIELDS
    code: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        code = value
    elif isinstance(value, float) and value.is_integer():
        code = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        code = int(value.strip())
    known = sorted(set(codes) - {ALL_FIELDS})
    if code is None or (code != ALL_FIELDS and code not in known):
        raise CellError(_("“%(value)s” không phải mã lĩnh vực (mã hợp lệ: %(codes)s; để trống "
                          "là mọi lĩnh vực)", value=_shown(value),
                          codes=", ".join(str(c) for c in known) or "0"))
    return code


def unit_problem(unit: Unit) -> str | None:
    """Return why ``unit`` reports no figures (not a counter nor a ward), or None."""
    if unit.kind in UNIT_KINDS:
        return None
    return _("%(code)s không phải quầy của Trung tâm Phục vụ hành chính công hay phường",
             code=unit.code)


# --- Storing --------------------------------------------------------------------------------


def _actor_name(actor: User | str | None) -> str:
    if isinstance(actor, User):
        return actor.username
    return (actor or "system")[:64]


def _target(unit: Unit, period: Month) -> str:
    return f"{unit.code} {period}"


def _store(unit: Unit, period: Month, field: int, figures: Figures, recorded_by: str,
           row: ServiceIndicator | None) -> tuple[ServiceIndicator, dict[str, list[int | None]]]:
    """Insert or update one row; return it and its changes as ``{count: [old, new]}``."""
    new = figures.as_dict()
    if row is None:
        row = ServiceIndicator(unit_id=unit.id, year=period.year, month=period.month,
                               field=field, recorded_by=recorded_by, **new)
        db.session.add(row)
        return row, {name: [None, value] for name, value in new.items()}
    old = Figures.of(row).as_dict()
    changes: dict[str, list[int | None]] = {
        name: [old[name], value] for name, value in new.items() if old[name] != value}
    if changes:
        for name, value in new.items():
            setattr(row, name, value)
        row.recorded_by = recorded_by
    return row, changes


def _stored(unit_id: int, period: Month, field: int) -> ServiceIndicator | None:
    return db.session.scalar(sa.select(ServiceIndicator).where(
        ServiceIndicator.unit_id == unit_id, ServiceIndicator.year == period.year,
        ServiceIndicator.month == period.month, ServiceIndicator.field == field))


def save_month(unit: Unit, year: int, month: int, field: int, figures: Mapping[str, Any],
               actor: User | str | None) -> ServiceIndicator:
    """Store (insert or replace) one month's figures of a unit in a field (0: all fields).

    ``figures`` holds every count of :data:`~survey.models.INDICATOR_FIGURES` as an int.
    Raises :class:`IndicatorError` listing every problem, and stores nothing then. A change
    is audited (``indicator.save``, each count as old and new); the same figures again
    change nothing and record nothing.
    """
    unknown = set(figures) - set(INDICATOR_FIGURES)
    if unknown:
        raise TypeError(f"unknown figures: {', '.join(sorted(unknown))}")
    problems: list[tuple[str, str]] = []
    why = unit_problem(unit)
    if why:
        problems.append(("unit", why))
    period: Month | None = None
    try:
        period = Month(year, month)
    except ValueError:
        problems.append(("month", _("“%(value)s” không phải tháng dạng MM/YYYY (ví dụ "
                                    "%(example)s)", value=f"{month}/{year}",
                                    example=str(Month.current().shift(-1)))))
    else:
        why = month_problem(period)
        if why:
            problems.append(("month", why))
    try:
        field = field_value(field, field_names())
    except CellError as exc:
        problems.append(("field", str(exc)))
    counts: dict[str, int] = {}
    for name in INDICATOR_FIGURES:
        value = figures.get(name)
        if value is None:
            problems.append((name, _("để trống; ghi 0 nếu không có hồ sơ nào")))
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append((name, _("“%(value)s” không phải số nguyên không âm",
                                     value=_shown(value))))
        else:
            counts[name] = value
    problems.extend(check(counts))
    if problems or period is None:
        raise IndicatorError(problems)
    row, changes = _store(unit, period, field, Figures(**counts), _actor_name(actor),
                          _stored(unit.id, period, field))
    if changes:
        details: dict[str, Any] = {"field": field} if field else {}
        audit.record(actor, "indicator.save", _target(unit, period), **details, **changes)
    db.session.flush()
    return row


# --- Reading --------------------------------------------------------------------------------


def _rows(unit_ids: Sequence[int], first: Month, last: Month) -> Sequence[ServiceIndicator]:
    return indicator_rows(db.session, unit_ids, first, last)


def figures_for(units: Sequence[Unit], first_month: Month, last_month: Month
                ) -> dict[tuple[int, Month], Figures]:
    """Return each unit's figures by (unit id, month) (reporting.service.figures_for)."""
    return service_figures_for(db.session, [u.id for u in units], first_month, last_month)


@dataclass(frozen=True)
class Entry:
    """What the page shows of a unit's month: its figures and where they come from."""

    figures: Figures
    whole: bool
    """True: a row of all fields was stored; False: the sum of rows of single fields."""
    fields: int
    """How many rows of single fields the unit has that month."""
    recorded_by: str
    updated_at: datetime


def month_entries(units: Sequence[Unit], month: Month) -> dict[int, Entry]:
    """Return, by unit id, what was stored for ``month`` (units without figures are absent)."""
    found: dict[int, list[ServiceIndicator]] = {}
    for row in _rows([u.id for u in units], month, month):
        found.setdefault(row.unit_id, []).append(row)
    entries = {}
    for unit_id, rows in found.items():
        whole = [r for r in rows if r.field == ALL_FIELDS]
        parts = [r for r in rows if r.field != ALL_FIELDS]
        latest = max(rows, key=lambda r: r.updated_at)
        entries[unit_id] = Entry(
            figures=Figures.of(whole[0]) if whole else total(Figures.of(r) for r in parts),
            whole=bool(whole), fields=len(parts), recorded_by=latest.recorded_by,
            updated_at=latest.updated_at)
    return entries


# --- Import from XLSX -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did: nothing when there are ``errors`` (all or nothing)."""

    errors: tuple[str, ...] = ()
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    months: tuple[Month, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the file was imported."""
        return not self.errors

    @property
    def rows(self) -> int:
        """Rows of figures the file held."""
        return self.added + self.updated + self.unchanged


class _FileError(Exception):
    """The file as a whole cannot be read; the message says why, for the reader."""


def _not_xlsx() -> _FileError:
    return _FileError(_("Không đọc được tệp: tệp không phải bảng tính XLSX hoặc đã hỏng. Xin "
                        "lưu lại tệp dạng “Excel Workbook (.xlsx)” rồi thử lại."))


def _too_big() -> _FileError:
    return _FileError(_("Tệp quá lớn: tệp số liệu chỉ tiêu không được quá %(limit)s MB.",
                        limit=number(MAX_FILE_BYTES / 1024 / 1024, 0)))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_sheet(data: bytes) -> list[tuple[int, tuple[Any, ...]]]:
    """Return the non-empty rows of the workbook's sheet as (row number, values)."""
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise _not_xlsx()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # The sizes the archive declares bound what reading it unpacks (zipfile stops
            # there), so a small file that would unpack to gigabytes is refused here.
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_xlsx() from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise _too_big()
    from openpyxl import load_workbook

    # openpyxl trusts the file's XML: a damaged or crafted part raises whatever its parser
    # met, on opening or on reading rows. Any of them means "not a readable workbook".
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - see above
        raise _not_xlsx() from exc
    rows: list[tuple[int, tuple[Any, ...]]] = []
    try:
        if not book.worksheets:
            raise _FileError(_("Tệp XLSX không có trang tính nào."))
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        try:
            for number_, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number_ > MAX_ROWS + 1:
                    raise _FileError(_("Tệp có quá nhiều dòng: tối đa %(limit)s dòng số liệu.",
                                       limit=number(MAX_ROWS, 0)))
                if not all(_blank(v) for v in values):
                    rows.append((number_, tuple(values)))
        except _FileError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged sheet, as above
            raise _not_xlsx() from exc
    finally:
        book.close()
    if not rows:
        raise _FileError(_("Trang tính trống: cần dòng tiêu đề (%(columns)s) và các dòng số "
                           "liệu bên dưới.", columns=_column_list(COLUMNS)))
    return rows


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _column_list(keys: Iterable[str]) -> str:
    return ", ".join(f"“{COLUMNS[k]}”" for k in keys)


@dataclass(frozen=True)
class _Parsed:
    row: int
    unit: Unit
    period: Month
    field: int
    figures: Figures


def _header(number_: int, cells: tuple[Any, ...]) -> tuple[dict[str, int], list[str]]:
    """Return the column of each known header name, and what is wrong with the header."""
    known = {_fold(title): key for key, title in COLUMNS.items()}
    columns: dict[str, int] = {}
    errors: list[str] = []
    for index, cell in enumerate(cells):
        if _blank(cell):
            continue
        title = " ".join(str(cell).split())[:60]
        key = known.get(_fold(title))
        if key is None:
            errors.append(_("Dòng %(row)d (dòng tiêu đề): cột “%(column)s” không có trong mẫu; "
                            "các cột của mẫu là %(columns)s.", row=number_, column=title,
                            columns=_column_list(COLUMNS)))
        elif key in columns:
            errors.append(_("Dòng %(row)d (dòng tiêu đề): cột “%(column)s” có hai lần.",
                            row=number_, column=COLUMNS[key]))
        else:
            columns[key] = index
    missing = [k for k in COLUMNS if k not in columns and k not in OPTIONAL_COLUMNS]
    if missing:
        errors.append(_("Dòng %(row)d (dòng tiêu đề) thiếu cột %(columns)s.", row=number_,
                        columns=_column_list(missing)))
    return columns, errors


def _parse(rows: list[tuple[int, tuple[Any, ...]]], scope: tuple[int, ...] | None = None
           ) -> tuple[list[_Parsed], list[str]]:
    """Check every row; return the rows to store, or the errors (then nothing is stored).

    ``scope``: the units the importing account may change (None: every unit).
    """
    from .units import get_unit

    header_row, header_cells = rows[0]
    columns, errors = _header(header_row, header_cells)
    if errors:
        return [], errors
    if len(rows) == 1:
        return [], [_("Tệp không có dòng số liệu nào dưới dòng tiêu đề.")]
    codes = field_names()
    latest = Month.current()
    unit_cache: dict[str, Unit | None] = {}
    first_row: dict[tuple[int, Month, int], int] = {}
    parsed: list[_Parsed] = []
    for row, values in rows[1:]:
        row_errors: list[str] = []

        def cell(key: str, values: tuple[Any, ...] = values) -> Any:
            index = columns.get(key)
            return values[index] if index is not None and index < len(values) else None

        def error(key: str, reason: str, row: int = row, found: list[str] = row_errors) -> None:
            found.append(_("Dòng %(row)d, cột “%(column)s”: %(reason)s.", row=row,
                           column=COLUMNS[key], reason=reason))

        period: Month | None = None
        unit: Unit | None = None
        field: int | None = None
        try:
            period = month_value(cell("month"), latest)
        except CellError as exc:
            error("month", str(exc))
        code = cell("unit")
        if _blank(code):
            error("unit", _("để trống; ghi mã của quầy hoặc của phường"))
        else:
            text = " ".join(str(code).split())[:40]
            if text not in unit_cache:
                unit_cache[text] = get_unit(text)
            unit = unit_cache[text]
            why = unit_problem(unit) if unit is not None else None
            if unit is None or (scope is not None and unit.id not in scope):
                error("unit", _("không có đơn vị “%(value)s”", value=text)
                      if unit is None else
                      _("đơn vị “%(value)s” không thuộc phường của tài khoản này", value=text))
                unit = None
            elif why:
                error("unit", why)
                unit = None
        try:
            field = field_value(cell("field"), codes)
        except CellError as exc:
            error("field", str(exc))
        counts: dict[str, int] = {}
        for name in INDICATOR_FIGURES:
            try:
                counts[name] = count_value(cell(name))
            except CellError as exc:
                error(name, str(exc))
        for name, reason in check(counts):
            error(name, reason)
        if period is not None and unit is not None and field is not None:
            key = (unit.id, period, field)
            if key in first_row:
                error("unit", _("đơn vị, tháng và lĩnh vực trùng với dòng %(first)d",
                                first=first_row[key]))
            else:
                first_row[key] = row
        if row_errors:
            errors.extend(row_errors)
        elif period is not None and unit is not None and field is not None:
            parsed.append(_Parsed(row, unit, period, field, Figures(**counts)))
    return parsed, errors


def import_xlsx(stream: IO[bytes] | bytes, actor: User | str | None, *,
                filename: str = "") -> ImportResult:
    """Import monthly figures from an XLSX file: all or nothing.

    The sheet (named :data:`SHEET`, else the first) has a header row of :data:`COLUMNS`
    ("Lĩnh vực" may be left out) and a row per unit, month and field. Any bad cell stores
    nothing and every error is listed as "Dòng N, cột “C”: lý do."; a file that cannot be
    read at all gets one message. Figures already stored for a unit, month and field are
    replaced. One audit entry (``indicator.import``) keeps the counts and the replaced
    figures.
    """
    data = stream if isinstance(stream, bytes) else stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return ImportResult(errors=(str(_too_big()),))
    try:
        rows = _read_sheet(data)
    except _FileError as exc:
        return ImportResult(errors=(str(exc),))
    parsed, errors = _parse(rows, actor.scope_ids() if isinstance(actor, User) else None)
    if errors:
        if len(errors) > MAX_ERRORS:
            errors = [*errors[:MAX_ERRORS],
                      _("… và %(count)s lỗi khác.", count=number(len(errors) - MAX_ERRORS, 0))]
        return ImportResult(errors=tuple(errors))
    unit_ids = sorted({p.unit.id for p in parsed})
    months = sorted({p.period for p in parsed})
    existing = {(r.unit_id, Month(r.year, r.month), r.field): r
                for r in _rows(unit_ids, months[0], months[-1])}
    recorded_by = _actor_name(actor)
    added = updated = unchanged = 0
    previous: dict[str, dict[str, int | None]] = {}
    for item in parsed:
        row = existing.get((item.unit.id, item.period, item.field))
        _row, changes = _store(item.unit, item.period, item.field, item.figures, recorded_by,
                               row)
        if row is None:
            added += 1
        elif changes:
            updated += 1
            if len(previous) < MAX_ERRORS:
                label = _target(item.unit, item.period) + (
                    f" ({COLUMNS['field']} {item.field})" if item.field else "")
                previous[label] = {name: old for name, (old, _new) in changes.items()}
        else:
            unchanged += 1
    db.session.flush()
    audit.record(actor, "indicator.import", (filename or "xlsx")[:200], file=filename or None,
                 rows=len(parsed), added=added, updated=updated,
                 months=f"{months[0]}–{months[-1]}" if len(months) > 1 else str(months[0]),
                 **({"previous": previous} if previous else {}))
    return ImportResult(added=added, updated=updated, unchanged=unchanged,
                        months=tuple(months))


# --- The template ---------------------------------------------------------------------------

EXAMPLE = Figures(received=120, resolved=110, on_time=104, late_apology=4, online=60,
                  paid_online=45, postal=30, digitised=100)
"""The example row of the template: figures that obey every rule."""


def template_xlsx(unit_codes: Sequence[str], month: Month | None = None) -> bytes:
    """Return an XLSX to fill in: the header row, one example row, and a guide sheet.

    The files are data and their column names fixed, so the workbook is in Vietnamese
    whatever the reader's language (as the other import templates).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    month = month or Month.current().shift(-1)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101  (a new workbook has its sheet)
    sheet.title = SHEET
    sheet.append(list(COLUMNS.values()))
    sheet.append([str(month), unit_codes[0] if unit_codes else "QUAY-1", None,
                  *EXAMPLE.as_dict().values()])
    bold, grey = Font(bold=True), PatternFill("solid", fgColor="EEEEEE")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, grey
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    # "03/2026" stays text: a spreadsheet would otherwise turn it into a date (import takes
    # either).
    sheet.column_dimensions["A"].number_format = "@"
    sheet["A2"].number_format = "@"
    for index, width in enumerate((10, 14, 10, 11, 13, 11, 14, 14, 14, 13, 10), start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    sheet.freeze_panes = "A2"
    fields_text = "; ".join(f"{code} = {name}" for code, name in field_names().items() if code)
    guide = book.create_sheet("Hướng dẫn")
    guide.column_dimensions["A"].width = 110
    lines = [
        "Mẫu nhập số liệu chỉ tiêu phục vụ hành chính công (số hồ sơ trong tháng).",
        "Mỗi dòng của trang “Số liệu” là một tháng của một quầy Trung tâm Phục vụ hành chính "
        "công, hoặc của cả phường (mã đơn vị của phường), ở mọi lĩnh vực hoặc một lĩnh vực.",
        "Tháng: dạng MM/YYYY, ví dụ 03/2026. Đơn vị: mã đơn vị (trang “Đơn vị và mã QR”).",
        "Lĩnh vực: để trống hoặc 0 là mọi lĩnh vực (tổng của đơn vị trong tháng); hoặc một mã: "
        + (fields_text or "—") + ".",
        "Các cột số: số hồ sơ, số nguyên từ 0; không để trống (ghi 0 nếu không có hồ sơ).",
        "Đúng hạn không lớn hơn Đã giải quyết; Trễ hạn có thư xin lỗi không lớn hơn Đã giải "
        "quyết trừ Đúng hạn; Trực tuyến toàn trình, Thanh toán trực tuyến, Bưu chính công ích "
        "và Số hóa không lớn hơn Tiếp nhận. Đã giải quyết có thể lớn hơn Tiếp nhận (gồm hồ sơ "
        "nhận từ các tháng trước).",
        "Nhập lại một đơn vị, tháng và lĩnh vực đã có thì số liệu mới thay số liệu cũ. Có một ô "
        "sai thì không dòng nào được nhập và mọi lỗi được liệt kê theo dòng và cột.",
    ]
    for index, text in enumerate(lines, start=1):
        guide.cell(index, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
    guide["A1"].font = bold
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def unit_choices(units: Sequence[Unit]) -> list[Unit]:
    """Return the units that report figures, the ward first, then counters by code."""
    return sorted((u for u in units if u.kind in UNIT_KINDS),
                  key=lambda u: (u.kind != "ward", u.code))
