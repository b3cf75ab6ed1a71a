# Anmu: `make run` for a first look, `make test` for the suite. Nothing to install but Python >= 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# A first look runs with DEBUG on (no SECRET_KEY needed); production sets DEBUG=0 and SECRET_KEY.
RUN_ENV := DEBUG=$${DEBUG:-1}

.PHONY: run test lint checkmigrations install install-dev messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Anmu needs Python 3.11 or newer (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	@echo "正在建立数据库表… / Creating the database tables (migrate)…"
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	@echo "正在创建演示数据… / Creating demo data…"
	$(RUN_ENV) $(BIN)/python manage.py seed_demo --first-look
	@echo "Anmu is starting on http://$(HOST):$(PORT)/  (demo logins: see README)"
	$(RUN_ENV) $(BIN)/uvicorn project.asgi:application --host $(HOST) --port $(PORT) --workers 1

test: install-dev
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	# The rule of direction and no import cycles (contracts in pyproject.toml, [tool.importlinter]).
	DEBUG=1 $(BIN)/lint-imports
	DEBUG=1 $(BIN)/mypy cases workflows notifications organisations
	$(BIN)/python tools/check_translations.py

checkmigrations: install-dev
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Refresh the zh-hans catalogue after changing user-facing text (needs GNU gettext).
messages: install-dev
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=benchmarks --ignore=tools --ignore=static/vendor --no-obsolete
	DEBUG=1 $(BIN)/python manage.py makemessages -d djangojs -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=benchmarks --ignore=tools --ignore=static/vendor --no-obsolete
	DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles anmu.sqlite3*
