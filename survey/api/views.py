"""``/api/v1/``: the summary of contract §6, for a logged-in session or an API token."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import csrf, db
from ..models import User
from ..services import accounts, reports, stats

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only GETs; a token, not a cookie, authenticates scripts


def _caller() -> User | None:
    """Return the account behind the request: a Bearer token, else the login session."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return accounts.user_for_token(header[7:].strip())
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()
        return user
    return None


def _error(message: str, status: int) -> ResponseReturnValue:
    return jsonify({"error": message, "status": status}), status


@bp.get("/summary")
def summary() -> ResponseReturnValue:
    """Return the summary JSON of one questionnaire under the given filters."""
    user = _caller()
    if user is None:
        return _error("authentication required: log in or send 'Authorization: Bearer TOKEN'",
                      401)
    args = request.args
    try:
        filters = reports.parse_filters(args.get("questionnaire"), args.get("from"),
                                        args.get("to"), args.getlist("unit"),
                                        args.getlist("channel"), user=user)
    except reports.FilterError as exc:
        return _error(str(exc), exc.status)
    result = stats.summary(filters)
    db.session.commit()  # the token's last use
    return jsonify(result)
