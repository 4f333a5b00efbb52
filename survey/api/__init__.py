"""JSON API for scripts and other tools (contract §4)."""

from .views import bp

__all__ = ["bp"]
