"""Migrations match the models, go down cleanly, and never lose stored responses."""

from __future__ import annotations

import shutil
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import check, downgrade, upgrade

from survey.extensions import db
from tests.conftest import make_app, reset_database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@pytest.fixture
def empty_app(database_url: str) -> Iterator[Flask]:
    reset_database(database_url)
    app = make_app(database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_migrations_match_the_models(empty_app: Flask) -> None:
    upgrade(directory=str(MIGRATIONS))
    assert tables() == set(db.metadata.tables)
    check(directory=str(MIGRATIONS))  # raises when autogenerate would find a difference
    downgrade(directory=str(MIGRATIONS), revision="base")
    assert tables() == set()


def _insert_responses(n: int) -> None:
    """Insert units, questionnaires and n responses with answers using plain SQL."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO unit (id, code, name, kind, active, created_at) "
            "VALUES (1, 'Q1', 'Quầy 1', 'counter', :t, :now)"), {"t": True, "now": now})
        conn.execute(sa.text(
            "INSERT INTO questionnaire (id, index_kind, latest_version) "
            "VALUES ('sipas-dichvu', 'sipas', 1)"))
        conn.execute(sa.text(
            "INSERT INTO questionnaire_version (questionnaire_id, version, title, definition, "
            "sha256, loaded_at) VALUES ('sipas-dichvu', 1, 't', 'd', :h, :now)"),
            {"h": "0" * 64, "now": now})
        for i in range(1, n + 1):
            rid = uuid.uuid4()
            value = rid.hex if conn.dialect.name == "sqlite" else rid
            conn.execute(sa.text(
                "INSERT INTO response (id, response_id, questionnaire_id, questionnaire_version, "
                "unit_id, channel, submitted_at, receipt, digest) VALUES "
                "(:id, :rid, 'sipas-dichvu', 1, 1, 'qr', :now, 'AAAA-BBBB', :d)"),
                {"id": i, "rid": value, "now": now, "d": f"{i:064d}"})
            for q in range(15, 34):
                conn.execute(sa.text(
                    "INSERT INTO answer (response_pk, question_id, option_code) "
                    "VALUES (:r, :q, :v)"), {"r": i, "q": f"q{q}", "v": 1 + (i + q) % 5})


def _counts() -> tuple[int, int, int]:
    with db.engine.connect() as conn:
        responses = conn.execute(sa.text("SELECT count(*) FROM response")).scalar_one()
        answers = conn.execute(sa.text("SELECT count(*) FROM answer")).scalar_one()
        checksum = conn.execute(sa.text("SELECT sum(option_code) FROM answer")).scalar_one()
    return int(responses), int(answers), int(checksum)


REBUILD = '''\
"""test only: rebuild the response table as SQLite batch mode does for any ALTER"""
from alembic import op
import sqlalchemy as sa

revision = "9999_rebuild"
down_revision = {head!r}
branch_labels = None
depends_on = None


def _recreate():
    # SQLite copies the table; PostgreSQL alters it in place.
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    with op.batch_alter_table("response", recreate=_recreate()) as batch:
        batch.add_column(sa.Column("note", sa.String(20), nullable=True))


def downgrade():
    with op.batch_alter_table("response", recreate=_recreate()) as batch:
        batch.drop_column("note")
'''


def test_upgrade_keeps_every_stored_response(empty_app: Flask, tmp_path: Path) -> None:
    """Responses stored at the first revision survive every later migration.

    A test revision on top of head rebuilds ``response`` the way SQLite batch mode does; with
    foreign keys on during migrations, dropping the old table would cascade into ``answer``.
    """
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    config = Config(str(migrations / "alembic.ini"))
    config.set_main_option("script_location", str(migrations))
    script = ScriptDirectory.from_config(config)
    base_revisions = list(script.walk_revisions())
    first = base_revisions[-1].revision
    head = script.get_current_head()
    (migrations / "versions" / "9999_rebuild.py").write_text(
        textwrap.dedent(REBUILD.format(head=head)), encoding="utf-8")

    upgrade(directory=str(migrations), revision=first)
    _insert_responses(25)
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO app_user (id, username, password_hash, role, active, created_at) "
            "VALUES (7, 'canbo', 'x', 'staff', :t, :now)"),
            {"t": True, "now": datetime.now(UTC).replace(tzinfo=None)})
    before = _counts()
    assert before[:2] == (25, 25 * 19)
    upgrade(directory=str(migrations))  # to head, through the table rebuild
    assert _counts() == before
    assert "note" in {c["name"] for c in sa.inspect(db.engine).get_columns("response")}
    with db.engine.connect() as conn:
        token = conn.execute(sa.text("SELECT session_token FROM app_user WHERE id = 7"))
        assert len(token.scalar_one()) == 32
    downgrade(directory=str(migrations), revision=head)
    assert _counts() == before
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_upgrade_folds_existing_text_answers_for_search(empty_app: Flask) -> None:
    """Migration 0007 fills the folded copy of the text answers stored before it."""
    upgrade(directory=str(MIGRATIONS), revision="0006_integrity")
    _insert_responses(3)
    with db.engine.begin() as conn:
        for pk, text in [(1, "Ghế CHỜ quá ít"), (2, "Đường vào  Ủy ban")]:
            conn.execute(sa.text(
                "INSERT INTO answer (response_pk, question_id, text_value) VALUES (:r, 'y', :t)"),
                {"r": pk, "t": text})
    upgrade(directory=str(MIGRATIONS))
    with db.engine.connect() as conn:
        folded = dict(conn.execute(sa.text(
            "SELECT response_pk, text_folded FROM answer WHERE question_id = 'y'")).all())
        choices = conn.execute(sa.text(
            "SELECT count(*) FROM answer WHERE text_folded IS NOT NULL")).scalar_one()
    assert folded == {1: "ghe cho qua it", 2: "duong vao uy ban"}
    assert choices == 2


def test_foreign_keys_are_on_again_after_migrating(tmp_path: Path) -> None:
    # env.py turns SQLite's foreign keys off to rebuild tables; the pooled connection must not
    # keep them off, or `init-db --demo` and everything else in that process would lose the
    # cascades (a deleted response would leave its case behind).
    app = make_app(f"sqlite:///{tmp_path / 'fk.db'}")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
