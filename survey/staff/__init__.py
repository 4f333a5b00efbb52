"""Pages for logged-in staff and group leaders."""

from . import cases, dashboard, indicators, integrity, paper  # noqa: F401  (their routes on bp)
from .views import bp

__all__ = ["bp"]
