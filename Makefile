# revbook — `make help` lists the targets. Set-up is automatic: every target that needs
# the environment or the demo warehouse builds them first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# Use the active conda env made from environment.yml if there is one, else a local .venv.
ifeq ($(CONDA_DEFAULT_ENV),revbook)
ENV_DIR := $(CONDA_PREFIX)
else
ENV_DIR := .venv
endif
BIN := $(ENV_DIR)/bin
STAMP := $(ENV_DIR)/.revbook-installed
WAREHOUSE ?= data/revbook.duckdb
SCALE ?= 1
SEED ?= 42
EMULATOR := .emulators/bqemulator
PERIOD ?=
JOBS ?=
RUN_ARGS := $(if $(PERIOD),--period $(PERIOD)) $(if $(JOBS),--jobs $(JOBS))

.PHONY: help setup demo check monthly weekly daily browser test planted bench typecheck lab clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

# uv installs in seconds what pip takes a minute or more for: the uv on PATH if there is one, else uv
# installed into the env from the package index; pip is the fallback (an index that only pip.conf names,
# say). --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set, a venv without .pyc files
# compiles pandas & co. again in every kernel, which doubles a run's time.
UV := $(shell command -v uv 2> /dev/null)
$(STAMP): pyproject.toml
	@if [ "$(ENV_DIR)" = ".venv" ] && [ ! -x $(BIN)/python ]; then \
	  $(if $(UV),$(UV) venv --quiet --seed --python $(PYTHON) .venv,$(PYTHON) -m venv .venv); fi
	$(if $(UV),,$(BIN)/python -m pip install --quiet uv || true)
	$(or $(UV),$(BIN)/uv) pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]' || \
	  $(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name revbook --display-name "Python (revbook)" > /dev/null
	@touch $(STAMP)

setup: $(STAMP) ## Create the environment (.venv or the active conda env) and install revbook

# Only where nothing was ever loaded: after `revbook load`, a missing warehouse is an error, not the demo.
$(WAREHOUSE): | $(STAMP)
	$(BIN)/revbook demo --unless-loaded --scale $(SCALE) --seed $(SEED) --out $(WAREHOUSE)

demo: $(STAMP) ## Rebuild the demo warehouse (SCALE=1 SEED=42)
	$(BIN)/revbook demo --scale $(SCALE) --seed $(SEED) --out $(WAREHOUSE)

check: $(STAMP) $(WAREHOUSE) ## Validate the warehouse against the data contract
	$(BIN)/revbook check

monthly: $(STAMP) $(WAREHOUSE) ## Render last month's reports (PERIOD=YYYY-MM for another)
	$(BIN)/revbook run monthly $(RUN_ARGS)

weekly: $(STAMP) $(WAREHOUSE) ## Render last ISO week's reports (PERIOD=YYYY-Www)
	$(BIN)/revbook run weekly $(RUN_ARGS)

daily: $(STAMP) $(WAREHOUSE) ## Render yesterday's reports (PERIOD=YYYY-MM-DD)
	$(BIN)/revbook run daily $(RUN_ARGS)

$(EMULATOR)/.installed: tests/install_bqemulator.sh
	PYTHON=$(PYTHON) bash tests/install_bqemulator.sh $(EMULATOR) $(EMULATOR)-home

browser: ## Install Debian's chromium (for the browser tests) if it is missing
	@command -v chromium > /dev/null || { $(if $(filter 0,$(shell id -u)),,sudo )apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo )apt-get install -y -qq chromium > /dev/null; }

test: $(STAMP) $(WAREHOUSE) $(EMULATOR)/.installed browser ## Run the whole test suite (on small demo companies and a local BigQuery emulator it builds itself)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

planted: $(STAMP) ## The planted-truth tests for seeds 1-10 × 4 fake todays, with pass counts (about 50 min; PLANTED_ARGS="--seeds 1-3")
	$(BIN)/python tests/planted_matrix.py $(PLANTED_ARGS)

bench: $(STAMP) ## Benchmarks → bench/RESULTS.md: floor vs monthly, demo scales 1/10/100, marts vs pandas (BENCH_SCALES=1,10 for less; about 20 min)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

typecheck: $(STAMP) ## Type-check and lint the package (mypy, ruff)
	$(BIN)/mypy lib/revbook --ignore-missing-imports
	$(BIN)/ruff check lib tests bench

lab: $(STAMP) $(WAREHOUSE) ## Open JupyterLab on notebooks/ with the revbook kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean: ## Remove rendered outputs and the local warehouse (keeps the environment and the test emulator)
	rm -rf outputs/*/ outputs/index.html data/
