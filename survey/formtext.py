"""WTForms' own messages ("This field is required.") in our catalogue, so in the reader's language.

WTForms ships no Vietnamese catalogue. Flask-WTF asks ``request.wtforms_translations`` (when
set) for the words of every built-in message of a validator or field; :func:`install` sets it
to :class:`FormMessages`, which words each message through our catalogue (Vietnamese msgid,
English from the catalogue). A message missing here stays as WTForms wrote it, and the
language test of the pages catches it.
"""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

_EXPIRED = _l("Biểu mẫu đã hết hạn; xin tải lại trang rồi gửi lại.")
_CHOICE = _l("Lựa chọn không hợp lệ.")

MESSAGES: dict[str, LazyString] = {
    "This field is required.": _l("Xin điền ô này."),
    "Field must be equal to %(other_name)s.": _l("Phải giống ô “%(other_name)s”."),
    "Field must be at least %(min)d character long.": _l("Cần ít nhất %(min)d ký tự."),
    "Field must be at least %(min)d characters long.": _l("Cần ít nhất %(min)d ký tự."),
    "Field cannot be longer than %(max)d character.": _l("Không được dài quá %(max)d ký tự."),
    "Field cannot be longer than %(max)d characters.": _l("Không được dài quá %(max)d ký tự."),
    "Field must be exactly %(max)d character long.": _l("Cần đúng %(max)d ký tự."),
    "Field must be exactly %(max)d characters long.": _l("Cần đúng %(max)d ký tự."),
    "Field must be between %(min)d and %(max)d characters long.":
        _l("Cần từ %(min)d đến %(max)d ký tự."),
    "Number must be at least %(min)s.": _l("Số phải từ %(min)s trở lên."),
    "Number must be at most %(max)s.": _l("Số không được lớn hơn %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l("Số phải từ %(min)s đến %(max)s."),
    "Date must be at least %(min)s.": _l("Ngày phải từ %(min)s trở đi."),
    "Date must be at most %(max)s.": _l("Ngày không được sau %(max)s."),
    "Date must be between %(min)s and %(max)s.": _l("Ngày phải từ %(min)s đến %(max)s."),
    "Invalid input.": _l("Giá trị không hợp lệ."),
    "Invalid email address.": _l("Địa chỉ thư điện tử không hợp lệ."),
    "Invalid URL.": _l("Địa chỉ trang web không hợp lệ."),
    "Invalid UUID.": _l("Mã UUID không hợp lệ."),
    "Invalid value, must be one of: %(values)s.":
        _l("Giá trị không hợp lệ, phải là một trong: %(values)s."),
    "Invalid value, can't be any of: %(values)s.":
        _l("Giá trị không hợp lệ, không được là: %(values)s."),
    "This field cannot be edited.": _l("Không được sửa ô này."),
    "This field is disabled and cannot have a value.": _l("Không được sửa ô này."),
    "Invalid CSRF Token.": _EXPIRED,
    "CSRF token missing.": _EXPIRED,
    "CSRF failed.": _EXPIRED,
    "CSRF token expired.": _EXPIRED,
    "Invalid Choice: could not coerce.": _CHOICE,
    "Not a valid choice.": _CHOICE,
    "Invalid choice(s): one or more data inputs could not be coerced.": _CHOICE,
    "'%(value)s' is not a valid choice for this field.":
        _l("“%(value)s” không phải một lựa chọn hợp lệ."),
    "'%(value)s' are not valid choices for this field.":
        _l("“%(value)s” không phải lựa chọn hợp lệ."),
    "Not a valid datetime value.": _l("Ngày giờ không hợp lệ."),
    "Not a valid date value.": _l("Ngày không hợp lệ."),
    "Not a valid time value.": _l("Giờ không hợp lệ."),
    "Not a valid week value.": _l("Tuần không hợp lệ."),
    "Not a valid integer value.": _l("Cần một số nguyên."),
    "Not a valid decimal value.": _l("Cần một số."),
    "Not a valid float value.": _l("Cần một số."),
    "File does not have an approved extension.": _l("Không nhận loại tệp này."),
    "File does not have an approved extension: {extensions}":
        _l("Không nhận loại tệp này; chỉ nhận: {extensions}"),
}


class FormMessages:
    """The translations object Flask-WTF asks for the words of WTForms' messages."""

    def ugettext(self, string: str) -> str:
        found = MESSAGES.get(string)
        return string if found is None else str(found)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self.ugettext(singular if n == 1 else plural)


def install() -> None:
    """Have this request's forms word WTForms' messages through our catalogue."""
    request.wtforms_translations = FormMessages()  # type: ignore[attr-defined]
