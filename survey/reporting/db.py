"""The database handle reporting reads through: a session, or a scoped one (the app's)."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

Db: TypeAlias = Session | scoped_session[Any]
