# Canon: `make run` (embedded default, demo data) and `make test` (the whole suite).
# pip installs with --no-compile: Python compiles what a process imports on first use, not every module of
# pandas, botocore and the rest up front (that halved `make run`'s install).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests start for real: PostgreSQL, Redis, MariaDB, Chromium.
APT_PACKAGES := postgresql redis-server mariadb-server chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

# Test-only tools whose pins clash with Canon's own, each in its own virtualenv (`make test` makes them,
# `make run` does not): fakesnow, the Snowflake emulator (its own DuckDB and sqlglot), and dbt.
SNOWFLAKE_VENV := .venv-snowflake
DBT_VENV := .venv-dbt

.PHONY: run test install install-test test-envs system-deps screenshots bench bench-mysql bench-s3 clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -r requirements.txt
	touch $@

# The test tools (pytest, Playwright, schemathesis, moto, ...) apart: `make run` does not wait for them.
$(BIN)/.installed-test: requirements-test.txt $(BIN)/.installed
	$(BIN)/pip install --quiet --no-compile -r requirements-test.txt
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test

$(SNOWFLAKE_VENV)/.installed: requirements-snowflake-emulator.txt
	$(PYTHON) -m venv $(SNOWFLAKE_VENV)
	$(SNOWFLAKE_VENV)/bin/pip install --quiet --upgrade pip
	$(SNOWFLAKE_VENV)/bin/pip install --quiet --no-compile -r requirements-snowflake-emulator.txt
	touch $@

$(DBT_VENV)/.installed: requirements-dbt.txt
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install --quiet --upgrade pip
	$(DBT_VENV)/bin/pip install --quiet --no-compile -r requirements-dbt.txt
	touch $@

test-envs: $(SNOWFLAKE_VENV)/.installed $(DBT_VENV)/.installed

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Links in emails (the demo's alerts included) point where `make run` serves, unless CANON_BASE_URL says otherwise.
run: export CANON_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo "Canon is at http://$(HOST):$(PORT)/ (web, Celery worker and beat; Ctrl-C stops all)"
	$(BIN)/python manage.py serve $(HOST):$(PORT)

# The whole suite runs with the catalog on PostgreSQL (production); then everything that reads or
# writes the catalog itself (not the connectors' own tests) runs again on SQLite (the embedded default).
SQLITE_PASS := tests/core tests/sources tests/crawls tests/inventory tests/history tests/lineage tests/alerts tests/metrics tests/search \
    tests/duplicates tests/quality tests/audit tests/usage tests/impact tests/test_api.py
test: system-deps install-test test-envs
	$(BIN)/lint-imports  # the layers (.importlinter; docs/architecture.md)
	$(BIN)/python -m pytest
	CANON_TEST_DB=sqlite $(BIN)/python -m pytest -m "not browser and not postgres_catalog" -q $(SQLITE_PASS)

# Every page at a phone's and a laptop's width, on the demo, as PNG files in screenshots/ (tests/browser/test_every_page.py).
screenshots: system-deps install-test
	CANON_SCREENSHOTS=$(CURDIR)/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/browser/test_every_page.py -k every_page_fits
	@echo "screenshots of every page: $(CURDIR)/screenshots/"

bench: install-test
	$(BIN)/python bench/crawl_postgres.py --tables 10000
	$(BIN)/python bench/drift.py --tables 10000

# The MariaDB warehouse crawl (its own MariaDB and PostgreSQL servers; a few minutes).
bench-mysql: install-test
	$(BIN)/python bench/crawl_mysql.py --tables 10000

# 100,000 objects in moto: loading the bucket alone takes 15-40 minutes on two cores.
bench-s3: install-test
	$(BIN)/python bench/crawl_s3.py --datasets 1000 --objects 100

clean:
	rm -rf $(VENV) $(SNOWFLAKE_VENV) $(DBT_VENV) var screenshots
