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


def fold_text(value: str) -> str:
    """Return text as people type it when searching: lower case, no diacritics, đ as d.

    "Ghế CHỜ" and "ghe cho" both fold to "ghe cho", so a search compares folded copies
    (``Answer.text_folded``) with a folded query on any database.
    """
    decomposed = unicodedata.normalize("NFD", value.lower().replace("đ", "d").replace("Đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", bare).split())


_RECEIPT_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def receipt_query(value: str) -> str | None:
    """Return the receipt code ``XXXX-XXXX`` a search looks like, or None.

    Receipts are typed as read from a phone or a paper slip: any case, with or without the
    dash or spaces.
    """
    compact = "".join(ch for ch in value.upper() if ch not in "- \t")
    if len(compact) != 8 or not set(compact) <= _RECEIPT_ALPHABET:
        return None
    return f"{compact[:4]}-{compact[4:]}"
