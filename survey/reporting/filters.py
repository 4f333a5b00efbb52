"""Turn what a person asks for (questionnaire, period, units, channels) into summary filters.

One place for the rules shared by the dashboard, the API and the ``export`` command: dates are
Vietnam calendar days, units are codes, and a leader never gets beyond their own units.

A refusal is a :class:`FilterError` carrying a message id and its values: ``str(error)`` is
the Vietnamese text, and the web layer translates the id (``survey.i18n.translate_error``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import object_session

from analysis.periods import PeriodError, period_of

from ..models import CHANNELS, Unit, User, subtree_ids
from ..services import units as unit_service
from ..services.questionnaires import get_questionnaire


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a message for extraction; it is translated where it is shown."""
    return message


# Surveys of this system cannot predate it; the bounds also keep date arithmetic in range.
MIN_YEAR, MAX_YEAR = 2000, 2100


class FilterError(ValueError):
    """The request cannot be answered; ``status`` is the HTTP status to use.

    ``msgid`` and ``params`` let the caller translate the message; ``str()`` is Vietnamese.
    """

    def __init__(self, msgid: str, http_status: int = 400, /, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid, self.params, self.status = msgid, params, http_status


@dataclass(frozen=True)
class Filters:
    """Which responses a summary covers; empty tuples mean "all"."""

    questionnaire_id: str
    date_from: date | None = None
    date_to: date | None = None
    units: tuple[Unit, ...] = ()
    channels: tuple[str, ...] = ()
    scope: tuple[int, ...] | None = field(default=None, compare=False)
    hidden_flags: tuple[str, ...] = field(default=(), compare=False)
    """Flag codes left out of the raw rows' ``flags`` cell (a group leader's export does not
    show the ``enterer_pattern`` flag, which is about whoever typed the sheets in)."""
    hide_small: bool = field(default=False, compare=False)
    """Whether a summary of fewer responses than the small-cell minimum shows counts only
    (leaders, staff limited to a ward and the city: a filter must not isolate a few
    citizens' answers)."""

    def echo(self) -> dict[str, Any]:
        """Return the ``filters`` object of the summary JSON (contract §6)."""
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "units": sorted(u.code for u in self.units),
            "channels": sorted(self.channels),
        }

    def unit_ids(self) -> tuple[int, ...] | None:
        """Return the unit ids to keep (None = every unit), within the account's scope.

        A unit stands for itself and every unit under it: a ward covers all its counters,
        offices and groups (contract §11).
        """
        if not self.units:
            return self.scope
        covered: tuple[int, ...] | None = self.__dict__.get("_covered")
        if covered is None:
            covered = _subtrees(self.units)
            if self.scope is not None:
                allowed = set(self.scope)
                covered = tuple(i for i in covered if i in allowed)
            object.__setattr__(self, "_covered", covered)
        return covered


def _subtrees(chosen: tuple[Unit, ...]) -> tuple[int, ...]:
    """Return the ids of the units chosen and of every unit under them."""
    ids = tuple(u.id for u in chosen)
    session = object_session(chosen[0])
    if session is None or all(u.kind == "group" for u in chosen):
        return ids  # residential groups have nothing under them
    return subtree_ids(session, ids)


DAY_MESSAGES = {
    "from": (N_("Ngày bắt đầu không hợp lệ: %(value)s (cần dạng YYYY-MM-DD)."),
             N_("Ngày bắt đầu phải trong các năm %(low)d–%(high)d.")),
    "to": (N_("Ngày kết thúc không hợp lệ: %(value)s (cần dạng YYYY-MM-DD)."),
           N_("Ngày kết thúc phải trong các năm %(low)d–%(high)d.")),
}


def parse_day(value: str | None, which: str) -> date | None:
    """Return a ``YYYY-MM-DD`` day, None for empty; FilterError otherwise.

    ``which`` is ``"from"`` or ``"to"``: the message names the start or the end day.
    """
    if not value:
        return None
    bad, out_of_range = DAY_MESSAGES[which]
    try:
        if len(value) != 10:
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise FilterError(bad, value=value[:20]) from exc
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise FilterError(out_of_range, low=MIN_YEAR, high=MAX_YEAR)
    return day


def period_days(period: str | None, date_from: str | None, date_to: str | None, today: date
                ) -> tuple[str | None, str | None]:
    """Return the days of ``period`` ("2026-Q1", "2026-03", "2026") as from/to.

    Without a period, the days given; FilterError when both are given or the period cannot
    be read.
    """
    if not period:
        return date_from, date_to
    if date_from or date_to:
        raise FilterError(N_("Chọn kỳ báo cáo (period) hoặc từ ngày, đến ngày (from, to), "
                             "không cả hai."))
    try:
        chosen = period_of(period[:40], today)
    except PeriodError as exc:
        raise FilterError(str(exc)) from exc  # already in words
    return chosen.start.isoformat(), chosen.end.isoformat()


LEADER_HIDDEN_FLAGS = ("enterer_pattern",)
"""Flags a group leader's exports leave out: that one is about the leader's own typing."""


def parse_filters(questionnaire_id: str | None, date_from: str | None, date_to: str | None,
                  unit_codes: Sequence[str] = (), channels: Sequence[str] = (),
                  user: User | None = None) -> Filters:
    """Check a request and return its Filters; a leader's request covers only their units."""
    if not questionnaire_id or get_questionnaire(questionnaire_id) is None:
        raise FilterError(N_("Không có phiếu khảo sát %(id)s."), 404 if questionnaire_id else 400,
                          id=(questionnaire_id or "")[:64])
    start, end = parse_day(date_from, "from"), parse_day(date_to, "to")
    if start and end and start > end:
        raise FilterError(N_("Ngày bắt đầu phải trước ngày kết thúc."))
    chosen: list[Unit] = []
    for code in dict.fromkeys(c for c in unit_codes if c):
        unit = unit_service.get_unit(code)
        if unit is None:
            raise FilterError(N_("Không có đơn vị %(code)s."), code=code[:32])
        if user is not None and not unit_service.can_see(user, unit):
            raise FilterError(N_("Tài khoản này không được xem đơn vị %(code)s."), 403,
                              code=unit.code)
        chosen.append(unit)
    if user is not None and not user.sees_all_units and not chosen:
        # A leader's summary is always of their own units, a ward officer's of their ward.
        chosen = [user.ward] if user.is_office and user.ward else list(user.units)
    for channel in channels:
        if channel not in CHANNELS:
            raise FilterError(N_("Kênh không hợp lệ: %(channel)s."), channel=channel[:16])
    # The scope is a second lock: even with no unit chosen, nobody gets beyond their units.
    scope = None if user is None else user.scope_ids()
    return Filters(questionnaire_id, start, end, tuple(chosen),
                   tuple(dict.fromkeys(c for c in channels if c)), scope=scope,
                   hidden_flags=() if user is None or user.sees_flags else LEADER_HIDDEN_FLAGS,
                   hide_small=user is not None and not (user.is_office and user.ward_id is None))
