"""Languages: Vietnamese by default, English as a second language (Flask-Babel)."""

from __future__ import annotations

from flask import Flask, Response, current_app, has_request_context, request

from .config import PROJECT_ROOT
from .extensions import babel

LANG_COOKIE = "lang"


def select_locale() -> str:
    """Return ``?lang=`` when valid, else the language cookie, else Vietnamese."""
    if not has_request_context():  # the CLI writes reports in Vietnamese
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate and candidate in languages:
            return candidate
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def remember_language(response: Response) -> Response:
    """Keep a language chosen with ``?lang=`` in a cookie (it identifies no one)."""
    lang = request.args.get("lang")
    if lang and lang in current_app.config["LANGUAGES"] and request.cookies.get(
            LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the catalogues in ``survey/translations``."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          str(PROJECT_ROOT / "survey" / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(remember_language)

    from .formtext import install

    app.before_request(install)  # WTForms' own messages in the reader's language


def translated(error: Exception) -> str:
    """Return a refusal's message in the reader's language.

    Reporting (Flask-free) raises errors carrying ``msgid`` and ``params``; other errors are
    shown as they are.
    """
    from flask_babel import gettext

    msgid = getattr(error, "msgid", None)
    if msgid is None:
        return str(error)
    return str(gettext(msgid, **getattr(error, "params", {})))
