"""Why a typed or imported value is refused: a code and its parameters, worded when shown.

The command line words a problem in English, in the form contract §3 fixes for ``import``
(``row N, column C: reason``); web pages word the same problem through the catalogue
(Vietnamese msgid, English from the catalogue), so a person reads it in their language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

REASONS: dict[str, tuple[str, LazyString]] = {
    # Answers (paper entry and import share them).
    "unknown_code": ("unknown code %(value)r (valid: %(codes)s)",
                     _l("mã “%(value)s” không có trong câu này (mã hợp lệ: %(codes)s)")),
    "too_long": ("text longer than %(limit)d characters",
                 _l("ý kiến dài quá %(limit)d ký tự")),
    # The file as a whole.
    "not_utf8": ("the file is not UTF-8 text (byte %(byte)d); save it as CSV UTF-8",
                 _l("tệp không phải văn bản UTF-8 (lỗi ở vị trí %(byte)d); hãy lưu lại dạng "
                    "“CSV UTF-8”")),
    "bad_extension": ("the file must end in .csv or .xlsx",
                      _l("tệp phải có đuôi .csv hoặc .xlsx")),
    "bad_xlsx": ("the file is not a readable XLSX workbook (%(detail)s)",
                 _l("không đọc được tệp XLSX này (tệp hỏng hoặc không phải XLSX)")),
    "no_sheet": ("the file is not a readable XLSX workbook (it has no sheet)",
                 _l("tệp XLSX không có trang tính nào")),
    "unreadable": ("the file cannot be read: %(detail)s",
                   _l("không đọc được tệp (sai định dạng CSV, ví dụ một dấu ngoặc kép không "
                      "được đóng)")),
    "unreadable_rest": ("the file cannot be read from here on: %(detail)s",
                        _l("không đọc được tệp từ dòng này trở đi (sai định dạng CSV, ví dụ "
                           "một dấu ngoặc kép không được đóng)")),
    "empty": ("the file is empty (a header row is needed)",
              _l("tệp trống (cần một dòng tiêu đề)")),
    "more": ("... and %(count)d more error(s)", _l("… và %(count)d lỗi khác")),
    "stopped": ("... checking stopped after %(count)d errors (row %(row)d)",
                _l("… dừng kiểm tra sau %(count)d lỗi (ở dòng %(row)d); hãy sửa các lỗi "
                   "trên rồi nhập lại")),
    "too_many_columns": ("the header has %(count)d columns; a questionnaire's file has at most "
                         "%(limit)d",
                         _l("dòng tiêu đề có %(count)d cột, quá nhiều (tệp của một phiếu có "
                            "tối đa %(limit)d cột)")),
    "too_many_rows": ("more than %(limit)d rows; split the file",
                      _l("tệp có hơn %(limit)d dòng; hãy chia thành nhiều tệp nhỏ hơn")),
    "too_many_blank": ("%(count)d blank rows in a row: the data should have ended",
                       _l("có %(count)d dòng trống liền nhau: tệp có vẻ không đúng, hãy xóa "
                          "các dòng trống thừa")),
    "xlsx_unpacked": ("the XLSX workbook unpacks to more than %(limit)d MB",
                      _l("tệp XLSX khi giải nén lớn hơn %(limit)d MB, quá lớn để nhập")),
    "formula_no_value": ("a formula without a computed value: open the file in a spreadsheet "
                         "and save it again, or type the value",
                         _l("ô có công thức nhưng không có giá trị đã tính: hãy mở tệp bằng "
                            "Excel hoặc LibreOffice rồi lưu lại, hoặc gõ giá trị vào ô")),
    # The header.
    "unknown_column": ("unknown column for questionnaire %(questionnaire)s",
                       _l("phiếu %(questionnaire)s không có cột này")),
    "duplicate_column": ("the column appears twice", _l("cột này xuất hiện hai lần")),
    # A row.
    "surplus": ("more cells than the header has columns (a comma inside a text that is not "
                "in quotes?)",
                _l("nhiều ô hơn số cột của dòng tiêu đề (có dấu phẩy trong một đoạn chữ không "
                   "đặt trong ngoặc kép?)")),
    "not_own_unit": ("%(unit)s is not one of this account's units",
                     _l("đơn vị %(unit)s không do tài khoản này phụ trách")),
    "unknown_channel": ("unknown channel %(value)r (use %(choices)s)",
                        _l("kênh “%(value)s” không có (dùng một trong: %(choices)s)")),
    "leader_channel": ("a group leader imports paper sheets: channel %(allowed)s, not "
                       "%(value)r",
                       _l("tổ trưởng chỉ nhập phiếu giấy: kênh phải là một trong %(choices)s, "
                          "không phải “%(value)s”")),
    "unknown_flag": ("unknown flag %(value)r (known: %(known)s)",
                     _l("dấu hiệu “%(value)s” không có (các dấu hiệu: %(known)s)")),
    "excluded_value": ("must be 1 or 0, not %(value)r",
                       _l("phải là 1 hoặc 0, không phải “%(value)s”")),
    "leader_excluded": ("only staff exclude responses",
                        _l("chỉ cán bộ phường mới được loại phiếu")),
    "same_id": ("same id as row %(first_row)d with other answers",
                _l("trùng mã response_id với dòng %(first_row)d nhưng câu trả lời khác")),
    "already_stored": ("already stored with other answers",
                       _l("mã response_id này đã được lưu với câu trả lời khác")),
    "bad_uuid": ("not a UUID: %(value)r", _l("không phải một mã UUID: “%(value)s”")),
    "bad_moment": ("not an ISO 8601 date and time: %(value)r",
                   _l("không phải ngày giờ dạng ISO 8601 (ví dụ 2026-03-15 09:30): "
                      "“%(value)s”")),
    "bad_year": ("implausible year %(year)d", _l("năm %(year)d không hợp lý")),
    "no_unit": ("empty, and no --unit given",
                _l("để trống, mà chưa chọn đơn vị cho các dòng không ghi đơn vị")),
    "unknown_unit": ("unknown unit %(value)r", _l("không có đơn vị “%(value)s”")),
    "no_batch": ("no batch of printed sheets of %(questionnaire)s was issued to %(unit)s",
                 _l("chưa có đợt phiếu in nào của phiếu %(questionnaire)s được giao cho "
                    "%(unit)s")),
    "before_batch": ("before the first batch of printed sheets of %(questionnaire)s for "
                     "%(unit)s (%(day)s)",
                     _l("trước ngày giao đợt phiếu in đầu tiên của phiếu %(questionnaire)s "
                        "cho %(unit)s (%(day)s)")),
    "future": ("in the future", _l("là một thời điểm trong tương lai")),
    # Units and survey links (UnitError).
    "unit_code": ("invalid unit code %(code)r: use 1-32 letters, digits, '-' or '_'",
                  _l("Mã đơn vị “%(code)s” không hợp lệ: dùng 1–32 chữ không dấu, số, dấu "
                     "'-' hoặc '_'.")),
    "unit_name": ("a unit needs a name of 1-200 characters",
                  _l("Tên đơn vị cần từ 1 đến 200 ký tự.")),
    "unit_kind": ("unknown unit kind %(kind)r: use one of %(kinds)s",
                  _l("Không có loại đơn vị “%(kind)s” (dùng một trong: %(kinds)s).")),
    "unit_exists": ("unit %(code)s already exists", _l("Đã có đơn vị mã %(code)s.")),
    "unit_ward": ("several wards exist: name the ward this unit belongs to (--parent WARD)",
                  _l("Có nhiều phường: hãy chọn phường của đơn vị này.")),
    "unit_outside_ward": ("this account may add units only under its own ward",
                          _l("Tài khoản này chỉ được thêm đơn vị thuộc phường của mình.")),
    "ward_setting_long": ("at most %(limit)d characters", _l("Tối đa %(limit)d ký tự.")),
    "ward_phone": ("a phone number has digits, spaces, '+', '.', '-' and brackets only",
                   _l("Số điện thoại chỉ gồm chữ số, dấu cách, “+”, “.”, “-” và ngoặc.")),
    "ward_sample": ("the responses wanted are a number from 1 to 100000",
                    _l("Số phiếu cần thu là một số từ 1 đến 100000.")),
    "ward_target": ("a target is a number from 0 to 100",
                    _l("Mục tiêu là một số từ 0 đến 100.")),
    "ward_parent": ("a ward has no parent unit", _l("Phường không thuộc đơn vị nào khác.")),
    "unit_parent": ("a unit cannot be placed under itself, and a ward has no parent",
                    _l("Không thể đặt một đơn vị thuộc chính nó, và phường không thuộc đơn vị "
                       "nào khác.")),
    "opening_hours": ("cannot read the opening hours at %(part)r: write them like "
                      "'T2-T6 07:30-11:30 13:30-17:00; T7 07:30-11:30'",
                      _l("Không đọc được giờ làm việc ở “%(part)s”: xin ghi như "
                         "“T2-T6 07:30-11:30 13:30-17:00; T7 07:30-11:30”.")),
    "unknown_questionnaire": ("unknown questionnaire %(id)r (run init-db to load it)",
                              _l("Không có phiếu khảo sát “%(id)s” (cần chạy lệnh init-db để "
                                 "nạp phiếu).")),
    # Accounts (AccountError).
    "password_weak": ("the password is among those guessed first (a common one, a sequence, a "
                      "repeat or the account's name); a short sentence is easy to remember",
                      _l("Mật khẩu này quá dễ đoán (mật khẩu phổ biến, dãy số, ký tự lặp lại "
                         "hoặc tên tài khoản). Hãy dùng một câu ngắn dễ nhớ, ví dụ “mùa thu lá "
                         "vàng rơi”.")),
    "password_short": ("the password must have at least %(min)d characters",
                       _l("Mật khẩu cần ít nhất %(min)d ký tự.")),
    "username": ("a username has 2-64 characters: letters, digits, '.', '_' or '-'",
                 _l("Tên đăng nhập gồm 2–64 ký tự: chữ không dấu, số, dấu '.', '_' hoặc "
                    "'-'.")),
    "role": ("unknown role %(role)r: use one of %(roles)s",
             _l("Không có vai trò “%(role)s” (dùng một trong: %(roles)s).")),
    "leader_units": ("a leader needs at least one unit (--unit CODE)",
                     _l("Tổ trưởng cần được giao ít nhất một đơn vị.")),
    "units_for_leaders": ("only leaders are limited to units; admins and staff see all",
                          _l("Chỉ tổ trưởng mới được giao đơn vị; quản trị và cán bộ xem mọi "
                             "đơn vị.")),
    "ward_for_office": ("only admin and staff accounts are limited to a ward (--ward CODE)",
                        _l("Chỉ tài khoản quản trị và cán bộ mới được giới hạn theo phường.")),
    "not_a_ward": ("%(code)s is not a ward", _l("%(code)s không phải là một phường.")),
    "outside_ward": ("this account may manage only accounts of its own ward",
                     _l("Tài khoản này chỉ được quản lý tài khoản thuộc phường của mình.")),
    "user_exists": ("user %(name)s already exists", _l("Đã có tài khoản %(name)s.")),
    "self_lockout": ("you cannot remove your own admin role or disable yourself",
                     _l("Không thể bỏ vai trò quản trị của chính mình hay tự khóa tài khoản "
                        "của mình.")),
}


@dataclass(frozen=True)
class Reason:
    """Why one value is refused: a key of :data:`REASONS` and its parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        """Return the reason in English (the command line's words)."""
        return REASONS[self.code][0] % dict(self.params)

    def text(self) -> str:
        """Return the reason in the reader's language (the catalogue's words)."""
        return str(REASONS[self.code][1]) % dict(self.params)

    def __str__(self) -> str:
        return self.text()

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))


def reason(key: str, /, **params: Any) -> Reason:
    """Return a :class:`Reason`; raise KeyError for a key with no wording."""
    REASONS[key]  # noqa: B018  (fail where the reason is made, not where it is shown)
    return Reason(key, params)


class Refusal(ValueError):
    """A service refuses a change, for a reason worded when shown.

    ``str()`` words the reason for the reader, ``english()`` for the command line; ``field``
    names the form field it concerns, when one does.
    """

    def __init__(self, why: Reason, field: str = "") -> None:
        super().__init__(why.code)
        self.why = why
        self.field = field

    def english(self) -> str:
        """Return the reason in English (the command line's words)."""
        return self.why.english()

    def __str__(self) -> str:
        return self.why.text()


@dataclass(frozen=True)
class Problem:
    """One problem of an imported file: where (row, column; None for the whole file), and why.

    ``question`` is the number people call the column's question by ("15" for ``q15``).
    """

    row: int | None
    column: str | None
    why: Reason
    question: str | None = None

    def english(self) -> str:
        """Return ``row N, column C: reason`` (contract §3), or less when row or column is None."""
        if self.row is None:
            return self.why.english()
        if self.column is None:
            return f"row {self.row}: {self.why.english()}"
        return f"row {self.row}, column {self.column}: {self.why.english()}"

    def text(self) -> str:
        """Return the problem in the reader's language, naming a question column's number."""
        if self.row is None:
            text = self.why.text()
            return text[:1].upper() + text[1:]
        if self.column in (None, "-"):  # "-": the row as a whole (contract §3's form in English)
            return _("Dòng %(row)d: %(reason)s", row=self.row, reason=self.why.text())
        if self.question:
            return _("Dòng %(row)d, cột %(column)s (câu %(number)s): %(reason)s",
                     row=self.row, column=self.column, number=self.question,
                     reason=self.why.text())
        return _("Dòng %(row)d, cột %(column)s: %(reason)s", row=self.row,
                 column=self.column, reason=self.why.text())

    def __str__(self) -> str:
        return self.english()
