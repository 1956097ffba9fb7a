# RoboVox developer entry points. Everything installs itself: a fresh Linux machine
# needs only Python 3.11+ and make.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync
CHROMIUM := /usr/bin/chromium
# The browser tests run in a user + network namespace holding only loopback, so
# Chromium (and every server the tests start) can reach nothing but 127.0.0.1 / ::1.
ISOLATED := unshare -rn sh -c

.PHONY: help env demo test test-fast test-browser test-docker browser-deps prometheus-deps speech-deps check lint typecheck bench soak clean

help:
	@echo "make demo    run RoboVox on its embedded default (Redis, robot simulator)"
	@echo "make test    run lint, type checks and the test suite (browser tests included)"
	@echo "make test-fast  run the unit layer only (no Redis, servers, WebRTC or processes), in seconds"
	@echo "make test-docker  build every image and run one call through docker compose --profile sim (root)"
	@echo "make bench   run the pipeline, session-gateway, alert and stall-window benchmarks"
	@echo "make soak    run the fault suite for 60 s a scenario, then the soak benchmark"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml sim/pyproject.toml cli/pyproject.toml
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

test: lint typecheck browser-deps prometheus-deps speech-deps
	$(RUN) pytest -q -m "not browser"
	$(MAKE) --no-print-directory test-browser

# The unit layer of the test pyramid: tests that need no peer (pyproject's markers say which do).
UNIT := not (redis or network or webrtc or process or browser)
test-fast: env
	$(RUN) pytest -q -m "$(UNIT)"

# Headless Chromium against the console and the Realtime-compatible endpoints, isolated on loopback.
test-browser: env browser-deps
	$(ISOLATED) 'ip link set lo up && ROBOVOX_BROWSER_TESTS=required exec $(RUN) pytest -q -m browser tests/browser'

# The edge box where it is built: Docker's engine and compose v2 from Debian's packages if
# missing, every image, `docker compose --profile sim up`, one call end to end, torn down after.
test-docker: env
	bash tests/docker/run.sh

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium chromium-driver; \
	fi

# Debian's Prometheus for tests/observability (it evaluates every dashboard expression; loopback only).
# The package's own daemon (:9090, where make demo puts the robot simulator) is kept from starting
# (policy-rc.d); the tests run Prometheus themselves.
prometheus-deps:
	@if ! command -v prometheus >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update && \
		printf '#!/bin/sh\nexit 101\n' | $$SUDO tee /usr/sbin/policy-rc.d >/dev/null && $$SUDO chmod +x /usr/sbin/policy-rc.d && \
		$$SUDO apt-get install -y --no-install-recommends prometheus; \
		$$SUDO rm -f /usr/sbin/policy-rc.d; \
	fi

# espeak-ng and sox (Debian's) synthesize the speech the stop word's tests and bench play.
speech-deps:
	@if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update && $$SUDO apt-get install -y espeak-ng sox; \
	fi

bench: env speech-deps
	$(RUN) python bench/pipeline_latency.py
	$(RUN) python bench/gateway_sessions.py
	$(RUN) python bench/alert_latency.py
	$(RUN) python bench/stall_window.py
	$(RUN) python bench/emergency_stop.py

# The fault suite (tests/faults) at 60 s of load a scenario instead of a few, then the soak bench.
soak: env
	ROBOVOX_FAULT_SECONDS=60 $(RUN) pytest -q -s tests/faults
	$(RUN) python bench/soak.py

clean:
	rm -rf $(VENV) $(TOOLS) .demo
