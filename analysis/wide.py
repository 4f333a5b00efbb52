"""The raw-data file of contract §5 (one row per response) and the summary recomputed from it.

:func:`recompute_summary` is the independent path: it scores an exported CSV or XLSX sheet
without the database, so tests (and any sceptical reader) can check the app's summary.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .scoring import Z95, Aggregation, Scheme, counts_of, summarize
from .vietnam import VIETNAM

if TYPE_CHECKING:  # pandas is imported where a file is read: a web worker rarely needs it
    import pandas as pd

BASE_COLUMNS = ("response_id", "submitted_at", "unit", "channel")
INTEGRITY_COLUMNS = ("flags", "excluded")
"""Contract §8: the response's flag codes (space-separated) and whether staff excluded it."""




def wide_columns(scheme: Scheme, *, integrity: bool = True) -> list[str]:
    """Return the columns of the wide format: the fixed ones, then every question id.

    ``integrity=False`` leaves out ``flags`` and ``excluded``, which an import reads when
    present (an entry template for typing sheets has no use for them).
    """
    fixed = [*BASE_COLUMNS, *(INTEGRITY_COLUMNS if integrity else ())]
    return [*fixed, *(str(e["id"]) for e in scheme.codebook)]


def read_wide_csv(source: str | Path | IO[Any]) -> pd.DataFrame:
    """Read a wide CSV (UTF-8, with or without a BOM) with every cell as text, "" when empty.

    Reading everything as text keeps codes as written ("04" is not silently 4.0) and leaves
    type checks to :func:`answers_of_row`.
    """
    import pandas as pd

    frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # A text stream is already decoded, so a BOM there would survive into the first header.
    frame.columns = [str(c).removeprefix("\ufeff") for c in frame.columns]
    return frame


def _blank(value: object) -> bool:
    if value is None:
        return True
    pandas = sys.modules.get("pandas")  # a NaT comes only from a frame: pandas is loaded then
    if pandas is not None and value is pandas.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True  # an empty cell of an XLSX sheet read without dtype=str
    return isinstance(value, str) and not value.strip()


def _code(question_id: str, value: object) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # spreadsheets store every number as a float
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"column {question_id}: {text!r} is not an option code") from None


def answers_of_row(scheme: Scheme, row: Mapping[str, Any]) -> dict[str, int | str]:
    """Return the answers of one wide row: empty cells left out, codes as int, text as str."""
    answers: dict[str, int | str] = {}
    for entry in scheme.codebook:
        qid = str(entry["id"])
        value = row.get(qid)
        if _blank(value):
            continue
        answers[qid] = _code(qid, value) if entry["type"] == "choice" else str(value)
    return answers


def cell_day(value: object) -> date | None:
    """Return the Vietnam calendar day of a ``submitted_at`` cell, None when it is empty.

    ISO 8601 text or a date-time; a value without an offset is already Vietnam time.
    """
    if _blank(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    else:
        moment = datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(VIETNAM).date()


def _as_day(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return cell_day(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_set(value: object) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping) or not hasattr(value, "__iter__"):
        raise ValueError(f"expected a list of codes, got {value!r}")
    return {str(v) for v in value}


def _cell(value: object) -> str:
    """Return a cell as text: a spreadsheet's 1.0 (or a numpy 1.0) is "1", a blank is ""."""
    if _blank(value):
        return ""
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(float(value)))
    return str(value).strip()


def recompute_summary(scheme: Scheme, frame: pd.DataFrame,
                      filters: Mapping[str, Any] | None = None, *,
                      aggregation: Aggregation = "mean_of_items",
                      z: float = Z95, target: float | None = None) -> dict[str, Any]:
    """Return the contract §6 summary of the rows of a wide frame that pass ``filters``.

    ``from``/``to`` are inclusive Vietnam calendar days of ``submitted_at`` (a row without a
    time is left out once either is set); ``units`` and ``channels`` mean "any of these"
    (an empty list means all). The filters are echoed in the summary. A row whose
    ``excluded`` cell is 1 counts only in ``n_excluded`` (contract §8).
    """
    wanted = dict(filters or {})
    start, end = _as_day(wanted.get("from")), _as_day(wanted.get("to"))
    units, channels = _as_set(wanted.get("units")), _as_set(wanted.get("channels"))
    responses: list[dict[str, int | str]] = []
    excluded = 0
    # Row numbers as a spreadsheet shows them: the header is row 1.
    for number, row in enumerate(frame.to_dict("records"), start=2):
        record = {str(k): v for k, v in row.items()}
        if units and _cell(record.get("unit")) not in units:
            continue
        if channels and _cell(record.get("channel")) not in channels:
            continue
        if start is not None or end is not None:
            try:
                day = cell_day(record.get("submitted_at"))
            except ValueError:
                raise ValueError(f"row {number}, column submitted_at: not ISO 8601: "
                                 f"{record.get('submitted_at')!r}") from None
            if day is None or (start is not None and day < start) or (
                    end is not None and day > end):
                continue
        if _cell(record.get("excluded")) == "1":
            excluded += 1
            continue
        try:
            responses.append(answers_of_row(scheme, record))
        except ValueError as exc:
            raise ValueError(f"row {number}, {exc}") from None
    return summarize(scheme, counts_of(scheme, responses), filters,
                     aggregation=aggregation, z=z, target=target, n_excluded=excluded)
