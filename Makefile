# tokenmarket: `make run` (install + default scenario) and `make test` (install + whole suite).
# Needs Python >= 3.12 (Mesa 3.5); the first python3.13/python3.12/python3 that is >= 3.12 is used.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test bench clean-venv

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.12 not found (tried python3.13, python3.12, python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test,bench]"

run: install
	$(BIN)/tokenmarket run $(ARGS)

test: install-test
	$(BIN)/python -m pytest -q -n auto $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python benchmarks/bench_model.py

clean-venv:
	rm -rf $(VENV)
