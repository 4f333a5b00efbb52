"""Pages for logged-in staff and group leaders."""

from . import cases, dashboard, integrity, paper  # noqa: F401  (register their routes on bp)
from .views import bp

__all__ = ["bp"]
