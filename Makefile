# Local development stack: `make up`, `make status`, `make down`.
# State (env file, logs, pids, data) lives in .stack/; see scripts/stack.py.

PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# `down`/`status` use only the standard library: they work even from a broken venv.
STACK_PY := $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,$(PYTHON))
STACK := $(STACK_PY) scripts/stack.py

.PHONY: venv up down status env test

venv: $(STAMP)

# Reinstall only when the dependency pins change; the stamp records the last install.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[stack,dev]'
	@touch $@

up: venv
	@$(VENV)/bin/python scripts/stack.py up

down:
	@$(STACK) down

status:
	@$(STACK) status

# Prints secrets: meant for `eval "$$(make -s env)"`, not for logs.
env:
	@$(STACK) env

# The suite reads .stack/env (tests/conftest.py), so it runs against a stack that is up.
test: up
	$(VENV)/bin/pytest $(PYTEST_ARGS)
