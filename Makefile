# identity — `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the package with its dev tools

init: $(STAMP) ## Migrate the database and create keys if none (safe to repeat)
	$(VENV)/bin/identity init

run: init ## Serve on 127.0.0.1:8000 with identity serve (SQLite, in-process cache)
	$(VENV)/bin/identity serve

browser-deps: ## Install Debian's chromium for the browser test (needs root; .ci/run calls it)
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# The deployment test (tests/deploy: compose.yaml with its own PostgreSQL and Redis) runs in the
# SQLite pass only, when a Docker daemon answers (.ci/run starts one).
test: $(STAMP) ## Run the suite on SQLite, then on PostgreSQL + Redis (browser test skips without chromium)
	$(PY) -m pytest
	IDENTITY_TEST_BACKEND=postgres $(PY) -m pytest

test-sqlite: $(STAMP) ## Run the suite on SQLite only
	$(PY) -m pytest

LINT_PATHS := identity tests bench wsgi.py

lint: $(STAMP) ## ruff (check + format), mypy, import-linter contracts (see pyproject.toml), hadolint
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint Dockerfile

constraints: $(STAMP) ## Re-pin the image's dependencies (constraints.txt) to the newest that pyproject.toml allows
	CUSTOM_COMPILE_COMMAND="make constraints" $(VENV)/bin/pip-compile --quiet --upgrade --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file constraints.txt pyproject.toml

docs: $(STAMP) ## Build docs/ into site/ (mkdocs-material, strict)
	$(PY) -m pip install -q -e '.[docs]'
	$(VENV)/bin/mkdocs build --strict

bench: $(STAMP) ## Benchmarks beside node-oidc-provider 9 (prints a table); installs wrk if missing; needs node + npm
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make bench needs Node.js >= 20 and npm (the peer, node-oidc-provider 9, runs in the same run): apt-get install nodejs npm" >&2; exit 1; }
	$(PY) bench/run.py

load: $(STAMP) ## 60 s of mixed traffic on loopback (PostgreSQL + Redis when up); installs wrk if missing
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(PY) bench/load.py

fuzz: $(STAMP) ## Longer schemathesis + hostile-input (Hypothesis) runs (FUZZ_EXAMPLES=200)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(PY) -m pytest tests/fuzz tests/hostile -q

.PHONY: help install init run browser-deps test test-sqlite lint constraints docs bench load fuzz
