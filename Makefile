# The verbs people look for. `make demo` and `make test` install whatever is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lawgrid-installed
PYTEST_ARGS ?=

.PHONY: demo test test-fast system venv bench bench-peers lint clean

demo: system venv
	$(BIN)/lawgrid demo

test: system venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests that need no database and no server (seconds): parsers, rules, maths, the layout.
test-fast: venv
	$(BIN)/python -m pytest -m fast $(PYTEST_ARGS)

bench: system venv
	$(BIN)/lawgrid bench seed --targets 1000000

# The peers the benchmarks compare with: Node's socket.io for `bench push` (needs node and npm)
# and the tipg tile server for `bench map`, each with its own dependencies, apart from ours.
bench-peers:
	npm ci --prefix lawgrid/bench/node --no-audit --no-fund
	@test -x .venv-peers/bin/python || $(PYTHON) -m venv .venv-peers
	.venv-peers/bin/python -m pip install -q --disable-pip-version-check tipg==1.6.1 uvicorn==0.55.0

# Fails on any finding: ruff's rules, ruff's format, mypy (strict on geo/ and services/), and the
# layering contracts of pyproject.toml (import-linter).
lint: venv
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

system:
	@bash scripts/install-system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test,dev]'
	@touch $(STAMP)

clean:
	-$(BIN)/lawgrid db stop
	rm -rf $(VENV) test-artifacts
