# EventOps developer commands (Debian 12; scripts/setup.sh installs what is missing).
#
#   make run      start the whole system with demo data on http://127.0.0.1:8000 (Ctrl-C stops it);
#                 VENUE=1: the gateway over HTTPS on this laptop's Wi-Fi address, for tablets (README)
#   make run-prod the production topology on this machine: PostgreSQL, Redis, gunicorn, nginx with TLS on
#                 https://127.0.0.1:8443 (README, "Running in production")
#   make test     lint, then every test, in parallel (PYTEST_WORKERS=4; 0 runs them in this process);
#                 narrow the tests with PYTEST_ARGS, e.g. PYTEST_ARGS="-x -k regions"
#   make lint     ruff (lint and format check) and the import contracts between web, services and eventops
#   make fmt      format the code and apply ruff's safe fixes
#   make bench    run the benchmarks: one JSON object per line {"bench": ..., "value": ..., "unit": ...}
#   make migrate  upgrade every database to the newest schema
#   make backup   dump every database and the PDF store into var/backups/<time>/ (scripts/backup.py)
#   make restore BACKUP=var/backups/<time>  restore into empty databases and store (FORCE=1: over them)
#   make setup    install system packages, the Python venv, browser libraries, translations
#   make translations  extract messages into the catalog; fill the new ru msgstr by hand
#   make lock     re-resolve pyproject.toml's pins in a fresh venv and rewrite constraints.txt
#   make clean    remove var/ (databases, PDFs, local secrets) and .venv

SHELL := /bin/bash
PYTHON := .venv/bin/python
PYTEST_ARGS ?=
# pytest-xdist processes for `make test`. More than the two cores CI has pays: much of a test is waiting
# (PostgreSQL commits, live servers, the worker process, Chromium). Each worker has its own PostgreSQL
# database and Redis database; --dist loadgroup keeps the browser tests together on one worker.
PYTEST_WORKERS ?= 4
# This checkout's own code first, also when its .venv's editable install points at another checkout
# (git worktrees sharing one venv): lint-imports and the tests must look at the code they are run in.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: help setup run run-prod test lint fmt bench migrate backup restore translations lock clean

help:
	@sed -n '3,18s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

setup:
	@bash scripts/setup.sh

run: setup
	$(if $(VENUE),EVENTOPS_VENUE=1 )$(PYTHON) scripts/run_local.py

run-prod: setup
	$(PYTHON) scripts/run_prod.py

# Lint and tests both run (a lint slip should not hide a failing test); either failing fails the target.
test: setup
	@lint=0; tests=0; \
	$(MAKE) --no-print-directory -o setup lint || lint=$$?; \
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS) || tests=$$?; \
	if ((lint)); then echo "test: lint failed (see above; make fmt fixes formatting)" >&2; fi; \
	if ((tests)); then exit $$tests; fi; \
	exit $$lint

# All three checks run and each one's findings are shown, even when an earlier one fails.
lint: setup
	@status=0; \
	echo "lint: ruff check"; .venv/bin/ruff check . || status=1; \
	echo "lint: ruff format --check"; .venv/bin/ruff format --check . || status=1; \
	echo "lint: import contracts"; .venv/bin/lint-imports || status=1; \
	exit $$status

# Fixes first (import order, pyupgrade), then the formatter, which has the last word on layout.
fmt: setup
	.venv/bin/ruff check --fix --exit-zero .
	.venv/bin/ruff format .

bench: setup
	@$(PYTHON) -m bench

migrate: setup
	$(PYTHON) -m eventops.cli migrate

backup: setup
	$(PYTHON) scripts/backup.py backup

restore: setup
	@test -n "$(BACKUP)" || { echo "restore: say which backup, e.g. make restore BACKUP=var/backups/20261009T180000Z" >&2; exit 2; }
	$(PYTHON) scripts/backup.py restore "$(BACKUP)" $(if $(FORCE),--force)

# Sorted, without locations or dates, so that two changes adding messages rarely touch the same lines.
translations: setup
	.venv/bin/pybabel -q extract --no-wrap -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output \
	    --project EventOps -o eventops/translations/messages.pot eventops services web
	.venv/bin/pybabel -q update --no-wrap -i eventops/translations/messages.pot -d eventops/translations \
	    --no-fuzzy-matching --ignore-obsolete
	sed -i '/^"POT-Creation-Date: /d' eventops/translations/messages.pot eventops/translations/*/LC_MESSAGES/messages.po
	.venv/bin/pybabel -q compile -d eventops/translations -f
	@grep -c '^msgstr ""$$' eventops/translations/ru/LC_MESSAGES/messages.po | \
	    xargs -I{} echo "translations: {} Russian msgstr still empty (the header counts as one)"

lock:
	@set -euo pipefail; \
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	echo "lock: resolving pyproject.toml in a fresh venv"; \
	python3 -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'; \
	{ head -n 1 constraints.txt; "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" constraints.txt; \
	echo "lock: constraints.txt rewritten ($$(($$(wc -l < constraints.txt) - 1)) packages)"

clean:
	rm -rf var .venv
