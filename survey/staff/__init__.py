"""Pages for logged-in staff and group leaders."""

from . import (  # noqa: F401  (their routes on bp)
    cases,
    dashboard,
    indicators,
    integrity,
    paper,
    wards,
)
from .views import bp

__all__ = ["bp"]
