# Everything a person types twice. `make run` and `make test` do their own
# set-up on a fresh machine: virtualenv, pinned install, migrations.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Development defaults; anything set in the environment wins.
export DEBUG ?= 1
export PYTHONUNBUFFERED := 1

# The Celery broker of `make run`: CELERY_BROKER_URL if set, else the local
# Redis if it answers, else the embedded filesystem broker (see README).
WITH_BROKER = broker="$$($(PY) -m adserver.broker_choice)" && \
	echo "Celery broker: $$broker" && CELERY_BROKER_URL="$$broker" PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: run test check lint format typecheck migrations-check pytest migrate seed simulate admin-login \
	worker beat web shell clean bench chromium test-pgbouncer

$(VENV)/.run-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: install, migrate, seed demo data once, print the development logins, start web + worker + beat
run: $(VENV)/.run-installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py seed_demo --once
	$(PY) manage.py dev_admin --url http://$(HOST):$(PORT)/
	@$(WITH_BROKER) PORT=$(PORT) HOST=$(HOST) $(BIN)/honcho start -f Procfile

migrate: $(VENV)/.run-installed
	$(PY) manage.py migrate --no-input

seed: $(VENV)/.run-installed
	$(PY) manage.py seed_demo

## simulate: replay a week of spend through the services, ticking as beat would
simulate: $(VENV)/.run-installed
	$(PY) manage.py simulate_spend --simulated-days 7

admin-login: $(VENV)/.run-installed
	$(PY) manage.py dev_admin --url http://$(HOST):$(PORT)/

web worker beat: $(VENV)/.run-installed
	@$(WITH_BROKER) PORT=$(PORT) HOST=$(HOST) $(BIN)/honcho start -f Procfile $@

shell: $(VENV)/.run-installed
	$(PY) manage.py shell

# Tests run against the real services: PostgreSQL and Redis on this machine.
test check lint format typecheck migrations-check pytest bench test-pgbouncer: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/adserver
test check lint format typecheck migrations-check pytest bench test-pgbouncer: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0

## test: lint, type-check, check migrations, then the whole pytest suite (the fault suite too)
test: lint typecheck migrations-check pytest

## test-pgbouncer: the spend, reconcile and dashboard tests through PgBouncer (transaction mode)
test-pgbouncer: $(VENV)/.dev-installed
	.ci/pgbouncer-tests -n 2

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy .

migrations-check: $(VENV)/.dev-installed
	$(PY) manage.py makemigrations --check --dry-run

pytest: $(VENV)/.dev-installed chromium
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests drive Debian's chromium (Playwright never downloads one).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

clean:
	rm -rf $(VENV) var staticfiles .mypy_cache .ruff_cache .pytest_cache .hypothesis
