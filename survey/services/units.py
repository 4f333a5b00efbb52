"""Units (counters, offices, residential groups, wards) and their survey links."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import UNIT_KINDS, Questionnaire, QuestionnaireVersion, SurveyLink, Unit, User
from . import audit
from .problems import Refusal, reason
from .questionnaires import remember_latest

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
# Link codes are typed from a poster by people with poor eyesight: no 0/o, 1/l/i.
LINK_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LINK_CODE_LENGTH = 6
LINK_CODE = re.compile(r"^[a-z0-9]{4,16}$")


class UnitError(Refusal):
    """A unit or link cannot be created or changed; ``str()`` says why, ``field`` where."""


def normalise_code(code: str) -> str:
    """Return a unit code in its stored form (upper case, trimmed)."""
    return code.strip().upper()


def clean_name(name: str) -> str:
    """Return a display name in NFC with single spaces and no control characters."""
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C")
    return " ".join(name.split())


def get_unit(code: str) -> Unit | None:
    """Return the unit with ``code`` (any case), or None."""
    code = normalise_code(code)
    if not UNIT_CODE.match(code):
        return None  # cannot exist; and PostgreSQL refuses some characters (NUL) outright
    return db.session.scalar(sa.select(Unit).where(Unit.code == code))


def create_unit(code: str, name: str, kind: str, *, parent: Unit | None = None,
                actor: User | str | None = None) -> Unit:
    """Create a unit; codes are unique, upper case, letters, digits, '-' and '_'."""
    code = normalise_code(code)
    name = clean_name(name)
    if not UNIT_CODE.match(code):
        raise UnitError(reason("unit_code", code=code[:40]), field="code")
    if not name or len(name) > 200:
        raise UnitError(reason("unit_name"), field="name")
    if kind not in UNIT_KINDS:
        raise UnitError(reason("unit_kind", kind=kind[:20], kinds=", ".join(UNIT_KINDS)),
                        field="kind")
    if get_unit(code) is not None:
        raise UnitError(reason("unit_exists", code=code), field="code")
    if parent is not None and kind == "ward":
        raise UnitError(reason("ward_parent"), field="parent")
    parent = default_ward(parent, kind)
    if isinstance(actor, User) and not actor.sees_all_units and (
            kind == "ward" or parent is None or not can_see(actor, parent)):
        raise UnitError(reason("unit_outside_ward"), field="parent")
    unit = Unit(code=code, name=name, kind=kind, parent=parent)
    db.session.add(unit)
    db.session.flush()
    audit.record(actor, "unit.create", code, name=name, kind=kind,
                 parent=parent.code if parent else None)
    return unit


ALWAYS_OPEN = "không giới hạn"
"""What staff write for a unit that takes responses at any hour (stored as "")."""


def update_unit(unit: Unit, *, name: str, active: bool, parent: Unit | None,
                actor: User | str | None, opening_hours: str | None | bool = False) -> None:
    """Change a unit's name, parent, active flag or opening hours (never its code: QR codes).

    ``opening_hours``: the unit's own hours (``analysis.flags.OpeningHours`` reads them),
    None for its kind's default, :data:`ALWAYS_OPEN` (or "") for no limit; False leaves them.
    A change of hours has the unit's days flagged again.
    """
    from analysis.flags import OpeningHours

    from .integrity import touch_unit

    name = clean_name(name)
    if not name or len(name) > 200:
        raise UnitError(reason("unit_name"), field="name")
    if parent is not None and (parent.id == unit.id or unit.kind == "ward"):
        raise UnitError(reason("unit_parent"), field="parent")
    hours = unit.opening_hours
    if opening_hours is not False:
        text = str(opening_hours or "").strip()
        if not text:
            hours = None  # the default of the unit's kind
        elif text.lower() in (ALWAYS_OPEN, ""):
            hours = ""
        else:
            try:
                hours = OpeningHours.parse(text).describe()
            except ValueError as exc:
                raise UnitError(reason("opening_hours", part=str(exc)[:60]),
                                field="opening_hours") from exc
    old = {"name": unit.name, "active": unit.active,
           "parent": unit.parent.code if unit.parent else None, "hours": unit.opening_hours}
    unit.name, unit.active, unit.parent, unit.opening_hours = name, active, parent, hours
    new = {"name": name, "active": active, "parent": parent.code if parent else None,
           "hours": hours}
    changed = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    if changed:
        audit.record(actor, "unit.update", unit.code, **changed)
    if "hours" in changed:
        touch_unit(unit)
    db.session.flush()


def visible_units(user: User, *, include_inactive: bool = True) -> Sequence[Unit]:
    """Return the units ``user`` may see.

    Every unit for the city and for admins and staff limited to no ward, their ward's units
    for those limited to one, their own for a leader.
    """
    query = sa.select(Unit).order_by(Unit.kind != "ward", Unit.code)
    if not include_inactive:
        query = query.where(Unit.active)
    scope = user.scope_ids()
    if scope is not None:
        query = query.where(Unit.id.in_(scope))
    return db.session.scalars(query).all()


def can_see(user: User, unit: Unit) -> bool:
    """Return whether ``user`` may see ``unit`` and its data."""
    scope = user.scope_ids()
    return scope is None or unit.id in scope


def can_change(user: User, unit: Unit) -> bool:
    """Return whether ``user`` may change ``unit``.

    Admins and staff of its ward (or of every ward) may; the city role and leaders never.
    """
    return user.is_office and can_see(user, unit)


def wards() -> Sequence[Unit]:
    """Return every ward, by code."""
    return db.session.scalars(sa.select(Unit).where(Unit.kind == "ward")
                              .order_by(Unit.code)).all()


def default_ward(parent: Unit | None, kind: str) -> Unit | None:
    """Return the ward a new unit belongs to: the one named, else the only ward there is.

    With several wards a unit must name its own (contract §11); with none (an installation
    made before wards) it may have none.
    """
    if parent is not None or kind == "ward":
        return parent
    known = db.session.scalars(sa.select(Unit).where(Unit.kind == "ward").limit(2)).all()
    if len(known) == 1:
        return known[0]
    if known:
        raise UnitError(reason("unit_ward"), field="parent")
    return None


def get_link(code: str) -> SurveyLink | None:
    """Return the survey link with ``code``, or None."""
    code = code.lower()
    if not LINK_CODE.match(code):
        return None
    found = db.session.execute(_link_query(), {"code": code}).first()
    if found is None:
        return None
    link, version, sha256 = found
    if version is not None and sha256 is not None:
        remember_latest(link.questionnaire_id, version, sha256)
    return link


@functools.cache
def _link_query() -> sa.Select[SurveyLink, int | None, str | None]:
    """Return the query of every citizen's request, built once (it is the same every time).

    It also reads which version of the link's questionnaire is the latest, so that the form
    (asked for next) usually needs no query of its own.
    """
    return (sa.select(SurveyLink, QuestionnaireVersion.version, QuestionnaireVersion.sha256)
            .outerjoin(Questionnaire, Questionnaire.id == SurveyLink.questionnaire_id)
            .outerjoin(QuestionnaireVersion, sa.and_(
                QuestionnaireVersion.questionnaire_id == Questionnaire.id,
                QuestionnaireVersion.version == Questionnaire.latest_version))
            .where(SurveyLink.code == sa.bindparam("code"))
            .options(joinedload(SurveyLink.unit).joinedload(Unit.parent)))


def link_for(unit: Unit, questionnaire_id: str) -> SurveyLink | None:
    """Return the unit's link for that questionnaire, or None."""
    return db.session.scalar(sa.select(SurveyLink).where(
        SurveyLink.unit_id == unit.id, SurveyLink.questionnaire_id == questionnaire_id))


def ensure_link(unit: Unit, questionnaire_id: str, *,
                actor: User | str | None = None) -> SurveyLink:
    """Return the unit's link for the questionnaire, creating it with a fresh short code."""
    existing = link_for(unit, questionnaire_id)
    if existing is not None:
        return existing
    if db.session.get(Questionnaire, questionnaire_id) is None:
        raise UnitError(reason("unknown_questionnaire", id=questionnaire_id[:64]),
                        field="questionnaire")
    while True:
        code = "".join(secrets.choice(LINK_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        if get_link(code) is None:
            break
    link = SurveyLink(code=code, unit=unit, questionnaire_id=questionnaire_id)
    db.session.add(link)
    db.session.flush()
    audit.record(actor, "link.create", code, unit=unit.code, questionnaire=questionnaire_id)
    return link


def set_link_active(link: SurveyLink, active: bool, *, actor: User | str | None) -> None:
    """Open or close a link; a closed link shows citizens a polite notice."""
    if link.active != active:
        link.active = active
        audit.record(actor, "link.open" if active else "link.close", link.code,
                     unit=link.unit.code, questionnaire=link.questionnaire_id)
        db.session.flush()


def link_url(base_url: str, link: SurveyLink) -> str:
    """Return the absolute public URL of a link (what its QR code holds)."""
    return f"{base_url.rstrip('/')}/s/{link.code}"
