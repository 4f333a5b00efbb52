"""Database models. Invariants live in the schema: UNIQUE, CHECK and foreign keys."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .services.text import fold_text

UNIT_KINDS = ("ward", "counter", "office", "group")
CHANNELS = ("qr", "kiosk", "paper", "import")
ROLES = ("admin", "staff", "leader", "city")
"""``city`` reads every ward and changes nothing (contract §11)."""


def new_session_token() -> str:
    """Return a fresh random token; changing it ends every login of the account."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC (used as a column default)."""
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Unit(db.Model):  # type: ignore[name-defined]
    """A place responses come from: a counter, an office, a residential group, or a ward."""

    __tablename__ = "unit"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", UNIT_KINDS), name="kind_known"),
        sa.CheckConstraint("length(code) BETWEEN 1 AND 32", name="code_length"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.CheckConstraint("sample_target IS NULL OR sample_target > 0", name="target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Responses wanted from this unit (e.g. 200 for a ward); None = the configured default.
    sample_target: Mapped[int | None]
    # When the unit is open, as analysis.flags.OpeningHours reads it ("T2-T6 07:00-17:30;
    # T7 07:00-12:00"); None = the default of its kind (counters and offices: office hours;
    # residential groups: always, since citizens answer at home); "" = always open.
    opening_hours: Mapped[str | None] = mapped_column(sa.String(200))
    # A ward's own settings (services/wards.py: heading, PAKN phone, targets, signature...),
    # over the installation's configuration; None for other units and for a ward without any.
    settings: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")
    links: Mapped[list[SurveyLink]] = relationship(back_populates="unit",
                                                   order_by="SurveyLink.questionnaire_id")

    @property
    def ward(self) -> Unit | None:
        """Return the ward this unit belongs to (itself when it is a ward)."""
        unit: Unit | None = self
        while unit is not None and unit.kind != "ward":
            unit = unit.parent
        return unit

    def subtree_ids(self) -> tuple[int, ...]:
        """Return the ids of this unit and every unit under it (a ward: all its units)."""
        return subtree_ids(object_session(self), (self.id,))


def subtree_ids(session: Any, roots: tuple[int, ...]) -> tuple[int, ...]:
    """Return the ids of the units ``roots`` and of every unit under them (one query)."""
    if not roots:
        return ()
    tree = (sa.select(Unit.id).where(Unit.id.in_(roots))
            .cte("tree", recursive=True))
    tree = tree.union(sa.select(Unit.id).join(tree, Unit.parent_id == tree.c.id))
    return tuple(sorted(session.scalars(sa.select(tree.c.id))))


class Questionnaire(db.Model):  # type: ignore[name-defined]
    """A questionnaire id; its versions hold the definitions."""

    __tablename__ = "questionnaire"
    __table_args__ = (sa.CheckConstraint("index_kind IN ('sipas', 'papi')", name="index_known"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    index_kind: Mapped[str] = mapped_column(sa.String(8))
    latest_version: Mapped[int]

    versions: Mapped[list[QuestionnaireVersion]] = relationship(back_populates="questionnaire")


class QuestionnaireVersion(db.Model):  # type: ignore[name-defined]
    """One version of a questionnaire, with its definition kept beside the data it collected."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (sa.CheckConstraint("version >= 1", name="version_positive"),)

    questionnaire_id: Mapped[str] = mapped_column(
        sa.ForeignKey("questionnaire.id", ondelete="RESTRICT"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(sa.String(300))
    definition: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")


class SurveyLink(db.Model):  # type: ignore[name-defined]
    """The public link (and QR code) of one questionnaire at one unit."""

    __tablename__ = "survey_link"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "questionnaire_id",
                            name="uq_survey_link_unit_questionnaire"),
        sa.CheckConstraint("length(code) BETWEEN 4 AND 16", name="code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"))
    questionnaire_id: Mapped[str] = mapped_column(
        sa.ForeignKey("questionnaire.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="links")
    questionnaire: Mapped[Questionnaire] = relationship()


class Response(db.Model):  # type: ignore[name-defined]
    """One submitted questionnaire. ``response_id`` is the client's UUID: stored exactly once."""

    __tablename__ = "response"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["questionnaire_id", "questionnaire_version"],
            ["questionnaire_version.questionnaire_id", "questionnaire_version.version"],
            name="fk_response_questionnaire_version", ondelete="RESTRICT"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        sa.CheckConstraint("length(digest) = 64", name="digest_length"),
        sa.Index("ix_response_questionnaire_submitted", "questionnaire_id", "submitted_at"),
        sa.Index("ix_response_unit_submitted", "unit_id", "submitted_at"),
        # The follow-up list: a questionnaire's low ratings, newest first.
        sa.Index("ix_response_questionnaire_low", "questionnaire_id", "low", "submitted_at"),
        # The excluded responses' list, the last excluded first, read by key (migration 0017).
        sa.Index("ix_response_excluded", "excluded_at", "id",
                 # The condition as SQLAlchemy writes is_(True), so that the planners use it.
                 sqlite_where=sa.text("excluded IS 1"),
                 postgresql_where=sa.text("excluded IS TRUE")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True)
    questionnaire_id: Mapped[str] = mapped_column(sa.String(64))
    questionnaire_version: Mapped[int]
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(sa.String(8))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    receipt: Mapped[str] = mapped_column(sa.String(12), index=True)
    # SHA-256 of the canonical answers, to tell a retried POST from a conflicting one.
    digest: Mapped[str] = mapped_column(sa.String(64))
    link_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_link.id", ondelete="SET NULL"))
    # The respondent's own index in thousandths of a point (analysis.scoring), for the index's
    # confidence interval; NULL when the response has nothing to score.
    score_milli: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Whether an item was rated 1 or 2 (analysis.scoring.is_low), kept with the answers like
    # score_milli, so that the follow-up list reads an index, not every answer; NULL until
    # init-db fills the rows stored before migration 0012.
    low: Mapped[bool | None]
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    # A printed sheet yields at most one response, however often it is typed in.
    sheet_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sheet.id", ondelete="RESTRICT"), unique=True)
    # Integrity (contract §8): the flag codes the server found (space-separated, sorted, kept
    # in step by services/integrity.py), those read from an imported file, and staff's
    # exclusion. An excluded response counts nowhere (the rollups count it in n_excluded).
    # Server defaults only: the citizen's submit writes its row with a statement of its own
    # (services/bulk.py) that names just the columns it sets.
    flags: Mapped[str] = mapped_column(sa.String(80), server_default="")
    imported_flags: Mapped[str] = mapped_column(sa.String(80), server_default="")
    excluded: Mapped[bool] = mapped_column(server_default=sa.false())
    excluded_at: Mapped[datetime | None]
    excluded_by: Mapped[str | None] = mapped_column(sa.String(64))
    excluded_reason: Mapped[str | None] = mapped_column(sa.Text)

    unit: Mapped[Unit] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Answer.question_id")


class Answer(db.Model):  # type: ignore[name-defined]
    """One answer: an option code for a choice question, or a text."""

    __tablename__ = "answer"
    __table_args__ = (
        sa.CheckConstraint("(option_code IS NULL) <> (text_value IS NULL)", name="one_value"),
        sa.CheckConstraint("option_code IS NULL OR option_code BETWEEN 0 AND 999",
                           name="option_code_range"),
        sa.Index("ix_answer_question_option", "question_id", "option_code"),
        # The free-text answers only (one response in thirty or so has one): the suggestions
        # list counts them through it instead of reading every answer (migration 0016).
        sa.Index("ix_answer_text", "response_pk",
                 sqlite_where=sa.text("text_value IS NOT NULL"),
                 postgresql_where=sa.text("text_value IS NOT NULL")),
    )

    response_pk: Mapped[int] = mapped_column(
        sa.ForeignKey("response.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    option_code: Mapped[int | None]
    text_value: Mapped[str | None] = mapped_column(sa.Text)
    # text_value as people search it (services/text.fold_text): lower case, no diacritics,
    # đ as d, so "ghe cho" finds "Ghế chờ" on SQLite and PostgreSQL alike. Set with the text
    # (below for ORM objects; submissions.save_response names it in its bulk insert);
    # migration 0007 filled the rows stored before it.
    text_folded: Mapped[str | None] = mapped_column(sa.Text)

    response: Mapped[Response] = relationship(back_populates="answers")

    @validates("text_value")
    def _fold(self, _key: str, value: str | None) -> str | None:
        self.text_folded = None if value is None else fold_text(value)
        return value

    @property
    def value(self) -> int | str | None:
        """Return the option code or the text."""
        return self.option_code if self.option_code is not None else self.text_value


user_unit = sa.Table(
    "user_unit",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    """A staff account: admin, staff (Phòng Văn hóa - Xã hội) or group leader."""

    __tablename__ = "app_user"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role_known"),
        sa.CheckConstraint("length(username) BETWEEN 2 AND 64", name="username_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(8))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of the login cookie: a password change or a logout replaces it, so that copies of
    # older cookies stop working (sessions are signed cookies, not server-side records).
    session_token: Mapped[str] = mapped_column(sa.String(32), default=new_session_token)
    # The ward an admin or staff account is limited to (contract §11); None = every ward.
    ward_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit.id", ondelete="RESTRICT"), index=True)

    units: Mapped[list[Unit]] = relationship(secondary=user_unit, order_by=Unit.code)
    ward: Mapped[Unit | None] = relationship(foreign_keys=[ward_id])

    def get_id(self) -> str:
        """Return what the login cookie holds: the id and the current session token."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Invalidate every existing login of this account."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        """Store a salted hash (scrypt) of ``password``; existing logins end."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        """Return whether ``password`` matches."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        """Whether the account may manage accounts."""
        return self.role == "admin"

    @property
    def is_office(self) -> bool:
        """Admins and staff run the survey (units, links, batches, cases); leaders type sheets."""
        return self.role in ("admin", "staff")

    @property
    def reads_only(self) -> bool:
        """The city role reads every ward and changes nothing."""
        return self.role == "city"

    @property
    def sees_all_units(self) -> bool:
        """The city, and admins and staff limited to no ward, see every unit."""
        return self.role == "city" or (self.is_office and self.ward_id is None)

    @property
    def sees_flags(self) -> bool:
        """Admins, staff and the city read flagged responses; a leader does not.

        A leader types sheets in, and one flag is about who typed.
        """
        return self.role in ("admin", "staff", "city")

    def sees_unit(self, unit_id: int | None) -> bool:
        """Return whether this account may see the unit with id ``unit_id``."""
        scope = self.scope_ids()
        return scope is None or unit_id in scope

    def scope_ids(self) -> tuple[int, ...] | None:
        """Return the ids of the units this account may see; None = every unit."""
        if self.sees_all_units:
            return None
        if self.is_office and self.ward_id is not None:
            return subtree_ids(object_session(self), (self.ward_id,))
        return subtree_ids(object_session(self), tuple(u.id for u in self.units))


class Batch(db.Model):  # type: ignore[name-defined]
    """Printed sheets of one questionnaire issued to a residential group (and its leader)."""

    __tablename__ = "batch"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["questionnaire_id", "questionnaire_version"],
            ["questionnaire_version.questionnaire_id", "questionnaire_version.version"],
            name="fk_batch_questionnaire_version", ondelete="RESTRICT"),
        sa.CheckConstraint("sheet_count BETWEEN 1 AND 2000", name="sheet_count_range"),
        sa.CheckConstraint("returned_count BETWEEN 0 AND sheet_count", name="returned_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(sa.String(64))
    # The version printed on the sheets, which their entry is checked against.
    questionnaire_version: Mapped[int]
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"),
                                         index=True)
    leader_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    sheet_count: Mapped[int]
    returned_count: Mapped[int] = mapped_column(default=0, server_default="0")
    double_entry: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    note: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    sheets: Mapped[list[Sheet]] = relationship(back_populates="batch", order_by="Sheet.serial")


class Sheet(db.Model):  # type: ignore[name-defined]
    """One printed form, known by the serial printed (with a QR code) on every page."""

    __tablename__ = "sheet"
    __table_args__ = (sa.CheckConstraint("serial > 0", name="serial_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batch.id", ondelete="RESTRICT"),
                                          index=True)
    serial: Mapped[int] = mapped_column(unique=True)
    # Set when the sheet's answers are settled: one entry (single entry), two that agree, or
    # a reconciliation (double entry).
    verified_at: Mapped[datetime | None]

    batch: Mapped[Batch] = relationship(back_populates="sheets")
    entries: Mapped[list[SheetEntry]] = relationship(back_populates="sheet",
                                                     order_by="SheetEntry.pass_no")
    response: Mapped[Response | None] = relationship(viewonly=True, uselist=False)


class SheetEntry(db.Model):  # type: ignore[name-defined]
    """One typing of a sheet: pass 1, and pass 2 by someone else when the batch is double."""

    __tablename__ = "sheet_entry"
    __table_args__ = (
        sa.UniqueConstraint("sheet_id", "pass_no", name="uq_sheet_entry_sheet_pass"),
        sa.CheckConstraint("pass_no IN (1, 2)", name="pass_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("sheet.id", ondelete="CASCADE"))
    pass_no: Mapped[int]
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    sheet: Mapped[Sheet] = relationship(back_populates="entries")
    entered_by: Mapped[User | None] = relationship()


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A token for scripts reading /api/v1/; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    user: Mapped[User] = relationship()


class AuditLog(db.Model):  # type: ignore[name-defined]
    """Who did what to which object, and when; kept when the account is deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(200))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


# --- Rollups -------------------------------------------------------------------------------
# Summaries must stay fast with a million responses, so every write, edit and delete also
# updates these counts (survey/services/rollups.py); a summary then adds up a few thousand rows
# instead of reading every answer. `day` is the Vietnam calendar day (YYYY-MM-DD).


def _rollup_key(grain: str = "day") -> list[sa.Column[Any]]:
    return [
        sa.Column("questionnaire_id", sa.String(64), primary_key=True),
        sa.Column(grain, sa.String(10 if grain == "day" else 7), primary_key=True),
        sa.Column("unit_id", sa.ForeignKey("unit.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("channel", sa.String(8), primary_key=True),
    ]


def _score_columns() -> list[Any]:
    """Return the response counts of a rollup row: n, and the sums of the respondent scores."""
    return [
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("score_n", sa.Integer, nullable=False),
        sa.Column("score_sum", sa.BigInteger, nullable=False),
        sa.Column("score_sqsum", sa.BigInteger, nullable=False),
        sa.CheckConstraint("n >= 0 AND score_n >= 0 AND score_n <= n", name="counts_valid"),
    ]


stat_response = sa.Table(
    "stat_response", db.metadata,
    *_rollup_key(),
    *_score_columns(),
    # Responses excluded by staff: counted here only (contract §8, n_excluded).
    sa.Column("n_excluded", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("n_excluded >= 0", name="excluded_valid"),
    # A ward's or a unit's summary reads its own rows, not every unit's of the same days.
    sa.Index("ix_stat_response_unit", "questionnaire_id", "unit_id", "day"),
)

stat_answer = sa.Table(
    "stat_answer", db.metadata,
    *_rollup_key(),
    sa.Column("question_id", sa.String(64), primary_key=True),
    sa.Column("option_code", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.CheckConstraint("n >= 0", name="n_valid"),
    sa.Index("ix_stat_answer_unit", "questionnaire_id", "unit_id", "day"),
)

stat_group = sa.Table(
    "stat_group", db.metadata,
    *_rollup_key(),
    sa.Column("group_id", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.CheckConstraint("n >= 0", name="n_valid"),
    sa.Index("ix_stat_group_unit", "questionnaire_id", "unit_id", "day"),
)

# The same counts by month ("YYYY-MM"): a year of a city's hundred wards is some 30 times
# fewer rows than by day. Kept with the day tables by every writer; a summary reads whole
# months here and only the days at the ends of its period from the day tables
# (reporting/summaries.py).
stat_response_month = sa.Table(
    "stat_response_month", db.metadata,
    *_rollup_key("month"),
    *_score_columns(),
    sa.Column("n_excluded", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("n_excluded >= 0", name="excluded_valid"),
    sa.Index("ix_stat_response_month_unit", "questionnaire_id", "unit_id", "month"),
)

stat_answer_month = sa.Table(
    "stat_answer_month", db.metadata,
    *_rollup_key("month"),
    sa.Column("question_id", sa.String(64), primary_key=True),
    sa.Column("option_code", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.CheckConstraint("n >= 0", name="n_valid"),
    sa.Index("ix_stat_answer_month_unit", "questionnaire_id", "unit_id", "month"),
)

stat_group_month = sa.Table(
    "stat_group_month", db.metadata,
    *_rollup_key("month"),
    sa.Column("group_id", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.CheckConstraint("n >= 0", name="n_valid"),
    sa.Index("ix_stat_group_month_unit", "questionnaire_id", "unit_id", "month"),
)

# The same counts again, month by month, for each answer to an unscored question (the field
# of the procedure, sex, age…): a breakdown "by profile" of a city's million responses adds up
# these rows instead of joining every answer to every other answer of its response (40 s).
# Kept by every writer like the tables above; only whole months are read from them, the days
# at the ends of a period from the answers (reporting/summaries.py). The answer and group rows
# hold the scored items only. `profile_id` comes before the month so that one question's rows
# of a city are read in order.


def _profile_key() -> list[sa.Column[Any]]:
    return [
        sa.Column("questionnaire_id", sa.String(64), primary_key=True),
        sa.Column("profile_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("unit_id", sa.ForeignKey("unit.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("channel", sa.String(8), primary_key=True),
        sa.Column("profile_code", sa.Integer, primary_key=True),
    ]


stat_profile = sa.Table(
    "stat_profile", db.metadata,
    *_profile_key(),
    *_score_columns(),
    sa.Index("ix_stat_profile_unit", "questionnaire_id", "profile_id", "unit_id", "month"),
)

stat_profile_answer = sa.Table(
    "stat_profile_answer", db.metadata,
    *_profile_key(),
    sa.Column("question_id", sa.String(64), primary_key=True),
    sa.Column("option_code", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.CheckConstraint("n >= 0", name="n_valid"),
    sa.Index("ix_stat_profile_answer_unit", "questionnaire_id", "profile_id", "unit_id",
             "month"),
)

stat_profile_group = sa.Table(
    "stat_profile_group", db.metadata,
    *_profile_key(),
    sa.Column("group_id", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.CheckConstraint("n >= 0", name="n_valid"),
    sa.Index("ix_stat_profile_group_unit", "questionnaire_id", "profile_id", "unit_id",
             "month"),
)

PROFILE_TABLES = (stat_profile, stat_profile_answer, stat_profile_group)
"""The rollups by profile answer, stat_profile first (the order writers take them in)."""

MONTH_OF: dict[sa.Table, sa.Table] = {stat_response: stat_response_month,
                                      stat_answer: stat_answer_month,
                                      stat_group: stat_group_month}
"""The month table kept beside each day table."""


# --- Integrity flags (services/integrity.py) -----------------------------------------------


class FlagGroup(db.Model):  # type: ignore[name-defined]
    """Responses one rule flagged together, with the evidence; a row per rule, place and day.

    ``key`` names the group for good (e.g. ``burst:sipas-dichvu:12:2026-03-05:0``), so that a
    new scan updates the group a member of staff is looking at instead of replacing it.
    """

    __tablename__ = "flag_group"
    __table_args__ = (sa.Index("ix_flag_group_questionnaire_day", "questionnaire_id", "day"),
                      # The flags page, newest first, read by key (migration 0017).
                      sa.Index("ix_flag_group_last", "last_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    questionnaire_id: Mapped[str] = mapped_column(sa.String(64))
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    # The Vietnam day of the responses, or "" for a group over all days (an enterer's sheets).
    day: Mapped[str] = mapped_column(sa.String(10))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    n: Mapped[int]
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit | None] = relationship()


response_flag = sa.Table(
    "response_flag", db.metadata,
    sa.Column("group_id", sa.ForeignKey("flag_group.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("response_pk", sa.ForeignKey("response.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

# The responses of the demo sample (`init-db --demo`), marked when they are seeded so that
# `flask demo remove` deletes exactly these and never a real response, whatever its id.
demo_response = sa.Table(
    "demo_response", db.metadata,
    sa.Column("response_pk", sa.ForeignKey("response.id", ondelete="CASCADE"), primary_key=True),
)

# Where the flags must be computed again: the days of responses edited, deleted, excluded or
# taken back in since the last scan (new responses are found by their id, integrity_state).
integrity_dirty = sa.Table(
    "integrity_dirty", db.metadata,
    sa.Column("questionnaire_id", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.Integer, primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
)

integrity_state = sa.Table(
    "integrity_state", db.metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


# --- Cases: phản ánh, kiến nghị (contract §9, services/cases.py) ----------------------------

CASE_STATUSES = ("new", "in_progress", "answered", "closed")
CONTACT_KINDS = ("phone", "email")


class Case(db.Model):  # type: ignore[name-defined]
    """A citizen's suggestion or low rating that the ward must handle and answer.

    Opened from one response (at most one case per response), due on a working day counted
    by analysis.workdays. Its history is the audit log's entries with target ``case:<id>``.
    """

    __tablename__ = "pakn_case"
    __table_args__ = (
        sa.CheckConstraint(_in("status", CASE_STATUSES), name="status_known"),
        sa.CheckConstraint("status <> 'answered' OR answered_at IS NOT NULL",
                           name="answered_has_time"),
        sa.Index("ix_pakn_case_status_due", "status", "due"),
        # The case list sorted newest first, read by key (migration 0017).
        sa.Index("ix_pakn_case_opened", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_pk: Mapped[int] = mapped_column(
        sa.ForeignKey("response.id", ondelete="CASCADE"), unique=True)
    # The response's receipt, kept here for the citizen's lookup (/tra-cuu) and the API.
    receipt: Mapped[str] = mapped_column(sa.String(12), index=True)
    # The unit the response came from (scopes leaders) and the one handling it.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"),
                                         index=True)
    handling_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    # Space-separated, sorted: "low_rating", "suggestion"; "" when staff opened it by hand.
    reasons: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    status: Mapped[str] = mapped_column(sa.String(12), default="new", server_default="new")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str | None] = mapped_column(sa.String(64))  # None: opened by the rule
    due: Mapped[date]
    reply: Mapped[str | None] = mapped_column(sa.Text)
    # The first public reply (handling figures count from it); a later edit keeps it.
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Staff allow the reply (with the citizen's suggestion) on the public results page.
    published: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The citizen's verdict on the reply, given once on /tra-cuu (Decision 766's ratio).
    citizen_satisfied: Mapped[bool | None]
    rated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    response: Mapped[Response] = relationship()
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    handling_unit: Mapped[Unit | None] = relationship(foreign_keys=[handling_unit_id])
    assignee: Mapped[User | None] = relationship()
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
        order_by="CaseNote.id")
    contact: Mapped[CaseContact | None] = relationship(
        back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
        uselist=False)


class CaseNote(db.Model):  # type: ignore[name-defined]
    """An internal note on a case: staff only, never shown to the citizen or exported."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("pakn_case.id", ondelete="CASCADE"),
                                         index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text)

    case: Mapped[Case] = relationship(back_populates="notes")


class CaseContact(db.Model):  # type: ignore[name-defined]
    """The phone number or e-mail a citizen left for the reply (Decree 13/2023/NĐ-CP).

    Kept apart from the answers: no export, summary or API reads this table, only the case's
    handlers see it, and services/cases.purge_contacts deletes it a set number of days after
    the case is closed.
    """

    __tablename__ = "case_contact"
    __table_args__ = (sa.CheckConstraint(_in("kind", CONTACT_KINDS), name="kind_known"),)

    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("pakn_case.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    value: Mapped[str] = mapped_column(sa.String(254))
    consented_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="contact")


# --- Service indicators: chỉ tiêu phục vụ hành chính công (services/indicators.py) ---------

from analysis.indicators import INDICATOR_FIGURES  # noqa: E402 - the counts a row holds


class ServiceIndicator(db.Model):  # type: ignore[name-defined]
    """One month's dossier counts of a counter (or of the whole ward), in one field or all.

    ``field`` is a code of the sipas-dichvu question ``linh_vuc``, or 0 for all fields: a
    unit's row of field 0 is its total for the month, and rows of other fields are detail
    (services/indicators.figures_for reads the total, else adds up the detail). A month's
    dossiers resolved may include dossiers received in earlier months, so ``resolved`` is
    not bounded by ``received``; everything else a row says is checked here.
    """

    __tablename__ = "service_indicator"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "month", "field",
                            name="uq_service_indicator_unit_month_field"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        sa.CheckConstraint("field BETWEEN 0 AND 999", name="field_range"),
        sa.CheckConstraint(" AND ".join(f"{name} >= 0" for name in INDICATOR_FIGURES),
                           name="not_negative"),
        sa.CheckConstraint("on_time <= resolved", name="on_time_within_resolved"),
        # Apology letters go with dossiers resolved late: at most resolved - on time.
        sa.CheckConstraint("late_apology <= resolved - on_time", name="apology_within_late"),
        sa.CheckConstraint("online <= received", name="online_within_received"),
        sa.CheckConstraint("paid_online <= received", name="paid_within_received"),
        sa.CheckConstraint("postal <= received", name="postal_within_received"),
        sa.CheckConstraint("digitised <= received", name="digitised_within_received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"))
    year: Mapped[int]
    month: Mapped[int]
    field: Mapped[int] = mapped_column(default=0, server_default="0")
    received: Mapped[int]  # hồ sơ tiếp nhận
    resolved: Mapped[int]  # đã giải quyết
    on_time: Mapped[int]  # giải quyết đúng hạn
    late_apology: Mapped[int]  # trễ hạn có thư xin lỗi
    online: Mapped[int]  # nộp trực tuyến toàn trình
    paid_online: Mapped[int]  # thanh toán trực tuyến
    postal: Mapped[int]  # qua dịch vụ bưu chính công ích
    digitised: Mapped[int]  # số hóa hồ sơ, kết quả
    # Who last stored the row: an account's username, or "import"/"cli" and the like.
    recorded_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
