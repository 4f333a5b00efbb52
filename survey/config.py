"""Configuration: safe defaults, ``SURVEY_*`` environment variables, and checks at boot."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Defaults; there is deliberately no secret here."""

    BASE_URL = "http://127.0.0.1:5000"
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 1024 * 1024
    # A phone may lie on the counter with the form open for a long time. The token lives in the
    # session cookie, which lasts PERMANENT_SESSION_LIFETIME; when either has expired, the form
    # re-shows the answers with a gentle message.
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    # The public form checks its token itself (see public/views.py) so that an expired token
    # re-shows the answers instead of losing them.
    WTF_CSRF_CHECK_DEFAULT = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_SUBMIT = "30 per minute;600 per hour"
    RATELIMIT_LOGIN = "10 per minute;60 per hour"
    RATELIMIT_LOGIN_USER = "5 per 5 minutes"
    # Failed logins at one account from every address together: guesses spread over many
    # addresses stop too. A browser that logged in to the account before is not held back
    # by it (a signed cookie), so guesses from elsewhere never lock the real user out.
    RATELIMIT_LOGIN_ACCOUNT = "20 per 10 minutes"
    # Wrong current passwords on the account page, per account.
    RATELIMIT_PASSWORD_CHECK = "5 per 5 minutes"  # noqa: S105 - a rate, not a password
    PROXY_COUNT = 0
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/json", "image/svg+xml",
                          "application/javascript", "text/csv"]
    COMPRESS_MIN_SIZE = 300
    COMPRESS_ALGORITHM = ["br", "gzip"]
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    ORGANISATION_NAME = "UBND phường"
    # Breakdown cells with fewer responses are hidden (anonymity of small groups).
    MIN_CELL = 5
    # Targets by questionnaire id or index kind, e.g. SURVEY_TARGETS='{"sipas-dichvu": 85}';
    # unset kinds fall back to analysis.targets.DEFAULT_TARGETS (SIPAS: 80 %).
    TARGETS: dict[str, float] = {}
    # Responses a ward aims for (domain.md §7.3: 200 per ward, 150 per commune); each group
    # gets an even share unless its unit sets its own target.
    SAMPLE_TARGET = 200
    # Double entry: count a sheet in the scores from its first typing (True), or only once the
    # two typings agree or are reconciled (False).
    PAPER_COUNT_BEFORE_VERIFIED = False
    # SQLite: how long (milliseconds) a writer waits for another one before "database is
    # locked"; then the whole write is tried again, DB_WRITE_ATTEMPTS times in all
    # (services/transactions.py), before the citizen is asked to send again.
    SQLITE_BUSY_TIMEOUT = 10000
    DB_WRITE_ATTEMPTS = 5
    # Integrity flags (contract §8, services/integrity.py, README "Flags"): opening hours of
    # counters and offices unless a unit sets its own, and each rule's settings.
    OPENING_HOURS = "T2-T6 07:00-17:30; T7 07:00-12:00"
    FLAG_BURST_WINDOW = 10  # minutes
    FLAG_BURST_MIN = 10  # responses in one window, at least
    FLAG_BURST_FACTOR = 5  # times the link's usual number in such a window
    FLAG_SAME_WINDOW = 60  # minutes
    FLAG_SAME_MIN = 3  # responses with the same answers from one link
    FLAG_STRAIGHTLINE_MIN = 5  # scored items answered, at least
    FLAG_ENTERER_MIN = 10  # sheets of the enterer, and of the others, at least
    FLAG_ENTERER_GAP = 20  # points between the enterer's mean score and the others'
    # Cases (phản ánh, kiến nghị; contract §9, services/cases.py, README "Cases"): which
    # reasons open a case by themselves ("suggestion", "low_rating"; [] = staff open them),
    # the highest score that is a low rating, the text questions that hold a suggestion, the
    # working days to answer, the ward's own days off and days worked (dates, comma-separated),
    # how long a citizen's contact is kept after the case is closed, and the share of cases to
    # answer on time that the plan sets (Decision 766: 100 %).
    CASE_RULE: tuple[str, ...] = ("suggestion", "low_rating")
    CASE_LOW_SCORE = 2
    CASE_SUGGESTION_QUESTIONS: tuple[str, ...] = ("y_kien",)
    CASE_DUE_DAYS = 10
    CASE_DAYS_OFF = ""
    CASE_DAYS_WORKED = ""
    CASE_CONTACT_DAYS = 30
    CASE_TARGET = 100.0
    # Service indicators (chỉ tiêu phục vụ hành chính công, services/indicators.py): the
    # share of dossiers, in %, that the ward's plan sets for each ratio; None (or "" in the
    # environment) = no target, the ratio is shown without a verdict. Defaults from the
    # plan of Phường Trần Liễu (Kế hoạch 14/KH-UBND, 2025), README "Configuration".
    INDICATOR_TARGET_ON_TIME: float | None = 95.0  # II.I.3.1: on time "từ 95-100%"
    INDICATOR_TARGET_ONLINE: float | None = 80.0  # II.I.7.1.2: online, "80% trở lên"
    INDICATOR_TARGET_PAID_ONLINE: float | None = None  # I.II: "nâng cao", no figure
    INDICATOR_TARGET_POSTAL: float | None = 50.0  # II.I.7.1.3: by public post, "50%"
    INDICATOR_TARGET_DIGITISED: float | None = 80.0  # II.I.7.1.2: digitised, "80%"
    # II.II.1.2: "xin lỗi tổ chức, cá nhân khi hồ sơ trễ hạn": every dossier resolved late.
    INDICATOR_TARGET_APOLOGY: float | None = 100.0
    # Where citizens complain (shown on the poster, the receipt and /ket-qua when set): the
    # ward's PAKN phone line and the city's hotline.
    PAKN_PHONE = ""
    PAKN_HOTLINE = ""
    # Sites allowed to show /ket-qua in a frame (CSP frame-ancestors, space-separated origins
    # such as "https://tranlieu.haiphong.gov.vn"); empty = no site, like every other page.
    RESULTS_FRAME_ANCESTORS = ""
    # The citizen's lookup of a receipt (/tra-cuu), against guessing codes.
    RATELIMIT_LOOKUP = "10 per minute;60 per hour"
    # The administrative report (contract §10, Nghị định 30/2020 Phụ lục I; README "Reports"):
    # the authority above the ward, the place on the date line (empty: the ward's name without
    # "Phường"), the căn cứ and the Nơi nhận lines (JSON lists, or text with lines separated by
    # "|"), and the signature block. Defaults from Kế hoạch 14/KH-UBND of Phường Trần Liễu.
    REPORT_UPPER_AUTHORITY = "UBND THÀNH PHỐ HẢI PHÒNG"
    REPORT_PLACE = ""
    REPORT_BASIS: tuple[str, ...] = (
        "Căn cứ Quyết định số 1001/QĐ-BNV ngày 11/12/2023 của Bộ Nội vụ phê duyệt Đề án "
        "“Đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành "
        "chính nhà nước giai đoạn 2023 – 2026”;",
        "Căn cứ Công văn số 1747/UBND-KSTTHC ngày 30/6/2025 của UBND thành phố Hải Phòng về "
        "việc duy trì Chỉ số Cải cách hành chính (PAR Index), Chỉ số hài lòng về sự phục vụ "
        "hành chính (SIPAS) của thành phố và nâng cao Chỉ số Hiệu quả quản trị và hành chính "
        "công cấp tỉnh (PAPI);",
        "Căn cứ Kế hoạch số 14/KH-UBND ngày 01/8/2025 của Ủy ban nhân dân phường về nâng cao "
        "Chỉ số PAR INDEX, SIPAS, PAPI năm 2025;",
    )
    REPORT_RECIPIENTS: tuple[str, ...] = (
        "UBND thành phố;", "Sở Nội vụ;", "Thường trực Đảng ủy, HĐND phường;",
        "Chủ tịch, các Phó Chủ tịch UBND phường;", "Lưu: VT, VHXH.")
    REPORT_SIGNER_TITLE = "CHỦ TỊCH"
    REPORT_SIGNER_NAME = ""
    REPORT_SIGNER_DEPUTY = False
    # Mail for `flask report send` (README "Reports"): the server, its port, the login, how
    # the connection is secured ("starttls", "ssl" or "none") and the sender's address.
    SMTP_HOST = ""
    SMTP_PORT = 587
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_SECURITY = "starttls"
    MAIL_FROM = ""


def apply_environment(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Load defaults, then ``SURVEY_*`` variables, then test overrides."""
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("SURVEY")
    if "DATABASE_URL" in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)
    for name in ("SECRET_KEY", "BASE_URL"):
        # from_prefixed_env parses values as JSON, so a key of digits arrives as a number.
        if isinstance(app.config.get(name), int | float):
            app.config[name] = os.environ.get(f"SURVEY_{name}", str(app.config[name]))
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{Path(app.instance_path) / 'survey.db'}")
    app.config.setdefault("SERVING_FILE", str(Path(app.instance_path) / "serving.json"))
    if "SURVEY_BASE_URL" not in os.environ and "BASE_URL" not in (overrides or {}):
        from .addresses import base_url_for, read_serving

        if "LISTEN_HOST" not in app.config and "LISTEN_PORT" not in app.config:
            # Not under make: the host and port `make run`/`make serve` last recorded, so
            # that `flask units list` or `flask qr` in another terminal print the served
            # addresses.
            served = read_serving(app.config["SERVING_FILE"])
            if served:
                app.config["LISTEN_HOST"], app.config["LISTEN_PORT"] = served
        if "LISTEN_HOST" in app.config or "LISTEN_PORT" in app.config:
            # Served by `make run`/`make serve` without SURVEY_BASE_URL: QR codes follow the
            # port, and with HOST=0.0.0.0 the machine's LAN address, so that a phone can open
            # them.
            app.config["BASE_URL"] = base_url_for(str(app.config.get("LISTEN_HOST") or ""),
                                                  app.config.get("LISTEN_PORT"))
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    # Cookies marked Secure are never sent back over plain http, which would make staff login
    # impossible on http://127.0.0.1:5000; so the flag follows the public URL unless set.
    https = app.config["BASE_URL"].startswith("https://")
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if f"SURVEY_{name}" not in os.environ and name not in (overrides or {}):
            app.config[name] = https
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    check_config(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_settings(app)


def _sqlite_settings(app: Flask) -> None:
    """SQLite: the busy timeout, no ping (a file does not go away), and the writers' lock."""
    from sqlalchemy.engine import make_url

    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = {**options.get("connect_args", {}),
                               "timeout": app.config["SQLITE_BUSY_TIMEOUT"] / 1000}
    options["pool_pre_ping"] = False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if not path.is_absolute():
            path = Path(app.instance_path) / database
        app.config.setdefault("SQLITE_WRITER_LOCK", str(path) + "-writer.lock")


def _instance_secret(instance: Path) -> str:
    """Return the key kept in ``instance/secret_key``, creating it (mode 0600) the first time.

    The key is written to a private temporary file and then linked into place, so that several
    workers starting at once all read the same complete key.
    """
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
            os.chmod(tmp, 0o600)
            with contextlib.suppress(FileExistsError):  # another worker won: use its key
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which setting."""


def _flag(value: Any, name: str) -> bool:
    """Read a yes/no setting: 1/0, true/false, yes/no (any case), or a bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"SURVEY_{name} must be 1 or 0 (or true/false), got {value!r}")


def _whole(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"SURVEY_{name} must be a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"SURVEY_{name} must be a whole number, got {value!r}") from exc
    if number < minimum:
        raise ConfigError(f"SURVEY_{name} must be at least {minimum}, got {number}")
    return number


def _names(value: Any, name: str) -> tuple[str, ...]:
    """Read a list setting: JSON ["a", "b"], or text "a b" / "a,b"."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'SURVEY_{name} must be a list of names, like "a b" or ["a", "b"]')
    return tuple(value)


def _check_cases(config: dict[str, Any]) -> None:
    """Case settings (services/cases.py): known reasons, numbers in range, readable days."""
    config["CASE_RULE"] = _names(config.get("CASE_RULE"), "CASE_RULE")
    unknown = set(config["CASE_RULE"]) - {"suggestion", "low_rating"}
    if unknown:
        raise ConfigError("SURVEY_CASE_RULE takes suggestion and/or low_rating, got "
                          + ", ".join(sorted(unknown)))
    config["CASE_SUGGESTION_QUESTIONS"] = _names(config.get("CASE_SUGGESTION_QUESTIONS"),
                                                 "CASE_SUGGESTION_QUESTIONS")
    config["CASE_LOW_SCORE"] = _whole(config.get("CASE_LOW_SCORE"), "CASE_LOW_SCORE", 1)
    config["CASE_DUE_DAYS"] = _whole(config.get("CASE_DUE_DAYS"), "CASE_DUE_DAYS", 1)
    config["CASE_CONTACT_DAYS"] = _whole(config.get("CASE_CONTACT_DAYS"), "CASE_CONTACT_DAYS",
                                         0)
    target = config.get("CASE_TARGET")
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 <= target <= 100:
        raise ConfigError(f"SURVEY_CASE_TARGET must be a number from 0 to 100, got {target!r}")
    from analysis.workdays import DayParseError, WorkCalendar, parse_days

    days = {}
    for name in ("CASE_DAYS_OFF", "CASE_DAYS_WORKED"):
        config[name] = str(config.get(name) or "")
        try:
            days[name] = parse_days(config[name])
        except DayParseError as exc:
            raise ConfigError(f"SURVEY_{name}: {exc}") from exc
    try:
        WorkCalendar(extra_off=days["CASE_DAYS_OFF"], extra_work=days["CASE_DAYS_WORKED"])
    except ValueError as exc:
        raise ConfigError(f"SURVEY_CASE_DAYS_OFF and SURVEY_CASE_DAYS_WORKED: {exc}") from exc
    for name in ("PAKN_PHONE", "PAKN_HOTLINE", "RESULTS_FRAME_ANCESTORS"):
        config[name] = str(config.get(name) or "").strip()


def _lines(value: Any, name: str) -> tuple[str, ...]:
    """Read a setting of lines: JSON ["a", "b"], or text "a | b"."""
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'SURVEY_{name} must be lines, like "line one | line two" or a JSON '
                          "list")
    return tuple(unicodedata.normalize("NFC", v.strip()) for v in value if v.strip())


def _check_report(config: dict[str, Any]) -> None:
    """Check the settings of the administrative report (reporting/administrative.py)."""
    for name in ("REPORT_BASIS", "REPORT_RECIPIENTS"):
        config[name] = _lines(config.get(name), name)
    for name in ("REPORT_UPPER_AUTHORITY", "REPORT_PLACE", "REPORT_SIGNER_TITLE",
                 "REPORT_SIGNER_NAME"):
        config[name] = unicodedata.normalize("NFC", str(config.get(name) or "").strip())
    config["REPORT_SIGNER_DEPUTY"] = _flag(config.get("REPORT_SIGNER_DEPUTY"),
                                           "REPORT_SIGNER_DEPUTY")
    config["SMTP_PORT"] = _whole(config.get("SMTP_PORT"), "SMTP_PORT", 1)
    if config.get("SMTP_SECURITY") not in ("starttls", "ssl", "none"):
        raise ConfigError("SURVEY_SMTP_SECURITY must be starttls, ssl or none, got "
                          f"{config.get('SMTP_SECURITY')!r}")
    for name in ("SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "MAIL_FROM"):
        config[name] = str(config.get(name) or "").strip()


INDICATOR_TARGETS = ("ON_TIME", "ONLINE", "PAID_ONLINE", "POSTAL", "DIGITISED", "APOLOGY")
"""The ratios of services/indicators.py with a target: INDICATOR_TARGET_<name>."""


def _check_indicator_targets(config: dict[str, Any]) -> None:
    """Targets of the service indicators: a share from 0 to 100, or none ("" or null)."""
    for part in INDICATOR_TARGETS:
        name = f"INDICATOR_TARGET_{part}"
        value = config.get(name)
        if isinstance(value, str):
            value = value.strip()
            if value:
                with contextlib.suppress(ValueError):  # else refused below, as written
                    value = float(value)
        if value is None or value == "":
            config[name] = None
        elif (isinstance(value, bool) or not isinstance(value, int | float)
              or not 0 <= value <= 100):
            raise ConfigError(f"SURVEY_{name} must be a share from 0 to 100 (e.g. 95), or "
                              f"empty for no target, got {config.get(name)!r}")
        else:
            config[name] = float(value)


def check_config(config: dict[str, Any]) -> None:
    """Fail at boot, not at the first request, when a setting cannot work.

    Settings from the environment arrive as JSON or text; yes/no and numeric ones are turned
    into their real types here, so that "False" cannot count as true.
    """
    for name in ("PAPER_COUNT_BEFORE_VERIFIED", "RATELIMIT_ENABLED"):
        config[name] = _flag(config.get(name), name)
    config["SAMPLE_TARGET"] = _whole(config.get("SAMPLE_TARGET"), "SAMPLE_TARGET", 1)
    config["MIN_CELL"] = _whole(config.get("MIN_CELL"), "MIN_CELL", 1)
    config["SQLITE_BUSY_TIMEOUT"] = _whole(config.get("SQLITE_BUSY_TIMEOUT"),
                                           "SQLITE_BUSY_TIMEOUT", 0)
    config["DB_WRITE_ATTEMPTS"] = _whole(config.get("DB_WRITE_ATTEMPTS"), "DB_WRITE_ATTEMPTS", 1)
    for name in ("FLAG_BURST_WINDOW", "FLAG_BURST_MIN", "FLAG_BURST_FACTOR", "FLAG_SAME_WINDOW",
                 "FLAG_SAME_MIN", "FLAG_STRAIGHTLINE_MIN", "FLAG_ENTERER_MIN",
                 "FLAG_ENTERER_GAP"):
        config[name] = _whole(config.get(name), name, 1)
    from analysis.flags import OpeningHours

    try:
        OpeningHours.parse(str(config.get("OPENING_HOURS") or ""))
    except ValueError as exc:
        raise ConfigError(f"SURVEY_OPENING_HOURS cannot be read at {exc}: write it like "
                          '"T2-T6 07:00-11:30 13:30-17:00; T7 07:00-11:30"') from exc
    _check_cases(config)
    _check_report(config)
    _check_indicator_targets(config)
    targets = config.get("TARGETS") or {}
    if not isinstance(targets, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 100
            for v in targets.values()):
        raise ConfigError('SURVEY_TARGETS must be JSON like {"sipas-dichvu": 85} (0-100)')
    config["TARGETS"] = targets
    key = config.get("SECRET_KEY")
    if not isinstance(key, str) or len(key) < 16:
        raise ConfigError("SURVEY_SECRET_KEY must be at least 16 characters")
    base = config["BASE_URL"]
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"SURVEY_BASE_URL must start with http:// or https://, got {base!r}")
    if not isinstance(config.get("PROXY_COUNT"), int) or config["PROXY_COUNT"] < 0:
        raise ConfigError("SURVEY_PROXY_COUNT must be a whole number >= 0")
