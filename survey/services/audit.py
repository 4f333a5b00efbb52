"""The audit log of staff actions."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditLog, User


def record(actor: User | str | None, action: str, target: str, **details: Any) -> AuditLog:
    """Add one entry: ``actor`` is an account, or a name such as ``"cli"`` for the shell."""
    if isinstance(actor, User):
        entry = AuditLog(user_id=actor.id, actor=actor.username, action=action,
                         target=target[:200], details=details)
    else:
        entry = AuditLog(user_id=None, actor=actor or "system", action=action,
                         target=target[:200], details=details)
    db.session.add(entry)
    return entry
