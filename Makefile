# The verbs people look for. `make demo` and `make test` install whatever is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lawgrid-installed
PYTEST_ARGS ?=

.PHONY: demo test system venv bench bench-node lint clean

demo: system venv
	$(BIN)/lawgrid demo

test: system venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: system venv
	$(BIN)/lawgrid bench seed --targets 1000000

# Node's socket.io, the peer `lawgrid bench push` compares LawGrid's web tier with (needs node and npm).
bench-node:
	npm ci --prefix lawgrid/bench/node --no-audit --no-fund

# Fails on any finding: ruff's rules, ruff's format, mypy (strict on geo/).
lint: venv
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy

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
