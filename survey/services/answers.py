"""Check one typed or imported answer against its question: the rule paper entry and import share.

The citizen's web form has its own WTForms fields (questionnaire_forms.py); a code typed by a
group leader or read from a spreadsheet cell arrives as text and is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from questionnaires import Question, Questionnaire

from .problems import Reason, reason
from .text import clean_text

CODE = re.compile(r"^[0-9]{1,3}$")


def cell_text(value: Any) -> str:
    """Return a cell as text: a spreadsheet's 4.0 is "4", None is ""."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def check_value(question: Question, raw: Any) -> tuple[int | str | None, Reason | None]:
    """Return ``(value, None)``, ``(None, None)`` for a blank, or ``(None, reason)``.

    The reason is worded where it is shown: in English by the command line, through the
    catalogue on web pages (``str(reason)``).
    """
    if question.type == "choice":
        text = cell_text(raw)
        if text == "":
            return None, None
        if not CODE.match(text) or question.option(int(text)) is None:
            codes = ", ".join(str(o.code) for o in question.options)
            return None, reason("unknown_code", value=text[:20], codes=codes)
        return int(text), None
    text = clean_text(str(raw)) if raw not in (None, "") else ""
    if not text:
        return None, None
    limit = question.max_length or 1000
    if len(text) > limit:
        return None, reason("too_long", limit=limit)
    return text, None


def check_answers(questionnaire: Questionnaire, raw: Mapping[str, Any]) -> tuple[
        dict[str, int | str], dict[str, Reason]]:
    """Check every question present in ``raw``; return (answers, errors by question id)."""
    answers: dict[str, int | str] = {}
    errors: dict[str, Reason] = {}
    for question in questionnaire.questions:
        if question.id not in raw:
            continue
        value, error = check_value(question, raw[question.id])
        if error is not None:
            errors[question.id] = error
        elif value is not None:
            answers[question.id] = value
    return answers, errors
