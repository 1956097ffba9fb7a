# RoboVox developer entry points. Everything installs itself: a fresh Linux machine
# needs only Python 3.11+ and make.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync

.PHONY: help env demo test check lint typecheck bench clean

help:
	@echo "make demo    run RoboVox on its embedded default (Redis, robot simulator)"
	@echo "make test    run lint, type checks and the test suite"
	@echo "make bench   run the pipeline, session-gateway and alert benchmarks"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml sim/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

env: $(VENV)/.synced

demo: env
	$(RUN) python -m robovox.sim.embedded $(ARGS)

lint: env
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: env
	$(RUN) mypy

test: lint typecheck
	$(RUN) pytest -q

bench: env
	$(RUN) python bench/pipeline_latency.py
	$(RUN) python bench/gateway_sessions.py
	$(RUN) python bench/alert_latency.py

clean:
	rm -rf $(VENV) $(TOOLS) .demo
