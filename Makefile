# mlstack: `make plan` and `make test` are the quick start; both set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
TOOLS_VENV ?= .venv-tools
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS_VENV)/.installed
# The policy pack's venv holds policy_pack/requirements.txt alone, as the Pulumi CLI builds it;
# its stamp is that file's sha256, which tests/policy_pack/test_pack_venv.py checks too.
PACK_VENV ?= .venv-policy-pack
PACK_STAMP := $(PACK_VENV)/.requirements-sha256
# The workflows run Python 3.11 on Linux; the locks hold hashes of every file of each pin.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --universal --quiet --no-header

.PHONY: venv-check install tools plan pipelines config-docs test lint format bench-plan bench-serve bench-abuse bench-explain workflows snapshots docs lock check scan clean

# The Python range of pyproject.toml's requires-python, checked before anything installs.
PYTHON_CHECK := import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v < (3, 14) else 1)

# A .venv left by a failed install or made by another Python is removed when make starts,
# so the install below rebuilds it instead of reusing it.
ifneq ($(wildcard $(VENV)),)
ifneq ($(shell $(BIN)/python -c '$(PYTHON_CHECK)' 2>/dev/null && echo ok),ok)
$(info $(VENV) is unusable or of an unsupported Python: rebuilding it)
$(shell rm -rf $(VENV))
endif
endif

# Before installing: an unsupported $(PYTHON) stops with the fix.
venv-check:
	@if [ ! -e $(STAMP) ] && ! $(PYTHON) -c '$(PYTHON_CHECK)' 2>/dev/null; then \
		echo "mlstack needs Python 3.10 to 3.13 (pyproject.toml); $(PYTHON) is" \
		"$$($(PYTHON) -V 2>&1 || echo missing). Run e.g.: make PYTHON=python3.12 plan" >&2; exit 2; fi

$(STAMP): pyproject.toml | venv-check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools warns about every editable install of a flat layout; the layout is deliberate.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[infra,tooling,serving,onnx,dev]'
	touch $@

# checkov pins its own dependency set, so it lives in a venv of its own.
$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	touch $@

install: $(STAMP)

tools: $(TOOLS_STAMP)

$(PACK_STAMP): policy_pack/requirements.txt
	$(PYTHON) -m venv --clear $(PACK_VENV)
	$(PACK_VENV)/bin/python -m pip install --quiet -r policy_pack/requirements.txt
	sha256sum policy_pack/requirements.txt | cut -d' ' -f1 | tr -d '\n' > $@

## plan: print the offline plan of every stack (no cloud credentials needed)
plan: $(STAMP)
	$(BIN)/mlstack plan --all

## pipelines: regenerate the SageMaker Pipeline definitions in stacks/pipelines/ (offline)
pipelines: $(STAMP)
	$(BIN)/python -m mlstack.pipelines

## config-docs: regenerate the README's config reference and stacks/stack-config.schema.json
config-docs: $(STAMP)
	$(BIN)/python -m infra.config.reference

## test: lint and run the whole test suite
test: $(STAMP) $(TOOLS_STAMP) $(PACK_STAMP)
	$(BIN)/ruff check .
	PATH="$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH" $(BIN)/pytest -n 2

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

## lock: the hash-locked requirements the workflows install (pulumi up; the smoke test)
lock: $(STAMP)
	$(BIN)/uv pip compile infra/requirements.txt $(LOCK_FLAGS) -o infra/requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra infra --extra tooling $(LOCK_FLAGS) -o mlstack/requirements.lock

## docs: regenerate the generated parts of the docs (policy rule table)
docs: $(STAMP)
	$(BIN)/python -c "from pathlib import Path; from mlstack.catalogue import write_rule_table; write_rule_table(Path('docs/policy.md'))"

## snapshots: regenerate the golden files after an intended change (review the diff)
snapshots: $(STAMP)
	MLSTACK_UPDATE_SNAPSHOTS=1 $(BIN)/pytest -q -m golden

## bench-serve: the serving image against Flask + gunicorn, MLServer, LitServe and KServe, one
## worker each (installs wrk if missing, and the peers into .venv/peers/ on first use; ~15 min)
bench-serve: $(STAMP)
	$(BIN)/python -m benchmarks.serve.run

## bench-abuse: hostile clients against one worker, with the memory of its process tree (~1 min)
bench-abuse: $(STAMP)
	$(BIN)/python -m benchmarks.serve.abuse

## bench-explain: ?explain=true beside plain predictions, cost per row (one worker, ~1 min)
bench-explain: $(STAMP)
	$(BIN)/python -m benchmarks.serve.explain

clean:
	rm -rf $(VENV) $(TOOLS_VENV) $(PACK_VENV) .pytest_cache .ruff_cache

# Data of `mlstack diff` (see scripts/*.py docstrings). The git dirs are bare snapshots of
# hashicorp/terraform-provider-aws, pulumi/pulumi-kubernetes, pulumi/pulumi-aws-native and
# aws/karpenter-provider-aws.
.PHONY: replacement-rules prices
## replacement-rules: TF_AWS_GIT=... K8S_GIT=... AWS_NATIVE_GIT=... make replacement-rules
replacement-rules: $(STAMP)
	$(BIN)/python scripts/derive_replacement_rules.py $(TF_AWS_GIT) --kubernetes-git-dir $(K8S_GIT) --aws-native-git-dir $(AWS_NATIVE_GIT) $(if $(VERSION_NOTE),--version-note "$(VERSION_NOTE)")
## prices: KARPENTER_GIT=... make prices (OFFER_FILES="a.json b.json" adds AWS price-list files)
prices: $(STAMP)
	$(BIN)/python scripts/update_prices.py $(if $(KARPENTER_GIT),--karpenter-git-dir $(KARPENTER_GIT)) $(foreach f,$(OFFER_FILES),--offer-file $(f))
