# Two commands do everything: `make run` (set up and serve) and `make test` (set up and test).
# PostGIS: DATABASE_URL when set; otherwise a private cluster in .pg/ (scripts/postgis.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Without DATABASE_URL, the settings point at the private cluster (its port is in .pg/port).
ifeq ($(strip $(DATABASE_URL)),)
  PRIVATE_CLUSTER := 1
endif

# Départements the test database holds: Alpes-Maritimes (the fixture), Bouches-du-Rhône
# (Marseille), Aveyron (a 2025 merger), Cantal (2025 restorations), Loire (Saint-Étienne),
# Rhône (Lyon), Paris and its neighbours.
TEST_DEPARTEMENTS ?= 06,12,13,15,42,69,75,92,93,94
export TEST_DEPARTEMENTS

.PHONY: help install db geodata run stop test lint typecheck pytest bench clean-cache assets \
        browser gdal jstest

help:
	@echo "make run    installe, démarre PostGIS, charge les communes et sert l'application (PORT=$(PORT))"
	@echo "make test   même installation sur une base de test, puis ruff, mypy et pytest"
	@echo "make stop   arrête le cluster PostgreSQL privé"
	@echo "make bench  lance les mesures de performance (benchmarks/)"

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/pip || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

db: install
ifdef PRIVATE_CLUSTER
	scripts/postgis.sh start
endif
	$(BIN)/cpts db upgrade

geodata: db
	$(BIN)/cpts geodata load --all

# The map's front-end assets: Leaflet and its plugins from the npm registry at the versions
# folium pins (checked against package-lock.json), and Swagger UI and ReDoc for /docs and
# /redoc, copied into app/web/vendor/ (git-ignored).
ASSETS_STAMP := app/web/vendor/.installed
$(ASSETS_STAMP): package.json package-lock.json app/services/map_assets.py app/services/docs_assets.py $(BIN)/.installed
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python -m app.services.map_assets install
	$(BIN)/python -m app.services.docs_assets install
	@touch $@

# The page's ES modules bundled in one file (app/services/app_bundle.py), rebuilt when a module
# changes; the page falls back to the modules themselves while the bundle is older than one.
BUNDLE := app/web/build/app.js
$(BUNDLE): $(ASSETS_STAMP) app/services/app_bundle.py $(wildcard app/web/js/*.js)
	$(BIN)/python -m app.services.app_bundle build

assets: $(ASSETS_STAMP) $(BUNDLE)

# Debian's Chromium for the browser tests (tests/browser/), installed with apt when missing.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; \
	fi

# Debian's GDAL command-line tools (ogrinfo, ogr2ogr): the OGC API client of the tests
# (tests/test_ogc_gdal.py, the OAPIF driver QGIS uses) and the GeoPackage checks, installed with
# apt when missing.
gdal:
	@if [ ! -x /usr/bin/ogr2ogr ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq gdal-bin; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq gdal-bin; fi; \
	fi

# The pure client logic of the map (undo/redo store, French formatting, sorting, colours).
jstest:
	node --test app/web/js/tests/

run: geodata assets
	$(BIN)/cpts serve --port $(PORT)

stop:
	scripts/postgis.sh stop

lint: install
	$(BIN)/ruff check app geodata tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install assets browser gdal
ifdef PRIVATE_CLUSTER
	scripts/postgis.sh start
endif
	$(BIN)/pytest

# pytest exits with 5 when no test ran: make treats it as the failure it is.
test: lint typecheck jstest pytest

bench: geodata assets browser gdal
	$(BIN)/python -m benchmarks

clean-cache:
	rm -rf .cache
