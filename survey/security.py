"""The one place for security headers, cookie-related hooks and the CSRF error page."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

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


# The pages other sites may show in a frame: the ward's published results (/ket-qua), for the
# ward's own website, and only from the origins in RESULTS_FRAME_ANCESTORS.
FRAMEABLE_ENDPOINTS = frozenset({"public.results_page"})
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


@functools.cache
def frame_origins(setting: str) -> tuple[str, ...]:
    """Return the origins of a RESULTS_FRAME_ANCESTORS setting (space or comma separated).

    Anything that is not a plain ``http(s)://host[:port]`` origin is left out (and logged
    once), so that a typo cannot widen the policy or end the CSP header early (``;``).
    """
    found = []
    for token in setting.replace(",", " ").split():
        origin = token.rstrip("/")
        if _ORIGIN.match(origin):
            found.append(origin)
        else:
            current_app.logger.warning("RESULTS_FRAME_ANCESTORS: %r is not an origin, left out",
                                       token)
    return tuple(found)


def frame_ancestors() -> str:
    """Return the CSP frame-ancestors sources of this request: 'none' but for /ket-qua."""
    if request.endpoint in FRAMEABLE_ENDPOINTS:
        origins = frame_origins(str(current_app.config.get("RESULTS_FRAME_ANCESTORS") or ""))
        if origins:
            return " ".join(origins)
    return "'none'"


def content_security_policy(ancestors: str = "'none'") -> str:
    """Return the CSP: same-origin only, no inline code but the hashed public stylesheet."""
    style_hash = current_app.extensions["public_css_hash"]
    return (
        "default-src 'self'; img-src 'self' data:; "
        f"style-src 'self' {style_hash}; script-src 'self'; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )


_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def local_path(target: str | None, prefix: str = "/") -> str | None:
    """Return ``target`` if it is an address on this site under ``prefix``, else None.

    For the "go back to" addresses a form or link carries (``next=``): never another site
    ("//host", or a backslash, which browsers read as a slash; a scheme), and never a control
    character (a CR or LF would split the Location header: a 500, or a header injected).
    """
    if not target or not target.startswith(prefix) or target.startswith("//"):
        return None
    if _UNSAFE_IN_PATH.search(target) or len(target) > 2000:
        return None
    parts = urlsplit(target)
    return None if parts.netloc or parts.scheme else target


def set_security_headers(response: Response) -> Response:
    """Add the usual headers to every response; staff pages and downloads are never cached."""
    headers = response.headers
    ancestors = frame_ancestors()
    headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if ancestors == "'none'":
        # Browsers that know CSP follow frame-ancestors; older ones need this header, which
        # cannot name origins, so a frameable page goes without it.
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
# Indicator files: a little over what the import takes (services/indicators.MAX_FILE_BYTES),
# so that the page says why a larger file is refused.
UPLOAD_ENDPOINTS: dict[str, int] = {"staff.import_responses": 20 * 1024 * 1024,
                                    "staff.indicators_import": 8 * 1024 * 1024}


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
