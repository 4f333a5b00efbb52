"""Anonymous pages for citizens."""

from .views import bp

__all__ = ["bp"]
