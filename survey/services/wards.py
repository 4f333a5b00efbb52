"""Wards as the unit of tenancy (contract §11): a ward's own settings, and the comparison.

A ward keeps a few settings of its own over the installation's (``Unit.settings``): the
heading and signature block of its reports, its PAKN phone line and its targets. Its opening
hours are the ward unit's own ``opening_hours``, which its counters and offices follow unless
they have their own (``services.integrity.hours_of``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Unit, User
from ..reporting.filters import Filters
from ..reporting.settings import Settings
from ..reporting.wards import Comparison, compare_wards

__all__ = ["Comparison", "WardSettingsError", "pakn_phone", "reporting_settings",
           "settings_for", "settings_of", "update_settings", "ward_figures", "ward_of_filters"]
from . import audit
from .problems import Refusal, reason

TEXT_KEYS = ("heading", "upper_authority", "place", "pakn_phone", "signer_title",
             "signer_name")
"""A ward's settings written as text; ``targets`` maps a questionnaire id or index kind to a
target (SIPAS: percent satisfied)."""
MAX_TEXT = 200
PHONE = re.compile(r"^[0-9+() .-]{3,40}$")


class WardSettingsError(Refusal):
    """A ward's setting cannot be saved; ``str()`` says why, ``field`` which."""


def settings_of(ward: Unit | None) -> dict[str, Any]:
    """Return a ward's own settings (empty for none, or for a unit that is not a ward)."""
    if ward is None or ward.kind != "ward" or not ward.settings:
        return {}
    return dict(ward.settings)


def update_settings(ward: Unit, values: Mapping[str, Any], *, actor: User | str) -> None:
    """Store a ward's settings; blank texts fall back to the installation's."""
    if ward.kind != "ward":
        raise WardSettingsError(reason("not_a_ward", code=ward.code), field="heading")
    new: dict[str, Any] = {}
    for key in TEXT_KEYS:
        text = " ".join(str(values.get(key) or "").split())
        if len(text) > MAX_TEXT:
            raise WardSettingsError(reason("ward_setting_long", limit=MAX_TEXT), field=key)
        if key == "pakn_phone" and text and not PHONE.match(text):
            raise WardSettingsError(reason("ward_phone"), field=key)
        if text:
            new[key] = text
    targets: dict[str, float] = {}
    for key, value in (values.get("targets") or {}).items():
        if value is None or value == "":
            continue
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise WardSettingsError(reason("ward_target"), field="target") from exc
        if not math.isfinite(number) or not 0 <= number <= 100:
            raise WardSettingsError(reason("ward_target"), field="target")
        targets[str(key)] = number
    if targets:
        new["targets"] = targets
    if "sample_target" in values:
        set_sample_target(ward, values["sample_target"], actor=actor)
    old = settings_of(ward)
    if new != old:
        ward.settings = new or None
        changed = {k: [old.get(k), new.get(k)] for k in sorted({*old, *new})
                   if old.get(k) != new.get(k)}
        audit.record(actor, "unit.settings", ward.code, **changed)
        db.session.flush()


def set_sample_target(ward: Unit, value: Any, *, actor: User | str) -> None:
    """Set how many responses the ward wants (``Unit.sample_target``; None: the default)."""
    target = None if value in (None, "") else int(value)
    if target is not None and not 1 <= target <= 100_000:
        raise WardSettingsError(reason("ward_sample"), field="sample_target")
    if target != ward.sample_target:
        audit.record(actor, "unit.update", ward.code, sample_target=[ward.sample_target, target])
        ward.sample_target = target
        db.session.flush()


def reporting_settings(ward: Unit | None = None) -> Settings:
    """Return the reporting settings of the installation, with a ward's own over them."""
    base = Settings.from_config(current_app.config)
    own = settings_of(ward)
    if not own:
        return base
    targets = {**base.targets, **own.get("targets", {})}
    return replace(
        base, targets=targets,
        organisation_name=own.get("heading", base.organisation_name),
        ward_heading=own.get("heading", ""),
        report_upper_authority=own.get("upper_authority", base.report_upper_authority),
        report_place=own.get("place", base.report_place),
        report_signer_title=own.get("signer_title", base.report_signer_title),
        report_signer_name=own.get("signer_name", base.report_signer_name))


def ward_of_filters(filters: Filters) -> Unit | None:
    """Return the one ward a summary is about (all its units within one ward), else None."""
    wards = {u.ward.id: u.ward for u in filters.units if u.ward is not None}
    if len(wards) == 1 and len(wards) == len({u.ward.id if u.ward else None
                                                for u in filters.units}):
        return next(iter(wards.values()))
    if not filters.units:
        only = db.session.scalars(sa.select(Unit).where(Unit.kind == "ward").limit(2)).all()
        return only[0] if len(only) == 1 else None
    return None


def settings_for(filters: Filters) -> Settings:
    """Return the reporting settings for a summary: its ward's, when it is about one."""
    return reporting_settings(ward_of_filters(filters))


def pakn_phone(ward: Unit | None) -> str:
    """Return the PAKN phone line citizens of a ward are given."""
    return str(settings_of(ward).get("pakn_phone") or current_app.config.get("PAKN_PHONE") or "")


def ward_figures(filters: Filters) -> Comparison | None:
    """Return the comparison of the wards, each against its own target where it has one."""
    base = reporting_settings()
    from analysis.targets import target_for

    from .questionnaires import get_questionnaire

    questionnaire = get_questionnaire(filters.questionnaire_id)
    own: dict[int, float | None] = {}
    if questionnaire is not None:
        for ward in db.session.scalars(sa.select(Unit).where(Unit.kind == "ward",
                                                             Unit.settings.is_not(None))):
            targets = settings_of(ward).get("targets")
            if targets:
                own[ward.id] = target_for(questionnaire.id, questionnaire.index,
                                          {**base.targets, **targets})
    return compare_wards(db.session, filters, base, own)
