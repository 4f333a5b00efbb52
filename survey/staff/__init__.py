"""Pages for logged-in staff and group leaders."""

from . import dashboard  # noqa: F401  (registers the dashboard routes on bp)
from .views import bp

__all__ = ["bp"]
