# Two commands for everyone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test audit typecheck translations messages clean help

help:
	@echo "make run    - install, create or upgrade instance/survey.db, seed demo data once, serve on http://$(HOST):$(PORT)"
	@echo "              (make run HOST=0.0.0.0: phones on the same network can open it and scan its QR codes)"
	@echo "make test   - install development tools and run lint and the whole test suite"
	@echo "make serve  - production: upgrade the database, serve with gunicorn.conf.py (see README)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Compiled catalogues are built, not committed.
MO := survey/translations/en/LC_MESSAGES/messages.mo
$(MO): survey/translations/en/LC_MESSAGES/messages.po $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -d survey/translations -D messages
translations: $(MO)

# Without SURVEY_BASE_URL, QR codes follow the address served (the port; with HOST=0.0.0.0 the
# machine's LAN address, which phones on the same Wi-Fi can open): survey/addresses.py.
# `address --record` keeps them in instance/serving.json for flask commands run later.
run serve: export SURVEY_LISTEN_HOST = $(HOST)
run serve: export SURVEY_LISTEN_PORT = $(PORT)

run: $(VENV)/.runtime $(MO)
	$(FLASK) init-db --demo
	@$(FLASK) address --record
	$(BIN)/gunicorn --config gunicorn.conf.py --workers 2 --bind $(HOST):$(PORT) wsgi:app

# Production: no demo data; workers, threads and timeout from gunicorn.conf.py (SURVEY_WORKERS,
# SURVEY_THREADS, SURVEY_TIMEOUT); the database and Redis from SURVEY_* variables (README).
serve: $(VENV)/.runtime $(MO)
	$(FLASK) init-db
	@$(FLASK) address --record
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

# Tests run in parallel, one pytest-xdist worker per core up to 4 (each with its own PostgreSQL
# database, tests/conftest.py); `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && n=4; echo $$n)

test: $(VENV)/.dev $(MO)
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS)

# pip-audit asks PyPI's JSON API about every installed package; a known vulnerability fails, and
# where the service cannot be reached the last line says "audit: NOT RUN" (tools/audit.py).
audit: $(VENV)/.dev
	$(BIN)/python tools/audit.py

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# Extract messages after changing user-facing text, then translate the new entries in the .po.
messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o survey/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
