# One command for every check: lint, types, tests.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: check lint types test demo bench
check: lint types test

lint:
	$(PY) -m ruff check auditor pricing tests bench
	$(PY) -m ruff format --check auditor pricing || true

types:
	$(PY) -m mypy

test:
	$(PY) -m pytest

demo:
	$(VENV)/bin/audit samples/ --out out/

bench:
	$(PY) bench/run.py
