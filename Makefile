# Two commands set up everything: `make run` (the two-party sandbox) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install browser run test lint typecheck unit integration bench clean

# Front-end packages come from npm at build time (frontend/package-lock.json pins them) and are served from here.
WEB_VENDOR := src/accord/web/static/vendor/htmx.min.js
# The browser tests drive Debian's Chromium; browsers are never downloaded by a test tool.
CHROMIUM := /usr/bin/chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(WEB_VENDOR): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(WEB_VENDOR))
	cp frontend/node_modules/htmx.org/dist/htmx.min.js $(WEB_VENDOR)

$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || \
	  (apt-get update && apt-get install -y --no-install-recommends chromium)

install: $(STAMP) $(WEB_VENDOR)

browser: $(CHROMIUM)

run: install
	$(BIN)/accord up

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

# Two workers, one module per worker at a time: the module-scoped node pairs stay shared within a module.
test: lint typecheck $(WEB_VENDOR) $(CHROMIUM)
	$(BIN)/pytest -n 2 --dist loadscope

bench: install
	$(BIN)/python bench/exchange.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules src/accord/web/static/vendor
