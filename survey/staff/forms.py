"""Staff forms: units, links, accounts, password, cases."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..services.cases import NOTE_MAX, REPLY_MAX
from ..services.text import clean_text

KIND_CHOICES = [
    SelectChoice("counter", _l("Quầy của Trung tâm Phục vụ hành chính công")),
    SelectChoice("office", _l("Phòng chuyên môn")),
    SelectChoice("group", _l("Tổ dân phố")),
    SelectChoice("ward", _l("Phường")),
]
ROLE_CHOICES = [
    SelectChoice("staff", _l("Cán bộ (xem và quản lý đơn vị của phường)")),
    SelectChoice("leader", _l("Tổ trưởng (chỉ đơn vị được giao)")),
    SelectChoice("admin", _l("Quản trị (thêm quản lý tài khoản)")),
    SelectChoice("city", _l("Thành phố (xem mọi phường, không thay đổi gì)")),
]


class MultiCheckboxField(SelectMultipleField):
    """Several check boxes instead of a multi-select, easier on a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UnitForm(FlaskForm):
    """Create a unit."""

    code = StringField(_l("Mã đơn vị"), validators=[
        InputRequired(), Length(max=32),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
               message=_l("Chỉ dùng chữ không dấu, số, dấu '-' hoặc '_'."))])
    name = StringField(_l("Tên đơn vị"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(_l("Loại"), choices=KIND_CHOICES, validators=[InputRequired()])
    parent = SelectField(_l("Thuộc"), choices=[], validators=[Optional()])


class UnitEditForm(FlaskForm):
    """Change a unit's name, parent or active flag."""

    name = StringField(_l("Tên đơn vị"), validators=[InputRequired(), Length(max=200)])
    parent = SelectField(_l("Thuộc"), choices=[], validators=[Optional()])
    active = BooleanField(_l("Đang hoạt động"))
    opening_hours = StringField(_l("Giờ làm việc"), validators=[Optional(), Length(max=200)],
                                filters=[lambda v: v.strip() if isinstance(v, str) else v])


class WardSettingsForm(FlaskForm):
    """A ward's own settings over the installation's (contract §11)."""

    heading = StringField(_l("Tên cơ quan trên báo cáo"), validators=[Length(max=200)],
                          description=_l("Ví dụ: UBND PHƯỜNG TRẦN LIỄU. Để trống: tên phường."))
    upper_authority = StringField(_l("Cơ quan cấp trên"), validators=[Length(max=200)],
                                  description=_l("Ví dụ: UBND THÀNH PHỐ HẢI PHÒNG."))
    place = StringField(_l("Địa danh ghi ngày báo cáo"), validators=[Length(max=200)])
    pakn_phone = StringField(_l("Số điện thoại tiếp nhận phản ánh, kiến nghị"),
                             validators=[Length(max=40)])
    signer_title = StringField(_l("Chức vụ người ký"), validators=[Length(max=200)])
    signer_name = StringField(_l("Họ tên người ký"), validators=[Length(max=200)])
    sample_target = IntegerField(
        _l("Số phiếu cần thu của phường"), validators=[
            Optional(), NumberRange(1, 100_000, _l("Số phiếu cần thu là một số từ 1 đến 100000."))],
        description=_l("Trang Tiến độ chia đều số này cho các tổ dân phố. Để trống: theo "
                       "thiết lập chung (SURVEY_SAMPLE_TARGET)."))
    questionnaire = SelectField(_l("Mục tiêu của phiếu"), choices=[], validate_choice=True)
    target = DecimalField(_l("Mục tiêu (%)"), places=1, validators=[
        Optional(), NumberRange(0, 100, _l("Mục tiêu là một số từ 0 đến 100."))],
        description=_l("Để trống: theo mục tiêu chung của thành phố."))


class LinkForm(FlaskForm):
    """Add a survey link (and QR code) for a questionnaire at a unit."""

    questionnaire = SelectField(_l("Phiếu khảo sát"), choices=[], validators=[InputRequired()])


class EmptyForm(FlaskForm):
    """A button that posts: carries only the CSRF token."""


class ExclusionForm(FlaskForm):
    """Exclude flagged responses from the results, or take them back, with a written reason."""

    responses = SelectMultipleField(_l("Phiếu"), choices=[], validators=[Optional()])
    reason = TextAreaField(_l("Lý do (ghi vào nhật ký)"), validators=[
        InputRequired(_l("Xin ghi lý do.")),
        Length(min=10, max=500, message=_l("Lý do từ 10 đến 500 ký tự."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v])


class UserForm(FlaskForm):
    """Create an account."""

    username = StringField(_l("Tên đăng nhập"), validators=[InputRequired(), Length(2, 64)])
    role = SelectField(_l("Vai trò"), choices=ROLE_CHOICES, validators=[InputRequired()])
    units = MultiCheckboxField(_l("Đơn vị (cho tổ trưởng)"), choices=[], validate_choice=True)
    ward = SelectField(_l("Phường (cho quản trị và cán bộ)"), choices=[],
                       validate_choice=False)
    password = PasswordField(_l("Mật khẩu (ít nhất 10 ký tự)"),
                             validators=[InputRequired(), Length(10, 256)])


class UserEditForm(FlaskForm):
    """Change an account's role, units, active flag or password."""

    role = SelectField(_l("Vai trò"), choices=ROLE_CHOICES, validators=[InputRequired()])
    units = MultiCheckboxField(_l("Đơn vị (cho tổ trưởng)"), choices=[], validate_choice=True)
    ward = SelectField(_l("Phường (cho quản trị và cán bộ)"), choices=[],
                       validate_choice=False)
    active = BooleanField(_l("Đang hoạt động"))
    password = PasswordField(_l("Mật khẩu mới (để trống nếu không đổi)"),
                             validators=[Optional(), Length(10, 256)])


class PasswordForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[InputRequired()])
    new = PasswordField(_l("Mật khẩu mới (ít nhất 10 ký tự)"),
                        validators=[InputRequired(), Length(10, 256)])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        InputRequired(), EqualTo("new", message=_l("Hai mật khẩu không khớp."))])


class ImportForm(FlaskForm):
    """Upload responses in the wide format (CSV or XLSX) of contract §5."""

    file = FileField(_l("Tệp CSV hoặc XLSX"), validators=[
        FileRequired(_l("Chọn một tệp.")),
        FileAllowed(["csv", "xlsx"], _l("Chỉ nhận tệp .csv hoặc .xlsx."))])
    questionnaire = SelectField(_l("Phiếu khảo sát"), choices=[], validators=[InputRequired()])
    unit = SelectField(_l("Đơn vị cho các dòng không ghi đơn vị"), choices=[],
                       validators=[Optional()])
    channel = SelectField(_l("Kênh cho các dòng không ghi kênh"), choices=[
        SelectChoice("paper", _l("Phiếu giấy")), SelectChoice("import", _l("Nhập từ tệp"))])


class BatchForm(FlaskForm):
    """Issue a batch of printed sheets to a unit (and its leader)."""

    questionnaire = SelectField(_l("Phiếu khảo sát"), choices=[], validators=[InputRequired()])
    unit = SelectField(_l("Đơn vị (tổ dân phố)"), choices=[], validators=[InputRequired()])
    leader = SelectField(_l("Tổ trưởng nhận phiếu"), choices=[], validators=[Optional()])
    sheet_count = IntegerField(_l("Số phiếu in"), validators=[
        InputRequired(), NumberRange(1, 2000, message=_l("Từ 1 đến 2000 phiếu."))])
    double_entry = BooleanField(_l("Nhập kép (hai người nhập độc lập, đối chiếu khi khác nhau)"))
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=200)])


class ReturnedForm(FlaskForm):
    """Record how many sheets of a batch came back."""

    returned = IntegerField(_l("Số phiếu đã thu về"), validators=[
        InputRequired(), NumberRange(0, 2000)])


class SerialForm(FlaskForm):
    """Open a sheet by its serial (typed, or read from the QR code)."""

    serial = StringField(_l("Số phiếu"), validators=[InputRequired(), Length(max=12)])


def _stripped(value: object) -> object:
    """Trim typed text and keep it as it is stored (NFC, no carriage returns): lengths agree."""
    return clean_text(value) if isinstance(value, str) else value


class CaseBulkAssignForm(FlaskForm):
    """Give the cases ticked in the list to one account, or to nobody."""

    assignee = SelectField(_l("Giao cho"), choices=[], validate_choice=False,
                           validators=[InputRequired(_l("Chọn người nhận hồ sơ."))])


class CaseAssignForm(FlaskForm):
    """Give a case to an account (or nobody) and a handling unit."""

    assignee = SelectField(_l("Người xử lý"), choices=[], validate_choice=False)
    handling_unit = SelectField(_l("Đơn vị xử lý"), choices=[], validate_choice=False,
                                validators=[InputRequired(_l("Chọn đơn vị xử lý."))])


class CaseReplyForm(FlaskForm):
    """The public reply the citizen reads on /tra-cuu."""

    text = TextAreaField(_l("Nội dung trả lời người dân"), filters=[_stripped], validators=[
        DataRequired(_l("Xin nhập nội dung trả lời.")),
        Length(max=REPLY_MAX, message=_l("Câu trả lời dài quá %(max)d ký tự."))])
    status = SelectField(_l("Sau khi trả lời"), choices=[
        SelectChoice("answered", _l("Đã trả lời (còn theo dõi)")),
        SelectChoice("closed", _l("Đóng hồ sơ"))])
    publish = BooleanField(_l("Cho đăng lên trang kết quả công khai"))


class CaseStatusForm(FlaskForm):
    """Move a case on: in progress, closed, or reopened (in progress again)."""

    status = SelectField(_l("Trạng thái"), choices=[
        SelectChoice("in_progress", _l("Đang xử lý")), SelectChoice("closed", _l("Đã đóng"))])


class CaseNoteForm(FlaskForm):
    """An internal note: staff only, never shown to the citizen."""

    text = TextAreaField(_l("Ghi chú nội bộ"), filters=[_stripped], validators=[
        DataRequired(_l("Xin nhập ghi chú.")),
        Length(max=NOTE_MAX, message=_l("Ghi chú dài quá %(max)d ký tự."))])


class CaseOpenForm(FlaskForm):
    """Open a case from any response, by its receipt."""

    receipt = StringField(_l("Mã phiếu"), filters=[_stripped], validators=[
        DataRequired(_l("Xin nhập mã phiếu.")), Length(max=40)])


class TokenForm(FlaskForm):
    """Create an API token for one's own account, named after what it is for."""

    name = StringField(_l("Dùng cho (ví dụ: bảng tin của thành phố)"),
                       filters=[_stripped], validators=[InputRequired(), Length(1, 100)])
