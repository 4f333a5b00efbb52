"""`flask backup FILE` and `flask restore FILE`: the same summary after a round trip; bad files
refused with a clear line and nothing changed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from survey.extensions import db
from survey.models import AuditLog, Response
from tests.conftest import require_program, wait_until
from tests.survey.test_reports import QID, seed


def summary(app: Flask, out: Path) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=[
        "export", "--questionnaire", QID, "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    data.pop("generated_at", None)
    return data


def count() -> int:
    db.session.rollback()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0)


@pytest.fixture
def needs_pg_tools(database_url: str) -> None:
    if database_url.startswith("postgresql"):
        require_program("pg_dump")
        require_program("pg_restore")


def test_backup_then_restore_gives_the_same_summary(app: Flask, tmp_path: Path,
                                                    database_url: str,
                                                    needs_pg_tools: None) -> None:
    seed(app, 40)
    before = summary(app, tmp_path / "before.json")
    assert before["n_responses"] == 40
    runner = app.test_cli_runner()
    file = tmp_path / "sao-luu.db"
    result = runner.invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    assert "40 responses" in result.output
    if database_url.startswith("sqlite"):
        with sqlite3.connect(file) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM response").fetchone()[0] == 40

    seed(app, 7, seed_value=2)  # life goes on, then something goes wrong
    assert summary(app, tmp_path / "changed.json") != before

    result = runner.invoke(args=["restore", str(file), "--yes"])
    assert result.exit_code == 0, result.output
    assert "restored" in result.output
    assert count() == 40
    assert summary(app, tmp_path / "after.json") == before
    if database_url.startswith("sqlite"):
        kept = list(Path(db.engine.url.database or "").parent.glob("*before-restore*"))
        assert len(kept) == 1, "the replaced data is kept"
        with sqlite3.connect(kept[0]) as conn:
            assert conn.execute("SELECT count(*) FROM response").fetchone()[0] == 47
    actions = set(db.session.scalars(sa.select(AuditLog.action)))
    assert "database.restore" in actions


def test_restore_asks_first(app: Flask, tmp_path: Path, needs_pg_tools: None) -> None:
    seed(app, 5)
    runner = app.test_cli_runner()
    file = tmp_path / "b.db"
    assert runner.invoke(args=["backup", str(file)]).exit_code == 0
    seed(app, 3, seed_value=3)
    result = runner.invoke(args=["restore", str(file)], input="n\n")
    assert result.exit_code != 0
    assert "Replace every response" in result.output
    assert count() == 8


def test_backup_refuses_to_overwrite(app: Flask, tmp_path: Path, needs_pg_tools: None) -> None:
    file = tmp_path / "b.db"
    file.write_text("keep me")
    result = app.test_cli_runner().invoke(args=["backup", str(file)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert file.read_text() == "keep me"
    missing_dir = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "no" / "b.db")])
    assert missing_dir.exit_code == 1
    assert "does not exist" in missing_dir.output


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {}
    files["text"] = tmp / "notes.db"
    files["text"].write_text("không phải cơ sở dữ liệu", encoding="utf-8")
    files["empty"] = tmp / "empty.db"
    files["empty"].write_bytes(b"")
    other = tmp / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    files["other"] = other
    files["truncated"] = tmp / "truncated.db"
    files["missing"] = tmp / "nowhere.db"
    return files


@pytest.mark.parametrize("kind", ["text", "empty", "other", "truncated", "missing"])
def test_restore_refuses_a_bad_file_and_changes_nothing(app: Flask, tmp_path: Path,
                                                        database_url: str, kind: str,
                                                        needs_pg_tools: None) -> None:
    seed(app, 6)
    runner = app.test_cli_runner()
    good = tmp_path / "good.db"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0
    files = _bad_files(tmp_path)
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    result = runner.invoke(args=["restore", str(files[kind]), "--yes"])
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output
    assert "Traceback" not in result.output
    assert count() == 6


def test_backup_while_citizens_keep_writing(app: Flask, tmp_path: Path, database_url: str,
                                            needs_pg_tools: None) -> None:
    """The backup is taken while another connection keeps storing responses."""
    import re
    import threading
    import uuid

    from survey.services import units
    from survey.services.questionnaires import get_questionnaire
    from survey.services.submissions import save_response

    seed(app, 5)
    stop = threading.Event()
    written: list[int] = []

    def citizens() -> None:
        with app.app_context():
            questionnaire = get_questionnaire(QID)
            unit = units.get_unit("Q1")
            assert questionnaire is not None
            assert unit is not None
            while not stop.is_set():
                save_response(questionnaire, unit, "qr", uuid.uuid4(), {"q15": 4, "q16": 5})
                db.session.commit()
                written.append(1)
            db.session.remove()

    thread = threading.Thread(target=citizens)
    thread.start()
    try:
        wait_until(lambda: len(written) >= 3, "the citizens to start writing")
        file = tmp_path / "dang-chay.db"
        result = app.test_cli_runner().invoke(args=["backup", str(file)])
        assert result.exit_code == 0, result.output
        copied = int(re.search(r"(\d+) responses", result.output).group(1))  # type: ignore[union-attr]
        # The citizens go on writing after the backup's snapshot.
        wait_until(lambda: 5 + len(written) > copied, "a response written after the backup")
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert copied > 5
    assert written, "the citizens kept writing"
    if database_url.startswith("sqlite"):
        assert copied < 5 + len(written)
        with sqlite3.connect(file) as conn:
            # One consistent snapshot: every response with its answers and its rollup count.
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM response").fetchone()[0] == copied
            assert conn.execute("SELECT sum(n) FROM stat_response").fetchone()[0] == copied
            orphans = conn.execute("SELECT count(*) FROM response r WHERE NOT EXISTS "
                                   "(SELECT 1 FROM answer a WHERE a.response_pk = r.id)")
            assert orphans.fetchone()[0] == 0
