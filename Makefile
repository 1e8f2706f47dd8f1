# Two commands do all the set-up on a fresh machine:
#   make run   - install everything, build the frontend, migrate, start runserver
#   make test  - the same install, then the whole test suite (SQLite)
#   make test-postgres - the whole suite again on PostgreSQL and Redis (scripts/with-services)
#   make serve - production: collectstatic, migrate, uvicorn with several workers
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := .make
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres serve lint install frontend chromium migrate bench eval clean

install: $(STAMP)/python

$(STAMP)/python: pyproject.toml
	@mkdir -p $(STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[test,bench]"
	touch $@

frontend: $(STAMP)/frontend

$(STAMP)/frontend: frontend/package.json frontend/package-lock.json $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts
	@mkdir -p $(STAMP)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build
	touch $@

# Debian's chromium for the browser tests (no browser download).
chromium: $(STAMP)/chromium

$(STAMP)/chromium:
	@mkdir -p $(STAMP)
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	touch $@

# The development set-up turns DEBUG on; the project's default is off.
migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py ensure_dev_superuser

# Production: DEBUG off, SECRET_KEY required; see the README's "Production".
serve: install frontend
	PY=$(PY) HOST=$(HOST) PORT=$(PORT) scripts/serve

run: install frontend migrate
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install frontend chromium lint
	$(PY) -m pytest

# PostgreSQL and Redis from Debian's packages, started on 127.0.0.1 for this run only.
test-postgres: install frontend chromium
	scripts/with-services $(PY) -m pytest

# Lint: ruff (rules and formatting) on the Python code (the frontend's ESLint runs under pytest with vitest).
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: install
	$(PY) -m bench

clean:
	rm -rf $(STAMP) $(VENV) frontend/node_modules frontend/dist

# The embedded model's conversation eval (>= 40 cases through /chatkit, per installed variant).
eval: install
	$(PY) -m bench.eval
