"""Paper forms in residential groups: batches of printed sheets, entry, double entry, progress.

A batch is a run of printed sheets of one questionnaire for one unit, each with a serial (and a
QR code of its entry page) on every page. A leader types a returned sheet in; its serial can be
stored only once. In a double-entry batch a second person types the same sheet without seeing
the first entry; when both agree the response is stored, and when they differ the fields are
listed for reconciliation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from flask_babel import gettext as _

from questionnaires import Questionnaire

from ..extensions import db
from ..models import (
    Batch,
    QuestionnaireVersion,
    Response,
    Sheet,
    SheetEntry,
    SurveyLink,
    Unit,
    User,
    stat_response,
)
from . import audit
from . import units as unit_service
from .answers import check_answers
from .integrity import touch
from .questionnaires import get_questionnaire, latest_questionnaires
from .rollups import answers_of, is_low, record, score_milli
from .submissions import digest_of, save_response
from .text import clean_text

MAX_SHEETS = 2000

Outcome = Literal["stored", "waiting", "mismatch"]


class PaperError(ValueError):
    """A sheet cannot be entered or changed; the message says why, in Vietnamese."""


def format_serial(serial: int) -> str:
    """Return a serial as printed: six digits."""
    return f"{serial:06d}"


def parse_serial(text: str) -> int | None:
    """Return the serial typed or scanned ("000123", "123"), or None."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    serial = int(text)
    return serial if serial > 0 else None


def create_batch(questionnaire_id: str, unit: Unit, sheet_count: int, *,
                 leader: User | None, double_entry: bool, note: str = "",
                 actor: User | str | None) -> Batch:
    """Create a batch and allocate its serials (the next free numbers)."""
    questionnaire = get_questionnaire(questionnaire_id)
    if questionnaire is None:
        raise PaperError(_("Không có phiếu khảo sát %(id)s.", id=questionnaire_id))
    if not 1 <= sheet_count <= MAX_SHEETS:
        raise PaperError(_("Số phiếu phải từ 1 đến %(max)d.", max=MAX_SHEETS))
    if leader is not None and not unit_service.can_see(leader, unit):
        raise PaperError(_("Tài khoản %(user)s không phụ trách đơn vị %(unit)s.",
                                 user=leader.username, unit=unit.code))
    batch = Batch(questionnaire_id=questionnaire_id,
                  questionnaire_version=questionnaire.version, unit_id=unit.id,
                  leader_id=leader.id if leader else None, sheet_count=sheet_count,
                  double_entry=double_entry, note=clean_text(note)[:200],
                  created_by_id=actor.id if isinstance(actor, User) else None)
    db.session.add(batch)
    db.session.flush()
    # Serials are unique; two batches created at once may race, and the UNIQUE constraint
    # then refuses one of them (the caller reports it and the officer simply tries again).
    start = (db.session.scalar(sa.select(sa.func.max(Sheet.serial))) or 0) + 1
    db.session.add_all(Sheet(batch_id=batch.id, serial=start + i) for i in range(sheet_count))
    db.session.flush()
    audit.record(actor, "batch.create", f"batch {batch.id}", unit=unit.code,
                 questionnaire=questionnaire_id, sheets=sheet_count,
                 serials=[format_serial(start), format_serial(start + sheet_count - 1)],
                 double_entry=double_entry, leader=leader.username if leader else None)
    return batch


def questionnaire_of(batch: Batch) -> Questionnaire:
    """Return the questionnaire version printed on a batch's sheets."""
    questionnaire = get_questionnaire(batch.questionnaire_id, batch.questionnaire_version)
    assert questionnaire is not None  # noqa: S101  (the foreign key keeps it stored)
    return questionnaire


def get_sheet(serial: int) -> Sheet | None:
    """Return the sheet with this serial, or None."""
    return db.session.scalar(sa.select(Sheet).where(Sheet.serial == serial))


def can_use(user: User, batch: Batch) -> bool:
    """Whether ``user`` may see and enter the sheets of ``batch``."""
    return user.sees_unit(batch.unit_id)


SheetStatus = Literal["issued", "waiting", "mismatch", "counted", "verified"]


def status_of(sheet: Sheet) -> SheetStatus:
    """Return where a sheet stands.

    issued: not typed yet; waiting: typed once, a second typing is due (double entry);
    mismatch: the two typings differ; counted: stored and in the scores but still to be
    checked; verified: settled.
    """
    if sheet.verified_at is not None:
        return "verified"
    if len(sheet.entries) >= 2:
        return "mismatch"
    if sheet.response is not None:
        return "counted"
    return "waiting" if sheet.entries else "issued"


def next_pass(sheet: Sheet, user: User) -> int:
    """Return which typing this user would do now (1 or 2), or raise PaperError."""
    serial = format_serial(sheet.serial)
    if sheet.verified_at is not None:
        receipt = sheet.response.receipt if sheet.response else ""
        raise PaperError(_("Phiếu số %(serial)s đã được nhập và lưu (mã phiếu %(receipt)s). "
                           "Muốn sửa, hãy dùng nút Sửa.", serial=serial, receipt=receipt))
    if not sheet.entries:
        return 1
    if len(sheet.entries) >= 2:
        raise PaperError(_("Phiếu số %(serial)s đã nhập đủ hai lần; hãy đối chiếu các ô "
                           "khác nhau.", serial=serial))
    if sheet.entries[0].entered_by_id == user.id:
        raise PaperError(_("Phiếu số %(serial)s cần người khác nhập lần hai (nhập kép "
                           "không nhìn bản nhập đầu).", serial=serial))
    return 2


@dataclass(frozen=True)
class EntryResult:
    """What an entry did, and the stored response when there is one."""

    outcome: Outcome
    response: Response | None = None


def enter_sheet(sheet: Sheet, raw: Mapping[str, Any], user: User, *,
                count_before_verified: bool = False) -> EntryResult:
    """Check and record one typing of a sheet; store the response when it is settled.

    In a double-entry batch the response is stored when both typings agree (or after a
    reconciliation); with ``count_before_verified`` the first typing is stored and counted at
    once, and the checks that follow correct it. Raises PaperError for a refused sheet and
    InvalidAnswers for codes that do not fit.
    """
    if not can_use(user, sheet.batch):
        raise PaperError(_("Tài khoản này không được nhập phiếu của đơn vị này."))
    pass_no = next_pass(sheet, user)
    questionnaire = questionnaire_of(sheet.batch)
    answers, errors = check_answers(questionnaire, raw)
    if errors:
        raise InvalidAnswers(errors)
    db.session.add(SheetEntry(sheet_id=sheet.id, pass_no=pass_no, entered_by_id=user.id,
                              answers=answers))
    db.session.flush()
    db.session.refresh(sheet)
    if not sheet.batch.double_entry:
        return EntryResult("stored", _settle(sheet, questionnaire, answers, user))
    if pass_no == 1:
        if count_before_verified:
            _store(sheet, questionnaire, answers, user)
        return EntryResult("waiting", sheet.response)
    if sheet.entries[0].answers == answers:
        return EntryResult("stored", _settle(sheet, questionnaire, answers, user))
    return EntryResult("mismatch", sheet.response)


class InvalidAnswers(ValueError):
    """Typed codes that do not fit their questions; ``errors`` maps question id to reason."""

    def __init__(self, errors: Mapping[str, Any]) -> None:  # reasons: str() words them
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _store(sheet: Sheet, questionnaire: Questionnaire, answers: Mapping[str, int | str],
           user: User) -> Response:
    unit = db.session.get(Unit, sheet.batch.unit_id)
    assert unit is not None  # noqa: S101
    # A fresh id: the UNIQUE link from response to sheet is what makes a sheet count once, and
    # an id derived from the serial could meet an imported one in another database.
    stored = save_response(questionnaire, unit, "paper", uuid.uuid4(), answers,
                           entered_by=user, sheet_id=sheet.id)
    db.session.refresh(sheet)
    return stored.response


def _settle(sheet: Sheet, questionnaire: Questionnaire, answers: Mapping[str, int | str],
            user: User) -> Response:
    """Store (or correct) the sheet's response with its final answers, and mark it verified."""
    if sheet.response is None:
        response = _store(sheet, questionnaire, answers, user)
    else:
        response = sheet.response
        edit_response(response, answers, user)
    sheet.verified_at = datetime.now(UTC)
    db.session.flush()
    audit.record(user, "sheet.verify", format_serial(sheet.serial), receipt=response.receipt)
    return response


@dataclass(frozen=True)
class Difference:
    """A field the two typings disagree on."""

    question_id: str
    first: int | str | None
    second: int | str | None


def differences(sheet: Sheet) -> list[Difference]:
    """Return the fields where the first and second typing differ, in questionnaire order."""
    if len(sheet.entries) < 2:
        return []
    first, second = sheet.entries[0].answers, sheet.entries[1].answers
    order = [q.id for q in questionnaire_of(sheet.batch).questions]
    return [Difference(qid, first.get(qid), second.get(qid)) for qid in order
            if first.get(qid) != second.get(qid)]


def reconcile(sheet: Sheet, raw: Mapping[str, Any], user: User) -> Response:
    """Store a sheet whose typings differ, with the values read again from the paper.

    ``raw`` holds the chosen value of each differing field; agreed fields are kept.
    """
    if not can_use(user, sheet.batch):
        raise PaperError(_("Tài khoản này không được nhập phiếu của đơn vị này."))
    lock(sheet)
    if status_of(sheet) != "mismatch":
        raise PaperError(_("Phiếu số %(serial)s không cần đối chiếu.",
                           serial=format_serial(sheet.serial)))
    questionnaire = questionnaire_of(sheet.batch)
    diffs = differences(sheet)
    chosen, errors = check_answers(questionnaire, {d.question_id: raw.get(d.question_id, "")
                                                   for d in diffs})
    if errors:
        raise InvalidAnswers(errors)
    answers = {k: v for k, v in sheet.entries[0].answers.items()
               if k not in {d.question_id for d in diffs}}
    answers.update(chosen)
    response = _settle(sheet, questionnaire, answers, user)
    audit.record(user, "sheet.reconcile", format_serial(sheet.serial),
                 fields={d.question_id: [d.first, d.second, answers.get(d.question_id)]
                         for d in diffs})
    return response


def lock(row: Response | Sheet) -> None:
    """Take the row's write lock for the rest of the transaction, then read it afresh.

    A no-op UPDATE locks the row on PostgreSQL and takes SQLite's write lock, so that two
    people editing (or reconciling) the same sheet at once are served one after the other,
    each seeing what the other stored, and the rollups are adjusted from the true old values.
    """
    table = type(row).__table__
    db.session.execute(sa.update(table).where(table.c.id == row.id).values(id=table.c.id))
    db.session.refresh(row)
    if isinstance(row, Response):
        db.session.expire(row, ["answers"])
    else:
        db.session.expire(row, ["entries", "response"])


def edit_response(response: Response, raw: Mapping[str, Any], user: User) -> dict[str, Any]:
    """Change a stored response's answers; the audit log keeps who, when, old and new.

    Returns the changes as ``{question_id: [old, new]}`` (empty when nothing changed).
    """
    lock(response)
    questionnaire = get_questionnaire(response.questionnaire_id, response.questionnaire_version)
    assert questionnaire is not None  # noqa: S101
    answers, errors = check_answers(questionnaire, raw)
    if errors:
        raise InvalidAnswers(errors)
    old = answers_of(response)
    changes: dict[str, Any] = {qid: [old.get(qid), answers.get(qid)]
                               for qid in sorted(set(old) | set(answers))
                               if old.get(qid) != answers.get(qid)}
    if not changes:
        return {}
    from ..models import Answer

    record(response, sign=-1)  # out of the rollups with the old answers ...
    response.answers = [
        Answer(question_id=qid, option_code=value if isinstance(value, int) else None,
               text_value=value if isinstance(value, str) else None)
        for qid, value in answers.items()]
    unit = db.session.get(Unit, response.unit_id)
    assert unit is not None  # noqa: S101
    response.digest = digest_of(questionnaire, unit, response.channel, answers)
    response.score_milli = score_milli(response.questionnaire_id, answers)
    response.low = is_low(response.questionnaire_id, answers)
    db.session.flush()
    record(response)  # ... and back in with the new ones
    touch(response)  # its flags may change (straightline, an enterer's scores)
    audit.record(user, "response.edit", response.receipt, changes=changes,
                 at=datetime.now(UTC).isoformat())
    return changes


@dataclass
class Progress:
    """Sheets of one unit (or the ward): issued, returned, entered, verified, and the target."""

    unit: Unit | None
    issued: int = 0
    returned: int = 0
    entered: int = 0
    verified: int = 0
    target: int | None = None

    @property
    def share(self) -> float | None:
        """Return verified sheets as a percentage of the target."""
        return 100 * self.verified / self.target if self.target else None


def progress(visible: Sequence[Unit], *, ward_target: int, questionnaire_id: str | None = None
             ) -> tuple[list[Progress], Progress]:
    """Return the progress of each unit with batches (and of all together) against targets.

    A unit's target is its own ``sample_target`` or, for a group, its ward's target shared
    evenly between the active groups of that ward (group_targets); the whole's target is the
    sum of the targets of the wards whose groups are listed.
    """
    ids = [u.id for u in visible]
    query = sa.select(Batch).where(Batch.unit_id.in_(ids))
    if questionnaire_id:
        query = query.where(Batch.questionnaire_id == questionnaire_id)
    batches = db.session.scalars(query).all()
    # Every active group of a ward takes an even share of it, whoever is looking.
    targets = group_targets(ward_target)
    rows: dict[int, Progress] = {
        u.id: Progress(u, target=targets.get(u.id))
        for u in visible if u.kind == "group" and u.active}
    for batch in batches:
        unit = next(u for u in visible if u.id == batch.unit_id)
        row = rows.setdefault(unit.id, Progress(unit, target=unit.sample_target))
        entered = sum(1 for s in batch.sheets if s.entries)
        row.issued += batch.sheet_count
        row.returned += max(batch.returned_count, entered)
        row.entered += entered
        row.verified += sum(1 for s in batch.sheets if s.verified_at is not None)
    wards = {row.unit.ward for row in rows.values() if row.unit is not None}
    total = Progress(None, target=sum(_ward_target(w, ward_target) for w in wards)
                     if wards else ward_target)
    for row in rows.values():
        total.issued += row.issued
        total.returned += row.returned
        total.entered += row.entered
        total.verified += row.verified
    ordered = sorted(rows.values(), key=lambda r: r.unit.code if r.unit else "")
    return ordered, total


def batch_questionnaires(groups: Sequence[Unit]) -> list[Questionnaire]:
    """Return the questionnaires a new batch may use, the likeliest first.

    First those of the latest batches (the newest first), then those whose links are open at
    residential groups (the ones meant for them), then the rest; the newest version loaded
    breaks ties.
    """
    latest = latest_questionnaires()
    recent: list[str] = []
    for qid in db.session.scalars(sa.select(Batch.questionnaire_id).order_by(
            Batch.id.desc()).limit(50)):
        if qid not in recent:
            recent.append(qid)
    at_groups = set(db.session.scalars(sa.select(SurveyLink.questionnaire_id).where(
        SurveyLink.unit_id.in_([u.id for u in groups]), SurveyLink.active)))
    loaded: dict[str, datetime] = dict(db.session.execute(sa.select(
        QuestionnaireVersion.questionnaire_id, sa.func.max(QuestionnaireVersion.loaded_at))
        .group_by(QuestionnaireVersion.questionnaire_id)).all())

    def rank(q: Questionnaire) -> tuple[int, int, float, str]:
        when = loaded.get(q.id)
        return (recent.index(q.id) if q.id in recent else len(recent),
                0 if q.id in at_groups else 1, -(when.timestamp() if when else 0.0), q.id)

    return sorted(latest, key=rank)


def _ward_target(ward: Unit | None, ward_target: int) -> int:
    return ward.sample_target if ward is not None and ward.sample_target else ward_target


def group_targets(ward_target: int) -> dict[int, int]:
    """Return the sheets wanted from each active residential group, by unit id.

    A group's own ``sample_target`` when it has one; otherwise its ward's target (the ward's
    own ``sample_target``, else ``ward_target``, the configured SAMPLE_TARGET) shared evenly,
    rounded up, between the active groups of the same ward. Groups under no ward share
    ``ward_target`` between them. A city instance holds many wards: each is shared on its own.
    """
    everything = db.session.scalars(sa.select(Unit)).all()  # parents then come from the session
    groups = [u for u in everything if u.kind == "group" and u.active]
    per_ward: dict[int | None, int] = {}
    for group in groups:
        ward = group.ward
        per_ward[ward.id if ward else None] = per_ward.get(ward.id if ward else None, 0) + 1
    targets = {}
    for group in groups:
        ward = group.ward
        share = -(-_ward_target(ward, ward_target) // per_ward[ward.id if ward else None])
        targets[group.id] = group.sample_target or share
    return targets


def default_sheet_count(ward_target: int, group: Unit | None) -> int:
    """Return the sheets a new batch for ``group`` offers: its target (group_targets)."""
    wanted = group_targets(ward_target).get(group.id) if group is not None else None
    return max(1, min(MAX_SHEETS, wanted or ward_target))


def paper_counted(unit_ids: Sequence[int], questionnaire_id: str | None = None
                  ) -> dict[int, int]:
    """Return, per unit, the paper responses counted in the results (the rollups).

    The dashboard's "Phiếu giấy" adds up the same counts: sheets entered and counted (double
    entry: once the two typings agree or are reconciled), and paper rows imported from a file.
    """
    t = stat_response
    query = sa.select(t.c.unit_id, sa.func.sum(t.c.n)).where(
        t.c.channel == "paper", t.c.unit_id.in_(list(unit_ids))).group_by(t.c.unit_id)
    if questionnaire_id:
        query = query.where(t.c.questionnaire_id == questionnaire_id)
    return {unit_id: int(n or 0) for unit_id, n in db.session.execute(query)}
