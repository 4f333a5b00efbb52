"""Services: plain functions that views, CLI commands and tests share.

They take arguments (never ``request``, ``session`` or ``current_user``), add and flush, and
leave the commit to the caller, so that one request or command is one transaction.
"""
