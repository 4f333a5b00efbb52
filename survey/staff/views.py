"""Staff pages: units, survey links and QR codes, posters, accounts and the audit log.

Every route here requires login (one ``before_request`` hook); roles and a leader's units are
checked on the server for every route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ..errors import fail
from ..extensions import db, limiter
from ..models import Response as SurveyResponse
from ..models import SurveyLink, Unit, User
from ..reporting import keyset
from ..services import accounts, audit, qrcodes, units
from ..services.questionnaires import get_questionnaire, latest_questionnaires
from .forms import (
    EmptyForm,
    LinkForm,
    PasswordForm,
    TokenForm,
    UnitEditForm,
    UnitForm,
    UserEditForm,
    UserForm,
)

bp = Blueprint("staff", __name__)
F = TypeVar("F", bound=Callable[..., Any])


@bp.before_request
@login_required
def require_login() -> None:
    """Require a logged-in account on every staff page; the city role only reads.

    For the city (contract §11) any method but GET is refused before a view runs, so
    nothing is changed.
    """
    if current_user.reads_only and request.method not in ("GET", "HEAD", "OPTIONS"):
        fail(403, _("Tài khoản cấp thành phố chỉ được xem số liệu, không được thay đổi gì."))


def roles(*allowed: str) -> Callable[[F], F]:
    """Allow a view only to the given roles (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _unit_or_404(code: str) -> Unit:
    unit = units.get_unit(code)
    if unit is None:
        abort(404)
    if not units.can_see(_me(), unit):
        abort(403)
    return unit


def _link_or_404(code: str) -> SurveyLink:
    link = units.get_link(code)
    if link is None:
        abort(404)
    if not units.can_see(_me(), link.unit):
        abort(403)
    return link


def _response_counts(unit_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Return, per unit, the number of responses in all and in the last 30 days."""
    if not unit_ids:
        return {}
    since = datetime.now(UTC) - timedelta(days=30)
    recent = sa.func.sum(sa.case((SurveyResponse.submitted_at >= since, 1), else_=0))
    rows = db.session.execute(
        sa.select(SurveyResponse.unit_id, sa.func.count(), recent)
        .where(SurveyResponse.unit_id.in_(unit_ids))
        .group_by(SurveyResponse.unit_id))
    return {unit_id: (total, int(last or 0)) for unit_id, total, last in rows}


def _parent_choices(exclude: Unit | None = None) -> list[tuple[str, str]]:
    """Offer the wards a unit may belong to: every ward, or the account's own."""
    me = _me()
    wards = [u for u in units.wards() if u is not exclude and units.can_see(me, u)]
    none = [SelectChoice("", _("(không thuộc phường nào)"))] if me.sees_all_units else []
    return none + [SelectChoice(u.code, f"{u.name} ({u.code})") for u in wards]


@bp.route("/units", methods=["GET", "POST"])
def unit_list() -> ResponseReturnValue:
    """List units; admins and staff may add one."""
    form = UnitForm()
    form.parent.choices = _parent_choices()
    can_edit = _me().is_office
    if form.is_submitted():
        if not can_edit:
            abort(403)
        if form.validate():
            parent = units.get_unit(form.parent.data) if form.parent.data else None
            if parent is not None and not units.can_see(_me(), parent):
                abort(403)
            try:
                unit = units.create_unit(form.code.data or "", form.name.data or "",
                                         form.kind.data or "", parent=parent, actor=_me())
            except units.UnitError as exc:
                form.code.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Đã thêm đơn vị %(code)s.", code=unit.code), "success")
                return redirect(url_for("staff.unit_detail", code=unit.code))
        status = 400
    else:
        status = 200
        wards = [c.value for c in form.parent.choices if c.value]
        if len(wards) == 1:
            form.parent.data = wards[0]  # most installations serve one ward
    visible = units.visible_units(_me())
    return render_template("staff/units.html", units=visible, form=form, can_edit=can_edit,
                           counts=_response_counts([u.id for u in visible])), status


@bp.route("/units/<code>", methods=["GET", "POST"])
def unit_detail(code: str) -> ResponseReturnValue:
    """Show a unit and its survey links; admins and staff may edit it."""
    unit = _unit_or_404(code)
    can_edit = units.can_change(_me(), unit)
    form = UnitEditForm()
    form.parent.choices = _parent_choices(exclude=unit)
    link_form = LinkForm(prefix="link")
    offered = latest_questionnaires()
    titles = {q.id: q.title for q in offered}
    existing = {link.questionnaire_id for link in unit.links}
    link_form.questionnaire.choices = [
        SelectChoice(q.id, f"{q.title.get()} ({q.id})") for q in offered if q.id not in existing]
    status = 200
    if form.is_submitted():
        if not can_edit:
            abort(403)
        if form.validate():
            parent = units.get_unit(form.parent.data) if form.parent.data else None
            if parent is not None and not units.can_see(_me(), parent):
                abort(403)
            try:
                units.update_unit(unit, name=form.name.data or "", active=form.active.data,
                                  parent=parent, actor=_me(),
                                  opening_hours=form.opening_hours.data or None)
            except units.UnitError as exc:
                target = form.opening_hours if exc.field == "opening_hours" else form.name
                target.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Đã lưu thay đổi."), "success")
                return redirect(url_for("staff.unit_detail", code=unit.code))
        status = 400
    else:
        form.name.data = unit.name
        form.parent.data = unit.parent.code if unit.parent else ""
        form.active.data = unit.active
        form.opening_hours.data = (units.ALWAYS_OPEN if unit.opening_hours == ""
                                   else unit.opening_hours or "")
    return render_template("staff/unit.html", unit=unit, form=form, link_form=link_form,
                           can_edit=can_edit, titles=titles,
                           default_hours=(None if unit.kind == "group"
                                          else current_app.config["OPENING_HOURS"]),
                           base_url=current_app.config["BASE_URL"],
                           counts=_response_counts([unit.id])), status


@bp.post("/units/<code>/links")
@roles("admin", "staff")
def link_create(code: str) -> ResponseReturnValue:
    """Add the survey link of a questionnaire at this unit."""
    unit = _unit_or_404(code)
    form = LinkForm(prefix="link")
    form.questionnaire.choices = [SelectChoice(q.id) for q in latest_questionnaires()]
    if not form.validate():
        flash(_("Chọn một phiếu khảo sát hợp lệ."), "error")
        return redirect(url_for("staff.unit_detail", code=unit.code))
    try:
        link = units.ensure_link(unit, form.questionnaire.data or "", actor=_me())
    except units.UnitError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.unit_detail", code=unit.code))
    db.session.commit()
    flash(_("Đã tạo đường dẫn %(code)s.", code=link.code), "success")
    return redirect(url_for("staff.unit_detail", code=unit.code))


@bp.route("/links/<code>/toggle", methods=["GET", "POST"])
@roles("admin", "staff")
def link_toggle(code: str) -> ResponseReturnValue:
    """Close an open link after a confirmation step (no script needed), or open a closed one.

    Closing a link posted without ``confirm`` (an old page, a double click) shows the
    confirmation page instead of closing.
    """
    link = _link_or_404(code)
    if request.method == "GET" or (link.active and request.form.get("confirm") != "1"):
        if not link.active:
            return redirect(url_for("staff.unit_detail", code=link.unit.code))
        questionnaire = get_questionnaire(link.questionnaire_id)
        return render_template(
            "staff/link_close.html", link=link, unit=link.unit, questionnaire=questionnaire,
            url=units.link_url(current_app.config["BASE_URL"], link),
            responses=db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)
                                        .where(SurveyResponse.link_id == link.id)) or 0)
    if not EmptyForm().validate():
        abort(400)
    units.set_link_active(link, not link.active, actor=_me())
    db.session.commit()
    flash(_("Đã mở lại khảo sát.") if link.active else _("Đã đóng khảo sát."), "success")
    return redirect(url_for("staff.unit_detail", code=link.unit.code))


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/links/<code>/qr.png")
def link_qr_png(code: str) -> ResponseReturnValue:
    """Send the link's QR code as a PNG download."""
    link = _link_or_404(code)
    url = units.link_url(current_app.config["BASE_URL"], link)
    return _download(qrcodes.qr_png(url), "image/png",
                     f"qr-{link.unit.code}-{link.questionnaire_id}.png")


@bp.get("/links/<code>/qr.svg")
def link_qr_svg(code: str) -> ResponseReturnValue:
    """Send the link's QR code as SVG: a download, or an image with ``?inline=1``."""
    link = _link_or_404(code)
    url = units.link_url(current_app.config["BASE_URL"], link)
    data = qrcodes.qr_svg(url)
    if request.args.get("inline"):
        return Response(data, mimetype="image/svg+xml")
    return _download(data, "image/svg+xml", f"qr-{link.unit.code}-{link.questionnaire_id}.svg")


@bp.get("/links/<code>/poster")
def link_poster(code: str) -> ResponseReturnValue:
    """Show a printable A5 poster: ward, unit, a call to action, the QR code, the link."""
    link = _link_or_404(code)
    questionnaire = get_questionnaire(link.questionnaire_id)
    ward = link.unit.ward
    return render_template(
        "staff/poster.html", link=link, unit=link.unit, ward=ward, questionnaire=questionnaire,
        url=units.link_url(current_app.config["BASE_URL"], link),
        organisation=(ward.name if ward else current_app.config["ORGANISATION_NAME"]))


def _offer_units(form: UserForm | UserEditForm) -> list[Unit]:
    """Offer every unit as a check box of an account form; return the units.

    The wards are the choices of an office account's ward.
    """
    me = _me()
    all_units = list(units.visible_units(me))
    form.units.choices = [SelectChoice(u.code, f"{u.code} - {u.name}") for u in all_units]
    wards = [u for u in all_units if u.kind == "ward"]
    form.ward.choices = ([SelectChoice("", _("(mọi phường)"))] if me.sees_all_units else []) + [
        SelectChoice(u.code, f"{u.name} ({u.code})") for u in wards]
    return all_units


def _chosen_ward(form: UserForm | UserEditForm, all_units: list[Unit]) -> Unit | None:
    return next((u for u in all_units if u.kind == "ward" and u.code == form.ward.data), None)


@bp.route("/users", methods=["GET", "POST"])
@roles("admin")
def user_list() -> ResponseReturnValue:
    """Accounts: list and create (admins only)."""
    form = UserForm()
    all_units = _offer_units(form)
    status = 200
    if form.is_submitted():
        if form.validate():
            chosen = [u for u in all_units if u.code in (form.units.data or [])]
            ward = _chosen_ward(form, all_units) if form.role.data in ("admin", "staff") else None
            try:
                user = accounts.create_user(form.username.data or "", form.password.data or "",
                                            form.role.data or "", chosen, ward=ward,
                                            actor=_me())
            except accounts.AccountError as exc:
                form.username.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Đã tạo tài khoản %(name)s.", name=user.username), "success")
                return redirect(url_for("staff.user_list"))
        status = 400
    me = _me()
    users = [u for u in db.session.scalars(sa.select(User).order_by(User.username))
             if accounts.manages(me, u)]
    return render_template("staff/users.html", users=users, form=form), status


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@roles("admin")
def user_detail(user_id: int) -> ResponseReturnValue:
    """Change an account's role, units, active flag or password (admins only)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not accounts.manages(_me(), user):
        abort(403)
    form = UserEditForm()
    all_units = _offer_units(form)
    status = 200
    if form.is_submitted():
        if form.validate():
            chosen = [u for u in all_units if u.code in (form.units.data or [])]
            ward = _chosen_ward(form, all_units) if form.role.data in ("admin", "staff") else None
            try:
                accounts.update_user(user, role=form.role.data or "", units=chosen,
                                     active=form.active.data, actor=_me(), ward=ward)
                if form.password.data:
                    accounts.set_password(user, form.password.data, actor=_me())
            except accounts.AccountError as exc:
                db.session.rollback()
                form.role.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Đã lưu tài khoản %(name)s.", name=user.username), "success")
                return redirect(url_for("staff.user_list"))
        status = 400
    else:
        form.role.data = user.role
        form.units.data = [u.code for u in user.units]
        form.ward.data = user.ward.code if user.ward else ""
        form.active.data = user.active
    return render_template("staff/user.html", user=user, form=form), status


def _password_check_limit() -> str:
    return str(current_app.config["RATELIMIT_PASSWORD_CHECK"])


def _account_key() -> str:
    # The account's id, never get_id() (which holds the session's secret token).
    return f"password-check:{getattr(current_user, 'id', '-')}"


def _wrong_current_password(response: object) -> bool:
    return bool(g.get("wrong_current_password"))


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(_password_check_limit, methods=["POST"], key_func=_account_key,
               deduct_when=_wrong_current_password)
def account() -> ResponseReturnValue:
    """Change one's own password (wrong current passwords are throttled like logins)."""
    form = PasswordForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            me = _me()
            if not me.check_password(form.current.data or ""):
                g.wrong_current_password = True
                form.current.errors = [_("Mật khẩu hiện tại không đúng.")]
            else:
                try:
                    accounts.set_password(me, form.new.data or "", actor=me)
                except accounts.AccountError as exc:
                    db.session.rollback()
                    form.new.errors = [str(exc)]
                else:
                    db.session.commit()
                    flash(_("Đã đổi mật khẩu."), "success")
                    return redirect(url_for("staff.index"))
        status = 400
    return _account_page(form=form), status


def _account_page(**values: Any) -> str:
    """Render the account page: the password form and the account's API tokens."""
    values.setdefault("form", PasswordForm())
    values.setdefault("token_form", TokenForm())
    return render_template("staff/account.html", tokens=accounts.tokens_of(_me()),
                           revoke=EmptyForm(), **values)


@bp.post("/account/tokens")
def token_create() -> ResponseReturnValue:
    """Create an API token for one's own account; it is shown once, on this page only."""
    form = TokenForm()
    if not form.validate():
        return _account_page(token_form=form), 400
    token = accounts.create_token(_me(), form.name.data or "", actor=_me())
    db.session.commit()
    # Shown in this page's body, never in a flash message (which travels in the cookie).
    return _account_page(new_token=token, new_token_name=form.name.data,
                         token_form=TokenForm(formdata=None))


@bp.post("/account/tokens/<int(max=2147483647):token_id>/revoke")
def token_revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of one's own API tokens (another account's: not found)."""
    if not EmptyForm().validate():
        abort(400)
    revoked = accounts.revoke_token(_me(), token_id, actor=_me())
    if revoked is None:
        abort(404)
    db.session.commit()
    flash(_("Đã thu hồi mã “%(name)s”: các chương trình dùng mã này không đọc được nữa.",
            name=revoked.name), "success")
    return redirect(url_for("staff.account"))


@bp.get("/audit")
@roles("admin")
def audit_log() -> ResponseReturnValue:
    """List staff actions, newest first, by person, action and days (admins only)."""
    args = {k: request.args.get(k, "")[:64] for k in ("actor", "action", "from", "to")}
    me = _me()
    people = None if me.sees_all_units else [
        u.id for u in db.session.scalars(sa.select(User)) if accounts.manages(me, u)]
    page = request.args.get("page", "1")
    page_no = int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 6 else 0
    error = None
    entries: list[Any] = []
    total, next_after = 0, ""
    try:
        flt = audit.parse_filter(args["actor"], args["action"], args["from"], args["to"])
        if page_no < 1:
            raise audit.AuditFilterError(_("Số trang không hợp lệ: “%(page)s”.",
                                           page=page[:10]))
    except audit.AuditFilterError as exc:
        error, page_no = str(exc), 1
    else:
        after = request.args.get("after", "")
        entries, total, next_after = audit.search(flt, after=after, user_ids=people)
        # The number is only shown: the page starts after the last entry of the page before.
        page_no = page_no if keyset.parse(after, [int]) else 1

    def query(**changes: object) -> dict[str, object]:
        return {k: v for k, v in {**args, "page": page_no, **changes}.items() if v}

    actions = sorted({*audit.ACTIONS, *audit.actions_used()}, key=audit.action_label)
    return render_template(
        "staff/audit.html", entries=entries, total=total, page=page_no, next_after=next_after,
        pages=keyset.pages_shown(page_no, bool(next_after), total, audit.PAGE_SIZE),
        query=query, args=args, error=error,
        actors=audit.actors_used(people), actions=[(a, audit.action_label(a)) for a in actions],
        action_label=audit.action_label, target_label=audit.target_label,
        detail_lines=audit.detail_lines), 400 if error else 200
