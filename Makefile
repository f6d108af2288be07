# Two commands set everything up on a fresh machine with Python 3.11+ and make:
#   make demo   builds the committed demo data on the embedded DuckDB and prints a summary
#   make test   runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench manifest clean ui

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/waymark demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/build_benchmark.py --customers 100000

clean:
	rm -rf .waymark dbt_project/target dbt_project/logs

# The dbt manifest the Dagster code location loads (`dagster dev` re-parses by itself).
manifest: $(STAMP)
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .

# The Dagster UI and daemon on http://127.0.0.1:3000 (WAYMARK_UI_PORT) over the warehouse and
# landing folder in WAYMARK_HOME (default .waymark, demo data copied in on first start).
# Ctrl-C or SIGTERM stops every process it started.
ui: $(STAMP) manifest
	$(BIN)/python -m orchestration.ui
