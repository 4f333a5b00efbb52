"""Free text as it is stored: NFC, no control characters, trimmed."""

from __future__ import annotations

import unicodedata


def clean_text(value: str) -> str:
    """Return free text in NFC, without control or format characters, with trimmed ends.

    Line breaks and tabs are kept; zero-width and other invisible characters are not, so that
    a "blank" answer is seen as blank and PostgreSQL never receives a NUL byte.
    """
    value = unicodedata.normalize("NFC", value)
    kept = (ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "".join(kept).replace("\r", "").strip()
