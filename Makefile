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
.PHONY: help install install-dev synth test snapshots lint docs cost sdk graphviz rehearse browser-test chromium preflight deploy smoke credentials diff destroy clean

help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  Variables: STAGE=dev|prod (default dev), STACK=<stack id> for preflight/deploy/smoke/diff/destroy,"
	@echo "             T=<test path> (test), STAGE for cost,"
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

synth: install ## Synthesize every blueprint for STAGE into cdk.out/ and check AWS Control Tower's proactive controls (no AWS account needed)
	$(CDK) synth --quiet $(CDK_FLAGS)
	@echo "Synthesized $$(ls cdk.out/*.template.json | wc -l) stacks for stage $(STAGE) into cdk.out/"
	$(VPY) -m deployment.controls --assembly cdk.out

test: install-dev lint ## Run the whole test suite (ruff, synth per stage, cdk-nag, cfn-lint, deploy rules, snapshots, handlers); T=<path> runs one file or folder
	$(VPY) -m pytest $(if $(T),$(T),-n auto --maxprocesses 4)

snapshots: install-dev ## Accept the templates as they are now as the reviewed snapshots, then review `git diff tests/*/__snapshots__`
	$(VPY) -m pytest -q -k snapshot --snapshot-update tests
	@git status --short -- tests/*/__snapshots__ || true

lint: install-dev ## ruff: lint and format check of every Python file (`ruff format .` fixes the format)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

docs: $(VENV)/.installed-dev ## Regenerate the docs' pictures and cost tables from both stages' synthesized templates
	@command -v dot >/dev/null 2>&1 || $(MAKE) --no-print-directory graphviz
	$(VPY) -m docgen docs

cost: $(VENV)/.installed-dev ## Print each stack's idle cost per month for STAGE (C="<instance>.<setting>=<value> ..." for another profile), from its synthesized template and docgen/prices.toml
	$(VPY) -m docgen cost --stage $(STAGE) $(foreach c,$(C),-c $(c))

sdk: $(VENV)/.installed-dev ## Generate Python clients of the APIs whose OpenAPI documents the Lambda layers ship into clients/ (offline)
	$(VPY) -m deployment.sdk --out clients

# The pictures are rendered by Graphviz's `dot` (the tests need no Graphviz: they compare the DOT
# sources). Installed with apt-get where we can; elsewhere say how.
graphviz:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Graphviz (apt-get install graphviz) to render the docs' pictures"; \
		apt-get install -y -qq graphviz >/dev/null || (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null); \
	else \
		echo "make docs needs Graphviz's dot: apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS)"; \
		exit 2; \
	fi

rehearse: install-dev ## Deploy the dev stacks with the real CDK CLI against a local moto endpoint
	$(VPY) -m pytest -m rehearsal tests/rehearsal

browser-test: install-dev ## Drive the web pages in headless Chromium (the serverless web app's; installs Debian's chromium when missing)
	@command -v chromedriver >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(VPY) -m pytest -m browser tests; status=$$?; \
		if [ $$status -eq 5 ]; then echo "no browser tests in this checkout"; exit 0; fi; exit $$status

# Debian's chromium and its WebDriver, from the distribution (no browser download at run time).
chromium:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Chromium (apt-get install chromium chromium-driver) for make browser-test"; \
		apt-get install -y -qq chromium chromium-driver >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null); \
	else \
		echo "make browser-test needs chromium and chromedriver: apt-get install chromium chromium-driver (Debian/Ubuntu)"; \
		exit 2; \
	fi

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

# >>> library only: an exported starter kit's Makefile ends above (starter_kit/export.py)
.PHONY: export
export: install ## Write one blueprint as a standalone app: BLUEPRINT=<key> DEST=<new or empty dir> [UPSTREAM=<url>]
	@test -n "$(BLUEPRINT)" -a -n "$(DEST)" || (echo "usage: make export BLUEPRINT=<key> DEST=<dir> [UPSTREAM=<url forks pull from, default: git origin>]; blueprints:"; $(VPY) -m starter_kit.export --list | sed 's/^/  /'; exit 2)
	$(VPY) -m starter_kit.export $(BLUEPRINT) $(DEST) $(if $(UPSTREAM),--upstream $(UPSTREAM))
# <<< library only
