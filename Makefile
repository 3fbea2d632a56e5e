# Two commands set up everything: `make run` (the two-party sandbox) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install browser run test coverage lint typecheck unit integration bench bench-smoke clean translations

# Front-end packages come from npm at build time (frontend/package-lock.json pins them) and are served from here.
VENDOR := src/accord/web/static/vendor
# Written after the last file is copied, so an interrupted copy is done again.
WEB_VENDOR := $(VENDOR)/.installed-stamp
# The browser tests drive Debian's Chromium; browsers are never downloaded by a test tool.
CHROMIUM := /usr/bin/chromium

# followthemoney needs PyICU, which pip builds from source against Debian's ICU with a C++ compiler.
ICU_BUILD := /usr/include/unicode/uchar.h

$(ICU_BUILD):
	apt-get install -y --no-install-recommends libicu-dev pkg-config g++ || \
	  (apt-get update && apt-get install -y --no-install-recommends libicu-dev pkg-config g++)

$(STAMP): pyproject.toml $(ICU_BUILD)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# htmx; Leaflet (its stylesheet finds its marker images in images/ beside it); topojson-client, which decodes
# world-atlas's country outlines for the incident map (no tile server: the network is closed).
$(WEB_VENDOR): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/leaflet
	cp frontend/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp -R frontend/node_modules/leaflet/dist/leaflet.js frontend/node_modules/leaflet/dist/leaflet.css \
	  frontend/node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp frontend/node_modules/topojson-client/dist/topojson-client.min.js $(VENDOR)/
	cp frontend/node_modules/world-atlas/countries-50m.json $(VENDOR)/
	cp frontend/node_modules/cytoscape/dist/cytoscape.min.js frontend/node_modules/cytoscape-svg/cytoscape-svg.js $(VENDOR)/
	touch $@

$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || \
	  (apt-get update && apt-get install -y --no-install-recommends chromium)

# The message catalogues (French, Hindi) are compiled at build time; the .po files are the source.
LOCALE_DIR := src/accord/locale
CATALOGUES := $(wildcard $(LOCALE_DIR)/*/LC_MESSAGES/accord.po)
COMPILED := $(CATALOGUES:.po=.mo)

$(LOCALE_DIR)/%/LC_MESSAGES/accord.mo: $(LOCALE_DIR)/%/LC_MESSAGES/accord.po $(STAMP)
	$(BIN)/pybabel -q compile --domain accord --locale $* --input-file $< --output-file $@

# Noto Sans and Noto Sans Devanagari: the PDF report and the pages in Hindi render Devanagari with them.
NOTO := /usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf

$(NOTO):
	apt-get install -y --no-install-recommends fonts-noto-core || \
	  (apt-get update && apt-get install -y --no-install-recommends fonts-noto-core)

# The project's own modules are installed editable, so nothing compiled them: every node, command and test process
# would compile them again (about half a second each) where the environment asks Python not to write bytecode.
install: $(STAMP) $(WEB_VENDOR) $(COMPILED) $(NOTO)
	$(BIN)/python -m compileall -q -j 0 src/accord

# After strings change: extract them from the code, templates and data (babel.cfg), merge them into each catalogue
# and say what each catalogue still lacks (the completeness test fails until nothing is lacking).
translations: $(STAMP)
	$(BIN)/pybabel -q extract --mapping-file babel.cfg --keywords N_ --add-comments TRANSLATORS: \
	  --project Accord --msgid-bugs-address "" --sort-by-file --width 120 --output-file $(LOCALE_DIR)/accord.pot src/accord
	$(BIN)/pybabel -q update --domain accord --input-file $(LOCALE_DIR)/accord.pot --output-dir $(LOCALE_DIR) \
	  --no-fuzzy-matching --ignore-obsolete --width 120
	$(BIN)/python tools/catalogue_status.py $(LOCALE_DIR)

browser: $(CHROMIUM)

# The sandbox's ports: `make run IN_PORT=8411 CA_PORT=8412 MAIL_PORT=8413` (MAIL_PORT: its mail catcher's).
IN_PORT ?= 8401
CA_PORT ?= 8402
MAIL_PORT ?= 8425

run: install
	$(BIN)/accord up --india-port $(IN_PORT) --canada-port $(CA_PORT) --mail-port $(MAIL_PORT)

# Style, then the architecture: the import contracts of pyproject.toml and the package graph (no cycles).
lint: install
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/import_graph.py

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

# The checks first, side by side (each output kept whole), then the suite on two workers (four were slower: 12:05
# against 11:41 on a fresh clone). A worker takes a module's tests on one storage backend together (tests/conftest.py
# makes the groups), so a module-scoped node pair is set up once; `spread` modules go out a test at a time. The
# longest go out first, in the order tests/conftest.py sorts them. The slowest are listed last.
test: install $(WEB_VENDOR) $(CHROMIUM)
	$(MAKE) --no-print-directory -j 3 --output-sync=target lint typecheck bench-smoke
	$(BIN)/pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=15

# The same suite measured for coverage (node processes included); slower, so not part of `make test`.
coverage: install $(WEB_VENDOR) $(CHROMIUM)
	$(BIN)/pytest -n 2 --dist loadgroup --no-loadscope-reorder --cov --cov-report=; status=$$?; \
	  echo "coverage of src/accord (statements and branches): $$($(BIN)/coverage report --format=total)%"; \
	  exit $$status

bench: install
	$(BIN)/python bench/exchange.py

# Every benchmark at its smallest sizes, two at a time: each must run every step and end with its one JSON line,
# without an error (the figures are not checked).
bench-smoke: install
	$(BIN)/python tools/bench_smoke.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* frontend/node_modules $(VENDOR)
