"""Error pages in plain Vietnamese (or English); JSON for the API. Never a traceback."""

from __future__ import annotations

from typing import NoReturn

from flask import Flask, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Yêu cầu không hợp lệ"), _("Trang nhận được dữ liệu không đúng. Xin thử lại.")),
        401: (_("Cần đăng nhập"), _("Xin đăng nhập để xem trang này.")),
        403: (_("Không có quyền truy cập"), _("Tài khoản của bạn không được xem trang này.")),
        404: (_("Không tìm thấy trang"),
              _("Đường dẫn không đúng hoặc đã bị gỡ. Xin kiểm tra lại mã QR hoặc địa chỉ.")),
        405: (_("Không hỗ trợ thao tác này"), _("Xin quay lại trang trước.")),
        409: (_("Phiếu đã được gửi"), _("Phiếu này đã được gửi trước đó với câu trả lời khác.")),
        410: (_("Khảo sát đã đóng"), _("Khảo sát này hiện không nhận ý kiến. Xin cảm ơn.")),
        413: (_("Dữ liệu quá lớn"), _("Nội dung gửi lên quá lớn.")),
        429: (_("Quá nhiều yêu cầu"), _("Xin đợi một lát rồi thử lại.")),
        500: (_("Đã có lỗi"), _("Hệ thống gặp sự cố. Câu trả lời chưa được lưu; xin thử lại sau.")),
        503: (_("Hệ thống đang bận"),
              _("Dữ liệu chưa được lưu. Xin quay lại trang trước và gửi lại sau ít giây.")),
    }


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with an error page that says ``message`` (already translated).

    Other errors show only their status's general message: a library's description (English,
    sometimes technical) never reaches a citizen or an officer.
    """
    try:
        abort(status, description=message)
    except HTTPException as error:
        error.shown = True  # type: ignore[attr-defined]
        raise


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Render any HTTP error as a page (or JSON under /api and /healthz)."""
    code = error.code or 500
    title, message = _messages().get(code, (error.name, error.description or ""))
    if getattr(error, "shown", False) and error.description:
        message = error.description
    if request.path.startswith(("/api/", "/healthz")):
        return jsonify({"error": title, "message": message, "status": code}), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def handle_unexpected(error: Exception) -> ResponseReturnValue:
    """Log an unexpected exception and answer with the generic 500 page.

    A database that stayed busy (locked SQLite, a PostgreSQL deadlock) is no bug: 503, with
    Retry-After, and the page says nothing was stored.
    """
    from flask import current_app

    from .services.transactions import DatabaseBusy, is_transient

    if isinstance(error, DatabaseBusy) or is_transient(error):
        current_app.logger.warning("database busy on %s %s", request.method, request.path)
        response = current_app.make_response(handle_http_error(ServiceUnavailable()))
        response.headers["Retry-After"] = "5"
        return response
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
