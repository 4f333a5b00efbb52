"""Scoring and reporting (SIPAS and PAPI-style), in pure pandas and matplotlib.

This package must stay importable without Flask or SQLAlchemy (tests/test_boundaries.py), so
that a notebook or a cron job can score an exported file. The scoring of contract §6 arrives
with the reporting issue; until then the package holds no code.
"""
