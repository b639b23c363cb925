# PIC — Plataforma Integral Ciudadana. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv/bin
PY := $(VENV)/python
PYTEST_ARGS ?=
export PYTHONPATH := $(CURDIR)
export PATH := $(CURDIR)/.venv/bin:$(PATH)
# Python caches compiled modules under .cache/pycache, whatever the environment says: with PYTHONDONTWRITEBYTECODE
# set (as some CI images do) every process compiled every module from source again — each platform start's dozen
# processes, pytest's assertion rewriting of its plugins (functional collection: 13 s of CPU instead of 4).
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(CURDIR)/.cache/pycache

.PHONY: help setup run deadletters replay load-records seed-status test test-spark test-unit test-policies test-contract test-functional test-alternator-like test-browser screenshots lint bench schemas manifests clean image infra-check interop-deps bench-spark

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## install everything the project needs (idempotent; run by the other targets)
	@scripts/bootstrap.sh
	@$(MAKE) --no-print-directory interop-deps

# The independent SD-JWT VC implementation tests/unit/core/test_sdjwt_interop.py verifies PIC against (npm, pinned
# in tests/interop/package-lock.json): `npm ci` again only when the lock changes (its hash stamps node_modules).
interop-deps: ## the OpenWallet Foundation's @sd-jwt packages into tests/interop/node_modules (npm ci, idempotent)
	@stamp="tests/interop/node_modules/.lock-$$(sha256sum tests/interop/package-lock.json | cut -c1-16)"; \
	if [ ! -f "$$stamp" ]; then \
	  if command -v npm >/dev/null; then \
	    printf '\033[1m[setup]\033[0m %s\n' "installing the independent SD-JWT implementation (npm ci in tests/interop)"; \
	    (cd tests/interop && npm ci --silent --no-audit --no-fund >/dev/null) && touch "$$stamp"; \
	  else printf '\033[1m[setup]\033[0m %s\n' "npm is missing: the SD-JWT interop tests will be skipped"; fi; \
	fi

run: setup ## start the whole platform locally on 127.0.0.1:8080 (PIC_PORT), Ctrl-C stops
	@$(PY) -m local

# The local tools find the platform `make run` started (.pic-data/platform.json, PIC_DATA_DIR); run them from
# another terminal while it runs. Each says what went wrong in one sentence (exit 2: no platform to talk to).
deadletters: setup ## list the dead letters of the running platform, with the reason (local.deadletters list)
	@$(PY) -m local.deadletters list

replay: setup ## replay one dead letter: make replay ID=<id> (local.deadletters replay)
	@test -n "$(ID)" || { echo "usage: make replay ID=<dead letter id>  (make deadletters lists them)" >&2; exit 2; }
	@$(PY) -m local.deadletters replay $(ID)

load-records: setup ## load an area system's records: make load-records DIR=<dir written by seed.city> (local.load_records)
	@test -n "$(DIR)" || { echo "usage: make load-records DIR=<directory of <system>.jsonl|csv files>" >&2; exit 2; }
	@$(PY) -m local.load_records "$(abspath $(DIR))"

seed-status: setup ## where make run's seed city is, and the broker's backlog (WAIT=1 waits until it drains)
	@$(PY) -m local.seed_status $(if $(WAIT),--wait)

test: setup ## all tests, phase by phase (unit, Rego, contract, functional, units of work on the Alternator-like store, browser), each timed
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh

# The functional tests of units of work (marked units_of_work) again, on DynamoDB Local behind an endpoint that refuses transactions as ScyllaDB
# Alternator does, with units of work emulated (docs/decisions/0005).
test-alternator-like: setup ## the functional tests of units of work on the private cloud's kind of store (no TransactWriteItems)
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh alternator-like

test-unit: setup ## unit tests (pure logic) only
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh unit

test-policies: setup ## Rego unit tests (every test_* rule in policies/**/*_test.rego)
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh policies

test-contract: setup ## contract tests: schemas, catalog, manifests
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh contract

test-functional: setup ## functional tests through HTTP and CloudEvents against a local platform
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh functional

test-spark: setup ## the city-scale path on Spark: Splink on Spark gives DuckDB's clusters, the write-back keeps C360's invariants, segments count the same (PySpark installed on first use; not in make test)
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh spark

test-browser: setup ## the channels in headless Chromium: journeys, axe (WCAG 2.1 AA), keyboard focus; screenshots in .pic-data/screenshots
	@PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_phases.sh browser

screenshots: setup ## the README's browser walk-through followed in Chromium; its screenshots written to docs/screenshots
	@PIC_README_SHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -p no:cacheprovider tests/browser/test_readme_walkthrough.py

lint: setup ## ruff + mypy + import contracts (domain boundaries, pyproject.toml [tool.importlinter])
	@$(VENV)/ruff check . && $(VENV)/ruff format --check . && $(VENV)/mypy && $(VENV)/lint-imports

bench: setup ## benchmarks (policy, CPU per operation on fake ports, consent end to end, broker, cold start); figures to docs/benchmarks.md
	@$(PY) -m bench

schemas: setup ## regenerate schemas/ (JSON Schema per event type, asyncapi.yaml, openapi.json)
	@$(PY) -m events.generate

manifests: setup ## regenerate the generated manifests: infra/k8s/base/senders (event senders, relays), base/routes (the API host's HTTPRoutes) and the OPA bundle copy
	@$(PY) infra/k8s/generate_senders.py && $(PY) infra/k8s/generate_routes.py && $(PY) infra/k8s/generate_opa_bundle.py

# Policies as a signed OPA bundle (docs/decisions/0016, docs/compliance.md).
.PHONY: policy-keys policy-bundle policy-impact
policy-keys: setup ## a development key pair for signing policy bundles, in .pic-data/policy-keys (gitignored)
	@$(PY) -m compliance keys

policy-bundle: setup ## build and sign the policy bundle from policies/ into .pic-data/policy-bundle/bundle.tar.gz
	@$(PY) -m compliance bundle

POLICY_BASE ?= git:HEAD
policy-impact: setup ## decisions that flip between POLICY_BASE (git:HEAD, or a signed bundle .tar.gz) and policies/, per rule (table + JSON)
	@$(PY) -m compliance impact --base "$(POLICY_BASE)"

image: ## build the one container image (PIC_IMAGE, default pic-functions:dev) with docker or podman; exit 2 says what is missing
	@scripts/image.sh

infra-check: setup ## terraform fmt/validate, kubectl kustomize, checkov (offline; says what it skips and why)
	@scripts/infra_check.sh

clean: ## remove local data (.pic-data) and caches; keeps .venv and .tools
	rm -rf .pic-data .pytest_cache .mypy_cache .ruff_cache

# Contracts that cannot break silently (issue 19, C1): the released baselines in contracts/released/ (events/compat.py,
# docs/contracts.md). `make test`'s contract phase compares schemas/ with the last one.
.PHONY: release-contracts check-contracts
release-contracts: setup ## record schemas/ as the next release in contracts/released/ (when publishing; refused if it breaks the last)
	@$(PY) -m events.compat release $(if $(NAME),--name $(NAME))

check-contracts: setup ## compare schemas/ with the last release: each breaking change named (CURRENT=<dir> for another copy)
	@$(PY) -m events.compat check $(if $(CURRENT),--current "$(abspath $(CURRENT))")

bench-spark: setup ## the city scale on Spark vs DuckDB: prepares PEOPLE (default 1000000) and runs `python -m bench spark`
	@$(PY) -m bench.spark --prepare --people $(or $(PEOPLE),1000000)
