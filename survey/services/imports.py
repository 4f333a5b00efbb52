"""Import responses from the wide CSV or XLSX format of contract §5: all or nothing.

Every row is checked before anything is stored; any error stops the whole import and every
error is reported as ``row N, column C: reason``, counting rows as a spreadsheet shows them
(the header is row 1).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from questionnaires import Questionnaire

from ..models import CHANNELS, Unit
from . import units as unit_service
from .answers import cell_text, check_value
from .exports import restore
from .stats import VIETNAM
from .submissions import ResponseConflict, save_response

BASE = ("response_id", "submitted_at", "unit", "channel")
MAX_ERRORS = 200


class ImportFailed(ValueError):
    """The file cannot be imported; ``errors`` lists each problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Parsed:
    """One checked row, ready to store."""

    row: int
    response_id: uuid.UUID
    submitted_at: datetime | None
    unit: Unit
    channel: str
    answers: dict[str, int | str]


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
            raise ImportFailed([f"the file is not UTF-8 text (byte {exc.start}); save it as "
                                "CSV UTF-8"]) from exc
        yield from csv.reader(io.StringIO(text, newline=""))
    else:
        raise ImportFailed(["the file must end in .csv or .xlsx"])


def _read_xlsx(data: bytes) -> Iterator[list[Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportFailed([f"the file is not a readable XLSX workbook ({exc})"]) from exc
    sheet = book["Dữ liệu"] if "Dữ liệu" in book.sheetnames else book.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield ["" if v is None else v for v in values]
    book.close()


def parse_rows(rows: Iterator[list[Any]], questionnaire: Questionnaire, *,
               default_unit: Unit | None, default_channel: str,
               allowed_units: set[int] | None = None) -> list[Parsed]:
    """Check every row; return them all, or raise ImportFailed listing every error."""
    errors: list[str] = []
    total = 0

    def error(row: int, column: str, reason: str) -> None:
        nonlocal total
        total += 1
        if len(errors) < MAX_ERRORS:
            errors.append(f"row {row}, column {column}: {reason}")

    def failed() -> ImportFailed:
        more = [f"... and {total - len(errors)} more error(s)"] if total > len(errors) else []
        return ImportFailed(errors + more)

    rows = _guarded(rows)

    first = next(rows, [])
    if isinstance(first, _Unreadable):
        raise ImportFailed([f"row 1: the file cannot be read: {first.reason}"])
    header = [cell_text(h) for h in first]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise ImportFailed(["row 1: the file is empty (a header row is needed)"])
    questions = {q.id: q for q in questionnaire.questions}
    for i, name in enumerate(header):
        if name not in BASE and name not in questions:
            error(1, name or f"#{i + 1}", "unknown column for questionnaire "
                  f"{questionnaire.id}")
        if header.count(name) > 1:
            error(1, name, "the column appears twice")
    if errors:
        raise ImportFailed(list(dict.fromkeys(errors)))  # header errors: few, listed once

    units: dict[str, Unit | None] = {}
    seen: dict[uuid.UUID, tuple[int, dict[str, int | str]]] = {}
    parsed: list[Parsed] = []
    for number, raw in enumerate(rows, start=2):
        if isinstance(raw, _Unreadable):
            error(number, "-", f"the file cannot be read from here on: {raw.reason}")
            break
        surplus = [v for v in raw[len(header):] if cell_text(v) != ""]
        if surplus:
            error(number, f"#{len(header) + 1}", "more cells than the header has columns "
                  "(a comma inside a text that is not in quotes?)")
        cells = dict(zip(header, list(raw) + [""] * (len(header) - len(raw)), strict=False))
        if all(cell_text(cells.get(q, "")) == "" for q in questions):
            # No answer at all: a blank line, or a template row with only its id filled in.
            continue
        before = len(errors)
        response_id = _response_id(cells.get("response_id"), number, error)
        submitted_at = _moment(cells.get("submitted_at"), number, error)
        unit = _unit(cells.get("unit"), default_unit, units, number, error)
        if unit is not None and allowed_units is not None and unit.id not in allowed_units:
            error(number, "unit", f"{unit.code} is not one of this account's units")
            unit = None
        channel = cell_text(cells.get("channel")) or default_channel
        if channel not in CHANNELS:
            error(number, "channel", f"unknown channel {channel!r} (use {', '.join(CHANNELS)})")
        answers: dict[str, int | str] = {}
        for qid, question in questions.items():
            if qid not in cells:
                continue
            cell = cells[qid]
            if question.type == "text" and isinstance(cell, str):
                cell = restore(cell.strip())
            value, reason = check_value(question, cell)
            if reason is not None:
                error(number, qid, reason)
            elif value is not None:
                answers[qid] = value
        if response_id is not None and response_id in seen:
            first_row, first_answers = seen[response_id]
            if first_answers != answers:
                error(number, "response_id", f"same id as row {first_row} with other answers")
            continue  # an identical repeat within the file is skipped
        if len(errors) == before and unit is not None and response_id is not None:
            seen[response_id] = (number, answers)
            parsed.append(Parsed(number, response_id, submitted_at, unit, channel, answers))
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
        error(row, "response_id", f"not a UUID: {text[:40]!r}")
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
            error(row, "submitted_at", f"not an ISO 8601 date and time: {text[:40]!r}")
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)  # contract §5: no offset means Vietnam time
    if not 2000 <= moment.year <= 2100:
        error(row, "submitted_at", f"implausible year {moment.year}")
        return None
    return moment


def _unit(value: Any, default: Unit | None, cache: dict[str, Unit | None], row: int,
          error: Any) -> Unit | None:
    code = cell_text(value)
    if not code:
        if default is None:
            error(row, "unit", "empty, and no --unit given")
        return default
    if code not in cache:
        cache[code] = unit_service.get_unit(code)
    if cache[code] is None:
        error(row, "unit", f"unknown unit {code[:32]!r}")
    return cache[code]


def store(parsed: list[Parsed], questionnaire: Questionnaire) -> tuple[int, int]:
    """Store checked rows (the caller commits); return (imported, skipped as already stored).

    Raises ImportFailed when an id is already stored with other answers.
    """
    imported = skipped = 0
    errors = []
    for item in parsed:
        try:
            stored = save_response(questionnaire, item.unit, item.channel, item.response_id,
                                   item.answers, submitted_at=item.submitted_at)
        except ResponseConflict:
            errors.append(f"row {item.row}, column response_id: already stored with other "
                          "answers")
            continue
        if stored.created:
            imported += 1
        else:
            skipped += 1
    if errors:
        raise ImportFailed(errors)
    return imported, skipped


def import_file(path: Path | str, questionnaire: Questionnaire, *, default_unit: Unit | None,
                default_channel: str = "import", content: bytes | None = None,
                handle: IO[bytes] | None = None,
                allowed_units: set[int] | None = None) -> tuple[int, int]:
    """Check then store a whole file; the caller commits on success and rolls back on error.

    ``allowed_units`` limits the rows to those units (a group leader's import).
    """
    rows = read_table(path, content if content is not None else
                      (handle.read() if handle is not None else None))
    parsed = parse_rows(rows, questionnaire, default_unit=default_unit,
                        default_channel=default_channel, allowed_units=allowed_units)
    return store(parsed, questionnaire)
