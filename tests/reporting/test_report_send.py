"""`flask report send`: the report and its appendix by e-mail, through a real SMTP server."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.conftest import free_port
from tests.reporting.test_administrative import QID, _seed


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _mail_settings(app: Flask, port: int, **changes: Any) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none",
                      MAIL_FROM="baocao@tranlieu.example.vn", **changes)


def test_report_send_delivers_the_docx_and_the_pdf_with_the_key_figures(
        app: Flask, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    _seed(app)
    _mail_settings(app, port)
    result = app.test_cli_runner().invoke(args=[
        "report", "send", "--period", "2025-Q4", "--to", "vhxh@tranlieu.example.vn",
        "--to", "noivu@haiphong.example.vn", "--questionnaire", QID])
    assert result.exit_code == 0, result.output
    assert len(handler.messages) == 1
    recipients, message = handler.messages[0]
    assert recipients == ["vhxh@tranlieu.example.vn", "noivu@haiphong.example.vn"]
    assert "Quý IV/2025" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Số phiếu hợp lệ: 60" in text
    assert "Chỉ số chung:" in text
    assert "Quý III/2025 (kỳ trước" in text
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert set(files) == {f"bao-cao-{QID}-2025-Q4.docx", f"phu-luc-{QID}-2025-Q4.pdf"}
    assert files[f"phu-luc-{QID}-2025-Q4.pdf"][:5] == b"%PDF-"
    assert files[f"bao-cao-{QID}-2025-Q4.docx"][:2] == b"PK"


@pytest.mark.parametrize(("changes", "message"), [
    ({"SMTP_HOST": ""}, "SURVEY_SMTP_HOST is not set"),
    ({"MAIL_FROM": ""}, "SURVEY_MAIL_FROM is not set"),
    ({"SMTP_SECURITY": "starttls"}, "does not offer STARTTLS"),
    ({"SMTP_PORT": "closed"}, "cannot reach the mail server 127.0.0.1:"),
])
def test_a_bad_smtp_setting_gives_one_line(app: Flask, inbox: tuple[Inbox, int],
                                           changes: dict[str, Any], message: str) -> None:
    handler, port = inbox
    _seed(app)
    if changes.get("SMTP_PORT") == "closed":
        changes = {"SMTP_PORT": free_port()}
    _mail_settings(app, port)
    app.config.update(changes)
    result = app.test_cli_runner().invoke(args=[
        "report", "send", "--period", "2025-Q4", "--to", "vhxh@tranlieu.example.vn"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert handler.messages == []


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2025-Q4", "--to", "not an address"], "not an e-mail address"),
    (["--period", "tuần trước", "--to", "a@b.vn"], "Kỳ báo cáo không hợp lệ"),
])
def test_bad_arguments_are_refused_before_any_work(app: Flask, inbox: tuple[Inbox, int],
                                                   args: list[str], message: str) -> None:
    handler, port = inbox
    _mail_settings(app, port)
    result = app.test_cli_runner().invoke(args=["report", "send", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert handler.messages == []


def test_an_smtp_security_setting_that_is_not_known_fails_at_boot(tmp_path: Path) -> None:
    from survey.config import ConfigError
    from tests.conftest import make_app

    with pytest.raises(ConfigError, match="SURVEY_SMTP_SECURITY"):
        make_app(f"sqlite:///{tmp_path / 's.db'}", SMTP_SECURITY="tls1.0")
