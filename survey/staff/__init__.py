"""Pages for logged-in staff and group leaders."""

from .views import bp

__all__ = ["bp"]
