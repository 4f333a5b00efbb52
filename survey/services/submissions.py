"""Store responses exactly once, whatever the network does.

The form carries a client ``response_id`` (UUID). A POST repeated with the same answers finds
the stored response and returns it; the same id with other answers is a conflict (409), as in
ODK Central. The UNIQUE constraint on ``response.response_id`` is the guard when two requests
race; the digest tells a retry from a conflict.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from questionnaires import Questionnaire

from ..extensions import db
from ..models import Answer, Response, SurveyLink, Unit, User, utcnow
from . import bulk, cases, rollups
from .integrity import touch
from .text import fold_text

AnswerValue = int | str


class ResponseConflict(Exception):
    """The response id is already stored with different answers."""

    def __init__(self, existing: Response) -> None:
        super().__init__(f"response {existing.response_id} already stored with other answers")
        self.existing = existing


@dataclass(frozen=True)
class Stored:
    """The stored response's primary key, and whether this call created it."""

    pk: int
    created: bool

    @property
    def response(self) -> Response:
        """The stored response (read when asked for: the citizen's receipt does not need it)."""
        response = db.session.get(Response, self.pk)
        assert response is not None  # noqa: S101 - stored in this transaction or before
        return response


def receipt_for(response_id: uuid.UUID) -> str:
    """Return the short receipt code shown to the citizen, e.g. ``K7QF-3MZD``.

    Derived from the id, so a retried request shows the same code.
    """
    digest = hashlib.sha256(response_id.bytes).digest()
    code = base64.b32encode(digest).decode()[:8]
    return f"{code[:4]}-{code[4:]}"


def digest_of(questionnaire: Questionnaire, unit: Unit, channel: str,
              answers: Mapping[str, AnswerValue]) -> str:
    """Return the SHA-256 of the canonical form of a submission."""
    # The version is left out: a response exported under version 1 and imported again after
    # version 2 was loaded is the same response, not a conflict.
    canonical = json.dumps(
        {"q": questionnaire.id, "unit": unit.code, "channel": channel,
         "answers": dict(sorted(answers.items()))},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_response(response_id: uuid.UUID) -> Response | None:
    """Return the stored response with that client id, or None."""
    return db.session.scalar(sa.select(Response).where(Response.response_id == response_id))


def save_response(questionnaire: Questionnaire, unit: Unit, channel: str,
                  response_id: uuid.UUID, answers: Mapping[str, AnswerValue], *,
                  link: SurveyLink | None = None, submitted_at: datetime | None = None,
                  entered_by: User | None = None, sheet_id: int | None = None,
                  open_case: bool = True, contact: cases.Contact | None = None) -> Stored:
    """Store a validated response once; return the existing one for an identical retry.

    ``answers`` maps question ids to option codes or texts, already checked against the
    questionnaire; blanks are simply absent. Raises ResponseConflict for the same id with
    other answers. The response, its answers and its rollup counts are written together (one
    statement on PostgreSQL, see bulk.py); the caller commits. Two requests racing with the
    same id cannot both store it: the UNIQUE constraint on ``response_id`` decides, and the
    loser finds the winner's row (PostgreSQL makes it wait for the winner's commit).

    A new response opens its case in the same transaction when the case rule says so
    (services/cases.py; ``open_case=False`` for imports of past data), with the citizen's
    ``contact`` if they left one.
    """
    digest = digest_of(questionnaire, unit, channel, answers)
    submitted_at = submitted_at or utcnow()
    score = rollups.score_milli(questionnaire.id, answers)
    row = {
        "response_id": response_id,
        "questionnaire_id": questionnaire.id,
        "questionnaire_version": questionnaire.version,
        "unit_id": unit.id,
        "channel": channel,
        "submitted_at": submitted_at,
        "receipt": receipt_for(response_id),
        "digest": digest,
        "link_id": link.id if link else None,
        "entered_by_id": entered_by.id if entered_by else None,
        "score_milli": score,
        "low": rollups.is_low(questionnaire.id, answers),
        "sheet_id": sheet_id,
    }
    # Every answer row names both value columns, so that they all go in one statement.
    answer_rows = bulk.Rows(Answer.__table__, [
        {"response_pk": None, "question_id": qid,
         "option_code": value if isinstance(value, int) else None,
         "text_value": value if isinstance(value, str) else None,
         "text_folded": fold_text(value) if isinstance(value, str) else None}
        for qid, value in answers.items()], parent="response_pk")
    # The answers go first: the rollup rows that every response of the day at this unit
    # shares are then held only from their update to the commit.
    counted = rollups.rollup_rows(questionnaire.id, submitted_at, unit.id, channel, score,
                                  answers)
    for _attempt in range(3):
        pk = bulk.insert_once(Response.__table__, row, unique="response_id",
                              children=[answer_rows, *counted])
        if pk is not None:
            if open_case:
                cases.open_for_new_response(pk, str(row["receipt"]), unit.id, submitted_at,
                                            questionnaire, answers, contact)
            return Stored(pk, created=True)
        existing = find_response(response_id)
        if existing is not None:
            return _same_or_conflict(existing, digest)
        # Taken, then gone: deleted by staff (and committed) between the two statements.
    raise RuntimeError(f"response {response_id} could be neither stored nor found")


def delete_response(response: Response) -> None:
    """Delete a response and take it out of the rollups (the caller commits)."""
    rollups.record(response, sign=-1)
    touch(response)  # the day's flags are counted again without it
    db.session.delete(response)
    db.session.flush()


def _same_or_conflict(existing: Response, digest: str) -> Stored:
    if existing.digest != digest:
        raise ResponseConflict(existing)
    return Stored(existing.id, created=False)
