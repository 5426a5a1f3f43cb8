# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint format lock bench screenshots worker messages

$(BIN)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/medworks migrate --noinput -v 0
	@# The server and the worker start first; the demo data is loaded beside them and the
	@# logins are printed last, once the server answers at the address emails link to.
	@trap 'kill 0' INT TERM EXIT; \
	  export MEDWORKS_BASE_URL=http://$(HOST):$(PORT) MEDWORKS_STAFF_REQUIRE_2FA=0; \
	  $(BIN)/medworks worker --no-reload -v 0 & \
	  $(BIN)/medworks runserver $(HOST):$(PORT) & \
	  $(BIN)/medworks seed-demo --wait-for-server; \
	  wait

# Delivers queued emails (with retries) and sends day-before reminders; run beside the server.
worker: install
	$(BIN)/medworks worker

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/medworks makemigrations --check --dry-run
	$(BIN)/medworks check
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the lock file from the current environment (after changing pyproject.toml).
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^medworks' > requirements.lock

# Rebuild the French catalogue (needs gettext's xgettext); the compiled django.mo is committed.
messages: install
	$(BIN)/python scripts/messages.py

screenshots: install
	$(BIN)/python scripts/screenshots.py

bench: install
	$(BIN)/python bench/bench_matching.py
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_work_queue.py
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_receivables.py
	$(BIN)/python bench/bench_statement_run.py
	$(BIN)/python bench/bench_reconciliation.py
