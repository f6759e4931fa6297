# Two commands do everything on a fresh machine:  `make demo`  and  `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/dagster_home
export PYTHONPATH := $(CURDIR)

.PHONY: help venv demo test ui generate dbt-parse lint bench clean

help:
	@echo "make demo      generate the sample platform, run every asset, write the PDFs"
	@echo "make test      run the test suite"
	@echo "make ui        Dagster UI on http://127.0.0.1:3000 (workspace.yaml)"
	@echo "make generate  (re)generate the sample landing zone only"
	@echo "make bench     benchmarks at scale (see bench/README.md)"

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

dbt-parse: venv
	@# the dbt manifest is prepared once here, never in Dagster workers (parallel backfills race);
	@# with the warehouse path Dagster uses, so that its runs parse partially (a new profile = full re-parse)
	@if [ -f dbt_project/dbt_project.yml ]; then cd dbt_project && \
	  MARGINFLOW_WAREHOUSE="$$(cd .. && realpath -m "$${MARGINFLOW_WAREHOUSE:-data/warehouse.duckdb}")" \
	  ../$(BIN)/dbt parse --quiet --profiles-dir . ; fi

generate: venv
	$(BIN)/python -m simulator --out $${MARGINFLOW_LANDING:-data/landing}

demo: venv dbt-parse
	$(BIN)/python -m orchestration.demo

test: venv dbt-parse
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

ui: venv dbt-parse
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: venv
	$(BIN)/ruff check .

bench: venv dbt-parse
	$(BIN)/python -m bench --readme README.md

clean:
	rm -rf data dagster_home/storage dagster_home/history dagster_home/schedules dagster_home/logs dbt_project/target
