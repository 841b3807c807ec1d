# Every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: install test lint types pytest docs demo bench conformance clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff format --check trio_venues tests examples benchmarks
	$(BIN)/ruff check trio_venues tests examples benchmarks
	$(BIN)/flake8 trio_venues examples

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint types pytest docs

$(VENV)/.installed-docs: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,docs]'
	touch $@

# The documentation site (MkDocs + mkdocstrings), built strictly: a broken
# reference or a missing page fails the build. Output: build/site/.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

demo: $(STAMP)
	$(BIN)/python -m trio_venues demo

$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.bench_path
	$(BIN)/python -m benchmarks.bench_unified
	$(BIN)/python -m benchmarks.bench_collect
	$(BIN)/python -m benchmarks.bench_gapless

conformance: $(STAMP)
	bash conformance/run.sh

clean:
	rm -rf $(VENV) build *.egg-info conformance/reports
