"""Staff accounts: creation, passwords, scopes and authentication."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, ApiToken, Unit, User
from . import audit
from .problems import Refusal, reason

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(Refusal):
    """An account cannot be created or changed; ``str()`` says why, ``field`` where."""


def normalise_username(username: str) -> str:
    """Return a username in its stored form."""
    return username.strip().lower()


# Words a ward's password is guessed from first, beside zxcvbn's own lists (which are English).
GUESSED_FIRST = ("matkhau", "mat khau", "mk", "anhyeuem", "emyeuanh", "yeuem", "vietnam",
                 "hanoi", "haiphong", "saigon", "hochiminh", "phuong", "ubnd", "uyban",
                 "khaosat", "hailong", "sipas", "papi", "quantri", "canbo", "totruong", "admin")
MIN_SCORE = 2
"""zxcvbn's score: 2 is "somewhat guessable" (at least a million guesses), enough behind a
login that throttles guesses; 0 and 1 are the passwords tried first."""


def check_password_strength(password: str, username: str = "") -> None:
    """Refuse passwords that are too short or among those guessed first.

    As NIST SP 800-63B asks, with no rules on the kinds of characters: common passwords,
    sequences and repeats (``1234567890``, ``aaaaaaaaaa``, ten spaces), the account's name.
    """
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD:
        raise AccountError(reason("password_short", min=MIN_PASSWORD), field="password")
    # zxcvbn refuses more than 72 characters (its time grows with the length); a password
    # whose first 72 are hard to guess is hard to guess.
    words = [w for w in (username, *GUESSED_FIRST) if w]
    if not password.strip() or zxcvbn(password[:72], user_inputs=words)["score"] < MIN_SCORE:
        raise AccountError(reason("password_weak"), field="password")


def get_user(username: str) -> User | None:
    """Return the account, or None."""
    username = normalise_username(username)
    if not USERNAME.match(username):
        return None
    return db.session.scalar(sa.select(User).where(User.username == username))


def _check_scope(role: str, units: Sequence[Unit], ward: Unit | None,
                 actor: User | str | None) -> Unit | None:
    """Check an account's role, units and ward; return its ward.

    A leader has units and no ward; admins and staff may be limited to a ward; the city has
    neither. An actor limited to a ward makes accounts of that ward only (its admins and
    staff limited to it, leaders of its units), never one of the city or of every ward.
    """
    if role not in ROLES:
        raise AccountError(reason("role", role=role[:20], roles=", ".join(ROLES)), field="role")
    if role == "leader" and not units:
        raise AccountError(reason("leader_units"), field="units")
    if role != "leader" and units:
        raise AccountError(reason("units_for_leaders"), field="units")
    if ward is not None and ward.kind != "ward":
        raise AccountError(reason("not_a_ward", code=ward.code), field="ward")
    if isinstance(actor, User) and not actor.sees_all_units:
        if role in ("admin", "staff") and ward is None:
            ward = actor.ward
        scope = set(actor.scope_ids() or ())
        if role == "city" or (ward is not None and ward.id != actor.ward_id) or any(
                u.id not in scope for u in units):
            raise AccountError(reason("outside_ward"), field="role")
    if ward is not None and role not in ("admin", "staff"):
        raise AccountError(reason("ward_for_office"), field="ward")
    return ward


def manages(actor: User, user: User) -> bool:
    """Return whether ``actor`` (an admin) may see and change the account ``user``."""
    if actor.sees_all_units:
        return True
    if user.is_office:
        return user.ward_id == actor.ward_id
    scope = set(actor.scope_ids() or ())
    return user.role == "leader" and bool(user.units) and all(u.id in scope for u in user.units)


def create_user(username: str, password: str, role: str, units: Sequence[Unit] = (), *,
                ward: Unit | None = None, actor: User | str | None = None) -> User:
    """Create an account.

    A leader must be given at least one unit; admins and staff may be limited to a ward.
    """
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise AccountError(reason("username"), field="username")
    ward = _check_scope(role, units, ward, actor)
    check_password_strength(password, username)
    if get_user(username) is not None:
        raise AccountError(reason("user_exists", name=username), field="username")
    user = User(username=username, role=role, units=list(units), ward=ward)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", username, role=role, units=[u.code for u in units],
                 **({"ward": ward.code} if ward else {}))
    return user


def set_password(user: User, password: str, *, actor: User | str | None) -> None:
    """Change a password; the account's API tokens are revoked with the old password."""
    check_password_strength(password, user.username)
    user.set_password(password)
    audit.record(actor, "user.password", user.username)
    revoke_tokens(user, actor=actor, why="password")
    db.session.flush()


def update_user(user: User, *, role: str, units: Sequence[Unit], active: bool,
                actor: User, ward: Unit | None | bool = False) -> None:
    """Change role, units, ward or active flag; an admin cannot lock themselves out.

    ``ward`` False keeps the account's ward (when its role still allows one).
    """
    if not manages(actor, user):
        raise AccountError(reason("outside_ward"), field="role")
    if ward is False or ward is True:
        ward = user.ward if role in ("admin", "staff") else None
    units = list(units) if role == "leader" else []
    ward = _check_scope(role, units, ward, actor)
    if user.id == actor.id and (role != "admin" or not active or ward != actor.ward):
        raise AccountError(reason("self_lockout"), field="role")
    old = {"role": user.role, "active": user.active, "units": [u.code for u in user.units],
           "ward": user.ward.code if user.ward else None}
    user.role, user.active, user.units, user.ward = role, active, units, ward
    if not active:
        revoke_tokens(user, actor=actor, why="disabled")
    new = {"role": role, "active": active, "units": [u.code for u in units],
           "ward": ward.code if ward else None}
    changed = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    if changed:
        audit.record(actor, "user.update", user.username, **changed)
    db.session.flush()


def authenticate(username: str, password: str) -> User | None:
    """Return the active account these credentials open, or None (same time either way)."""
    user = get_user(username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = datetime.now(UTC)
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, *, actor: User | str | None) -> str:
    """Create an API token for ``user`` and return it; only its digest is stored."""
    token = "sk_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name[:100] or "token",
                            token_sha256=_token_digest(token)))
    audit.record(actor, "token.create", user.username, name=name[:100])
    db.session.flush()
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """Return the account's API tokens in use, newest first."""
    return list(db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(user: User, token_id: int, *, actor: User | str | None) -> ApiToken | None:
    """Revoke one of the account's tokens; return it, or None if it has no such token."""
    row = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked.is_(False)))
    if row is None:
        return None
    row.revoked = True
    audit.record(actor, "token.revoke", user.username, name=row.name)
    db.session.flush()
    return row


def revoke_tokens(user: User, *, actor: User | str | None, why: str) -> int:
    """Revoke every token of the account (its password was set, or it was disabled)."""
    rows = tokens_of(user)
    for row in rows:
        row.revoked = True
    if rows:
        audit.record(actor, "token.revoke", user.username, names=[r.name for r in rows],
                     why=why)
        db.session.flush()
    return len(rows)


def user_for_token(token: str) -> User | None:
    """Return the active account an API token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.token_sha256 == _token_digest(token), ApiToken.revoked.is_(False)))
    if row is None or not row.user.active:
        return None
    row.last_used_at = datetime.now(UTC)
    return row.user
