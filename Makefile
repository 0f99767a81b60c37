# StackCI's entry points. `make demo` and `make test` work on a fresh machine: they
# install what they need (a venv, a Docker engine, Compose v2, offline stand-in images).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
WORKFLOW_FILES := $(wildcard .github/workflows/*.yml examples/workflows/*.yml examples/*/.github/workflows/*.yml tests/e2e/workflows/*.yml)
ACTION_FILES := action.yml $(wildcard actions/*/action.yml)

.PHONY: setup venv machine lint test unit demo bench clean

setup: venv machine

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint requirements-dev.txt --editable '.[dev]'
	touch $@

machine: venv
	PYTHON=$(PY) bash scripts/setup-machine.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy --strict src
	$(BIN)/shellcheck launcher/launch.sh scripts/*.sh .ci/run
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions $(ACTION_FILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOW_FILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(BIN)/zizmor --offline --min-severity medium --config .github/zizmor.yml .github $(ACTION_FILES) $(WORKFLOW_FILES)

# The whole suite: gates, then unit, integration (real engine) and end-to-end (act) tests.
test: setup lint
	bash scripts/run-tests.sh

unit: venv
	$(BIN)/pytest tests/unit

demo: setup
	PYTHON=$(PY) bash scripts/demo.sh

bench: setup
	$(PY) benchmarks/image.py
	$(PY) benchmarks/compose_up_and_wait.py
	$(PY) benchmarks/collect_logs.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache stackci-logs
