"""The one place for security headers, cookie-related hooks and the CSRF error page."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from flask import Flask, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

PUBLIC_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "public.css"


def load_public_css(app: Flask) -> None:
    """Read the citizen pages' stylesheet once; it is inlined so a form page is one request.

    A weak 3G link pays a full round trip for every extra request, so the form and its CSS
    arrive together. The Content-Security-Policy allows exactly this stylesheet by its hash;
    no other inline style or script is allowed.
    """
    css = PUBLIC_CSS.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    # Our own file, not user input: marked safe so that quotes are not escaped (the hash is of
    # the exact bytes).
    app.extensions["public_css"] = Markup(css)  # noqa: S704
    app.extensions["public_css_hash"] = f"'sha256-{digest}'"


def content_security_policy() -> str:
    """Return the CSP: same-origin only, no inline code but the hashed public stylesheet."""
    style_hash = current_app.extensions["public_css_hash"]
    return (
        "default-src 'self'; img-src 'self' data:; "
        f"style-src 'self' {style_hash}; script-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def set_security_headers(response: Response) -> Response:
    """Add the usual headers to every response; staff pages and downloads are never cached."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["BASE_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    path = request.path
    if path.startswith(("/staff", "/login", "/api")):
        headers["Cache-Control"] = "no-store"
    return response


# Endpoints that accept uploaded files, with their size limits; every other POST carrying a
# file is refused, and every other request keeps MAX_CONTENT_LENGTH (1 MiB).
UPLOAD_ENDPOINTS: dict[str, int] = {"staff.import_responses": 20 * 1024 * 1024}


def refuse_unexpected_uploads() -> None:
    """Answer 400 to a file sent where no file is expected, before any form reads it.

    Runs before every other hook (CSRF included), because reading the form fixes the size
    limit: an upload endpoint gets its own limit here, first.
    """
    limit = UPLOAD_ENDPOINTS.get(request.endpoint or "")
    if limit is not None:
        request.max_content_length = limit
        return
    if request.method == "POST" and request.files:
        abort(400)


def csrf_error(error: CSRFError) -> tuple[str, int]:
    """Explain an expired or missing form token in plain words instead of a bare 400."""
    return render_template(
        "errors/error.html", code=400, title=_("Biểu mẫu đã hết hạn"),
        message=_("Trang đã mở quá lâu hoặc thiếu mã bảo vệ. Xin tải lại trang và thử lại."),
    ), 400


def init_app(app: Flask) -> None:
    """Register the headers hook and the CSRF error page."""
    load_public_css(app)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unexpected_uploads)
    app.after_request(set_security_headers)
    app.register_error_handler(CSRFError, csrf_error)
