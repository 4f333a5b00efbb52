"""The citizen's side: the survey form behind a QR code, the receipt, and the health check."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded

from questionnaires import Questionnaire

from ..extensions import csrf, db, limiter
from ..models import SurveyLink
from ..questionnaire_forms import QuestionnaireForm, build_form_class, quick_answers
from ..services import units
from ..services.questionnaires import get_questionnaire
from ..services.submissions import (
    ResponseConflict,
    find_response,
    receipt_for,
    save_response,
)
from ..services.transactions import DatabaseBusy, committed

bp = Blueprint("public", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    """Answer 200 when the database answers."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database unavailable")
        return jsonify({"status": "error", "database": "unavailable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show a short page to people who open the bare address."""
    return render_template("public/index.html")


def _open_link(code: str) -> tuple[SurveyLink, Questionnaire]:
    """Return the link and its current questionnaire; 404 when unknown, 410 when closed.

    A closed link still answers a phone's retry of a response it had already stored, so that
    the citizen sees the receipt, not a notice that the survey has closed.
    """
    link = units.get_link(code)
    if link is None:
        abort(404)
    questionnaire = get_questionnaire(link.questionnaire_id)
    if questionnaire is None:
        abort(410)
    is_open = link.active and link.unit.active
    if not is_open and not (request.method == "POST" and _stored_through(link)):
        abort(410)
    return link, questionnaire


def _stored_through(link: SurveyLink) -> bool:
    """Whether the posted response id is already stored through this link."""
    try:
        response_id = uuid.UUID(request.form.get("response_id", ""))
    except ValueError:
        return False
    stored = find_response(response_id)
    return stored is not None and stored.link_id == link.id


def _posted_questionnaire(link: SurveyLink, latest: Questionnaire) -> Questionnaire:
    """Return the version the citizen saw (the form posts it), falling back to the latest."""
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return latest
    return get_questionnaire(link.questionnaire_id, version) or latest


def _lang() -> str:
    return str(get_locale() or "vi")


def _render_form(link: SurveyLink, form: QuestionnaireForm, status: int = 200,
                 notice: str | None = None) -> ResponseReturnValue:
    missing = [q for q, f in form.question_fields() if f.errors]
    response = current_app.make_response((render_template(
        "public/form.html", link=link, unit=link.unit, form=form,
        questionnaire=form.questionnaire, lang=form.lang, missing=missing, notice=notice,
    ), status))
    # The form holds a one-off response id: never let a cache hand it to someone else.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _submit_limit() -> str:
    return str(current_app.config["RATELIMIT_SUBMIT"])


def _refused(form: QuestionnaireForm, questionnaire: Questionnaire,
             link: SurveyLink) -> ResponseReturnValue | None:
    """Validate the posted form; return the form page again (400) when it cannot be stored."""
    notice = None
    unknown = form.unknown_fields(request.form.keys())
    valid = form.validate()
    if unknown:
        notice = _("Phiếu có trường lạ không thuộc bảng hỏi, xin kiểm tra và gửi lại.")
        valid = False
    if "csrf_token" in form.errors:
        notice = _("Trang đã mở quá lâu. Câu trả lời của Ông/Bà vẫn còn, xin bấm “Gửi phiếu” "
                   "thêm một lần.")
    if form.version.data != str(questionnaire.version) or "response_id" in form.errors:
        # A tampered hidden field: start a clean form with the answers kept.
        notice = _("Phiếu không hợp lệ. Câu trả lời vẫn còn, xin kiểm tra và gửi lại.")
        form.response_id.data = str(uuid.uuid4())
        form.version.data = str(questionnaire.version)
        valid = False
    if valid:
        return None
    return _render_form(link, form, status=400, notice=notice)


@bp.route("/s/<code>", methods=["GET", "POST"])
@csrf.exempt  # the form validates its own token, so an expired one keeps the answers
@limiter.limit(_submit_limit, methods=["POST"])
def survey(code: str) -> ResponseReturnValue:
    """Show the form of one questionnaire at one unit, and store what it sends back once."""
    link, latest = _open_link(code)
    # Answer with the version the citizen saw, even if a newer one was loaded meanwhile.
    questionnaire = _posted_questionnaire(link, latest) if request.method == "POST" else latest
    form_class = build_form_class(questionnaire, _lang())
    if request.method == "GET":
        form = form_class(formdata=None, data={"response_id": str(uuid.uuid4()),
                                               "version": str(questionnaire.version)})
        return _render_form(link, form)

    # A clean, complete submission (nearly all of them) is read without building the form;
    # anything else goes through the form, which says what is wrong.
    answers = quick_answers(questionnaire, request.form)
    if answers is None:
        form = form_class()
        refused = _refused(form, questionnaire, link)
        if refused is not None:
            return refused
        answers = form.answers()
    response_id = uuid.UUID(request.form["response_id"])
    # What the receipt page shows, read now: the commit expires every loaded row.
    ward = link.unit.ward
    thanks = {"code": link.code, "organisation": ward.name if ward else None}
    try:
        committed(lambda: save_response(questionnaire, link.unit, "qr", response_id, answers,
                                        link=link))
    except ResponseConflict:
        db.session.rollback()
        return render_template("public/conflict.html", link=link), 409
    except DatabaseBusy:
        busy = current_app.make_response(_render_form(link, form_class(), status=503, notice=_(
            "Hệ thống đang bận nên phiếu chưa được lưu. Câu trả lời vẫn còn, xin đợi một lát "
            "rồi bấm “Gửi phiếu” lại.")))
        busy.headers["Retry-After"] = "5"
        return busy
    response = current_app.make_response(render_template(
        "public/thanks.html", receipt=receipt_for(response_id), **thanks))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded) -> ResponseReturnValue:
    """Keep the citizen's answers when the submit limit is reached; nothing is stored."""
    if request.endpoint == "public.survey" and request.method == "POST":
        link = units.get_link((request.view_args or {}).get("code", ""))
        latest = get_questionnaire(link.questionnaire_id) if link else None
        if link is not None and latest is not None:
            questionnaire = _posted_questionnaire(link, latest)
            form = build_form_class(questionnaire, _lang())()
            response = _render_form(link, form, status=429, notice=_(
                "Hệ thống đang nhận quá nhiều phiếu từ nơi Ông/Bà đang kết nối. Câu trả lời "
                "vẫn còn, xin đợi một phút rồi bấm “Gửi phiếu” lại."))
            return response
    from ..errors import handle_http_error

    return handle_http_error(error)
