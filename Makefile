# The few verbs a user needs. Everything runs from the project's own pinned tools:
# Python packages in .venv, the CDK CLI and Node 22 from node_modules (see package.json).
STAGE ?= dev
STACK ?=
PYTHON ?= python3

VENV := .venv
VPY := $(VENV)/bin/python
# node_modules/.bin first: its `node` (22) runs both the CDK CLI and jsii under the Python app.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
CDK := $(CURDIR)/node_modules/.bin/cdk
CDK_FLAGS := -c stage=$(STAGE)
# Extra CLI flags, e.g. in CI: CDK_DEPLOY_FLAGS="--require-approval never", CDK_DESTROY_FLAGS=--force
CDK_DEPLOY_FLAGS ?=
CDK_DESTROY_FLAGS ?=

.DEFAULT_GOAL := help
.PHONY: help install install-dev synth test lint rehearse preflight deploy smoke credentials diff destroy clean

help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  Variables: STAGE=dev|prod (default dev), STACK=<stack id> for preflight/deploy/smoke/diff/destroy,"
	@echo "             T=<test path> (test),"
	@echo "             FIX=1 (preflight creates missing service-linked roles), SKIP_PREFLIGHT=1 (deploy)"

$(VENV)/.installed: requirements.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing what synth needs into $(VENV) (aws-cdk-lib, cdk-nag, boto3, ...; first time ~1 min)"
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@echo "Installing the test tools into $(VENV) (pytest, moto, cfn-lint, Pillow, ...)"
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "Installing the pinned CDK CLI and Node 22 into node_modules (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## Create .venv and install the pinned CDK CLI

install-dev: install $(VENV)/.installed-dev ## ... plus the test tools

synth: install ## Synthesize every blueprint for STAGE into cdk.out/ (no AWS account needed)
	$(CDK) synth --quiet $(CDK_FLAGS)
	@echo "Synthesized $$(ls cdk.out/*.template.json | wc -l) stacks for stage $(STAGE) into cdk.out/"

test: install-dev lint ## Run the whole test suite (ruff, synth per stage, cdk-nag, cfn-lint, deploy rules, snapshots, handlers); T=<path> runs one file or folder
	$(VPY) -m pytest $(if $(T),$(T),-n auto --maxprocesses 4)

lint: install-dev ## ruff: lint and format check of every Python file (`ruff format .` fixes the format)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

rehearse: install-dev ## Deploy the dev stacks with the real CDK CLI against a local moto endpoint
	$(VPY) -m pytest -m rehearsal tests/rehearsal

preflight: install ## Check your account for what STACK needs (read-only; FIX=1 creates missing service-linked roles)
	@test -n "$(STACK)" || (echo "usage: make preflight STACK=<stack id> [STAGE=dev|prod] [FIX=1]"; exit 2)
	$(CDK) synth $(STACK) $(CDK_FLAGS) --quiet --no-notices
	$(VPY) -m deployment.preflight $(STACK) --assembly cdk.out $(if $(FIX),--fix)

deploy: install ## Preflight, then deploy STACK with your AWS credentials (SKIP_PREFLIGHT=1 skips the checks)
	@test -n "$(STACK)" || (echo "usage: make deploy STACK=<stack id> [STAGE=dev|prod]"; exit 2)
	$(if $(SKIP_PREFLIGHT),@echo "preflight skipped (SKIP_PREFLIGHT=1)",@$(MAKE) --no-print-directory preflight STACK=$(STACK) STAGE=$(STAGE))
	$(CDK) deploy $(STACK) $(CDK_FLAGS) $(CDK_DEPLOY_FLAGS)

credentials: install
	@$(CDK) synth $(STACK) $(CDK_FLAGS) --quiet --no-notices > /dev/null
	@$(VPY) -m deployment.preflight $(STACK) --assembly cdk.out --credentials-only

smoke: install ## Prove a deployed STACK works: exercise its main path with your credentials
	@test -n "$(STACK)" || (echo "usage: make smoke STACK=<stack id> [STAGE=dev|prod]"; exit 2)
	$(CDK) synth $(STACK) $(CDK_FLAGS) --quiet --no-notices
	$(VPY) -m deployment.smoke $(STACK) --assembly cdk.out

diff: install ## Show what deploying STACK would change
	@test -n "$(STACK)" || (echo "usage: make diff STACK=<stack id> [STAGE=dev|prod]"; exit 2)
	@$(MAKE) --no-print-directory credentials STACK=$(STACK) STAGE=$(STAGE)
	$(CDK) diff $(STACK) $(CDK_FLAGS)

destroy: install ## Delete STACK (prod data stores are retained by design; an EKS stack's Kubernetes-made load balancers go first)
	@test -n "$(STACK)" || (echo "usage: make destroy STACK=<stack id> [STAGE=dev|prod]"; exit 2)
	@$(MAKE) --no-print-directory credentials STACK=$(STACK) STAGE=$(STAGE)
	$(VPY) -m deployment.teardown $(STACK) --assembly cdk.out
	$(CDK) destroy $(STACK) $(CDK_FLAGS) $(CDK_DESTROY_FLAGS)

clean: ## Remove cdk.out and caches (keeps .venv and node_modules)
	rm -rf cdk.out .cache .pytest_cache
