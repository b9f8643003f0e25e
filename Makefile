# EventOps developer commands (Debian 12; scripts/setup.sh installs what is missing).
#
#   make run      start the whole system with demo data on http://127.0.0.1:8000 (Ctrl-C stops it)
#   make test     run every test; narrow it with PYTEST_ARGS, e.g. make test PYTEST_ARGS="-x -k regions"
#   make bench    run the benchmarks: one JSON object per line {"bench": ..., "value": ..., "unit": ...}
#   make migrate  upgrade every database to the newest schema
#   make setup    install system packages, the Python venv, browser libraries, translations
#   make translations  extract messages into the catalog; fill the new ru msgstr by hand
#   make lock     re-resolve pyproject.toml's pins in a fresh venv and rewrite constraints.txt
#   make clean    remove var/ (databases, PDFs, local secrets) and .venv

SHELL := /bin/bash
PYTHON := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: help setup run test bench migrate translations lock clean

help:
	@sed -n '3,10s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

setup:
	@bash scripts/setup.sh

run: setup
	$(PYTHON) scripts/run_local.py

test: setup
	$(PYTHON) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PYTHON) -m bench

migrate: setup
	$(PYTHON) -m eventops.cli migrate

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
