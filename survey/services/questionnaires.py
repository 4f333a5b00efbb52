"""Keep the database's copy of the questionnaires in step with ``questionnaires/``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _

from questionnaires import Questionnaire, QuestionnaireError, definition_files, loads
from questionnaires.loader import MAX_VERSION, QUESTIONNAIRE_ID

from ..extensions import db
from ..models import Questionnaire as QuestionnaireRow
from ..models import QuestionnaireVersion, Response

_PARSED: dict[str, Questionnaire] = {}


def _parsed(stored: QuestionnaireVersion) -> Questionnaire:
    """Parse a stored definition once per content (keyed by its SHA-256)."""
    questionnaire = _PARSED.get(stored.sha256)
    if questionnaire is None:
        questionnaire = loads(stored.definition,
                              f"{stored.questionnaire_id} v{stored.version} (stored)")
        _PARSED[stored.sha256] = questionnaire
    return questionnaire


def get_questionnaire(questionnaire_id: str, version: int | None = None) -> Questionnaire | None:
    """Return a version stored in the database (the latest when ``version`` is None), or None.

    The database, not the files, is the reference: responses point to stored versions, so a
    file deployed before ``init-db`` has run is not offered to citizens yet.
    """
    if not QUESTIONNAIRE_ID.match(questionnaire_id or ""):
        return None
    # Asked several times per request (the form, scoring, rollups): remembered for the
    # session, which is the request's (or the command's) unit of work.
    memo: dict[tuple[str, int | None], Questionnaire | None] = db.session.info.setdefault(
        "questionnaires", {})
    key = (questionnaire_id, version)
    if key not in memo:
        memo[key] = found = _lookup(questionnaire_id, version)
        if found is not None:
            memo.setdefault((questionnaire_id, found.version), found)
    return memo[key]


def question_name(questionnaire: Questionnaire | None, question_id: str, *,
                  short: bool = False) -> str:
    """Return what people call a question: "Câu 15", as the questionnaire numbers it.

    ``short``: only the number ("15"), for a column headed "Câu". An unnumbered question is
    named by its text (shortened); one the questionnaire does not have (or no questionnaire)
    by its id, which is then all there is to show.
    """
    question = questionnaire.question(question_id) if questionnaire is not None else None
    if question is None:
        return question_id
    if question.number:
        return question.number if short else _("Câu %(number)s", number=question.number)
    text = question.text.get(str(get_locale() or "vi"))
    return text if len(text) <= 40 else text[:39].rstrip() + "…"


def remember_latest(questionnaire_id: str, version: int, sha256: str) -> None:
    """Note the latest version of a questionnaire, read along with something else.

    Spares ``get_questionnaire`` its query in this session when this process has parsed that
    content before; otherwise the query reads the definition as usual.
    """
    parsed = _PARSED.get(sha256)
    if parsed is not None:
        memo = db.session.info.setdefault("questionnaires", {})
        memo.setdefault((questionnaire_id, None), parsed)
        memo.setdefault((questionnaire_id, version), parsed)


def _lookup(questionnaire_id: str, version: int | None) -> Questionnaire | None:
    if version is not None and not 1 <= version <= MAX_VERSION:
        return None
    # One small query for the version's hash; the definition itself is read (and parsed) only
    # the first time this process meets that content.
    wanted = (QuestionnaireRow.latest_version if version is None
              else sa.literal(version, sa.Integer))
    found = db.session.execute(
        sa.select(QuestionnaireVersion.version, QuestionnaireVersion.sha256)
        .join(QuestionnaireRow, QuestionnaireRow.id == QuestionnaireVersion.questionnaire_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id,
               QuestionnaireVersion.version == wanted)).first()
    if found is None:
        return None
    parsed = _PARSED.get(found.sha256)
    if parsed is not None:
        return parsed
    stored = db.session.get(QuestionnaireVersion, (questionnaire_id, found.version))
    return None if stored is None else _parsed(stored)


def latest_questionnaires() -> list[Questionnaire]:
    """Return the latest stored version of every questionnaire, by id."""
    rows = db.session.scalars(sa.select(QuestionnaireRow).order_by(QuestionnaireRow.id))
    found = (get_questionnaire(row.id) for row in rows)
    return [q for q in found if q is not None]


class Change(str):
    """One line of what ``sync_questionnaires`` did, e.g. ``"sipas-dichvu v2: added"``."""

    questionnaire_id: str
    added: bool

    def __new__(cls, questionnaire_id: str, version: int, action: str) -> Change:
        line = super().__new__(cls, f"{questionnaire_id} v{version}: {action}")
        line.questionnaire_id = questionnaire_id
        line.added = action == "added"
        return line


def sync_questionnaires(directory: Path) -> list[Change]:
    """Store new definitions; refuse to change a stored version that already has responses.

    Returns one line per questionnaire version added or refreshed.
    """
    changes: list[Change] = []
    for path in definition_files(directory):
        source = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(source.encode()).hexdigest()
        # Parsed once per content in a process (a definition is immutable data).
        q = _PARSED.get(digest) or loads(source, str(path))
        _PARSED[digest] = q
        row = db.session.get(QuestionnaireRow, q.id)
        if row is None:
            row = QuestionnaireRow(id=q.id, index_kind=q.index, latest_version=q.version)
            db.session.add(row)
        elif row.index_kind != q.index:
            raise QuestionnaireError(f"{path}: index changed from {row.index_kind} to {q.index}")
        row.latest_version = max(row.latest_version, q.version)
        stored = db.session.get(QuestionnaireVersion, (q.id, q.version))
        if stored is None:
            db.session.add(QuestionnaireVersion(questionnaire_id=q.id, version=q.version,
                                                title=q.title.vi[:300], definition=source,
                                                sha256=digest))
            changes.append(Change(q.id, q.version, "added"))
        elif stored.sha256 != digest:
            used = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
                Response.questionnaire_id == q.id, Response.questionnaire_version == q.version))
            if used:
                old = loads(stored.definition, f"{q.id} v{q.version} (stored)")
                if _meaning(old) != _meaning(q):
                    raise QuestionnaireError(
                        f"{path}: version {q.version} already has {used} responses and its "
                        f"questions or options changed; copy it to v{q.version + 1}.yaml instead")
            stored.definition, stored.sha256 = source, digest
            stored.title = q.title.vi[:300]
            changes.append(Change(q.id, q.version, "refreshed"))
        db.session.flush()
    db.session.info.pop("questionnaires", None)  # what get_questionnaire remembered may change
    return changes


def has_responses(questionnaire_id: str) -> bool:
    """Return whether any response of this questionnaire is stored."""
    return db.session.scalar(sa.select(Response.id).where(
        Response.questionnaire_id == questionnaire_id).limit(1)) is not None


def _meaning(q: Questionnaire) -> object:
    """Return what must not change once a version has data (ids, codes, scores, groups)."""
    return [(x.id, x.type, x.group, x.subgroup,
             [(o.code, o.score, o.satisfied) for o in x.options]) for x in q.questions]
