"""Login form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Tên đăng nhập"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Mật khẩu"), validators=[InputRequired(), Length(max=256)])
