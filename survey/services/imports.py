"""Import responses from the wide CSV or XLSX format of contract §5: all or nothing.

Every row is checked before anything is stored; any error stops the whole import and every
error is reported as ``row N, column C: reason``, counting rows as a spreadsheet shows them
(the header is row 1). Each error is a :class:`~.problems.Problem`: the command line words it
in English (contract §3), web pages in the reader's language.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from analysis.flags import FLAG_CODES
from analysis.vietnam import VIETNAM, vietnam_day
from questionnaires import Questionnaire

from ..models import CHANNELS, Unit, User, utcnow
from ..reporting.exports import restore
from . import units as unit_service
from .answers import cell_text, check_value
from .integrity import parse_flags, set_excluded, touch_days
from .problems import Problem, Reason, reason
from .submissions import ResponseConflict, receipt_for, save_response

BASE = ("response_id", "submitted_at", "unit", "channel", "flags", "excluded")
MAX_ERRORS = 200
"""Checking stops at this many errors: nothing more is read or built (a file of bad rows
costs no more than its first ones)."""
MAX_COLUMNS = 1000
"""A questionnaire's file has a few dozen columns; a header wider than this is refused at
once, and an XLSX row is read no further than one column past it."""
MAX_ROWS = 5_000_000
"""Rows of a file (a city's whole export is about a million)."""
MAX_BLANK_RUN = 10_000
"""Blank rows in a row before more data: a spreadsheet has a few, a hostile file millions.
Past this many, the rows are only looked at for being blank: at the end of the file they are
no rows (Excel keeps formatted empty rows), with data after them the file is refused."""
MAX_BLANK_TAIL = 200_000
"""How many blank rows are looked through that way; more are refused all the same (a sheet
has 1,048,576 rows: a 5 KB file can claim a million blank ones)."""
XLSX_RATIO = 100
"""An XLSX may unpack to at most this many times its size (plus 10 MB); workbooks unpack to
5 to 20 times, a "zip bomb" to thousands."""
XLSX_UNPACKED_MB = 2048
"""And to at most this much in all (the app's own export of a million responses: about 1 GB)."""
XLSX_STRINGS_MB = 64
"""The shared strings, which are read into memory whole before the first row (the app's own
exports write their texts in their rows)."""
EXCLUDED_IN_FILE = "Đã loại trong tệp nhập vào (cột excluded)"
"""The reason kept with a response imported excluded: data, so always in Vietnamese."""

LEADER_CHANNELS = ("paper", "import")
"""What a group leader's import may create: never responses that pose as citizens' own."""


class ImportFailed(ValueError):
    """The file cannot be imported; ``problems`` lists each problem.

    ``errors`` words them in English (``row N, column C: reason``, contract §3) and
    ``texts()`` in the reader's language.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.errors = [p.english() for p in problems]
        super().__init__("\n".join(self.errors))

    def texts(self) -> list[str]:
        """Return the problems in the reader's language (for web pages)."""
        return [p.text() for p in self.problems]


def _whole(code: str, **params: Any) -> ImportFailed:
    """Return the failure of a file that cannot be read at all."""
    return ImportFailed([Problem(None, None, reason(code, **params))])


@dataclass
class Parsed:
    """One checked row, ready to store."""

    row: int
    response_id: uuid.UUID
    submitted_at: datetime | None
    unit: Unit
    channel: str
    answers: dict[str, int | str]
    flags: str = ""
    excluded: bool = False


@dataclass(frozen=True)
class LeaderLimits:
    """What a group leader's import may hold (their units are ``allowed_units``).

    Rows are paper sheets (or an import): channel ``paper`` or ``import``, never ``qr`` or
    ``kiosk``; dated from the day the unit's first batch of printed sheets of the
    questionnaire was issued (``since``, per unit id) to now; not excluded.
    """

    since: dict[int, datetime]
    until: datetime


def read_table(path: Path | str, content: bytes | None = None) -> Iterator[list[Any]]:
    """Yield the rows (header first) of a CSV (UTF-8, BOM optional) or XLSX file."""
    name = str(path).lower()
    data = content if content is not None else Path(path).read_bytes()
    if name.endswith(".xlsx"):
        yield from _read_xlsx(data)
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _whole("not_utf8", byte=exc.start) from exc
        # Blank lines at the end are no rows (a file of millions of them reads in no time);
        # strict: a quote left open is an error (the rest of the file would otherwise be read
        # into one text cell and the rows after it lost without a word).
        text = text.rstrip("\r\n") + "\n"
        yield from csv.reader(io.StringIO(text, newline=""), strict=True)
    else:
        raise _whole("bad_extension")


class _FormulaWithoutValue:
    """Stands for a cell holding a formula the file carries no computed value for."""

    def __repr__(self) -> str:
        return "<formula without a value>"


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue()
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _check_unpacked(data: bytes) -> None:
    """Refuse an XLSX that unpacks to far more than a workbook does (before opening it)."""
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (BadZipFile, OSError, ValueError) as exc:
        raise _whole("bad_xlsx", detail=str(exc)) from exc
    unpacked = sum(max(0, info.file_size) for info in members)
    strings = sum(max(0, info.file_size) for info in members
                  if info.filename.lower().endswith("sharedstrings.xml"))
    limit = min(XLSX_RATIO * len(data) + 10 * 1024 * 1024, XLSX_UNPACKED_MB * 1024 * 1024)
    if unpacked > limit:
        raise _whole("xlsx_unpacked", limit=limit // (1024 * 1024))
    if strings > XLSX_STRINGS_MB * 1024 * 1024:
        raise _whole("xlsx_unpacked", limit=XLSX_STRINGS_MB)


def _formulas_without_values(data: bytes, part: str | None) -> dict[int, list[int]]:
    """Return where a sheet holds a formula saved without its value: {row: [column]}, 1-based.

    Excel and LibreOffice save each formula with its last value (``<v>``; a computed ""
    as an empty ``<v>`` in a text cell, ``t="str"``); a program that wrote the file without
    computing it leaves no value (openpyxl: an empty ``<v>`` in a number cell), and the cell
    would read as blank. The sheet's XML is read in pieces, and parsed only when it holds a
    formula at all; no more than MAX_ERRORS + 1 places are kept (the import fails there).
    """
    from xml.etree.ElementTree import ParseError
    from zipfile import ZipFile

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import coordinate_to_tuple

    found: dict[int, list[int]] = {}
    if not part:
        return found
    try:
        with ZipFile(io.BytesIO(data)) as archive:
            with archive.open(part.lstrip("/")) as xml:
                tail, any_formula = b"", False
                while piece := xml.read(1 << 20):
                    if _FORMULA_TAG.search(tail + piece):
                        any_formula = True
                        break
                    tail = piece[-64:]
            if not any_formula:
                return found
            kept = 0
            with archive.open(part.lstrip("/")) as xml:
                for _, element in iterparse(xml, events=("end",)):
                    tag = element.tag.rsplit("}", 1)[-1]
                    if tag == "c":
                        children = {c.tag.rsplit("}", 1)[-1]: c for c in element}
                        where = element.get("r")
                        value = children.get("v")
                        # An empty value is a computed "" only in a text cell (t="str").
                        if "f" in children and where and (value is None or (
                                not value.text and element.get("t") != "str")):
                            line, column = coordinate_to_tuple(where)
                            found.setdefault(line, []).append(column)
                            kept += 1
                            if kept > MAX_ERRORS:
                                break
                        element.clear()
                    elif tag == "row":
                        element.clear()
    except (KeyError, OSError, ValueError, ParseError, DefusedXmlException):
        pass  # openpyxl's own reading says what is wrong with the file
    return found


def _sheet_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    """Yield a sheet's rows, never trusting the size the file claims for it.

    A 5 KB file claiming A1:XFD1048576 would otherwise be read as 17 billion empty cells.
    The header row is read as it is; the rows after it no further than one column past it.
    """
    sheet.reset_dimensions()
    header = next(sheet.iter_rows(values_only=True, max_row=1), ())
    width = len(header)
    while width and header[width - 1] is None:
        width -= 1
    yield header[:width]
    yield from sheet.iter_rows(values_only=True, min_row=2,
                               max_col=min(width, MAX_COLUMNS) + 1)


def _read_xlsx(data: bytes) -> Iterator[list[Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    _check_unpacked(data)
    # openpyxl trusts the file's XML: a damaged or crafted part raises whatever its parser met
    # (TypeError for an unexpected attribute, AttributeError, IndexError …), while opening or
    # while reading rows. Any of them means "not a readable workbook", never a 500.
    # Its warnings ("File contains an invalid specification …") are refusals too: what it
    # would read of such a file is a guess (the same in production and under the tests).
    errors = (BadZipFile, OSError, KeyError, ValueError, TypeError, AttributeError,
              IndexError, SyntaxError, UserWarning)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except errors as exc:
        raise _whole("bad_xlsx", detail=str(exc)) from exc
    try:
        if not book.worksheets:
            raise _whole("no_sheet")
        # The data sheet, or else the first; an export of more rows than a sheet holds goes
        # on in "Dữ liệu (2)", "Dữ liệu (3)" …, each repeating the header (reporting/xlsx.py).
        names = [book.sheetnames[0]]
        if "Dữ liệu" in book.sheetnames:
            names = ["Dữ liệu"]
            while f"Dữ liệu ({len(names) + 1})" in book.sheetnames:
                names.append(f"Dữ liệu ({len(names) + 1})")
        for number, name in enumerate(names):
            sheet = book[name]
            missing = _formulas_without_values(data, getattr(sheet, "_worksheet_path", None))
            rows = _sheet_rows(sheet)
            at = 0  # the sheet's row number
            while True:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error", UserWarning)
                        values = next(rows)
                except StopIteration:
                    break
                except errors as exc:
                    raise _whole("bad_xlsx", detail=str(exc)) from exc
                at += 1
                if number and at == 1:  # the header again
                    continue
                if values.count(None) == len(values) and at not in missing:
                    yield []  # a blank row, quickly (a sheet may have a million)
                    continue
                row = ["" if v is None else v for v in values]
                for column in missing.get(at, ()):
                    if column <= len(row):
                        row[column - 1] = FORMULA_WITHOUT_VALUE
                yield row
    except ImportFailed:
        raise
    except errors as exc:
        raise _whole("bad_xlsx", detail=str(exc)) from exc
    finally:
        book.close()


def parse_rows(rows: Iterator[list[Any]], questionnaire: Questionnaire, *,
               default_unit: Unit | None, default_channel: str,
               allowed_units: set[int] | None = None,
               leader: LeaderLimits | None = None) -> list[Parsed]:
    """Check every row; return them all, or raise ImportFailed listing every error."""
    errors: list[Problem] = []
    total = 0
    numbers = {q.id: q.number for q in questionnaire.questions}

    def error(row: int, column: str, why: Reason) -> None:
        nonlocal total
        total += 1
        if len(errors) < MAX_ERRORS:
            errors.append(Problem(row, column, why, numbers.get(column)))

    def failed() -> ImportFailed:
        more = ([Problem(None, None, reason("more", count=total - len(errors)))]
                if total > len(errors) else [])
        return ImportFailed(errors + more)

    rows = _guarded(rows)

    first = next(rows, [])
    if isinstance(first, _Unreadable):
        raise ImportFailed([Problem(1, None, reason("unreadable", detail=first.reason))])
    width = len(first)
    while width and cell_text(first[width - 1]) == "":
        width -= 1
    if not width:
        raise ImportFailed([Problem(1, None, reason("empty"))])
    if width > MAX_COLUMNS:
        raise ImportFailed([Problem(1, None, reason("too_many_columns", count=width,
                                                     limit=MAX_COLUMNS))])
    formulas = [i for i, h in enumerate(first[:width]) if h is FORMULA_WITHOUT_VALUE]
    if formulas:
        raise ImportFailed([Problem(1, f"#{i + 1}", reason("formula_no_value"))
                            for i in formulas])
    header = [cell_text(h) for h in first[:width]]
    questions = {q.id: q for q in questionnaire.questions}
    times = Counter(header)
    for i, name in enumerate(header):
        if name not in BASE and name not in questions:
            error(1, name or f"#{i + 1}", reason("unknown_column",
                                                 questionnaire=questionnaire.id))
        if times[name] > 1:
            error(1, name, reason("duplicate_column"))
    if errors:
        raise ImportFailed(list(dict.fromkeys(errors)))  # header errors: few, listed once

    def stop(row: int) -> ImportFailed:
        return ImportFailed(errors + [Problem(None, None, reason("stopped", count=total,
                                                                 row=row))])

    units: dict[str, Unit | None] = {}
    seen: dict[uuid.UUID, tuple[int, dict[str, int | str]]] = {}
    parsed: list[Parsed] = []
    blank_run = 0
    for number, raw in enumerate(rows, start=2):
        if isinstance(raw, _Unreadable):
            error(number, "-", reason("unreadable_rest", detail=raw.reason))
            break
        if total >= MAX_ERRORS:
            raise stop(number)
        if number > MAX_ROWS + 1:
            error(number, "-", reason("too_many_rows", limit=MAX_ROWS))
            break
        if not raw or all(v == "" for v in raw):  # a blank line, quickly
            blank_run += 1
            if blank_run >= MAX_BLANK_TAIL:
                error(number, "-", reason("too_many_blank", count=blank_run))
                break
            continue
        if blank_run >= MAX_BLANK_RUN:  # data again after a long run of blank rows
            error(number, "-", reason("too_many_blank", count=blank_run))
            break
        blank_run = 0
        if FORMULA_WITHOUT_VALUE in raw:  # only an XLSX row can hold one
            for i, v in enumerate(raw):
                if v is FORMULA_WITHOUT_VALUE:
                    error(number, header[i] if i < len(header) else f"#{i + 1}",
                          reason("formula_no_value"))
            raw = ["" if v is FORMULA_WITHOUT_VALUE else v for v in raw]
        surplus = [v for v in raw[len(header):] if cell_text(v) != ""]
        if surplus:
            error(number, f"#{len(header) + 1}", reason("surplus"))
        cells = dict(zip(header, list(raw) + [""] * (len(header) - len(raw)), strict=False))
        if all(cell_text(cells.get(q, "")) == "" for q in questions):
            # No answer at all: a blank line, or a template row with only its id filled in.
            continue
        before = len(errors)
        response_id = _response_id(cells.get("response_id"), number, error)
        submitted_at = _moment(cells.get("submitted_at"), number, error)
        unit = _unit(cells.get("unit"), default_unit, units, number, error)
        if unit is not None and allowed_units is not None and unit.id not in allowed_units:
            error(number, "unit", reason("not_own_unit", unit=unit.code))
            unit = None
        channel = cell_text(cells.get("channel")) or default_channel
        if channel not in CHANNELS:
            error(number, "channel", reason("unknown_channel", value=channel[:20],
                                            choices=", ".join(CHANNELS)))
        elif leader is not None and channel not in LEADER_CHANNELS:
            error(number, "channel", reason("leader_channel", value=channel,
                                            allowed=" or ".join(LEADER_CHANNELS),
                                            choices=", ".join(LEADER_CHANNELS)))
        flags, unknown_flags = parse_flags(cell_text(cells.get("flags")))
        if unknown_flags:
            error(number, "flags", reason("unknown_flag", value=unknown_flags[0][:20],
                                          known=", ".join(FLAG_CODES)))
        excluded_cell = cell_text(cells.get("excluded"))
        if excluded_cell not in ("", "0", "1"):
            error(number, "excluded", reason("excluded_value", value=excluded_cell[:10]))
        elif excluded_cell == "1" and leader is not None:
            error(number, "excluded", reason("leader_excluded"))
        if leader is not None and unit is not None:
            _check_period(leader, unit, submitted_at, questionnaire.id, number, error)
        answers: dict[str, int | str] = {}
        for qid, question in questions.items():
            if qid not in cells:
                continue
            cell = cells[qid]
            if question.type == "text" and isinstance(cell, str):
                cell = restore(cell.strip())
            value, why = check_value(question, cell)
            if why is not None:
                error(number, qid, why)
            elif value is not None:
                answers[qid] = value
        if response_id is not None and response_id in seen:
            first_row, first_answers = seen[response_id]
            if first_answers != answers:
                error(number, "response_id", reason("same_id", first_row=first_row))
            continue  # an identical repeat within the file is skipped
        if len(errors) == before and unit is not None and response_id is not None:
            seen[response_id] = (number, answers)
            if total:  # the import fails: nothing more is built to store
                continue
            parsed.append(Parsed(number, response_id, submitted_at, unit, channel, answers,
                                 flags, excluded_cell == "1"))
    if errors:
        raise failed()
    return parsed


class _Unreadable:
    """Stands for the rest of a file that stopped parsing (bad CSV quoting, broken XLSX)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _guarded(rows: Iterator[list[Any]]) -> Iterator[Any]:
    """Yield rows; turn a parser's failure into one last _Unreadable item."""
    from xml.etree.ElementTree import ParseError

    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except ImportFailed:
            raise  # already says what is wrong with the whole file
        except (csv.Error, ParseError, ValueError, KeyError, OSError) as exc:
            yield _Unreadable(str(exc)[:200])
            return
        yield row


def _response_id(value: Any, row: int, error: Any) -> uuid.UUID | None:
    text = cell_text(value)
    if not text:
        return uuid.uuid4()
    try:
        return uuid.UUID(text)
    except ValueError:
        error(row, "response_id", reason("bad_uuid", value=text[:40]))
        return None


def _moment(value: Any, row: int, error: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = cell_text(value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            error(row, "submitted_at", reason("bad_moment", value=text[:40]))
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)  # contract §5: no offset means Vietnam time
    if not 2000 <= moment.year <= 2100:
        error(row, "submitted_at", reason("bad_year", year=moment.year))
        return None
    return moment


def _unit(value: Any, default: Unit | None, cache: dict[str, Unit | None], row: int,
          error: Any) -> Unit | None:
    code = cell_text(value)
    if not code:
        if default is None:
            error(row, "unit", reason("no_unit"))
        return default
    if code not in cache:
        cache[code] = unit_service.get_unit(code)
    if cache[code] is None:
        error(row, "unit", reason("unknown_unit", value=code[:32]))
    return cache[code]


def _check_period(leader: LeaderLimits, unit: Unit, submitted_at: datetime | None, qid: str,
                  row: int, error: Any) -> None:
    """Check that a leader's row dates from the unit's first printed batch to now."""
    since = leader.since.get(unit.id)
    if since is None:
        error(row, "unit", reason("no_batch", questionnaire=qid, unit=unit.code))
        return
    moment = submitted_at or leader.until
    first_day = since.astimezone(VIETNAM).date()
    if moment.astimezone(VIETNAM).date() < first_day:
        error(row, "submitted_at", reason("before_batch", questionnaire=qid, unit=unit.code,
                                          day=first_day.strftime("%d/%m/%Y")))
    elif moment > leader.until:
        error(row, "submitted_at", reason("future"))


def leader_limits(questionnaire_id: str, unit_ids: set[int]) -> LeaderLimits:
    """Return the limits of a group leader's import: their units' first batches, and now."""
    import sqlalchemy as sa

    from ..extensions import db
    from ..models import Batch

    since = dict(db.session.execute(
        sa.select(Batch.unit_id, sa.func.min(Batch.created_at))
        .where(Batch.questionnaire_id == questionnaire_id, Batch.unit_id.in_(unit_ids))
        .group_by(Batch.unit_id)).all())
    return LeaderLimits(since, utcnow() + timedelta(minutes=5))


def store(parsed: list[Parsed], questionnaire: Questionnaire, *, actor: User | str = "import",
          receipts: list[str] | None = None) -> tuple[int, int]:
    """Store checked rows (the caller commits); return (imported, skipped as already stored).

    A row's ``flags`` are kept with the response (the server adds its own at the next scan);
    an ``excluded`` row is stored excluded, on ``actor``'s account. ``receipts``, when given,
    receives the receipts of the rows stored. Raises ImportFailed when an id is already
    stored with other answers.
    """
    imported = skipped = 0
    errors: list[Problem] = []
    days = set()
    for item in parsed:
        at = item.submitted_at or utcnow()
        try:
            stored = save_response(questionnaire, item.unit, item.channel, item.response_id,
                                   item.answers, submitted_at=at, open_case=False)
        except ResponseConflict:
            errors.append(Problem(item.row, "response_id", reason("already_stored")))
            continue
        if stored.created:
            imported += 1
            days.add((questionnaire.id, item.unit.id, vietnam_day(at)))
            if item.flags or item.excluded:
                response = stored.response  # read back only when something is added to it
                response.imported_flags = item.flags
                if item.excluded:
                    set_excluded([response], True, EXCLUDED_IN_FILE, actor)
            if receipts is not None:
                receipts.append(receipt_for(item.response_id))
        else:
            skipped += 1
    if errors:
        raise ImportFailed(errors)
    # A long import commits after responses with higher ids, which a scan in between has
    # passed: its days are marked, so that the next scan flags them all the same.
    touch_days(days)
    return imported, skipped


def import_file(path: Path | str, questionnaire: Questionnaire, *, default_unit: Unit | None,
                default_channel: str = "import", content: bytes | None = None,
                handle: IO[bytes] | None = None,
                allowed_units: set[int] | None = None, leader: LeaderLimits | None = None,
                actor: User | str = "import",
                receipts: list[str] | None = None) -> tuple[int, int]:
    """Check then store a whole file; the caller commits on success and rolls back on error.

    ``allowed_units`` limits the rows to those units, and ``leader`` to what a group leader
    may import (:class:`LeaderLimits`). ``receipts`` receives the receipts stored.
    """
    rows = read_table(path, content if content is not None else
                      (handle.read() if handle is not None else None))
    parsed = parse_rows(rows, questionnaire, default_unit=default_unit,
                        default_channel=default_channel, allowed_units=allowed_units,
                        leader=leader)
    return store(parsed, questionnaire, actor=actor, receipts=receipts)
