"""Staff pages for flagged responses (contract §8): groups, evidence, exclusions.

Admins and staff see every unit's flags and may exclude; group leaders have no access (they
enter the sheets that an ``enterer_pattern`` flag is about).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from analysis.flags import FLAG_CODES

from ..extensions import db
from ..models import FlagGroup, Response, Unit
from ..reporting import keyset
from ..reporting.report import receipt_condition
from ..services import integrity
from ..services.questionnaires import latest_questionnaires
from ..services.text import receipt_query
from ..services.transactions import committed
from .forms import ExclusionForm
from .views import _me, bp, roles

PAGE_SIZE = 50


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


# Excluded responses, the last excluded first (read by key, ``keyset``).
EXCLUDED_ORDER: keyset.Order = [(Response.excluded_at, True), (Response.id, True)]
EXCLUDED_KEY = [datetime, int]


@bp.get("/flags")
@roles("admin", "staff", "city")
def flag_list() -> ResponseReturnValue:
    """List the groups of flagged responses, newest first, with their evidence."""
    committed(integrity.scan)
    questionnaire = request.args.get("questionnaire", "")
    kinds = [k for k in request.args.getlist("kind") if k in FLAG_CODES]
    search = request.args.get("q", "")[:40]
    # Typed by hand from a slip: any case, dash optional; anything else finds no group.
    receipt = (receipt_query(search) or "-") if search.strip() else None
    after = request.args.get("after", "")
    page = _page() if keyset.parse(after, integrity.FLAG_KEY) else 1
    scope = _me().scope_ids()
    groups, total, next_after = integrity.flag_groups(
        questionnaire_id=questionnaire or None, kinds=kinds, unit_ids=scope, receipt=receipt,
        limit=PAGE_SIZE, after=after)
    units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(
        Unit.id.in_({g.unit_id for g, _ in groups if g.unit_id})))}
    excluded = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        Response.excluded.is_(True),
        sa.true() if scope is None else Response.unit_id.in_(scope))) or 0

    def query(**changes: object) -> dict[str, object]:
        args: dict[str, object] = {"questionnaire": questionnaire or None,
                                   "kind": kinds or None, "q": search, "page": page}
        args.update(changes)
        return {k: v for k, v in args.items() if v}

    return render_template("staff/flags.html", groups=groups, total=total, page=page,
                           next_after=next_after,
                           pages=keyset.pages_shown(page, bool(next_after), total, PAGE_SIZE),
                           units=units, kinds=kinds,
                           questionnaire=questionnaire, questionnaires=latest_questionnaires(),
                           search=search,
                           labels=integrity.KIND_LABELS, describe=integrity.describe,
                           excluded=excluded, query=query)


def _group_or_404(group_id: int) -> FlagGroup:
    group = db.session.get(FlagGroup, group_id)
    if group is None:
        abort(404)
    if not integrity.in_scope(group, _me().scope_ids()):
        abort(403)
    return group


@bp.route("/flags/<int(max=2147483647):group_id>", methods=["GET", "POST"])
@roles("admin", "staff", "city")
def flag_detail(group_id: int) -> ResponseReturnValue:
    """Show one group's responses; exclude them (or take them back) with a reason."""
    group = _group_or_404(group_id)
    responses = integrity.group_responses(group)
    form = ExclusionForm()
    form.responses.choices = [(r.receipt, r.receipt) for r in responses]
    status = 200
    current = {r.receipt for r in responses}
    if form.validate_on_submit():
        if not form.responses.data and set(request.form.getlist("shown")) != current:
            # "The whole group" means the responses the officer saw; a scan has changed it
            # since. Nothing is done, and the page shows the group as it is now.
            flash(_("Nhóm này đã thay đổi từ lúc bạn mở trang (có phiếu mới vào hoặc ra). "
                    "Xin xem lại danh sách rồi thực hiện lại; chưa phiếu nào bị thay đổi."),
                  "error")
            status = 409
        else:
            return _exclude(group, responses, form,
                            set(form.responses.data or []) or current)
    elif form.is_submitted():
        status = 400
    unit = db.session.get(Unit, group.unit_id) if group.unit_id else None
    return render_template("staff/flag.html", group=group, unit=unit, responses=responses,
                           form=form, labels=integrity.KIND_LABELS,
                           evidence=integrity.describe(group)), status


def _exclude(group: FlagGroup, responses: list[Response], form: ExclusionForm,
             chosen: set[str]) -> ResponseReturnValue:
    exclude = request.form.get("action") != "include"
    picked = [r.id for r in responses if r.receipt in chosen]
    what = f"{integrity.KIND_LABELS[group.kind]} · {group.key}"

    def work() -> int:
        fresh = db.session.scalars(sa.select(Response).where(Response.id.in_(picked))).all()
        return integrity.set_excluded(fresh, exclude, form.reason.data or "", _me(), what=what)

    changed = committed(work)
    if exclude:
        flash(_("Đã loại %(n)d phiếu khỏi kết quả.", n=changed), "success")
    else:
        flash(_("Đã đưa %(n)d phiếu trở lại kết quả.", n=changed), "success")
    return redirect(url_for("staff.flag_detail", group_id=group.id))


@bp.get("/flags/excluded")
@roles("admin", "staff", "city")
def excluded_list() -> ResponseReturnValue:
    """List the excluded responses with who excluded them, when and why."""
    after = request.args.get("after", "")
    place = keyset.parse(after, EXCLUDED_KEY)
    page = _page() if place else 1
    search = request.args.get("q", "")[:40]
    conditions: list[sa.ColumnElement[bool]] = [Response.excluded.is_(True)]
    scope = _me().scope_ids()
    if scope is not None:
        conditions.append(Response.unit_id.in_(scope))
    if search.strip():
        by_receipt = receipt_condition(search)
        conditions.append(sa.false() if by_receipt is None else by_receipt)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Response).where(
        *conditions)) or 0
    if place is not None:
        conditions.append(keyset.after(EXCLUDED_ORDER, place))
    rows = db.session.execute(
        sa.select(Response, Unit.code).join(Unit, Unit.id == Response.unit_id)
        .where(*conditions)
        .order_by(*keyset.order_by(EXCLUDED_ORDER)).limit(PAGE_SIZE + 1)).all()
    last = rows[PAGE_SIZE - 1][0] if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    next_after = ("" if last is None or last.excluded_at is None
                  else keyset.token(last.excluded_at, last.id))

    def query(**changes: object) -> dict[str, object]:
        return {k: v for k, v in {"page": page, "q": search, **changes}.items() if v}

    return render_template("staff/excluded.html", rows=rows, total=total, page=page,
                           search=search, next_after=next_after,
                           pages=keyset.pages_shown(page, bool(next_after), total, PAGE_SIZE),
                           query=query,
                           form=ExclusionForm(), labels=integrity.KIND_LABELS)


@bp.post("/flags/excluded")
@roles("admin", "staff")
def excluded_include() -> ResponseReturnValue:
    """Take chosen excluded responses back into the results, with a reason."""
    form = ExclusionForm()
    receipts = request.form.getlist("responses")[:500]
    form.responses.choices = [(r, r) for r in receipts]
    if not form.validate_on_submit() or not receipts:
        flash(_("Chọn phiếu và ghi lý do (ít nhất 10 ký tự)."), "error")
        return redirect(url_for("staff.excluded_list"))

    def work() -> int:
        scope = _me().scope_ids()
        chosen = db.session.scalars(sa.select(Response).where(
            Response.receipt.in_(receipts), Response.excluded.is_(True),
            sa.true() if scope is None else Response.unit_id.in_(scope))).all()
        return integrity.set_excluded(chosen, False, form.reason.data or "", _me())

    flash(_("Đã đưa %(n)d phiếu trở lại kết quả.", n=committed(work)), "success")
    return redirect(url_for("staff.excluded_list"))
