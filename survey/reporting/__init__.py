"""Reporting: filters, summaries, the report's data, its files (XLSX, PDF, DOCX) and exports.

Nothing here imports Flask: the caller passes the database session, the settings and any
rendered template in, so the same code serves the staff pages, the API, the CLI and a job.
"""
