# 智慧后勤 — the two commands are `make run` and `make test`; everything else is a helper.
# Every target creates .venv (and installs what it needs) when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP_RUN := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev
MP := miniprogram
SCENARIO ?= baseline
PYTEST_ARGS ?=

export FLASK_APP := wsgi

.PHONY: run test test-py test-mp lint worker bench openapi settings-table migrate-new clean-instance help

help:
	@echo "make run    — install, migrate, seed and serve everything (embedded PostgreSQL + Redis)"
	@echo "make test   — pytest + mini-program jest tests + lint"
	@echo "make bench SCENARIO=baseline — load benchmark, ends with a RESULT line"
	@echo "make worker | make lint | make openapi | make migrate-new MSG='…'"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; v=sys.version_info; sys.exit(0 if (3,11) <= v[:2] <= (3,12) else "Python 3.11 or 3.12 is needed (pgserver ships wheels for those); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP_RUN): requirements.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	@touch $@

$(STAMP_DEV): requirements-dev.txt $(STAMP_RUN)
	$(PIP) install -q -r requirements-dev.txt
	@touch $@

$(MP)/node_modules/.package-lock.json: $(MP)/package-lock.json
	cd $(MP) && npm ci --no-audit --no-fund --loglevel=error

run: $(STAMP_RUN)
	$(PY) -m app.devrun run

worker: $(STAMP_RUN)
	$(PY) -m flask worker

test: test-py test-mp lint

test-py: $(STAMP_DEV)
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit tests run twice, at 00:30 and at 12:00 school time (tests/helpers/clock.js), so a test that
# reads the wall clock fails by day too; the end-to-end tests run once against a live backend.
test-mp: $(MP)/node_modules/.package-lock.json $(STAMP_RUN)
	cd $(MP) && TEST_CLOCK=2026-10-14T00:30:00+08:00 npm run --silent test:unit
	cd $(MP) && TEST_CLOCK=2026-10-14T12:00:00+08:00 npm run --silent test:unit
	cd $(MP) && npm run --silent test:e2e

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP_DEV)
	$(PY) -m bench $(SCENARIO)

openapi: $(STAMP_RUN)
	$(PY) -m flask openapi write --format=json docs/openapi.json

settings-table: $(STAMP_RUN)
	@$(PY) -m flask settings-table --write-readme

migrate-new: $(STAMP_RUN)
	@test -n "$(MSG)" || (echo "usage: make migrate-new MSG='what changed'"; exit 2)
	$(PY) -m flask db migrate -m "$(MSG)"

clean-instance:
	rm -rf instance
