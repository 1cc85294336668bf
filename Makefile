# Local development stack: `make up`, `make status`, `make down`.
# State (env file, logs, pids, data) lives in .stack/; see scripts/stack.py.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed
# `down`/`status` use only the standard library: they work even from a broken venv.
STACK_PY := $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,$(PYTHON))
STACK := $(STACK_PY) scripts/stack.py

.PHONY: venv up down status env test lint demo bench faults

venv: $(STAMP) $(VENV)/bin/promtool

# Reinstall only when the dependency pins change; the stamp records the last install.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[stack,dev]'
	@touch $@

# promtool checks the alert rules and dashboard queries in the suite (deployments/observability).
$(VENV)/bin/promtool: | $(STAMP)
	@scripts/tools/install-promtool $(VENV)/bin

up: venv
	@$(VENV)/bin/python scripts/stack.py up
	@. ./.stack/env && $(VENV)/bin/seed_data migrate >/dev/null
	@. ./.stack/env && SEEDBANK_REPO=$(CURDIR) $(VENV)/bin/prefect --no-prompt deploy \
		--name seed/tenant --name verify/tenant --name expurge/ttl --name dr_drill/weekly \
		> .stack/logs/deploy.log 2>&1 || { echo "prefect deploy failed: see .stack/logs/deploy.log"; exit 1; }
	@echo "deployments applied (prefect.yaml); demo database migrated"

down:
	@$(STACK) down

status:
	@$(STACK) status

# Prints secrets: meant for `eval "$$(make -s env)"`, not for logs.
env:
	@$(STACK) env

# Static checks: part of `make test`, so CI enforces them.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

# The whole suite against the real services (tests read .stack/env, tests/conftest.py).
test: up lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Seeds tenant acme in env dev on the local stack (database `seedbank`; tests never use it).
# Demo data seeded with a salt the dev Vault lost (exit 7) or by an older dataset format
# (exit 9) is purged and reseeded: that database is the demo's own.
demo: up
	@. ./.stack/env && $(VENV)/bin/seed_data salt init --tenant=acme --env=dev
	@. ./.stack/env && log=$$(mktemp) && \
	{ { $(VENV)/bin/seed_data --tenant=acme --env=dev; echo $$? > "$$log.code"; } 2>&1 | tee "$$log"; \
		code=$$(cat "$$log.code"); \
		if [ $$code -eq 9 ] && grep -q "written by dataset format" "$$log"; then \
			why="the demo data was written by another dataset format"; \
		elif [ $$code -eq 7 ]; then why="the dev Vault lost the salt the demo data was seeded with"; \
		else why=""; fi; \
		rm -f "$$log" "$$log.code"; \
		if [ -n "$$why" ]; then \
			echo "demo: $$why: purging and reseeding"; \
			$(VENV)/bin/seed_data purge --tenant=acme --env=dev && \
			$(VENV)/bin/seed_data --tenant=acme --env=dev; \
		else exit $$code; fi; }

# Dry-run conformance report of every dev profile into reports/ (FR-005, SC-003): what CI
# runs on every PR. Each run rolls back; the exit code is non-zero when any gate fails.
.PHONY: conformance
conformance: up
	@mkdir -p reports
	@. ./.stack/env && for profile in profiles/dev/*.yaml; do \
		tenant=$$(basename $$profile .yaml); \
		$(VENV)/bin/seed_data salt init --tenant=$$tenant --env=dev >/dev/null && \
		$(VENV)/bin/seed_data --tenant=$$tenant --env=dev --dry-run \
			--report=reports/conformance-dev-$$tenant.json \
			>/dev/null 2>reports/conformance-dev-$$tenant.log \
			|| { code=$$?; tail -n 2 reports/conformance-dev-$$tenant.log; exit $$code; }; \
		echo "conformance dev/$$tenant: passed (reports/conformance-dev-$$tenant.md)"; \
	done

# Side-by-side benchmark (docs/performance.md): seedbank end to end (seed flow, the bench's
# own Celery workers) beside PostgreSQL's binary-COPY ceiling and a naive factory-boy + ORM
# peer, each in a scratch database, plus the lifecycle, DR drills, 1-worker runs, a
# 1-loader ceiling and machine calibrations; the ceiling and both seeds run twice (means
# judged; --repeat 1 for once). ~12 min on 2 cores (session 7). A benchmark, never part of `make test`;
# quieter figures when no test suite runs. BENCH_ARGS="--scale 0.1" for a quick look.
bench: up
	@. ./.stack/env && $(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# Fault campaign (issue 16; docs/operations.md): its own PostgreSQL, Redis and Celery worker
# (SIGKILLed and restarted), proxies it cuts in front of the stack's Vault, S3 and Prefect;
# every fault followed by a re-run and the data check. Table + reports/faults/last.json.
# Never part of `make test`. FAULTS_ARGS="--quick" for the reduced set.
faults: up
	@. ./.stack/env && PYTHONPATH=$(CURDIR) $(VENV)/bin/python -m faults.run $(FAULTS_ARGS)
