"""QR codes of survey links, as PNG (for printing and messaging) and SVG (for posters)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(url: str) -> qrcode.QRCode:
    if not url.isascii():
        # Decoders disagree on the charset of non-ASCII payloads; links must be plain URLs.
        raise ValueError("a QR payload must be ASCII")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=10)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str, box_size: int = 10) -> bytes:
    """Return a black-on-white PNG of ``url``'s QR code."""
    code = _qr(url)
    code.box_size = box_size
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    """Return a scalable SVG of ``url``'s QR code (one path, prints sharp at any size)."""
    image = _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
