"""The citizen's side: the form behind a QR code, the receipt, the reply, the ward's results.

The reply to a suggestion is looked up at /tra-cuu with the receipt; the ward's published
results are at /ket-qua; /healthz answers the load balancer.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from analysis.vietnam import VIETNAM
from questionnaires import Questionnaire

from ..extensions import csrf, db, limiter
from ..labels import STATUS_LABELS
from ..models import Case, SurveyLink, Unit
from ..questionnaire_forms import QuestionnaireForm, build_form_class, quick_answers
from ..services import cases, results, units
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


def _contact_section(questionnaire: Questionnaire) -> str | None:
    """Return where the optional contact goes: after this section id, "" before the button.

    None when no answer to this questionnaire can open a case (services/cases.py's rule), so
    that there is nothing a contact could be used for.
    """
    config = current_app.config
    rule = set(config["CASE_RULE"])
    suggestions = set(config["CASE_SUGGESTION_QUESTIONS"])
    for section in questionnaire.sections:
        if "suggestion" in rule and any(q.id in suggestions for q in section.questions):
            return section.id
    return "" if "low_rating" in rule and questionnaire.index == "sipas" else None


def _render_form(link: SurveyLink, form: QuestionnaireForm, status: int = 200,
                 notice: str | None = None,
                 contact_error: str | None = None) -> ResponseReturnValue:
    missing = [q for q, f in form.question_fields() if f.errors]
    posted = request.form if request.method == "POST" else {}
    response = current_app.make_response((render_template(
        "public/form.html", link=link, unit=link.unit, form=form,
        questionnaire=form.questionnaire, lang=form.lang, missing=missing, notice=notice,
        contact_after=_contact_section(form.questionnaire),
        contact=str(posted.get("contact", ""))[:254], consent=posted.get("consent") == "1",
        contact_error=contact_error, contact_days=current_app.config["CASE_CONTACT_DAYS"],
    ), status))
    # The form holds a one-off response id: never let a cache hand it to someone else.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _render_receipt(code: str, organisation: str | None, receipt: str, *, already: bool = False,
                    notice: str | None = None, status: int = 200, ward: str | None = None,
                    contact_dropped: bool = False) -> ResponseReturnValue:
    """Show a receipt: just stored, or stored earlier from this browser (``already``).

    It says where to read the ward's reply (/tra-cuu with the code filled in) and by when, when
    the response opened a case, and where the ward publishes its results (/ket-qua).
    """
    case = cases.find_by_receipt(receipt)
    response = current_app.make_response((render_template(
        "public/thanks.html", receipt=receipt, code=code, organisation=organisation,
        already=already, notice=notice, has_case=case is not None, ward_code=ward,
        contact_dropped=contact_dropped and case is None,
        due_days=current_app.config["CASE_DUE_DAYS"]), status))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _organisation(link: SurveyLink) -> str | None:
    ward = link.unit.ward
    return ward.name if ward else None


def _ward_code(link: SurveyLink) -> str | None:
    ward = link.unit.ward
    return ward.code if ward else None


# One visit, one response. The signed session cookie (already set for the CSRF token) keeps,
# for the last few links this browser answered, [link code, receipt, when, id of the form
# offered by "send another" or ""]. It stays on the phone: the server stores nothing that
# ties a response to a browser. With it, Back, a reload or the QR code opened again shows the
# receipt and an explicit "send another", and a filled form brought back by the browser
# (bfcache, form restore, an old tab) stores nothing.
SENT = "sent"
SENT_LINKS = 5
# About one visit to the office: later, the same person may answer about a new visit without
# being asked why.
SENT_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Sent:
    """What this browser last stored through one link."""

    receipt: str
    at: int
    pending: uuid.UUID | None  # the response id of the form "send another" offers

    def allows(self, response_id: uuid.UUID) -> bool:
        """Whether this browser may post ``response_id`` here without being asked first.

        Yes for the form "send another" gave it, and for a retry of the stored response (the
        receipt is derived from the id). A retry of an older response of this browser is
        recognised by the caller in the database.
        """
        return response_id == self.pending or receipt_for(response_id) == self.receipt


def _sent_entries() -> list[list[Any]]:
    entries = session.get(SENT)
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 4]


def _sent(code: str) -> Sent | None:
    """Return what this browser stored through the link ``code`` during this visit, if any."""
    for entry_code, receipt, at, pending in _sent_entries():
        if entry_code != code or not isinstance(at, int) or time.time() - at >= SENT_SECONDS:
            continue
        try:
            pending_id = uuid.UUID(hex=pending) if pending else None
        except (TypeError, ValueError):
            pending_id = None
        return Sent(str(receipt), at, pending_id)
    return None


def _remember_sent(code: str, receipt: str, *, at: int | None = None,
                   pending: uuid.UUID | None = None) -> None:
    """Note in the session what this browser stored through ``code`` (newest last, kept few)."""
    entries = [e for e in _sent_entries() if e[0] != code]
    entries.append([code, receipt, at or int(time.time()), pending.hex if pending else ""])
    session[SENT] = entries[-SENT_LINKS:]


def _token_ok() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


def _submit_limit() -> str:
    return str(current_app.config["RATELIMIT_SUBMIT"])


def _posted_contact() -> tuple[cases.Contact | None, str | None]:
    """Return the contact the citizen left for the reply, or why it cannot be taken.

    Blank: no contact (the consent box alone keeps nothing). Given: it must read as a phone
    number or an e-mail address, and come with the consent box ticked (Decree 13/2023).
    """
    try:
        contact = cases.parse_contact(request.form.get("contact", ""))
    except cases.CaseError as exc:
        return None, str(exc)
    if contact is not None and request.form.get("consent") != "1":
        return None, _("Xin đánh dấu ô đồng ý để phường dùng số điện thoại hoặc thư điện tử "
                       "này, hoặc xóa ô này để gửi phiếu không để lại liên hệ.")
    return contact, None


def _refused(form: QuestionnaireForm, questionnaire: Questionnaire, link: SurveyLink,
             contact_error: str | None = None) -> ResponseReturnValue | None:
    """Validate the posted form; return the form page again (400) when it cannot be stored."""
    notice = None
    unknown = form.unknown_fields(request.form.keys())
    valid = form.validate() and contact_error is None
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
    return _render_form(link, form, status=400, notice=notice, contact_error=contact_error)


def _landing(link: SurveyLink, questionnaire: Questionnaire, sent: Sent | None, *,
             offered: bool = False, status: int = 200,
             notice: str | None = None) -> ResponseReturnValue:
    """Show what opening the link shows: a form, or this browser's receipt and a choice.

    After answering, Back, a reload or the QR code again shows the receipt; the form comes
    only through "send another" (``offered``), with the response id kept for it.
    """
    if (sent is not None and offered and sent.pending
            and find_response(sent.pending) is not None):
        # The offered form was stored but its receipt never arrived (a lost answer).
        sent = Sent(receipt_for(sent.pending), int(time.time()), None)
        _remember_sent(link.code, sent.receipt)
    if sent is not None and not (offered and sent.pending):
        return _render_receipt(link.code, _organisation(link), sent.receipt, already=True,
                               status=status, notice=notice, ward=_ward_code(link))
    response_id = sent.pending if sent is not None else uuid.uuid4()
    form_class = build_form_class(questionnaire, _lang())
    form = form_class(formdata=None, data={"response_id": str(response_id),
                                           "version": str(questionnaire.version)})
    return _render_form(link, form, status=status, notice=notice)


@bp.route("/s/<code>", methods=["GET", "POST"])
@csrf.exempt  # the form validates its own token, so an expired one keeps the answers
@limiter.limit(_submit_limit, methods=["POST"])
def survey(code: str) -> ResponseReturnValue:
    """Show the form of one questionnaire at one unit, and store what it sends back once."""
    link, latest = _open_link(code)
    code = link.code  # as stored (a QR code reader may send it in capitals)
    # Answer with the version the citizen saw, even if a newer one was loaded meanwhile.
    questionnaire = _posted_questionnaire(link, latest) if request.method == "POST" else latest
    sent = _sent(code)
    if request.method == "GET":
        return _landing(link, questionnaire, sent, offered=bool(request.args.get("another")))
    form_class = build_form_class(questionnaire, _lang())

    # A clean, complete submission (nearly all of them) is read without building the form;
    # anything else goes through the form, which says what is wrong.
    answers = quick_answers(questionnaire, request.form)
    # The contact never joins the answers: a retry with it is still the same response.
    contact, contact_error = _posted_contact()
    if answers is None or contact_error is not None:
        form = form_class()
        refused = _refused(form, questionnaire, link, contact_error)
        if refused is not None:
            return refused
        answers = form.answers()
    response_id = uuid.UUID(request.form["response_id"])
    # What the receipt page shows, read now: the commit expires every loaded row.
    organisation, ward = _organisation(link), _ward_code(link)
    if sent is not None and not sent.allows(response_id) and find_response(response_id) is None:
        # A new response from a browser that has answered here and did not ask to send
        # another: a filled form brought back by Back, or an old tab. Nothing is stored; 409,
        # as for any other submission refused because of what is already stored.
        return _render_receipt(
            code, organisation, sent.receipt, already=True, status=409, ward=ward,
            notice=_("Lần bấm “Gửi phiếu” vừa rồi không được lưu thêm, để một lượt góp ý không "
                     "bị tính hai lần."))
    try:
        stored = committed(lambda: save_response(questionnaire, link.unit, "qr", response_id,
                                                 answers, link=link, contact=contact))
    except ResponseConflict:
        db.session.rollback()
        return render_template("public/conflict.html", link=link), 409
    except DatabaseBusy:
        busy = current_app.make_response(_render_form(link, form_class(), status=503, notice=_(
            "Hệ thống đang bận nên phiếu chưa được lưu. Câu trả lời vẫn còn, xin đợi một lát "
            "rồi bấm “Gửi phiếu” lại.")))
        busy.headers["Retry-After"] = "5"
        return busy
    receipt = receipt_for(response_id)
    # A retry whose first answer was lost (no cookie came back) is remembered too; a retry of
    # an older response keeps the newer receipt and a pending "send another".
    if stored.created or sent is None or response_id == sent.pending:
        _remember_sent(code, receipt)
    return _render_receipt(code, organisation, receipt, ward=ward,
                           contact_dropped=contact is not None and stored.created)


@bp.post("/s/<code>/another")
@csrf.exempt  # checked below, so that an expired token shows the page again with a fresh one
def another(code: str) -> ResponseReturnValue:
    """Give this browser a fresh form after it has answered here ("send another").

    A POST, so that Back or a reload never brings a fresh form by itself. The new form's
    response id is kept in the session: a reload shows the same form, and once it is stored
    the link shows the new receipt again.
    """
    link, latest = _open_link(code)
    sent = _sent(link.code)
    if not _token_ok():
        again = _("Trang đã mở quá lâu. Xin bấm “Gửi thêm một phiếu khác” thêm một lần.")
        return _landing(link, latest, sent, status=400, notice=again if sent else None)
    if sent is not None:
        _remember_sent(link.code, sent.receipt, at=sent.at, pending=uuid.uuid4())
    return redirect(url_for("public.survey", code=link.code, another=1), code=303)


# --- The citizen looks up the reply (/tra-cuu) --------------------------------------------

def _lookup_limit() -> str:
    return str(current_app.config["RATELIMIT_LOOKUP"])


def _not_a_lookup() -> bool:
    """Whether this request is free of the limit: the empty form costs no guess."""
    return request.method == "GET" and not request.args.get("ma", "").strip()


def _shown_case(case: Case) -> dict[str, Any]:
    """Return what the citizen may read of a case: status and public reply, nothing else."""
    ward = case.unit.ward
    answered = case.reply is not None and case.answered_at is not None
    return {
        "receipt": case.receipt,
        "ward": ward.name if ward else None,
        "ward_code": ward.code if ward else None,
        "status": str(STATUS_LABELS.get(case.status, case.status)),
        "reply": case.reply,
        "answered_at": case.answered_at,
        "can_rate": answered and case.citizen_satisfied is None,
        "rated": case.citizen_satisfied is not None,
    }


def _render_lookup(case: Case | None = None, *, searched: bool = False,
                   notice: str | None = None, status: int = 200) -> ResponseReturnValue:
    """Show the lookup form, with a case's status and reply, or the one neutral message.

    An unknown code, a code that is not one, and a response without a case get the very same
    page (contract §9): nothing tells whether a code exists.
    """
    response = current_app.make_response((render_template(
        "public/lookup.html", found=_shown_case(case) if case is not None else None,
        searched=searched, notice=notice, due_days=current_app.config["CASE_DUE_DAYS"],
        # The neutral page must not echo the code typed, not even in the language link.
        lang_keep_query=case is not None),
        status))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _rate_once(receipt: str, satisfied: bool) -> bool | None:
    """Record the citizen's verdict; None when there is no such case (run by committed)."""
    case = cases.find_by_receipt(receipt)
    return None if case is None else cases.rate(case, satisfied)


@bp.route("/tra-cuu", methods=["GET", "POST"])
@csrf.exempt  # checked below, so that an expired token shows the page again with a fresh one
@limiter.limit(_lookup_limit, exempt_when=_not_a_lookup)
def lookup() -> ResponseReturnValue:
    """Show the status and public reply of the case of a receipt; take the verdict, once."""
    if request.method == "GET":
        typed = request.args.get("ma", "")[:40]
        if not typed.strip():
            return _render_lookup()
        return _render_lookup(cases.find_by_receipt(typed), searched=True)
    if not _token_ok():
        return _render_lookup(status=400, notice=_(
            "Trang đã mở quá lâu. Xin nhập lại mã phiếu và chọn lại."))
    typed = request.form.get("ma", "")[:40]
    verdict = request.form.get("hai_long")
    case = cases.find_by_receipt(typed)
    if case is None:
        return _render_lookup(searched=True)
    if verdict not in ("1", "0"):
        return _render_lookup(case, searched=True, status=400,
                              notice=_("Xin chọn “Có” hoặc “Chưa hài lòng”."))
    if case.citizen_satisfied is not None:
        return _render_lookup(case, searched=True, status=409, notice=_(
            "Ý kiến của Ông/Bà về cách giải quyết đã được ghi nhận trước đó; mỗi phiếu chỉ "
            "được cho ý kiến một lần."))
    receipt = case.receipt
    try:
        rated = committed(lambda: _rate_once(receipt, verdict == "1"))
    except DatabaseBusy:
        return _render_lookup(cases.find_by_receipt(receipt), searched=True, status=503,
                              notice=_("Hệ thống đang bận, ý kiến chưa được ghi. Xin thử lại "
                                       "sau ít giây."))
    if not rated:
        return _render_lookup(cases.find_by_receipt(receipt), searched=True, status=409,
                              notice=_("Hồ sơ này chưa có câu trả lời để cho ý kiến."))
    return redirect(url_for("public.lookup", ma=receipt), code=303)


# --- The ward's published results (/ket-qua) -------------------------------------------------

@bp.get("/ket-qua", defaults={"code": None})
@bp.get("/ket-qua/<code>")
def results_page(code: str | None) -> ResponseReturnValue:
    """Show a ward's results: index and elements by quarter, trend, replies made public.

    ``/ket-qua`` is the ward when there is one, the whole instance when there is none, and a
    list of wards when there are several. The one page other sites may frame (security.py).
    """
    wards = results.active_wards()
    ward: Unit | None
    if code is None:
        if len(wards) > 1:
            return _cached(render_template("public/results.html", wards=wards, data=None))
        ward = wards[0] if wards else None
    else:
        ward = next((w for w in wards if w.code == units.normalise_code(code)), None)
        if ward is None:
            abort(404)
    config = current_app.config
    data = results.build_results(
        ward, datetime.now(VIETNAM).date(), min_cell=int(config["MIN_CELL"]), lang=_lang(),
        suggestion_questions=config["CASE_SUGGESTION_QUESTIONS"])
    return _cached(render_template("public/results.html", data=data, wards=wards))


def _cached(body: str) -> ResponseReturnValue:
    """Public aggregates: any cache may keep them a few minutes (per language)."""
    response = current_app.make_response(body)
    # A ?lang= answer sets the language cookie: not for a shared cache to hand out.
    scope = "private" if request.args.get("lang") else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age=300"
    response.vary.add("Cookie")  # the language may come from the cookie
    return response


def results_path(ward_code: str | None = None) -> str:
    """Return the address of a ward's results: /ket-qua, or /ket-qua/<ward> among several."""
    wards = results.active_wards()
    if ward_code and len(wards) > 1 and any(w.code == ward_code for w in wards):
        return url_for("public.results_page", code=ward_code)
    return url_for("public.results_page")


def _pakn_for(ward: Unit | str | None) -> str:
    """Return the PAKN phone line of a ward (a unit or a code): its own, else the default."""
    from ..services.wards import pakn_phone

    if isinstance(ward, str):
        ward = units.get_unit(ward)
    return pakn_phone(ward if isinstance(ward, Unit) else None)


def _tel(number: str) -> str:
    """Return a tel: address of a phone number as written (``0225 3 821 234``)."""
    return "tel:" + re.sub(r"[^\d+]", "", number)


def _lang_href(lang: str, keep_query: bool = True) -> str:
    """Return this page's address in another language, keeping its query (e.g. ``?ma=``)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang" and keep_query]
    return "?" + urlencode([*args, ("lang", lang)])


@bp.app_context_processor
def _public_helpers() -> dict[str, Any]:
    config = current_app.config
    return {"pakn_phone": config.get("PAKN_PHONE") or "", "pakn_for": _pakn_for,
            "pakn_hotline": config.get("PAKN_HOTLINE") or "",
            "tel": _tel, "lang_href": _lang_href, "results_path": results_path}


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
    if request.endpoint == "public.lookup":
        return _render_lookup(status=429, notice=_(
            "Ông/Bà đã tra cứu nhiều lần liên tiếp. Xin đợi một phút rồi thử lại."))
    from ..errors import handle_http_error

    return handle_http_error(error)
