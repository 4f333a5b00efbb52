"""Backup and restore of the whole database, while the server keeps running.

SQLite: the online backup API copies one consistent snapshot (in WAL mode writers go on
meanwhile) into a temporary file that is renamed into place once checked. PostgreSQL: pg_dump
and pg_restore in their custom format, when the client programs are installed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables a backup of this application must hold.
REQUIRED_TABLES = frozenset({"alembic_version", "response", "answer", "unit"})


class BackupError(ValueError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds."""

    path: Path
    size: int
    responses: int
    revision: str


def _busy_seconds() -> float:
    return float(current_app.config["SQLITE_BUSY_TIMEOUT"]) / 1000


def _dialect() -> str:
    return db.engine.url.get_backend_name()


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def _check_target(target: Path) -> None:
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")


def _describe_sqlite(path: Path) -> BackupInfo:
    """Check that a file is a sound SQLite database of this application, and describe it."""
    try:
        with path.open("rb") as f:
            header = f.read(16)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not an SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{path} is damaged: integrity_check says {check!r}")
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = REQUIRED_TABLES - tables
        if missing:
            raise BackupError(f"{path} is not a backup of this application "
                              f"(no table {', '.join(sorted(missing))})")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        responses = conn.execute("SELECT count(*) FROM response").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as a database: {exc}") from exc
    finally:
        conn.close()
    return BackupInfo(path, path.stat().st_size, int(responses),
                      revision[0] if revision else "")


def check_revision(revision: str) -> None:
    """Refuse a backup whose schema this code does not know (made by a newer release)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(current_app.extensions["migrate"].directory))
    try:
        known = scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown or malformed id
        known = False
    if not known:
        raise BackupError(f"the backup's schema ({revision or 'none'}) is unknown to this "
                          "release: restore it with the release that made it, or a newer one")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(target: Path) -> BackupInfo:
    """Copy the live database to ``target`` (a new file) and return what it holds."""
    _check_target(target)
    if _dialect() == "postgresql":
        return _pg_dump(target)
    if _dialect() != "sqlite":
        raise BackupError(f"backup of {_dialect()} databases is not supported")
    source = sqlite3.connect(_sqlite_path(), timeout=_busy_seconds())
    partial = target.with_name(f".{target.name}.partial")
    try:
        destination = sqlite3.connect(partial)
        try:
            # In one step: in WAL mode the copy reads one snapshot while writers go on
            # appending to the WAL; copied in steps, every write by another connection
            # would restart the copy, which under steady load might never end.
            source.backup(destination)
            # A single file, readable without its -wal companion.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
        info = _describe_sqlite(partial)
        _fsync(partial)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from exc
    finally:
        source.close()
        partial.unlink(missing_ok=True)
    return BackupInfo(target, info.size, info.responses, info.revision)


def restore(source: Path) -> tuple[BackupInfo, Path | None]:
    """Replace the whole database with the backup ``source``.

    Keeps a backup of what is replaced beside the database (SQLite) and returns its path. The
    caller then upgrades the schema, since the backup may be older than the code.
    """
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if _dialect() == "postgresql":
        return _pg_restore(source), None
    if _dialect() != "sqlite":
        raise BackupError(f"restore of {_dialect()} databases is not supported")
    info = _describe_sqlite(source)
    check_revision(info.revision)
    live = _sqlite_path()
    kept = None
    if live.exists() and live.stat().st_size:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        kept = backup(live.with_name(f"{live.stem}.before-restore-{stamp}{live.suffix}"))
    db.session.remove()
    db.engine.dispose()
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(live, timeout=_busy_seconds())
    try:
        # The backup API writes the live file under its own lock: workers that read meanwhile
        # see either the old database or the new one, never a mix.
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"restore failed: {exc}") from exc
    finally:
        reader.close()
        writer.close()
    return info, kept.path if kept else None


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """Return libpq programs' options; the password goes by environment, never in argv."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    return args + ["--no-password"], env


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client); "
                          "see README, 'Backup and restore'")
    return path


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no message"


def _pg_info(path: Path) -> BackupInfo:
    """Describe a dump by the live database it was made from or restored into."""
    responses = db.session.scalar(sa.text("SELECT count(*) FROM response")) or 0
    revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) or ""
    return BackupInfo(path, path.stat().st_size, int(responses), str(revision))


def _pg_dump(target: Path) -> BackupInfo:
    args, env = _pg_env()
    partial = target.with_name(f".{target.name}.partial")
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from our own settings
        [_program("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(partial),
         db.engine.url.database or ""], env=env, capture_output=True, text=True)
    if done.returncode:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {_last_line(done.stderr)}")
    _fsync(partial)
    os.replace(partial, target)
    return _pg_info(target)


def _pg_restore(source: Path) -> BackupInfo:
    with source.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise BackupError(f"{source} is not a pg_dump file in custom format (pg_dump -Fc)")
    args, env = _pg_env()
    listing = subprocess.run([_program("pg_restore"), "--list", str(source)],  # noqa: S603
                             capture_output=True, text=True)
    if listing.returncode or " TABLE public response " not in listing.stdout:
        raise BackupError(f"{source} is not a backup of this application")
    db.session.remove()
    db.engine.dispose()
    done = subprocess.run(  # noqa: S603 - fixed program, arguments from our own settings
        [_program("pg_restore"), *args, "--clean", "--if-exists", "--no-owner",
         "--single-transaction", "--exit-on-error", "--dbname", db.engine.url.database or "",
         str(source)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"pg_restore failed: {_last_line(done.stderr)}")
    return _pg_info(source)
