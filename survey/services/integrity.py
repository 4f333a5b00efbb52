"""Flags on responses kept in step with the data, and staff's exclusions (contract §8).

The rules themselves are pure functions in :mod:`analysis.flags`; this module feeds them from
the database and keeps their results. Flags are computed by :func:`scan`, never on the
citizen's submit (which stays a few statements): a scan takes the responses stored since the
last one (by id) and the days marked dirty by edits, deletions and exclusions, and recomputes
every flag of those (questionnaire, unit, Vietnam day) at once. Whatever reads flags (the
flags page, the exports, ``init-db``) scans first, so every response has its flags when it is
looked at.

A flag group holds the responses one rule flagged together in one place and day (or, for an
enterer of paper sheets, over all days), with the evidence a person needs to judge. Staff
exclude a response or a whole group with a written reason; an excluded response counts
nowhere (the rollups count it in ``n_excluded`` only), and taking it back in is as easy.
Both are in the audit log.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis.flags import (
    FLAG_CODES,
    OpeningHours,
    ScoreSums,
    burst_threshold,
    dense_runs,
    enterer_outliers,
    off_hours,
    straightline,
)
from analysis.vietnam import VIETNAM, vietnam_day

from ..extensions import db
from ..models import (
    Answer,
    FlagGroup,
    Response,
    Unit,
    User,
    integrity_dirty,
    integrity_state,
    response_flag,
    stat_response,
    utcnow,
)
from ..reporting import keyset
from . import audit, bulk, rollups
from .questionnaires import get_questionnaire

LINK_CHANNELS = ("qr", "kiosk")
"""Channels where the time of a response is the time a citizen answered: a paper sheet's time
is when someone typed it in, so burst, same answers and opening hours do not apply to it."""

HISTORY_DAYS = 28
"""How far back a link's usual rate is taken from (for ``burst``)."""

SCAN_CHUNK = 5000
"""New responses read per step of a scan."""

SCAN_OVERLAP = 200
"""Responses before the last one scanned that a scan reads again. On PostgreSQL a response can
commit after one with a higher id (ids are taken at insert, rows appear at commit): a scan
notes the ids of this window it did not find ("gap:<id>" in integrity_state), and the next
one flags the days of those that have appeared since, and only those (flagging again the
days of all two hundred cost a city's export five seconds)."""
GAP = "gap:"


KIND_LABELS = {
    "burst": _l("Dồn dập"),
    "same_answers": _l("Trùng câu trả lời"),
    "straightline": _l("Chọn một mức cho mọi câu"),
    "off_hours": _l("Ngoài giờ làm việc"),
    "enterer_pattern": _l("Người nhập khác thường"),
}
"""Vietnamese names of the flags (the codes are contract §8's)."""


@dataclass(frozen=True)
class Rules:
    """The flags' settings, from the app's configuration (SURVEY_FLAG_*)."""

    burst_window: timedelta
    burst_min: int
    burst_factor: int
    same_window: timedelta
    same_min: int
    straightline_min: int
    enterer_min: int
    enterer_gap: int
    opening_hours: str

    @classmethod
    def from_config(cls) -> Rules:
        c = current_app.config
        return cls(timedelta(minutes=c["FLAG_BURST_WINDOW"]), c["FLAG_BURST_MIN"],
                   c["FLAG_BURST_FACTOR"], timedelta(minutes=c["FLAG_SAME_WINDOW"]),
                   c["FLAG_SAME_MIN"], c["FLAG_STRAIGHTLINE_MIN"], c["FLAG_ENTERER_MIN"],
                   c["FLAG_ENTERER_GAP"], str(c["OPENING_HOURS"]))


@functools.cache
def _parse_hours(text: str) -> OpeningHours:
    return OpeningHours.parse(text)


def hours_of(unit: Unit, rules: Rules | None = None) -> OpeningHours | None:
    """Return a unit's opening hours, or None when it is always open.

    A unit's own hours win; without them, counters and offices keep their ward's hours, else
    office hours (SURVEY_OPENING_HOURS), and residential groups none, since citizens answer
    at home.
    """
    text = unit.opening_hours
    if text is None:
        if unit.kind == "group":
            return None
        ward = unit.ward
        if ward is not None and ward is not unit and ward.opening_hours is not None:
            text = ward.opening_hours  # the ward's hours, set on its page
        else:
            text = (rules or Rules.from_config()).opening_hours
    if not text.strip():
        return None
    return _parse_hours(text)


@functools.cache
def public_holidays(year: int) -> dict[date, str]:
    """Vietnam's public holidays of a year (the ``holidays`` package), day -> name."""
    import holidays

    return dict(holidays.country_holidays("VN", years=year).items())


DayKey = tuple[str, int, str]  # questionnaire, unit id, Vietnam day


# --- marking what must be looked at again --------------------------------------------------

def touch(response: Response) -> None:
    """Mark a response's day to be flagged again (after an edit, a deletion, an exclusion)."""
    touch_days([(response.questionnaire_id, response.unit_id,
                 vietnam_day(response.submitted_at))])


def touch_days(keys: Iterable[DayKey]) -> None:
    """Mark (questionnaire, unit id, Vietnam day) keys to be flagged again.

    One INSERT that skips keys already marked: two sessions marking the same day at once
    never fail on the primary key, whichever commits first.
    """
    bulk.insert_missing(integrity_dirty, [{"questionnaire_id": q, "unit_id": u, "day": d}
                                          for q, u, d in sorted(set(keys))])


def touch_unit(unit: Unit) -> None:
    """Mark every day of a unit to be flagged again (its opening hours changed)."""
    t = stat_response
    touch_days((q, u, d) for q, u, d in db.session.execute(
        sa.select(t.c.questionnaire_id, t.c.unit_id, t.c.day).where(
            t.c.unit_id == unit.id).distinct()))


def _state(name: str) -> int:
    value = db.session.scalar(sa.select(integrity_state.c.value).where(
        integrity_state.c.name == name))
    return int(value or 0)


def _set_state(name: str, value: int) -> None:
    updated = db.session.execute(integrity_state.update().where(
        integrity_state.c.name == name).values(value=value))
    if not updated.rowcount:  # type: ignore[attr-defined]
        db.session.execute(integrity_state.insert().values(name=name, value=value))


# --- the scan --------------------------------------------------------------------------------

@dataclass
class ScanResult:
    """What one scan looked at."""

    responses: int = 0
    days: int = 0
    groups: int = 0


def scan() -> ScanResult:
    """Flag the responses stored since the last scan and the days marked dirty.

    The caller commits. On PostgreSQL, two scans at once queue on the state row, so that a
    response is never flagged twice over.
    """
    rules = Rules.from_config()
    if db.session.get_bind().dialect.name == "postgresql":
        # One scan at a time; an edit's mark waits for the scan's end rather than being
        # cleared unread.
        db.session.execute(sa.text("LOCK TABLE integrity_state, integrity_dirty "
                                   "IN EXCLUSIVE MODE"))
    result = ScanResult()
    days: set[DayKey] = {(q, u, d) for q, u, d in db.session.execute(sa.select(integrity_dirty))}
    paper: set[str] = set()
    seen = _state("last_response")
    # SQLite writes one transaction at a time, so its ids appear in order: nothing to re-read.
    overlap = SCAN_OVERLAP if db.session.get_bind().dialect.name == "postgresql" else 0
    gaps = set(db.session.scalars(sa.select(integrity_state.c.value).where(
        integrity_state.c.name.startswith(GAP))))
    last = cursor = max(0, seen - overlap)
    present: set[int] = set()
    while True:
        rows = db.session.execute(
            sa.select(Response.id, Response.questionnaire_id, Response.unit_id,
                      Response.submitted_at, Response.channel)
            .where(Response.id > cursor).order_by(Response.id).limit(SCAN_CHUNK)).all()
        if not rows:
            break
        for pk, qid, unit_id, submitted_at, channel in rows:
            cursor = last = max(last, pk)
            if overlap:
                present.add(pk)
            if pk <= seen and pk not in gaps:
                continue  # flagged by an earlier scan
            days.add((qid, unit_id, vietnam_day(submitted_at)))
            if channel == "paper":
                paper.add(qid)
            if pk > seen:
                result.responses += 1
        if overlap:  # keep only the ids of the next scan's window
            present = {pk for pk in present if pk > last - overlap}
    for qid, _unit, _day in list(days):
        # Edits and deletions of paper sheets can change an enterer's picture too.
        paper.add(qid)
    units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(
        Unit.id.in_({u for _, u, _ in days})))}
    touched: set[int] = set()
    for key in sorted(days):
        unit = units.get(key[1])
        if unit is not None:
            touched |= _flag_day(key, unit, rules, result)
    for qid in sorted(paper):
        touched |= _flag_enterers(qid, rules, result)
    _refresh_flags(touched)
    result.days = len(days)
    db.session.execute(integrity_dirty.delete())
    newest = max(last, seen)
    _set_state("last_response", newest)
    db.session.execute(integrity_state.delete().where(integrity_state.c.name.startswith(GAP)))
    missing = sorted(set(range(max(0, newest - overlap) + 1, newest + 1)) - present)
    if missing:  # ids taken and not (yet) committed, or deleted: looked at again next time
        db.session.execute(integrity_state.insert(),
                           [{"name": f"{GAP}{pk}", "value": pk} for pk in missing])
    return result


@dataclass
class _Wanted:
    """A group the rules want, before it is written."""

    kind: str
    members: list[int]
    first_at: datetime
    last_at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)


def _flag_day(key: DayKey, unit: Unit, rules: Rules, result: ScanResult) -> set[int]:
    """Recompute the flags of one questionnaire, unit and day; return the responses touched."""
    qid, unit_id, day = key
    start = datetime.fromisoformat(day).replace(tzinfo=VIETNAM)
    rows = db.session.execute(
        sa.select(Response.id, Response.submitted_at, Response.channel, Response.digest)
        .where(Response.questionnaire_id == qid, Response.unit_id == unit_id,
               Response.submitted_at >= start, Response.submitted_at < start + timedelta(days=1))
        .order_by(Response.submitted_at, Response.id)).all()
    wanted: dict[str, _Wanted] = {}
    prefix = f"{qid}:{unit_id}:{day}"
    linked = [r for r in rows if r.channel in LINK_CHANNELS]
    hours = hours_of(unit, rules)

    # straightline: SIPAS-style questionnaires, whose scored items share one scale.
    questionnaire = get_questionnaire(qid)
    if questionnaire is not None and questionnaire.index == "sipas" and rows:
        scored = [q.id for q in questionnaire.scored_questions]
        counted = _counted_codes([r.id for r in rows], qid, scored)
        members = [r for r in rows if straightline(counted.get(r.id, []), len(scored),
                                                   rules.straightline_min)]
        if members:
            wanted[f"straightline:{prefix}"] = _Wanted(
                "straightline", [r.id for r in members], members[0].submitted_at,
                members[-1].submitted_at,
                {"n": len(members), "of": len(rows), "items": len(scored),
                 "codes": sorted({counted[r.id][0] for r in members})})

    # off_hours: through a link, outside the unit's hours or on a public holiday.
    if hours is not None and linked:
        local = start.date()
        holidays = public_holidays(local.year)
        members = [r for r in linked if off_hours(r.submitted_at.astimezone(VIETNAM),
                                                  hours, holidays)]
        if members:
            wanted[f"off_hours:{prefix}"] = _Wanted(
                "off_hours", [r.id for r in members], members[0].submitted_at,
                members[-1].submitted_at,
                {"n": len(members), "of": len(linked), "hours": hours.describe(),
                 "holiday": holidays.get(local)})

    # same_answers: the same full answers (the digest) from this link within the window.
    by_digest: dict[str, list[Any]] = defaultdict(list)
    for r in linked:
        by_digest[r.digest].append(r)
    for digest, same in sorted(by_digest.items()):
        runs = dense_runs([r.submitted_at for r in same], rules.same_window, rules.same_min)
        for i, (a, b) in enumerate(runs):
            members = same[a:b]
            wanted[f"same_answers:{prefix}:{digest[:16]}:{i}"] = _Wanted(
                "same_answers", [r.id for r in members], members[0].submitted_at,
                members[-1].submitted_at,
                {"n": len(members), "window_minutes": _minutes(rules.same_window),
                 "min": rules.same_min, "pattern": digest[:8]})

    # burst: far more responses in one window than this link's usual number.
    if linked:
        usual, days_seen = _usual_per_window(qid, unit_id, start, hours, rules)
        threshold = burst_threshold(usual, rules.burst_factor, rules.burst_min)
        times = [r.submitted_at for r in linked]
        for i, (a, b) in enumerate(dense_runs(times, rules.burst_window, threshold)):
            members = linked[a:b]
            wanted[f"burst:{prefix}:{i}"] = _Wanted(
                "burst", [r.id for r in members], members[0].submitted_at,
                members[-1].submitted_at,
                {"n": len(members), "window_minutes": _minutes(rules.burst_window),
                 "threshold": threshold, "usual_per_window": round(usual, 3),
                 "days_seen": days_seen, "history_days": HISTORY_DAYS})

    existing = db.session.scalars(sa.select(FlagGroup).where(
        FlagGroup.questionnaire_id == qid, FlagGroup.unit_id == unit_id, FlagGroup.day == day))
    return {r.id for r in rows} | _sync_groups(existing, wanted, qid, unit_id, day, result)


def _sync_groups(existing: Iterable[FlagGroup], wanted: dict[str, _Wanted], qid: str,
                 unit_id: int | None, day: str, result: ScanResult) -> set[int]:
    """Make the stored groups those wanted: update, add, delete; return the responses touched.

    A group keeps its row (and its address) while the rule still finds it.
    """
    stored = {g.key: g for g in existing}
    touched: set[int] = set()
    for stale in set(stored) - set(wanted):
        touched |= _members(stored[stale].id)
        db.session.delete(stored[stale])
    for group_key, want in wanted.items():
        group = stored.get(group_key)
        result.groups += 1
        if group is None:
            group = FlagGroup(key=group_key, kind=want.kind, questionnaire_id=qid,
                              unit_id=unit_id, day=day)
            db.session.add(group)
        else:
            members = _members(group.id)
            if members == set(want.members) and (
                    group.first_at, group.last_at, group.n, group.evidence) == (
                    want.first_at, want.last_at, len(want.members), want.evidence):
                continue  # as found last time: nothing written, the group keeps its date
            touched |= members
        _write_group(group, want)
        touched |= set(want.members)
    db.session.flush()
    return touched


def _write_group(group: FlagGroup, want: _Wanted) -> None:
    group.first_at, group.last_at = want.first_at, want.last_at
    group.n, group.evidence, group.updated_at = len(want.members), want.evidence, utcnow()
    db.session.flush()
    db.session.execute(response_flag.delete().where(response_flag.c.group_id == group.id))
    if want.members:
        db.session.execute(response_flag.insert(), [
            {"group_id": group.id, "response_pk": pk} for pk in want.members])


def _members(group_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(response_flag.c.response_pk).where(
        response_flag.c.group_id == group_id)))


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _counted_codes(ids: Sequence[int], qid: str, scored: Sequence[str]) -> dict[int, list[int]]:
    """Return each response's option codes on scored items that count (score not null)."""
    scheme = rollups.scoring_scheme(qid)
    found: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(ids), 900):
        for pk, question, code in db.session.execute(
                sa.select(Answer.response_pk, Answer.question_id, Answer.option_code)
                .where(Answer.response_pk.in_(ids[start:start + 900]),
                       Answer.question_id.in_(scored), Answer.option_code.is_not(None))):
            if code is None or scheme is None:
                continue
            option = scheme.option(question, code)
            if option is not None and option.score is not None:
                found[pk].append(code)
    return found


def _usual_per_window(qid: str, unit_id: int, start: datetime, hours: OpeningHours | None,
                      rules: Rules) -> tuple[float, int]:
    """Return the link's usual responses per burst window, and the days it is taken from.

    From the rollups: the responses through links over the previous HISTORY_DAYS days, over
    the days that had any, spread over the day's opening minutes (all day when always open).
    """
    first = (start - timedelta(days=HISTORY_DAYS)).date().isoformat()
    t = stat_response
    total, days_seen = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(t.c.n + t.c.n_excluded), 0),
                  sa.func.count(sa.distinct(t.c.day)))
        .where(t.c.questionnaire_id == qid, t.c.unit_id == unit_id,
               t.c.channel.in_(LINK_CHANNELS), t.c.day >= first,
               t.c.day < start.date().isoformat())).one()
    if not days_seen:
        return 0.0, 0
    minutes = (sum(hours.minutes_open(d) for d in range(7)) / max(
        1, sum(1 for d in range(7) if hours.minutes_open(d)))) if hours else 24 * 60
    windows = max(1.0, minutes / max(1, _minutes(rules.burst_window)))
    return int(total) / int(days_seen) / windows, int(days_seen)


def _flag_enterers(qid: str, rules: Rules, result: ScanResult) -> set[int]:
    """Recompute the enterer_pattern groups of one questionnaire; return responses touched."""
    r = Response
    by_enterer = _score_sums(r.entered_by_id, r.questionnaire_id == qid, r.channel == "paper",
                             r.entered_by_id.is_not(None))
    citizens = _score_sums(sa.literal(0), r.questionnaire_id == qid,
                           r.channel.in_(LINK_CHANNELS)).get(0, ScoreSums(0, 0.0, 0.0))
    outliers = enterer_outliers(by_enterer, reference=citizens, min_n=rules.enterer_min,
                                gap=rules.enterer_gap)
    existing = db.session.scalars(sa.select(FlagGroup).where(
        FlagGroup.questionnaire_id == qid, FlagGroup.kind == "enterer_pattern")).all()
    wanted: dict[str, _Wanted] = {}
    for user_id, gap in outliers.items():
        rows = db.session.execute(
            sa.select(r.id, r.submitted_at).where(
                r.questionnaire_id == qid, r.channel == "paper", r.entered_by_id == user_id)
            .order_by(r.submitted_at)).all()
        if not rows:
            continue
        user = db.session.get(User, user_id)
        wanted[f"enterer_pattern:{qid}:{user_id}"] = _Wanted(
            "enterer_pattern", [row.id for row in rows], rows[0].submitted_at,
            rows[-1].submitted_at,
            {"n": gap.n, "mean": round(gap.mean, 1), "others_n": gap.others_n,
             "others_mean": round(gap.others_mean, 1), "z": round(gap.z, 2),
             "enterer": user.username if user else str(user_id), "gap": rules.enterer_gap})
    return _sync_groups(existing, wanted, qid, None, "", result)


def _score_sums(key: Any, *conditions: Any) -> dict[int, ScoreSums]:
    """Return the respondent scores (points, not thousandths) of responses, by ``key``."""
    r = Response
    return {int(k or 0): ScoreSums(int(n), float(total or 0) / 1000, float(squares or 0) / 1e6)
            for k, n, total, squares in db.session.execute(
                sa.select(key, sa.func.count(r.score_milli),
                          sa.func.coalesce(sa.func.sum(r.score_milli), 0),
                          sa.func.coalesce(sa.func.sum(r.score_milli * r.score_milli), 0))
                .where(*conditions, r.score_milli.is_not(None)).group_by(key))}


def _refresh_flags(ids: Iterable[int]) -> None:
    """Write each response's flag codes: its groups' kinds and any flags it was imported with."""
    ids = sorted(ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        kinds: dict[int, set[str]] = defaultdict(set)
        for pk, kind in db.session.execute(
                sa.select(response_flag.c.response_pk, FlagGroup.kind)
                .join(FlagGroup, FlagGroup.id == response_flag.c.group_id)
                .where(response_flag.c.response_pk.in_(chunk))):
            kinds[pk].add(kind)
        changes = []
        for pk, flags, imported in db.session.execute(
                sa.select(Response.id, Response.flags, Response.imported_flags)
                .where(Response.id.in_(chunk))):
            codes = kinds[pk] | set(imported.split())
            text = " ".join(c for c in FLAG_CODES if c in codes)
            if text != flags:
                changes.append({"pk": pk, "flags": text})
        if changes:
            db.session.execute(sa.update(Response.__table__).where(
                Response.__table__.c.id == sa.bindparam("pk")).values(
                flags=sa.bindparam("flags")), changes)


def parse_flags(text: str) -> tuple[str, list[str]]:
    """Return a file cell's flag codes as stored (known ones, contract order), and the unknown."""
    given = text.split()
    unknown = [code for code in given if code not in FLAG_CODES]
    return " ".join(c for c in FLAG_CODES if c in given), unknown


# --- exclusions ------------------------------------------------------------------------------

def set_excluded(responses: Sequence[Response], excluded: bool, reason: str, actor: User | str,
                 *, what: str = "") -> int:
    """Exclude responses (or take them back in), with a reason; return how many changed.

    The rollups follow at once: an excluded response leaves every count and joins
    ``n_excluded``. Audited with the receipts and the reason. The caller commits.
    """
    changed = []
    days: set[DayKey] = set()
    _lock(responses)
    for response in responses:
        if response.excluded == excluded:
            continue
        rollups.record(response, sign=-1)
        response.excluded = excluded
        if excluded:
            response.excluded_at = utcnow()
            response.excluded_by = actor if isinstance(actor, str) else actor.username
            response.excluded_reason = reason
        else:
            response.excluded_at = response.excluded_by = response.excluded_reason = None
        rollups.record(response, sign=1)
        days.add((response.questionnaire_id, response.unit_id,
                  vietnam_day(response.submitted_at)))
        changed.append(response.receipt)
    touch_days(days)  # their days are flagged again without them (or with them)
    if changed:
        user = actor if isinstance(actor, User) else None
        audit.record(user if user is not None else str(actor),
                     "response.exclude" if excluded else "response.include",
                     what or ", ".join(changed[:5]), receipts=changed, reason=reason)
    db.session.flush()
    return len(changed)


def _lock(responses: Sequence[Response]) -> None:
    """Lock the responses' rows for the rest of the transaction and read them afresh.

    Two people excluding the same response at once are then served one after the other, and
    the second sees it excluded already (its rollups are not moved twice). SQLite has no
    FOR UPDATE: there writers take turns for their whole transaction
    (:func:`transactions.writer_turn`), and reading afresh is what counts.
    """
    ids = sorted(r.id for r in responses if r.id is not None)
    for start in range(0, len(ids), 900):
        db.session.scalars(sa.select(Response).where(Response.id.in_(ids[start:start + 900]))
                           .order_by(Response.id).with_for_update()
                           .execution_options(populate_existing=True)).all()


def within(unit_ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """Return the condition of the flag groups wholly within these units.

    That is a group of one of them, or a group of an enterer (which has no unit) with every
    response from them.
    """
    outside = (sa.select(response_flag.c.group_id)
               .join(Response, Response.id == response_flag.c.response_pk)
               .where(response_flag.c.group_id == FlagGroup.id,
                      Response.unit_id.not_in(unit_ids)))
    return sa.or_(FlagGroup.unit_id.in_(unit_ids),
                  sa.and_(FlagGroup.unit_id.is_(None), ~sa.exists(outside)))


def in_scope(group: FlagGroup, unit_ids: Sequence[int] | None) -> bool:
    """Return whether an account limited to ``unit_ids`` (None: every unit) sees ``group``."""
    if unit_ids is None:
        return True
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(FlagGroup).where(
        FlagGroup.id == group.id, within(unit_ids))))


def group_responses(group: FlagGroup) -> list[Response]:
    """Return a group's responses, in time order."""
    return list(db.session.scalars(
        sa.select(Response).join(response_flag, response_flag.c.response_pk == Response.id)
        .where(response_flag.c.group_id == group.id)
        .order_by(Response.submitted_at, Response.id)))


def describe(group: FlagGroup) -> str:
    """Return the evidence of a group as a sentence (Vietnamese, or English when asked)."""
    e = group.evidence or {}
    if group.kind == "burst":
        return _("%(n)s phiếu trong vòng %(w)s phút qua cùng một mã QR; ngưỡng %(t)s phiếu "
                 "(bình thường khoảng %(u)s phiếu mỗi %(w)s phút, tính trên %(d)s ngày có phiếu "
                 "trong %(h)s ngày trước).", n=e.get("n"), w=e.get("window_minutes"),
                 t=e.get("threshold"), u=_decimal(e.get("usual_per_window", 0), 2),
                 d=e.get("days_seen"), h=e.get("history_days"))
    if group.kind == "same_answers":
        return _("%(n)s phiếu có toàn bộ câu trả lời giống hệt nhau, gửi qua cùng một mã QR "
                 "trong vòng %(w)s phút (ngưỡng %(m)s phiếu).", n=e.get("n"),
                 w=e.get("window_minutes"), m=e.get("min"))
    if group.kind == "straightline":
        return _("%(n)s/%(of)s phiếu trong ngày chọn cùng một mức (%(codes)s) cho cả %(items)s "
                 "câu được chấm điểm.", n=e.get("n"), of=e.get("of"),
                 codes=", ".join(str(c) for c in e.get("codes", [])), items=e.get("items"))
    if group.kind == "off_hours":
        text = _("%(n)s/%(of)s phiếu qua mã QR gửi ngoài giờ làm việc (%(hours)s).",
                 n=e.get("n"), of=e.get("of"), hours=e.get("hours"))
        if e.get("holiday"):
            text += " " + _("Ngày nghỉ lễ: %(name)s.", name=e["holiday"])
        return text
    if group.kind == "enterer_pattern":
        return _("Tài khoản %(user)s nhập %(n)s phiếu giấy, điểm trung bình %(mean)s; các người "
                 "nhập khác %(others)s phiếu, trung bình %(others_mean)s (chênh từ %(gap)s điểm "
                 "trở lên, z = %(z)s).", user=e.get("enterer"), n=e.get("n"),
                 mean=_decimal(e.get("mean", 0)), others=e.get("others_n"),
                 others_mean=_decimal(e.get("others_mean", 0)), gap=e.get("gap"),
                 z=_decimal(e.get("z", 0)))
    return ""


def _decimal(value: Any, places: int = 1) -> str:
    return f"{float(value):.{places}f}".replace(".", ",")


FLAG_ORDER: keyset.Order = [(FlagGroup.last_at, True), (FlagGroup.id, True)]
FLAG_KEY = [datetime, int]


def flag_groups(*, questionnaire_id: str | None = None, unit_ids: Sequence[int] | None = None,
                kinds: Sequence[str] = (), receipt: str | None = None, limit: int = 100,
                after: str = "") -> tuple[list[tuple[FlagGroup, int]], int, str]:
    """Return a page of flag groups (newest first, with excluded counts), total, next key.

    The next key is where the next page starts ("" on the last page).

    The page holds the groups after the one at ``after`` (read by key, no OFFSET).
    ``receipt`` (``XXXX-XXXX``) keeps the groups that hold that response.
    """
    conditions: list[Any] = []
    if receipt is not None:
        conditions.append(FlagGroup.id.in_(
            sa.select(response_flag.c.group_id)
            .join(Response, Response.id == response_flag.c.response_pk)
            .where(Response.receipt == receipt)))
    if questionnaire_id:
        conditions.append(FlagGroup.questionnaire_id == questionnaire_id)
    if unit_ids is not None:
        conditions.append(within(unit_ids))
    if kinds:
        conditions.append(FlagGroup.kind.in_(kinds))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(FlagGroup).where(
        *conditions)) or 0
    excluded = (sa.select(sa.func.count()).select_from(response_flag)
                .join(Response, Response.id == response_flag.c.response_pk)
                .where(response_flag.c.group_id == FlagGroup.id, Response.excluded.is_(True))
                .scalar_subquery())
    place = keyset.parse(after, FLAG_KEY)
    if place is not None:
        conditions.append(keyset.after(FLAG_ORDER, place))
    rows = db.session.execute(
        sa.select(FlagGroup, excluded).where(*conditions)
        .order_by(*keyset.order_by(FLAG_ORDER)).limit(limit + 1)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return ([(g, int(x)) for g, x in rows[:limit]], int(total),
            keyset.token(last.last_at, last.id) if last is not None else "")


__all__ = ["KIND_LABELS", "LINK_CHANNELS", "Rules", "ScanResult", "describe", "flag_groups",
           "group_responses", "hours_of", "in_scope", "parse_flags", "public_holidays", "scan",
           "set_excluded", "touch", "touch_unit", "within"]
