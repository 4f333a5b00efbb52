"""Keep the database's copy of the questionnaires in step with ``questionnaires/``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from questionnaires import Questionnaire, QuestionnaireError, definition_files, load, loads

from ..extensions import db
from ..models import Questionnaire as QuestionnaireRow
from ..models import QuestionnaireVersion, Response


@dataclass(frozen=True)
class Registry:
    """Every loaded questionnaire version, and the latest version of each id."""

    versions: dict[tuple[str, int], Questionnaire]

    @property
    def latest(self) -> dict[str, Questionnaire]:
        """Return the highest version of each id."""
        result: dict[str, Questionnaire] = {}
        for q in self.versions.values():
            if q.id not in result or q.version > result[q.id].version:
                result[q.id] = q
        return result

    def get(self, questionnaire_id: str, version: int | None = None) -> Questionnaire | None:
        """Return that version (the latest when ``version`` is None), or None."""
        if version is None:
            return self.latest.get(questionnaire_id)
        return self.versions.get((questionnaire_id, version))


def load_registry(directory: Path) -> Registry:
    """Load every definition file (the loader checks file names against ids and versions)."""
    from questionnaires import load_all

    return Registry(load_all(directory))


def sync_questionnaires(directory: Path) -> list[str]:
    """Store new definitions; refuse to change a stored version that already has responses.

    Returns one line per questionnaire version added or refreshed.
    """
    changes: list[str] = []
    for path in definition_files(directory):
        source = path.read_text(encoding="utf-8")
        q = load(path)
        digest = hashlib.sha256(source.encode()).hexdigest()
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
            changes.append(f"{q.id} v{q.version}: added")
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
            changes.append(f"{q.id} v{q.version}: refreshed")
        db.session.flush()
    return changes


def _meaning(q: Questionnaire) -> object:
    """Return what must not change once a version has data (ids, codes, scores, groups)."""
    return [(x.id, x.type, x.group, x.subgroup,
             [(o.code, o.score, o.satisfied) for o in x.options]) for x in q.questions]
