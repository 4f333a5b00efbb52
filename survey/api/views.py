"""``/api/v1/``: the summary of contract §6 and the cases of §9, for a session or an API token.

Reading takes a logged-in session or a token; answering a case (a write) takes a token only,
since the blueprint is exempt from CSRF and a session cookie rides along on any site's form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from analysis.vietnam import vietnam_date

from ..extensions import csrf, db
from ..i18n import translated
from ..models import User
from ..reporting import filters as report_filters
from ..reporting import summaries
from ..services import accounts, case_api, cases
from ..services.wards import settings_for, ward_figures

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # GETs read; the one POST takes a token, never a cookie (see above)


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


@bp.before_request
def _read_only() -> ResponseReturnValue | None:
    """Refuse every change asked by the city role, which only reads (contract §11)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    user = _caller()
    if user is not None and user.reads_only:
        return _error(_("Tài khoản cấp thành phố chỉ được xem số liệu, không được thay đổi "
                        "gì."), 403)
    return None


@bp.get("/summary")
def summary() -> ResponseReturnValue:
    """Return the summary JSON of one questionnaire under the given filters."""
    user = _caller()
    if user is None:
        return _error("authentication required: log in or send 'Authorization: Bearer TOKEN'",
                      401)
    args = request.args
    try:
        date_from, date_to = report_filters.period_days(
            args.get("period"), args.get("from"), args.get("to"), vietnam_date(datetime.now(UTC)))
        filters = report_filters.parse_filters(args.get("questionnaire"), date_from, date_to,
                                               args.getlist("unit"), args.getlist("channel"),
                                               user=user)
    except report_filters.FilterError as exc:
        return _error(translated(exc), exc.status)
    result = summaries.summary(db.session, filters, settings_for(filters))
    db.session.commit()  # the token's last use
    return jsonify(result)


@bp.get("/wards")
def wards() -> ResponseReturnValue:
    """Rank the wards by index, with intervals, counts and verdicts (contract §11).

    For the city role and accounts of every ward; a ward with too few responses has its count
    only (``"suppressed": true``).
    """
    user = _caller()
    if user is None:
        return _error("authentication required: log in or send 'Authorization: Bearer TOKEN'",
                      401)
    if not user.sees_all_units:
        return _error(_("Chỉ tài khoản cấp thành phố hoặc quản trị mọi phường được so sánh "
                        "các phường."), 403)
    args = request.args
    try:
        date_from, date_to = report_filters.period_days(
            args.get("period"), args.get("from"), args.get("to"), vietnam_date(datetime.now(UTC)))
        filters = report_filters.parse_filters(args.get("questionnaire"), date_from, date_to,
                                               (), args.getlist("channel"), user=user)
    except report_filters.FilterError as exc:
        return _error(translated(exc), exc.status)
    comparison = ward_figures(filters)
    db.session.commit()  # the token's last use
    return jsonify(comparison.as_json() if comparison else [])


def _token_caller() -> User | None:
    """Return the account of a Bearer token; a session alone does not count (CSRF)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return accounts.user_for_token(header[7:].strip())


@bp.get("/cases")
def case_list() -> ResponseReturnValue:
    """Return the cases the caller may see (contract §9), filtered; never a contact."""
    user = _caller()
    if user is None:
        return _error("authentication required: log in or send 'Authorization: Bearer TOKEN'",
                      401)
    args = request.args
    try:
        query = case_api.parse_case_query(args.getlist("status"), args.getlist("unit"),
                                          args.get("from"), args.get("to"), user)
    except report_filters.FilterError as exc:
        return _error(translated(exc), exc.status)
    result = case_api.case_list(query, user)
    db.session.commit()  # the token's last use
    return jsonify(result)


def _reply_body() -> tuple[str, str]:
    """Return (text, status) of a reply's JSON body; ValueError with a message otherwise."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValueError(_('Nội dung gửi lên phải là JSON dạng {"text": "…", "status": '
                           '"answered" hoặc "closed"}.'))
    text, status = body.get("text"), body.get("status", "answered")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(_('Xin nhập nội dung trả lời (trường "text").'))
    if status not in ("answered", "closed"):
        raise ValueError(_('Trạng thái (trường "status") phải là "answered" hoặc "closed".'))
    return text, status


@bp.post("/cases/<receipt>/reply")
def case_reply(receipt: str) -> ResponseReturnValue:
    """Give the public reply of a case, as the token's account; audited (contract §9)."""
    user = _token_caller()
    if user is None:
        return _error("authentication required: send 'Authorization: Bearer TOKEN' "
                      "(a login session cannot write through the API)", 401)
    case = cases.find_by_receipt(receipt[:40])
    if case is None:
        db.session.commit()
        return _error(_("Không có hồ sơ phản ánh, kiến nghị với mã %(receipt)s.",
                        receipt=receipt[:40]), 404)
    if not cases.can_handle(user, case):
        db.session.commit()
        return _error(_("Tài khoản này không được xử lý hồ sơ %(receipt)s: hồ sơ thuộc đơn "
                        "vị khác.", receipt=case.receipt), 403)
    try:
        text, status = _reply_body()
        cases.reply(case, user, text, status=status, publish=bool(case.published))
    except (ValueError, cases.CaseError) as exc:
        db.session.rollback()
        return _error(str(exc), 400)
    db.session.commit()
    return jsonify(case_api.one_case_json(case))
