# Two commands for everyone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test typecheck translations messages clean help

help:
	@echo "make run    - install, create or upgrade instance/survey.db, seed demo data once, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install development tools and run lint and the whole test suite"

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

run: $(VENV)/.runtime $(MO)
	$(FLASK) init-db --demo
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	@# No access log: its lines would pair a citizen's IP address with the counter's link.
	$(BIN)/gunicorn --workers 2 --timeout 120 --bind $(HOST):$(PORT) wsgi:app

test: $(VENV)/.dev $(MO)
	$(BIN)/ruff check .
	$(BIN)/pytest

typecheck: $(VENV)/.dev
	$(BIN)/mypy

# Extract messages after changing user-facing text, then translate the new entries in the .po.
messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o survey/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
