# mlstack: `make plan` and `make test` are the quick start; both set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
TOOLS_VENV ?= .venv-tools
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS_VENV)/.installed

.PHONY: install tools plan config-docs test lint format bench-plan bench-serve workflows snapshots check scan clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[infra,serving,onnx,dev]'
	touch $@

# checkov pins its own dependency set, so it lives in a venv of its own.
$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	touch $@

install: $(STAMP)

tools: $(TOOLS_STAMP)

## plan: print the offline plan of every stack (no cloud credentials needed)
plan: $(STAMP)
	$(BIN)/mlstack plan --all

## config-docs: regenerate the README's config reference and stacks/stack-config.schema.json
config-docs: $(STAMP)
	$(BIN)/python -m infra.config.reference

## test: lint and run the whole test suite
test: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/ruff check .
	PATH="$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH" $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench-plan: time `mlstack plan --all` against a process that only imports the Pulumi SDK
bench-plan: $(STAMP)
	$(BIN)/python -m benchmarks.plan.run

## check: run the policy pack over every stack's offline plan
check: $(STAMP)
	$(BIN)/mlstack check --all

## scan: checkov, offline, over every stack (Terraform JSON, Kubernetes manifests, Dockerfile)
scan: $(STAMP) $(TOOLS_STAMP)
	PATH="$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH" $(BIN)/mlstack scan --all

## workflows: validate and audit the GitHub workflows (offline)
workflows: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline .github/workflows

## snapshots: regenerate the golden files after an intended change (review the diff)
snapshots: $(STAMP)
	MLSTACK_UPDATE_SNAPSHOTS=1 $(BIN)/pytest tests/infra/components/test_delivery_snapshots.py

## bench-serve: the serving image against Flask + gunicorn, one worker each (installs wrk if missing)
bench-serve: $(STAMP)
	$(BIN)/python -m benchmarks.serve.run

clean:
	rm -rf $(VENV) $(TOOLS_VENV) .pytest_cache .ruff_cache
