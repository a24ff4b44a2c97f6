# Two commands for a new user: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is for trying the product locally: DEBUG on unless the environment or .env says otherwise.
RUN_ENV := DEBUG=$${DEBUG:-true}

.PHONY: run dev-keys test install install-dev migrate lint format serve worker clean bench bench-scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes, so a second `make run` starts at once.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The Python client (client/, its own package) is part of the dev install: its tests run against this server.
$(VENV)/.installed-dev: pyproject.toml client/pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]" -e ./client
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

# Development keys for sensitive attributes, generated once into .env (never committed; production sets its own).
DEV_KEY := $(BIN)/python -c "import base64,secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"
dev-keys: install
	@touch .env
	@grep -q '^ATTRIBUTE_ENCRYPTION_KEYS=.' .env || { echo "ATTRIBUTE_ENCRYPTION_KEYS=$$($(DEV_KEY))" >> .env; \
		echo "  Generated a development ATTRIBUTE_ENCRYPTION_KEYS into .env"; }
	@grep -q '^ATTRIBUTE_INDEX_KEY=.' .env || { echo "ATTRIBUTE_INDEX_KEY=$$($(DEV_KEY))" >> .env; \
		echo "  Generated a development ATTRIBUTE_INDEX_KEY into .env"; }

run: dev-keys migrate
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "  CRM is starting on http://$(HOST):$(PORT)/ with a job worker  (sign in with the demo login above;"
	@echo "  Ctrl-C stops both)"
	@echo
	$(RUN_ENV) $(BIN)/python manage.py run_with_worker -- $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-style server: gunicorn serves the app and whitenoise the static files; one job worker beside it.
serve: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py run_with_worker -- \
		$(BIN)/gunicorn crm_project.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3}

# One more background worker (renames, imports, ...) in the foreground; SIGTERM or Ctrl-C stops it.
worker: migrate
	$(BIN)/python manage.py run_worker

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd client && $(abspath $(BIN))/mypy --strict

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Load test under gunicorn against bare-SQL baselines (needs wrk: apt-get install wrk). BENCH_ARGS=--sqlite etc.
bench: install-dev
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Fleet scale: seeds 1,000,000 customers and 10,000,000 attributes (PostgreSQL, its own database
# crm_bench_1000000; timed) on the first run, then sweeps every GET route. BENCH_ARGS=--sqlite etc.
bench-scale: install-dev
	$(BIN)/python bench/run.py --customers 1000000 --attributes 10000000 --only sweep $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache test_db.sqlite3*
