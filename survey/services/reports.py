"""Turn what a person asks for (questionnaire, period, units, channels) into summary filters.

One place for the rules shared by the dashboard, the API and the ``export`` command: dates are
Vietnam calendar days, units are codes, and a leader never gets beyond their own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _

from ..models import CHANNELS, Unit, User
from . import units as unit_service
from .questionnaires import get_questionnaire
from .stats import Filters

# Surveys of this system cannot predate it; the bounds also keep date arithmetic in range.
MIN_YEAR, MAX_YEAR = 2000, 2100


class FilterError(ValueError):
    """The request cannot be answered; ``status`` is the HTTP status to use."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_day(value: str | None, name: str) -> date | None:
    """Return a ``YYYY-MM-DD`` day, None for empty; FilterError otherwise."""
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise FilterError(_("Ngày %(name)s không hợp lệ: %(value)s (cần dạng YYYY-MM-DD).",
                            name=name, value=value[:20])) from exc
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise FilterError(_("Ngày %(name)s phải trong các năm %(low)d–%(high)d.", name=name,
                            low=MIN_YEAR, high=MAX_YEAR))
    return day


LEADER_HIDDEN_FLAGS = ("enterer_pattern",)
"""Flags a group leader's exports leave out: that one is about the leader's own typing."""


def parse_filters(questionnaire_id: str | None, date_from: str | None, date_to: str | None,
                  unit_codes: Sequence[str] = (), channels: Sequence[str] = (),
                  user: User | None = None) -> Filters:
    """Check a request and return its Filters; a leader's request covers only their units."""
    if not questionnaire_id or get_questionnaire(questionnaire_id) is None:
        raise FilterError(_("Không có phiếu khảo sát %(id)s.", id=(questionnaire_id or "")[:64]),
                          404 if questionnaire_id else 400)
    start, end = parse_day(date_from, _("bắt đầu")), parse_day(date_to, _("kết thúc"))
    if start and end and start > end:
        raise FilterError(_("Ngày bắt đầu phải trước ngày kết thúc."))
    chosen: list[Unit] = []
    for code in dict.fromkeys(c for c in unit_codes if c):
        unit = unit_service.get_unit(code)
        if unit is None:
            raise FilterError(_("Không có đơn vị %(code)s.", code=code[:32]))
        if user is not None and not unit_service.can_see(user, unit):
            raise FilterError(_("Tài khoản này không được xem đơn vị %(code)s.", code=unit.code),
                              403)
        chosen.append(unit)
    if user is not None and not user.sees_all_units and not chosen:
        chosen = list(user.units)  # a leader's summary is always of their own units
    for channel in channels:
        if channel not in CHANNELS:
            raise FilterError(_("Kênh không hợp lệ: %(channel)s.", channel=channel[:16]))
    # The scope is a second lock: even with no unit chosen, a leader gets nothing beyond theirs.
    scope = None if user is None or user.sees_all_units else tuple(u.id for u in user.units)
    return Filters(questionnaire_id, start, end, tuple(chosen),
                   tuple(dict.fromkeys(c for c in channels if c)), scope=scope,
                   hidden_flags=() if user is None or user.sees_flags else LEADER_HIDDEN_FLAGS)
