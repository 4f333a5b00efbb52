"""Command line: ``flask --app wsgi COMMAND``.

Each command wraps service functions and commits once. A user's mistake ends with a one-line
reason and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from questionnaires import QuestionnaireError, load_all

from .extensions import db
from .models import ROLES, UNIT_KINDS, Unit, User
from .services import accounts, audit, backup, demo, integrity, qrcodes, rollups, units, wards
from .services.problems import Refusal
from .services.questionnaires import get_questionnaire, has_responses, sync_questionnaires

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(command: F) -> F:
    """Turn the errors a user can cause into one-line messages and exit status 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (units.UnitError, accounts.AccountError, QuestionnaireError, ValueError) as exc:
            db.session.rollback()
            # A service's refusal is worded in English here, like the rest of the CLI.
            text = exc.english() if isinstance(exc, Refusal) else str(exc)
            raise click.ClickException(text) from exc
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            db.session.rollback()
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise click.ClickException(
                f"database error: {reason}. Has 'flask --app wsgi init-db' run?") from exc

    return wrapper  # type: ignore[return-value]


def _migrate_up() -> None:
    from flask_migrate import upgrade

    upgrade(directory=str(Path(current_app.extensions["migrate"].directory)))


@click.command("init-db")
@click.option("--demo", "with_demo", is_flag=True,
              help="Seed the demo ward (Phường Trần Liễu) when the database is new.")
@with_appcontext
@friendly_errors
def init_db(with_demo: bool) -> None:
    """Create or upgrade the schema and load the questionnaires; idempotent."""
    _prepare_database()
    if not with_demo and not db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("no account yet: create the first one with\n"
                   "  flask --app wsgi users create NAME --role admin")
    if with_demo:
        if not demo.is_new_database():
            click.echo("demo data: not seeded, the database already holds units or accounts")
            return
        password = demo.seed_demo()
        db.session.commit()
        sample = demo.seed_sample()
        integrity.scan()
        db.session.commit()
        base = current_app.config["BASE_URL"]
        click.echo("demo data: Phường Trần Liễu with 7 units (counters, an office, "
                   "residential groups) and Phường An Biên with 4, and their survey links")
        click.echo(f"  sample responses: {sample} made-up responses over the last "
                   f"{demo.SAMPLE_MONTHS} months (remove them with: flask --app wsgi demo remove)")
        click.echo(f"  staff login: {base}/login")
        click.echo(f"  username:    {demo.ADMIN_USERNAME}")
        click.echo(f"  password:    {password}")
        click.echo("  (shown only this once; change it under 'Tài khoản' after logging in)")


# Any number: the key of the PostgreSQL advisory lock that one init-db at a time holds.
INIT_LOCK = 0x5355_5256  # "SURV"


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Hold a lock while the database is prepared (PostgreSQL; SQLite has one host).

    Hosts started together (each ``make serve`` runs init-db) upgrade it one after the other.
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": INIT_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": INIT_LOCK})
            connection.commit()


def _prepare_database() -> None:
    """Upgrade the schema, load the questionnaires and bring the rollups in step."""
    with _one_at_a_time():
        _prepare_locked()


def _prepare_locked() -> None:
    _migrate_up()
    directory = Path(current_app.config["QUESTIONNAIRE_DIR"])
    changes = sync_questionnaires(directory)
    for line in changes:
        click.echo(f"questionnaire {line}")
    db.session.commit()
    rescore = any(c.added and has_responses(c.questionnaire_id) for c in changes)
    if rescore:
        # A new version decides what counts from now on, for the old responses too.
        click.echo("rollups: scoring the stored responses with the new version ...")
        rollups.rebuild(rescore="all")
        db.session.commit()
    elif not rollups.totals_in_step():
        click.echo("rollups: counting the stored responses again ...")
        rollups.rebuild()
        db.session.commit()
    elif not rollups.profiles_in_step():  # e.g. after migration 0015 added them
        click.echo("rollups: counting the answers by profile question again ...")
        rollups.rebuild_profiles()
        db.session.commit()
    if rollups.fill_low():  # responses stored before the flag was kept (migration 0012)
        db.session.commit()
        click.echo("low ratings: marked the responses stored before migration 0012")
    scanned = integrity.scan()
    db.session.commit()
    if scanned.responses or scanned.days:
        click.echo(f"flags: {scanned.responses} new response(s) over {scanned.days} day(s) "
                   f"looked at, {scanned.groups} flagged group(s)")
    click.echo("database ready: " + db.engine.url.render_as_string(hide_password=True))


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@friendly_errors
def backup_(file: Path) -> None:
    """Copy the whole database to FILE (a new file) while the server keeps running.

    SQLite: an online backup, checked with integrity_check. PostgreSQL: pg_dump -Fc.
    """
    info = backup.backup(file)
    audit.record("cli", "database.backup", str(file.name))
    db.session.commit()
    click.echo(f"backup written: {info.path} ({info.size:,} bytes, {info.responses} responses, "
               f"schema {info.revision})")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
@with_appcontext
@friendly_errors
def restore(file: Path, yes: bool) -> None:
    """Replace the whole database with the backup FILE, then upgrade its schema."""
    if not yes:
        click.confirm(f"Replace every response, unit and account in "
                      f"{db.engine.url.render_as_string(hide_password=True)} with {file}?",
                      abort=True)
    info, kept = backup.restore(file)
    if kept:
        click.echo(f"the data replaced is kept in {kept}")
    _prepare_database()
    audit.record("cli", "database.restore", str(file.name))
    db.session.commit()
    click.echo(f"restored {info.path}: {info.responses} responses")


units_cli = AppGroup("units", help="Manage units (counters, offices, residential groups).")


@units_cli.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Display name, in Vietnamese.")
@click.option("--kind", required=True, type=click.Choice(UNIT_KINDS))
@click.option("--parent", "parent_code", help="Code of the ward this unit belongs to.")
@friendly_errors
def units_create(code: str, name: str, kind: str, parent_code: str | None) -> None:
    """Create a unit."""
    parent = None
    if parent_code:
        parent = units.get_unit(parent_code)
        if parent is None:
            raise click.ClickException(f"unknown parent unit {parent_code!r}")
    unit = units.create_unit(code, name, kind, parent=parent, actor="cli")
    db.session.commit()
    click.echo(f"unit {unit.code} created")


@click.command("address")
@click.option("--host", help="Address served (default: SURVEY_LISTEN_HOST, else 127.0.0.1).")
@click.option("--port", type=int, help="Port served (default: SURVEY_LISTEN_PORT, else 5000).")
@click.option("--record", is_flag=True,
              help="Also write the host and port to SURVEY_SERVING_FILE (instance/serving.json), "
                   "which later commands read when SURVEY_LISTEN_* and SURVEY_BASE_URL are unset.")
@with_appcontext
def address(host: str | None, port: int | None, record: bool) -> None:
    """Print where the app is served and the address its QR codes hold (make run's banner)."""
    from .addresses import DEFAULT_PORT, LOOPBACK, banner, record_serving

    host = host or str(current_app.config.get("LISTEN_HOST") or LOOPBACK)
    port = port or int(current_app.config.get("LISTEN_PORT") or DEFAULT_PORT)
    if record:
        record_serving(current_app.config["SERVING_FILE"], host, port)
    for line in banner(host, port, current_app.config["BASE_URL"]):
        click.echo(line)


@units_cli.command("list")
@friendly_errors
def units_list() -> None:
    """List units with their survey links."""
    from .addresses import is_loopback_url

    base = current_app.config["BASE_URL"]
    if is_loopback_url(base):
        click.echo(f"warning: the links name {base}, which a phone cannot open; set "
                   "SURVEY_BASE_URL (or serve with make run HOST=0.0.0.0)", err=True)
    for unit in db.session.scalars(sa.select(Unit).order_by(Unit.code)):
        state = "" if unit.active else " (inactive)"
        click.echo(f"{unit.code}\t{unit.kind}\t{unit.name}{state}")
        for link in unit.links:
            click.echo(f"\t{link.questionnaire_id}\t{units.link_url(base, link)}")


demo_cli = AppGroup("demo", help="The demo ward's made-up sample responses.")


@demo_cli.command("remove")
@friendly_errors
def demo_remove() -> None:
    """Delete the demo sample responses; the units, links and accounts stay."""
    removed = demo.remove_sample(actor="cli")
    integrity.scan()
    db.session.commit()
    if removed:
        click.echo(f"demo data: {removed} sample responses removed")
    else:
        click.echo("demo data: no sample responses to remove")


cases_cli = AppGroup("cases", help="Cases (phản ánh, kiến nghị): jobs for cron.")


@cases_cli.command("purge")
@friendly_errors
def cases_purge() -> None:
    """Delete the citizens' contacts of cases closed more than CASE_CONTACT_DAYS days ago.

    Run daily from cron; prints how many contacts were deleted (0 when none was due).
    """
    from .services import cases

    deleted = cases.purge_contacts()
    db.session.commit()
    days = current_app.config["CASE_CONTACT_DAYS"]
    click.echo(f"contacts deleted: {deleted} (cases closed more than {days} days ago)")


@cases_cli.command("overdue")
@click.option("--unit", "unit_codes", multiple=True, help="Only these units; repeatable.")
@friendly_errors
def cases_overdue(unit_codes: tuple[str, ...]) -> None:
    """List the cases waiting for a reply past their due day; the count on the last line.

    One line per case: receipt, unit, due day, status and days overdue. Exit status 0.
    """
    from analysis.workdays import local_day

    from .models import Case, utcnow
    from .services import cases

    today = local_day(utcnow())
    query = (sa.select(Case, Unit.code).join(Unit, Unit.id == Case.unit_id)
             .where(cases.overdue_condition(today)).order_by(Case.due, Case.id))
    if unit_codes:
        chosen = []
        for code in unit_codes:
            unit = units.get_unit(code)
            if unit is None:
                raise click.ClickException(f"unknown unit {code!r}")
            chosen.append(unit.id)
        query = query.where(sa.or_(Case.unit_id.in_(chosen), Case.handling_unit_id.in_(chosen)))
    rows = db.session.execute(query).all()
    for case, code in rows:
        late = (today - case.due).days
        click.echo(f"{case.receipt}\t{code}\tdue {case.due.isoformat()}\t{case.status}\t"
                   f"{late} day(s) overdue")
    click.echo(f"overdue: {len(rows)}")


users_cli = AppGroup("users", help="Manage staff accounts.")


def _read_password() -> str:
    """First line of standard input when it is not a terminal; asked twice on a terminal."""
    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin else ""
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_codes", multiple=True, help="A unit a leader is limited to.")
@click.option("--ward", "ward_code", default=None,
              help="The ward an admin or staff account is limited to (contract §11).")
@friendly_errors
def users_create(username: str, role: str, unit_codes: tuple[str, ...],
                 ward_code: str | None) -> None:
    """Create an account; the password comes from standard input."""
    scope: list[Unit] = []
    for code in unit_codes:
        unit = units.get_unit(code)
        if unit is None:
            raise click.ClickException(f"unknown unit {code!r}")
        scope.append(unit)
    ward = None
    if ward_code is not None:
        ward = units.get_unit(ward_code)
        if ward is None or ward.kind != "ward":
            raise click.ClickException(f"unknown ward {ward_code!r}")
    if accounts.get_user(username) is not None:
        raise click.ClickException(f"user {accounts.normalise_username(username)} already exists")
    password = _read_password()
    user = accounts.create_user(username, password, role, scope, ward=ward, actor="cli")
    db.session.commit()
    limited = f", ward {ward.code}" if ward else ""
    click.echo(f"user {user.username} created ({user.role}{limited})")


def _user(username: str) -> User:
    """Return the account named, or stop with "unknown user"."""
    user = accounts.get_user(username)
    if user is None:
        raise click.ClickException(f"unknown user {username!r}")
    return user


@users_cli.command("set-password")
@click.argument("username")
@friendly_errors
def users_set_password(username: str) -> None:
    """Set a new password; it comes from standard input."""
    user = _user(username)
    accounts.set_password(user, _read_password(), actor="cli")
    db.session.commit()
    click.echo(f"password of {user.username} changed")


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="api", help="What the token is for.")
@friendly_errors
def users_token(username: str, name: str) -> None:
    """Create an API token for /api/v1/ and print it (shown only this once)."""
    user = _user(username)
    token = accounts.create_token(user, name, actor="cli")
    db.session.commit()
    click.echo(token)


@users_cli.command("tokens")
@click.argument("username")
@friendly_errors
def users_tokens(username: str) -> None:
    """List an account's API tokens in use: id, name, created, last used (UTC)."""
    user = _user(username)
    for token in accounts.tokens_of(user):
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "-"
        click.echo(f"{token.id}\t{token.name}\t"
                   f"{token.created_at.isoformat(timespec='seconds')}\t{used}")


@users_cli.command("revoke-token")
@click.argument("username")
@click.argument("token_id", required=False, type=click.IntRange(1, 2**31 - 1))
@click.option("--all", "every", is_flag=True, help="Revoke every token of the account.")
@friendly_errors
def users_revoke_token(username: str, token_id: int | None, every: bool) -> None:
    """Revoke one API token (its id from `users tokens`), or --all of them."""
    user = _user(username)
    if every == (token_id is not None):
        raise click.UsageError("give a token id or --all (not both)")
    if every:
        count = accounts.revoke_tokens(user, actor="cli", why="cli")
        db.session.commit()
        click.echo(f"{count} token(s) of {user.username} revoked")
        return
    assert token_id is not None  # noqa: S101 - checked above
    revoked = accounts.revoke_token(user, token_id, actor="cli")
    if revoked is None:
        raise click.ClickException(f"{user.username} has no token {token_id} in use")
    db.session.commit()
    click.echo(f"token {token_id} ({revoked.name}) of {user.username} revoked")


@users_cli.command("list")
@friendly_errors
def users_list() -> None:
    """List accounts."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        scope = (f"ward:{user.ward.code}" if user.ward
                 else ",".join(u.code for u in user.units) or "-")
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{scope}\t{state}")


@click.command("qr")
@click.argument("questionnaire_id")
@click.option("--unit", "unit_code", required=True, help="Code of the unit.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.png or FILE.svg")
@with_appcontext
@friendly_errors
def qr(questionnaire_id: str, unit_code: str, out: Path) -> None:
    """Write the QR code of a unit's survey link; print the link on the last line."""
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise click.ClickException("--out must end in .png or .svg")
    if get_questionnaire(questionnaire_id) is None:
        raise click.ClickException(f"unknown questionnaire {questionnaire_id!r}")
    unit = units.get_unit(unit_code)
    if unit is None:
        raise click.ClickException(f"unknown unit {unit_code!r}")
    link = units.ensure_link(unit, questionnaire_id, actor="cli")
    db.session.commit()
    url = units.link_url(current_app.config["BASE_URL"], link)
    data = qrcodes.qr_png(url) if suffix == ".png" else qrcodes.qr_svg(url)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from exc
    if not link.active:
        click.echo("warning: this link is closed; citizens will see a notice", err=True)
    click.echo(url)


@click.command("export")
@click.option("--questionnaire", "questionnaire_id", required=True)
@click.option("--format", "fmt", required=True,
              type=click.Choice(["json", "csv", "xlsx", "pdf", "docx"]),
              help="docx: the administrative report to file (needs --period).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", help="2025, 2025-H1, 2025-Q4 or 2025-10 (or last-month, "
                               "last-quarter…): instead of --from/--to.")
@click.option("--from", "date_from", help="First day (YYYY-MM-DD), Vietnam time.")
@click.option("--to", "date_to", help="Last day (YYYY-MM-DD), inclusive.")
@click.option("--number", default="", help="docx: the document number (Số); blank by default.")
@click.option("--unit", "unit_codes", multiple=True, help="A unit code; repeat for several.")
@click.option("--channel", "channels", multiple=True, help="qr, kiosk, paper or import.")
@click.option("--aggregation", type=click.Choice(["mean_of_items", "pooled"]),
              default="mean_of_items", help="SIPAS: mean of item rates (default) or pooled.")
@click.option("--labels", is_flag=True,
              help="xlsx: the sheet Dữ liệu shows option labels and unit and channel names "
                   "instead of codes (for reading; the default re-imports).")
@with_appcontext
@friendly_errors
def export(questionnaire_id: str, fmt: str, out: Path, period: str | None,
           date_from: str | None, date_to: str | None, number: str,
           unit_codes: tuple[str, ...], channels: tuple[str, ...], aggregation: str,
           labels: bool) -> None:
    """Export a summary (json), rows (csv), a workbook (xlsx) or a report (pdf, docx).

    docx is the administrative report to file with the city, for a --period.
    """
    from analysis.periods import PeriodError, period_of
    from analysis.vietnam import vietnam_date

    from .reporting import exports, pdf, report, summaries, xlsx
    from .reporting import filters as report_filters

    today = vietnam_date(datetime.now(UTC))
    chosen = None
    if period is not None:
        if date_from or date_to:
            raise click.ClickException("give either --period or --from/--to, not both")
        try:
            chosen = period_of(period, today)
        except PeriodError as exc:
            raise click.ClickException(str(exc)) from exc
        date_from, date_to = chosen.start.isoformat(), chosen.end.isoformat()
    if fmt == "docx" and chosen is None:
        raise click.ClickException("--format docx needs --period (e.g. --period 2025-Q4)")
    if fmt == "docx" and channels:
        raise click.ClickException("--channel does not apply to the administrative report")
    try:
        filters = report_filters.parse_filters(questionnaire_id, date_from, date_to,
                                               unit_codes, channels)
    except report_filters.FilterError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt in ("json", "csv") and aggregation != "mean_of_items":
        raise click.ClickException("--aggregation applies to xlsx and pdf reports; the JSON "
                                   "summary always follows contract §6.1 (mean of items)")
    if labels and fmt != "xlsx":
        raise click.ClickException("--labels applies to xlsx only; csv keeps the codes of "
                                   "contract §5")
    settings = wards.settings_for(filters)
    if not out.parent.is_dir():  # before any work; XlsxWriter's own error is no OSError
        raise click.ClickException(f"cannot write {out}: no folder {out.parent}")
    if fmt in ("csv", "xlsx"):
        integrity.scan()  # the raw rows carry every response's flags (contract §8)
        db.session.commit()
    try:
        if fmt == "docx":
            from .reporting.admin_report import write_docx
            from .reporting.administrative import administrative_report

            assert chosen is not None  # noqa: S101 - checked above
            composed = administrative_report(db.session, questionnaire_id, chosen, settings,
                                             units=filters.units, issued_on=today,
                                             number=number)
            if composed is None:
                raise click.ClickException(f"unknown questionnaire {questionnaire_id!r}")
            out.write_bytes(write_docx(composed))
        elif fmt == "json":
            summary = summaries.summary(db.session, filters, settings)
            out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                           encoding="utf-8")
        elif fmt == "csv":
            total = exports.count_responses(db.session, filters)
            questionnaire = get_questionnaire(questionnaire_id)
            assert questionnaire is not None  # parse_filters checked it  # noqa: S101
            scheme = rollups.scheme_of(questionnaire)
            with out.open("w", encoding="utf-8", newline="") as handle, click.progressbar(
                    length=total, label="responses", file=sys.stderr) as bar:
                for chunk in exports.csv_chunks(db.session, filters, scheme):
                    handle.write(chunk)
                    bar.update(chunk.count("\r\n"))
        else:
            built = report.build_report(db.session, filters, settings, aggregation=aggregation)
            if built is None:
                raise click.ClickException(f"unknown questionnaire {questionnaire_id!r}")
            if fmt == "xlsx":
                total = exports.count_responses(db.session, filters)
                with click.progressbar(length=total, label="responses",
                                       file=sys.stderr) as bar:
                    xlsx.write_xlsx(built, out, progress=bar.update, labels=labels)
            else:
                # With a period (and all channels), the administrative report comes first
                # and the statistical report follows as its appendix (contract §10).
                front = None
                if chosen is not None and not channels:
                    from .reporting.administrative import administrative_report

                    front = administrative_report(db.session, questionnaire_id, chosen,
                                                  settings, units=filters.units,
                                                  issued_on=today, number=number)
                pdf.write_pdf(built, out, front=front)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(f"{fmt} written to {out}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--questionnaire", "questionnaire_id", required=True)
@click.option("--unit", "unit_code", help="Unit of rows whose 'unit' column is empty.")
@click.option("--channel", type=click.Choice(["paper", "import"]), default="import",
              help="Channel of rows whose 'channel' column is empty.")
@with_appcontext
@friendly_errors
def import_(file: Path, questionnaire_id: str, unit_code: str | None, channel: str) -> None:
    """Import responses (contract §5 wide format, CSV or XLSX); all or nothing."""
    from .services import imports

    questionnaire = get_questionnaire(questionnaire_id)
    if questionnaire is None:
        raise click.ClickException(f"unknown questionnaire {questionnaire_id!r}")
    unit = None
    if unit_code:
        unit = units.get_unit(unit_code)
        if unit is None:
            raise click.ClickException(f"unknown unit {unit_code!r}")
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from exc
    receipts: list[str] = []
    try:
        imported, skipped = imports.import_file(file, questionnaire, default_unit=unit,
                                                default_channel=channel, content=content,
                                                actor="cli", receipts=receipts)
    except imports.ImportFailed as exc:
        db.session.rollback()
        for line in exc.errors:
            click.echo(line, err=True)
        raise click.ClickException(
            f"nothing imported: {len(exc.errors)} error(s) in {file.name}") from exc
    audit.record("cli", "import", questionnaire.id, file=file.name, imported=imported,
                 skipped=skipped, receipts=receipts)
    db.session.commit()
    if skipped:
        click.echo(f"{skipped} response(s) already stored with the same answers: skipped")
    click.echo(f"imported {imported}")


questionnaires_cli = AppGroup("questionnaires", help="Check and list questionnaire files.")


@questionnaires_cli.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def questionnaires_check(directory: Path | None) -> None:
    """Load and check every definition file; name the file and question of any error."""
    found = load_all(directory or Path(current_app.config["QUESTIONNAIRE_DIR"]))
    for (qid, version), q in sorted(found.items()):
        click.echo(f"{qid} v{version}: {len(q.questions)} questions, "
                   f"{len(q.scored_questions)} scored, index {q.index}")


report_cli = AppGroup("report", help="Reports to file: send them by e-mail (for a timer).")


@report_cli.command("send")
@click.option("--period", required=True,
              help="last-month, last-quarter, last-half, last-year, or 2025-Q4, 2025-10…")
@click.option("--to", "recipients", multiple=True, required=True,
              help="An e-mail address; repeat for several.")
@click.option("--questionnaire", "questionnaire_id", default="sipas-dichvu", show_default=True)
@click.option("--unit", "unit_codes", multiple=True, help="A unit code; repeat for several.")
@with_appcontext
@friendly_errors
def report_send(period: str, recipients: tuple[str, ...], questionnaire_id: str,
                unit_codes: tuple[str, ...]) -> None:
    """Mail the report (DOCX) and its appendix (PDF) of a period through SMTP.

    The message holds the key figures; a timer runs this every month (README "Reports").
    """
    import tempfile

    from analysis.periods import PeriodError, period_of
    from analysis.vietnam import vietnam_date

    from .reporting import filters as report_filters
    from .reporting import mail, pdf, report
    from .reporting.admin_report import write_docx
    from .reporting.administrative import administrative_report, key_figures

    today = vietnam_date(datetime.now(UTC))
    smtp = mail.SmtpSettings.from_config(current_app.config)
    try:
        chosen = period_of(period, today)
        for address in recipients:
            mail.check_address(address)
        mail.check_settings(smtp)  # before any work: a missing setting is known now
        filters = report_filters.parse_filters(questionnaire_id, chosen.start.isoformat(),
                                               chosen.end.isoformat(), unit_codes)
    except (PeriodError, mail.MailError, report_filters.FilterError) as exc:
        raise click.ClickException(str(exc)) from exc
    settings = wards.settings_for(filters)
    composed = administrative_report(db.session, questionnaire_id, chosen, settings,
                                     units=filters.units, issued_on=today)
    built = report.build_report(db.session, filters, settings)
    if composed is None or built is None:
        raise click.ClickException(f"unknown questionnaire {questionnaire_id!r}")
    stem = f"{questionnaire_id}-{chosen.code}"
    with tempfile.TemporaryDirectory() as folder:
        appendix = Path(folder) / "phu-luc.pdf"
        pdf.write_pdf(built, appendix)
        files = [mail.Attachment(f"bao-cao-{stem}.docx", write_docx(composed),
                                 "application/vnd.openxmlformats-officedocument."
                                 "wordprocessingml.document"),
                 mail.Attachment(f"phu-luc-{stem}.pdf", appendix.read_bytes(),
                                 "application/pdf")]
    body = (key_figures(db.session, built, chosen, settings)
            + "\n\nĐính kèm: báo cáo để hoàn thiện và trình ký (DOCX), phụ lục thống kê (PDF)."
            + "\nThư gửi tự động từ hệ thống khảo sát sự hài lòng; không trả lời thư này.\n")
    try:
        message = mail.build_message(smtp, recipients, f"Báo cáo {composed.title}", body,
                                     files)
        mail.send(message, smtp)
    except mail.MailError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record("system", "report.send", stem, to=", ".join(recipients))
    db.session.commit()
    click.echo(f"sent {stem} to {', '.join(recipients)}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (init_db, address, qr, export, import_, units_cli, users_cli, demo_cli,
                    cases_cli, questionnaires_cli, report_cli, backup_, restore):
        app.cli.add_command(command)
