"""Sending reports by e-mail through the ward's SMTP server (``flask report send``).

Plain smtplib: a message with the report files attached, sent with STARTTLS, implicit TLS or
neither, as the settings say. Every failure becomes one :class:`MailError` line naming the
server, never a traceback.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

SECURITY = ("starttls", "ssl", "none")


class MailError(RuntimeError):
    """The report could not be sent; the message says why in one line."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send (settings ``SMTP_*`` and ``MAIL_FROM``)."""

    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    security: str = "starttls"
    sender: str = ""
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> SmtpSettings:
        """Read the settings from a configuration mapping (e.g. ``app.config``)."""
        return cls(host=str(config.get("SMTP_HOST") or ""),
                   port=int(str(config.get("SMTP_PORT") or 587)),
                   user=str(config.get("SMTP_USER") or ""),
                   password=str(config.get("SMTP_PASSWORD") or ""),
                   security=str(config.get("SMTP_SECURITY") or "starttls"),
                   sender=str(config.get("MAIL_FROM") or ""))

    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name, its bytes and its MIME type ("application/pdf")."""

    filename: str
    content: bytes
    mimetype: str


def check_address(address: str) -> str:
    """Return an e-mail address as given, or raise MailError when it is not one."""
    name, found = parseaddr(address)
    if not found or "@" not in found or found != address.strip() or " " in found:
        raise MailError(f"not an e-mail address: {address!r}")
    return found


def build_message(smtp: SmtpSettings, to: Sequence[str], subject: str, body: str,
                  attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """Return the message: UTF-8 text body, the files attached."""
    check_settings(smtp)
    recipients = [check_address(a) for a in to]
    if not recipients:
        raise MailError("no recipient: give --to ADDRESS")
    message = EmailMessage()
    message["From"] = formataddr(("Khảo sát hài lòng", check_address(smtp.sender)))
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[-1])
    message.set_content(body, charset="utf-8")
    for item in attachments:
        maintype, _, subtype = item.mimetype.partition("/")
        message.add_attachment(item.content, maintype=maintype, subtype=subtype,
                               filename=item.filename)
    return message


def check_settings(smtp: SmtpSettings) -> None:
    """Raise MailError when a setting needed to send is missing or wrong."""
    if not smtp.host:
        raise MailError("SURVEY_SMTP_HOST is not set: the mail server to send through")
    if not smtp.sender:
        raise MailError("SURVEY_MAIL_FROM is not set: the address reports are sent from")
    check_address(smtp.sender)
    if smtp.security not in SECURITY:
        raise MailError(f"SURVEY_SMTP_SECURITY must be one of {', '.join(SECURITY)}, got "
                        f"{smtp.security!r}")


def send(message: EmailMessage, smtp: SmtpSettings) -> None:
    """Send ``message``; MailError with one line when the server cannot be used."""
    check_settings(smtp)
    context = ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{smtp.where()} refused the login of {smtp.user!r} "
                        f"({exc.smtp_code})") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f"{smtp.where()} does not offer STARTTLS (set SURVEY_SMTP_SECURITY="
                        "ssl or none)") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise MailError(f"{smtp.where()} refused the recipients: {refused}") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"cannot send through {smtp.where()}: "
                        f"{' '.join(str(exc).split())[:200]}") from exc
    except ssl.SSLError as exc:
        raise MailError(f"TLS with {smtp.where()} failed: {exc.reason or exc}") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise MailError(f"cannot reach the mail server {smtp.where()}: {reason}") from exc
