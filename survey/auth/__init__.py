"""Staff login and logout."""

from .views import bp

__all__ = ["bp"]
