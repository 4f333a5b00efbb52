"""The command line of contract §3: init-db, units, users, qr."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from survey.extensions import db
from survey.models import AuditLog, SurveyLink, Unit, User
from survey.services import units
from tests.conftest import make_app, require_program, reset_database


@pytest.fixture
def bare_app(database_url: str) -> Iterator[Flask]:
    """An app on an empty database: init-db must build everything itself."""
    reset_database(database_url)
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def run(app: Flask, *args: str, input: str | None = None) -> Any:  # noqa: A002
    return app.test_cli_runner().invoke(args=list(args), input=input)


def assert_clean_failure(result: Any, message: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_init_db_creates_schema_and_questionnaires_idempotently(bare_app: Flask) -> None:
    first = run(bare_app, "init-db")
    assert first.exit_code == 0, first.output
    assert "questionnaire sipas-dichvu v1: added" in first.output
    second = run(bare_app, "init-db")
    assert second.exit_code == 0, second.output
    assert "added" not in second.output
    with bare_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0
    assert "users create NAME --role admin" in second.output  # how to make the first account
    assert "no account yet" not in run(bare_app, "init-db", "--demo").output


def test_init_db_demo_seeds_only_a_new_database(bare_app: Flask) -> None:
    result = run(bare_app, "init-db", "--demo")
    assert result.exit_code == 0, result.output
    password = re.search(r"password:\s+(\S+)", result.output)
    assert password
    assert "username:    admin" in result.output
    assert "http://survey.test/login" in result.output
    with bare_app.app_context():
        codes = set(db.session.scalars(sa.select(Unit.code)))
        assert {"TRANLIEU", "HCC-TPHT", "HCC-DDXD", "HCC-CT", "PVHXH", "TDP-01", "TDP-02",
                "TDP-03"} <= codes
        ward = units.get_unit("TRANLIEU")
        assert ward is not None
        assert ward.name == "Phường Trần Liễu"
        counter = units.get_unit("HCC-CT")
        assert counter is not None
        assert counter.kind == "counter"
        assert counter.parent_id == ward.id
        assert units.link_for(counter, "sipas-dichvu") is not None
        assert units.link_for(counter, "mau-02") is not None
        links = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyLink))
        admin = db.session.scalars(sa.select(User)).one()
        assert admin.role == "admin"
        assert admin.check_password(password.group(1))
    again = run(bare_app, "init-db", "--demo")
    assert again.exit_code == 0
    assert "not seeded" in again.output
    assert "password" not in again.output
    with bare_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyLink)) == links
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_units_create_and_list(bare_app: Flask) -> None:
    run(bare_app, "init-db")
    assert run(bare_app, "units", "create", "TRANLIEU", "--name", "Phường Trần Liễu", "--kind",
               "ward").exit_code == 0
    result = run(bare_app, "units", "create", "tdp-05", "--name", "Tổ dân phố số 5",
                 "--kind", "group", "--parent", "TRANLIEU")
    assert result.exit_code == 0, result.output
    assert "unit TDP-05 created" in result.output
    listing = run(bare_app, "units", "list").output
    assert "TDP-05\tgroup\tTổ dân phố số 5" in listing
    with bare_app.app_context():
        actions = list(db.session.scalars(sa.select(AuditLog.action)))
        assert actions.count("unit.create") == 2


@pytest.mark.parametrize(("args", "message"), [
    (["TDP-1", "--name", "X", "--kind", "planet"], "Invalid value for '--kind'"),
    (["TDP 1", "--name", "X", "--kind", "group"], "invalid unit code"),
    (["TDP-1", "--name", "", "--kind", "group"], "a unit needs a name"),
    (["TDP-1", "--name", "X", "--kind", "group", "--parent", "NOPE"], "unknown parent unit"),
])
def test_units_create_refuses_bad_input(bare_app: Flask, args: list[str], message: str) -> None:
    run(bare_app, "init-db")
    result = run(bare_app, "units", "create", *args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in result.output


def test_duplicate_unit_is_one_clear_line(bare_app: Flask) -> None:
    run(bare_app, "init-db")
    run(bare_app, "units", "create", "Q1", "--name", "Quầy 1", "--kind", "counter")
    result = run(bare_app, "units", "create", "q1", "--name", "Quầy 1", "--kind", "counter")
    assert_clean_failure(result, "unit Q1 already exists")


def test_users_create_reads_password_from_stdin(bare_app: Flask) -> None:
    run(bare_app, "init-db")
    run(bare_app, "units", "create", "TDP-01", "--name", "Tổ 1", "--kind", "group")
    result = run(bare_app, "users", "create", "totruong", "--role", "leader", "--unit",
                 "TDP-01", input="mat-khau-rat-dai\nignored second line\n")
    assert result.exit_code == 0, result.output
    with bare_app.app_context():
        user = db.session.scalars(sa.select(User)).one()
        assert user.check_password("mat-khau-rat-dai")
        assert [u.code for u in user.units] == ["TDP-01"]
        assert "mat-khau-rat-dai" not in user.password_hash
    listing = run(bare_app, "users", "list").output
    assert "totruong\tleader\tTDP-01\tactive" in listing
    changed = run(bare_app, "users", "set-password", "totruong", input="mat-khau-moi-dai\n")
    assert changed.exit_code == 0
    with bare_app.app_context():
        assert db.session.scalars(sa.select(User)).one().check_password("mat-khau-moi-dai")


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["a1", "--role", "leader"], "mat-khau-rat-dai\n", "a leader needs at least one unit"),
    (["a1", "--role", "leader", "--unit", "NOPE"], "mat-khau-rat-dai\n", "unknown unit 'NOPE'"),
    (["a1", "--role", "staff"], "ngan\n", "at least 10 characters"),
    (["a1", "--role", "staff"], "", "no password on standard input"),
    (["a b", "--role", "staff"], "mat-khau-rat-dai\n", "a username has 2-64 characters"),
    (["a1", "--role", "staff", "--unit", "TDP-01"], "mat-khau-rat-dai\n",
     "only leaders are limited to units"),
])
def test_users_create_refuses_bad_input(bare_app: Flask, args: list[str], stdin: str,
                                        message: str) -> None:
    run(bare_app, "init-db")
    run(bare_app, "units", "create", "TDP-01", "--name", "Tổ 1", "--kind", "group")
    result = run(bare_app, "users", "create", *args, input=stdin)
    assert_clean_failure(result, message)
    with bare_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_qr_writes_png_and_svg_and_prints_the_link(bare_app: Flask, tmp_path: Path) -> None:
    run(bare_app, "init-db")
    run(bare_app, "units", "create", "HCC-CT", "--name", "Quầy Chứng thực", "--kind", "counter")
    png = run(bare_app, "qr", "sipas-dichvu", "--unit", "HCC-CT", "--out",
              str(tmp_path / "x.png"))
    assert png.exit_code == 0, png.output
    link = png.output.strip().splitlines()[-1]
    assert re.fullmatch(r"http://survey\.test/s/[a-z2-9]{6}", link)
    svg = run(bare_app, "qr", "sipas-dichvu", "--unit", "hcc-ct", "--out",
              str(tmp_path / "x.svg"))
    assert svg.output.strip().splitlines()[-1] == link  # the same link, not a new one
    assert (tmp_path / "x.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "x.svg").read_bytes()
    zbarimg = require_program("zbarimg")
    decoded = subprocess.run([zbarimg, "-q", "--raw", str(tmp_path / "x.png")],
                             capture_output=True, check=True, text=True).stdout.strip()
    assert decoded == link


@pytest.mark.parametrize(("args", "message"), [
    (["nope", "--unit", "Q1", "--out", "x.png"], "unknown questionnaire 'nope'"),
    (["sipas-dichvu", "--unit", "NOPE", "--out", "x.png"], "unknown unit 'NOPE'"),
    (["sipas-dichvu", "--unit", "Q1", "--out", "x.jpg"], "--out must end in .png or .svg"),
    (["sipas-dichvu", "--unit", "Q1", "--out", "/nonexistent/dir/x.png"], "cannot write"),
])
def test_qr_refuses_bad_input(bare_app: Flask, args: list[str], message: str,
                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run(bare_app, "init-db")
    run(bare_app, "units", "create", "Q1", "--name", "Quầy 1", "--kind", "counter")
    result = run(bare_app, "qr", *args)
    assert_clean_failure(result, message)


def test_commands_before_init_db_explain_what_to_do(bare_app: Flask) -> None:
    result = run(bare_app, "units", "create", "Q1", "--name", "Quầy 1", "--kind", "counter")
    assert_clean_failure(result, "init-db")


def test_questionnaires_check(bare_app: Flask, tmp_path: Path) -> None:
    ok = run(bare_app, "questionnaires", "check")
    assert ok.exit_code == 0
    assert "sipas-dichvu v1: 28 questions, 19 scored, index sipas" in ok.output
    bad = tmp_path / "mau-02" / "v1.yaml"
    bad.parent.mkdir()
    bad.write_text("id: mau-02\nversion: 1\n", encoding="utf-8")
    result = run(bare_app, "questionnaires", "check", str(tmp_path))
    assert_clean_failure(result, "missing key: index")
    assert str(bad) in result.output


def test_changing_a_used_version_is_refused(bare_app: Flask, tmp_path: Path) -> None:
    """A definition whose meaning changed after it collected data must become a new version."""
    from questionnaires import DEFINITIONS_DIR

    copy = tmp_path / "defs"
    for path in DEFINITIONS_DIR.glob("*/v*.yaml"):
        target = copy / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    bare_app.config["QUESTIONNAIRE_DIR"] = str(copy)
    run(bare_app, "init-db")
    run(bare_app, "units", "create", "Q1", "--name", "Quầy 1", "--kind", "counter")
    with bare_app.app_context():
        import uuid

        from questionnaires import load
        from survey.services.submissions import save_response

        unit = units.get_unit("Q1")
        assert unit is not None
        q = load(copy / "sipas-dichvu" / "v1.yaml")
        save_response(q, unit, "qr", uuid.uuid4(), {"q15": 4})
        db.session.commit()
    path = copy / "sipas-dichvu" / "v1.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Rất hài lòng, en: Very satisfied", "Rất hài lòng!, en: Very "
                                 "satisfied"), encoding="utf-8")
    wording = run(bare_app, "init-db")
    assert wording.exit_code == 0, wording.output  # a wording fix is allowed
    assert "sipas-dichvu v1: refreshed" in wording.output
    path.write_text(text.replace("{code: 5, score: 5, satisfied: true,",
                                 "{code: 5, score: 4, satisfied: true,"), encoding="utf-8")
    result = run(bare_app, "init-db")
    assert result.exit_code != 0
    assert "copy it to v2.yaml" in result.output
