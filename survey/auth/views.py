"""Staff login and logout, throttled, with one message for every failed attempt."""

from __future__ import annotations

import hashlib
import hmac

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from ..extensions import client_key, db, limiter, login_manager
from ..models import User
from ..security import local_path
from ..services import accounts, audit
from .forms import LoginForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    """Return the logged-in account, or None when it is gone, disabled or logged out."""
    user_id, _, token = login_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 9 or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _user_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN_USER"])


def _username_key() -> str:
    """Throttle guesses at one account from one client, without storing either in clear."""
    name = accounts.normalise_username(request.form.get("username", ""))[:64]
    return hashlib.sha256(f"{client_key()}|{name}".encode()).hexdigest()[:32]


def _account_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN_ACCOUNT"])


def _name_digest(name: str) -> str:
    """Return an account name as the limits and the cookie below keep it (never in clear)."""
    return hashlib.sha256(accounts.normalise_username(name)[:64].encode()).hexdigest()[:32]


def _account_key() -> str:
    """Throttle guesses at one account from every address together."""
    return "account:" + _name_digest(request.form.get("username", ""))


KNOWN_COOKIE = "survey_known"
"""Names (hashed) of the accounts that logged in from this browser before: the account-wide
limit does not hold them back, so that guesses from elsewhere never lock the real user out."""


def _known_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="known-browser")


def _known_names() -> list[str]:
    try:
        names = _known_serializer().loads(request.cookies.get(KNOWN_COOKIE, "")[:2000])
    except BadSignature:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _known_browser() -> bool:
    """Whether this browser logged in to the account being tried before."""
    return _name_digest(request.form.get("username", "")) in _known_names()


def _remember_browser(response: Response, name: str) -> Response:
    digest = _name_digest(name)
    names = [digest, *[n for n in _known_names() if n != digest]][:5]
    response.set_cookie(KNOWN_COOKIE, _known_serializer().dumps(names), max_age=400 * 24 * 3600,
                        httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) != 302


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("staff.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_user_limit, methods=["POST"], key_func=_username_key, deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key, deduct_when=_failed,
               exempt_when=_known_browser)
def login() -> ResponseReturnValue:
    """Log a staff member in."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.index"))
    form = LoginForm()
    if not form.is_submitted():
        return render_template("auth/login.html", form=form)
    user = None
    if form.validate():
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
    if user is None:
        # One answer for every failure: empty, too long, unknown user, wrong password.
        for field in form:
            field.errors = []
        form.password.errors = [_("Tên đăng nhập hoặc mật khẩu không đúng.")]
        return render_template("auth/login.html", form=form), 401
    session.clear()
    login_user(user)
    audit.record(user, "auth.login", user.username)
    db.session.commit()
    return _remember_browser(redirect(_safe_next(request.args.get("next"))), user.username)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (a POST, so that a link on another site cannot do it)."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        user.end_sessions()  # a copy of this cookie must not work after logout
        audit.record(user, "auth.logout", user.username)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.errorhandler(RateLimitExceeded)
def throttled(error: RateLimitExceeded) -> ResponseReturnValue:
    """Too many failed logins: the same page, with a wait message."""
    form = LoginForm()
    form.password.errors = [_("Đăng nhập sai quá nhiều lần. Xin đợi vài phút rồi thử lại.")]
    return render_template("auth/login.html", form=form), 429


login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page itself says what to do
