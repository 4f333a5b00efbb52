"""Vietnam time: the one place that says which calendar day a moment falls on.

Every day the system counts (rollups, filters, due dates, reports) is a Vietnam calendar day,
UTC+7 all year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _vietnam() -> tzinfo:
    try:
        return ZoneInfo("Asia/Ho_Chi_Minh")
    except ZoneInfoNotFoundError:  # pragma: no cover -- a system without a tz database
        # Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset gives the
        # same calendar days for every date this app can hold.
        return timezone(timedelta(hours=7), "ICT")


VIETNAM = _vietnam()


def vietnam_date(moment: datetime) -> date:
    """Return the Vietnam calendar day of an aware moment."""
    return moment.astimezone(VIETNAM).date()


def vietnam_day(moment: datetime) -> str:
    """Return the Vietnam calendar day of an aware moment, as ``YYYY-MM-DD`` (a rollup key)."""
    return vietnam_date(moment).isoformat()
