"""Template helpers: the inlined stylesheet, language, versioned static URLs, local times."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import get_locale

from analysis import formatting
from analysis.vietnam import VIETNAM

from .addresses import is_loopback_url
from .labels import CHANNEL_LABELS, KIND_LABELS, ROLE_LABELS


def channel_name(code: str) -> str:
    """Return the Vietnamese name of a channel code (the code itself when unknown)."""
    label = CHANNEL_LABELS.get(code)
    return str(label) if label is not None else code


@cache
def _static_version(folder: str, filename: str) -> str:
    data = (Path(folder) / filename).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def static_url(filename: str) -> str:
    """Return a static URL with a content hash, so it can be cached for a year."""
    folder = current_app.static_folder or ""
    return url_for("static", filename=filename, v=_static_version(folder, filename))


def localtime(value: datetime | None) -> str:
    """Format a UTC time in Vietnam time, day first, as people there write it."""
    if value is None:
        return ""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def _method_note(report: Any) -> str:
    from .reporting.wording import method_note

    return method_note(report)


def _question_name(questionnaire: Any, question_id: str, short: bool = False) -> str:
    from .services.questionnaires import question_name

    return question_name(questionnaire, question_id, short=short)


def _demo_sample_count() -> int:
    from .services.demo import sample_count

    return sample_count()


def _case_counts() -> tuple[int, int]:
    """Return (open, overdue) cases of the logged-in account, for the staff header."""
    from flask_login import current_user

    from .services.cases import header_counts

    return header_counts(current_user._get_current_object())


def _context() -> dict[str, Any]:
    return {
        "public_css": current_app.extensions["public_css"],
        "current_lang": str(get_locale() or "vi"),
        "static_url": static_url,
        "kind_label": lambda kind: KIND_LABELS.get(kind, kind),
        "role_label": lambda role: ROLE_LABELS.get(role, role),
        "channel_label": channel_name,
        "question_name": _question_name,
        "method_note": _method_note,
        "percent": formatting.percent,
        "number": formatting.number,
        # QR codes holding 127.0.0.1 open nothing on a phone: pages that show them say so.
        "base_url_loopback": is_loopback_url(current_app.config["BASE_URL"]),
        "demo_sample_count": _demo_sample_count,
        "case_counts": _case_counts,
    }


def init_app(app: Flask) -> None:
    """Register the helpers and trim template whitespace (fewer bytes on a slow link)."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["localtime"] = localtime
    app.context_processor(_context)
