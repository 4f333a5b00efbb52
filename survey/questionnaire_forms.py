"""Build WTForms classes from questionnaire definitions.

One builder serves the citizen's form and (later) the staff's paper entry, so both share one
validation path. Fields are named ``q_<question id>`` so that an id such as ``data`` cannot
hide a form attribute.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from wtforms import Field, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from questionnaires import Question, Questionnaire

from .services.submissions import AnswerValue
from .services.text import clean_text

FIELD_PREFIX = "q_"
HONEYPOT = "hp_url"
# The optional contact for the reply and its consent (public/views.py reads them): posted
# with the answers, never part of them.
CONTACT_FIELDS = ("contact", "consent")


def field_name(question: Question) -> str:
    """Return the form field name of a question."""
    return FIELD_PREFIX + question.id


def option_code(value: object) -> int:
    """Coerce a posted option code strictly: digits only, as the form sends them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
        return int(value)
    raise ValueError(f"not an option code: {value!r}")


def _valid_uuid(form: FlaskForm, field: Field) -> None:
    try:
        uuid.UUID(str(field.data), version=4)
    except ValueError as exc:
        raise ValidationError(_l("Phiếu không hợp lệ, xin tải lại trang.")) from exc


def _empty_honeypot(form: FlaskForm, field: Field) -> None:
    if field.data:
        raise ValidationError(_l("Không thể gửi phiếu này."))


class QuestionnaireForm(FlaskForm):
    """Base class: hidden response id and version, plus a honeypot for simple bots."""

    response_id = HiddenField(validators=[InputRequired(), _valid_uuid])
    version = HiddenField(validators=[InputRequired()])
    hp_url = StringField(validators=[_empty_honeypot])

    questionnaire: Questionnaire
    lang: str

    def question_fields(self) -> Iterable[tuple[Question, Field]]:
        """Yield each question with its field, in form order."""
        for question in self.questionnaire.questions:
            yield question, self[field_name(question)]

    def unknown_fields(self, posted: Iterable[str]) -> list[str]:
        """Return posted field names that this form does not have (a tampered request)."""
        known = {field.name for field in self} | set(CONTACT_FIELDS)
        return sorted(name for name in posted if name not in known)

    def answers(self) -> dict[str, AnswerValue]:
        """Return the answers as plain values: option codes as int, texts in NFC; no blanks."""
        result: dict[str, AnswerValue] = {}
        for question, field in self.question_fields():
            value = field.data
            if question.type == "choice":
                if value is not None and value != "":
                    result[question.id] = int(value)
            elif isinstance(value, str) and value:
                result[question.id] = value  # already cleaned by the field's filter
        return result


def _choice_field(question: Question, lang: str) -> Field:
    validators: list[Any] = [
        InputRequired(message=_l("Xin Ông/Bà chọn một câu trả lời.")) if question.required
        else Optional()]
    return RadioField(
        question.text.get(lang),
        choices=[SelectChoice(o.code, o.label.get(lang)) for o in question.options],
        coerce=option_code,
        validators=validators,
        validate_choice=True,
        invalid_value_message=_l("Câu trả lời không hợp lệ, xin chọn lại."),
        invalid_choice_message=_l("Câu trả lời không hợp lệ, xin chọn lại."),
    )


def _clean_filter(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else value


def _text_field(question: Question, lang: str) -> Field:
    limit = question.max_length or 1000
    # Validated after cleaning (NFC, no control characters, trimmed), so that a required
    # answer of blanks is refused and the length counts what is stored.
    validators: list[Any] = [
        DataRequired(message=_l("Xin Ông/Bà điền câu trả lời.")) if question.required
        else Optional(),
        Length(max=limit, message=_l("Câu trả lời dài quá %(n)d ký tự.", n=limit)),
    ]
    field_class = TextAreaField if limit > 200 else StringField
    return field_class(question.text.get(lang), validators=validators, filters=[_clean_filter])


@functools.cache
def build_form_class(questionnaire: Questionnaire, lang: str) -> type[QuestionnaireForm]:
    """Return a form class for one questionnaire version and language (cached)."""

    class Form(QuestionnaireForm):
        pass

    for question in questionnaire.questions:
        maker = _choice_field if question.type == "choice" else _text_field
        setattr(Form, field_name(question), maker(question, lang))
    Form.questionnaire = questionnaire
    Form.lang = lang
    return Form


@functools.cache
def _form_names(questionnaire: Questionnaire, with_csrf: bool) -> frozenset[str]:
    names = {field_name(q) for q in questionnaire.questions} | {"response_id", "version", HONEYPOT,
                                                                *CONTACT_FIELDS}
    return frozenset(names | {"csrf_token"} if with_csrf else names)


def quick_answers(questionnaire: Questionnaire,
                  formdata: MultiDict[str, str]) -> dict[str, AnswerValue] | None:
    """Return the answers of a clean, complete submission without building a form, else None.

    The citizen's submit is the busiest request, and building and validating a WTForms form
    of some thirty fields costs more than storing the answers. Only a submission the form
    would take exactly as it is passes here: every field known and sent once, the honeypot
    empty, a valid response id, the version and the CSRF token right, every required question
    answered with a known code, texts within their limit after cleaning. Anything else returns
    None and goes through the form, which says what is wrong. A test compares the two on
    fuzzed posts (tests/survey/test_public.py).
    """
    with_csrf = bool(current_app.config.get("WTF_CSRF_ENABLED", True))
    names = _form_names(questionnaire, with_csrf)
    for name, values in formdata.lists():
        if name not in names or len(values) != 1:
            return None
    if formdata.get(HONEYPOT) or formdata.get("version") != str(questionnaire.version):
        return None
    try:
        uuid.UUID(str(formdata.get("response_id", "")), version=4)
        if with_csrf:
            validate_csrf(formdata.get("csrf_token"))
    except (ValueError, ValidationError):
        return None
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.questions:
        raw = formdata.get(field_name(question))
        if question.type == "choice":
            if raw is None:
                if question.required:
                    return None
                continue
            if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or question.option(
                    int(raw)) is None:
                return None
            answers[question.id] = int(raw)
            continue
        text = clean_text(raw) if raw else ""
        if not text:
            if question.required:
                return None
            continue
        if len(text) > (question.max_length or 1000):
            return None
        answers[question.id] = text
    return answers
