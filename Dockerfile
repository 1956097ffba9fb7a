# Every RoboVox image, from the repository root (docker compose builds each target):
#   docker build --target session-gateway -t robovox/session-gateway .
#
# `base` holds Python, uv and the shared package (robovox-shared) with its dependencies;
# each service's image is `base` plus that service's package alone, so a change to one
# service rebuilds one image, and every image shares the base's layers. `sim` is the one
# image of both simulators (the rosbridge robot and the Realtime emulator).
#
# PYTHON_IMAGE: a Debian-based Python 3.11 (the version CI type-checks for) with `python3`
# and its venv module; `make test-docker` builds a local stand-in when none can be pulled.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv PATH=/app/.venv/bin:/opt/uv/bin:$PATH
# A build behind a TLS-inspecting proxy is handed that proxy's CA bundle as the BuildKit secret
# `build_ca` (make test-docker does); it is trusted for the downloads of that step only and never
# stored in an image. Without it, the image's own CA certificates are used.
RUN printf '%s\n' '#!/bin/sh' \
        'if [ -s /run/secrets/build_ca ]; then export SSL_CERT_FILE=/run/secrets/build_ca PIP_CERT=/run/secrets/build_ca; fi' \
        'exec "$@"' >/usr/local/bin/with-build-ca && chmod 755 /usr/local/bin/with-build-ca
RUN --mount=type=secret,id=build_ca with-build-ca sh -c 'python3 -m venv /opt/uv \
        && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check uv==0.13.8 \
        && /opt/uv/bin/pip uninstall --yes --disable-pip-version-check pip' \
    && useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin robovox
WORKDIR /app
# The workspace's manifests (uv resolves the lock against them), then the shared code only.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/tool-executor/pyproject.toml services/tool-executor/
COPY services/ros-adapter/pyproject.toml services/ros-adapter/
COPY services/session-gateway/pyproject.toml services/session-gateway/
COPY services/alert-monitor/pyproject.toml services/alert-monitor/
COPY sim/pyproject.toml sim/
# Dependencies first (a layer that changes with the lock only), then the code. uv's download
# cache is a BuildKit cache mount: a rebuild copies from it, and no image holds it.
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca \
    uv sync --frozen --no-dev --no-editable --package robovox-shared --no-install-workspace
COPY shared/src shared/src
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca uv sync --frozen --no-dev --no-editable --package robovox-shared
# Robot profiles are mounted here (ROBOVOX_PROFILES_DIR); secrets come as files in /run/secrets.
ENV ROBOVOX_PROFILES_DIR=/profiles
USER robovox

FROM base AS tool-executor
USER root
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca \
    uv sync --frozen --no-dev --no-editable --package robovox-tool-executor --no-install-workspace
COPY services/tool-executor/src services/tool-executor/src
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca uv sync --frozen --no-dev --no-editable --package robovox-tool-executor
USER robovox
HEALTHCHECK --interval=10s --timeout=8s --start-period=20s --retries=3 \
    CMD ["python3", "-m", "robovox.shared.healthcheck", "tool-executor"]
CMD ["python3", "-m", "robovox.executor"]

FROM base AS ros-adapter
USER root
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca \
    uv sync --frozen --no-dev --no-editable --package robovox-ros-adapter --no-install-workspace
COPY services/ros-adapter/src services/ros-adapter/src
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca uv sync --frozen --no-dev --no-editable --package robovox-ros-adapter
USER robovox
HEALTHCHECK --interval=10s --timeout=8s --start-period=20s --retries=3 \
    CMD ["python3", "-m", "robovox.shared.healthcheck", "ros-adapter"]
CMD ["python3", "-m", "robovox.ros_adapter"]

FROM base AS alert-monitor
USER root
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca \
    uv sync --frozen --no-dev --no-editable --package robovox-alert-monitor --no-install-workspace
COPY services/alert-monitor/src services/alert-monitor/src
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca uv sync --frozen --no-dev --no-editable --package robovox-alert-monitor
USER robovox
HEALTHCHECK --interval=10s --timeout=8s --start-period=20s --retries=3 \
    CMD ["python3", "-m", "robovox.shared.healthcheck", "alert-monitor"]
CMD ["python3", "-m", "robovox.alert_monitor"]

FROM base AS session-gateway
USER root
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca \
    uv sync --frozen --no-dev --no-editable --package robovox-session-gateway --no-install-workspace
COPY services/session-gateway/src services/session-gateway/src
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca uv sync --frozen --no-dev --no-editable --package robovox-session-gateway
# A generated certificate is kept here (ROBOVOX_TLS_CERT_FILE / ROBOVOX_TLS_KEY_FILE): mount a volume.
RUN mkdir -p /app/tls && chown robovox /app/tls
USER robovox
EXPOSE 8700
HEALTHCHECK --interval=10s --timeout=8s --start-period=30s --retries=3 \
    CMD ["python3", "-m", "robovox.gateway.healthcheck"]
CMD ["python3", "-m", "robovox.gateway"]

FROM base AS sim
USER root
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca \
    uv sync --frozen --no-dev --no-editable --package robovox-sim --no-install-workspace
COPY sim/src sim/src
RUN --mount=type=secret,id=build_ca --mount=type=cache,target=/root/.cache/uv with-build-ca uv sync --frozen --no-dev --no-editable --package robovox-sim
USER robovox
EXPOSE 9090 8765
# The robot simulator by default; the Realtime emulator is `python3 -m robovox.sim.realtime`.
# SIM_HEALTH_PORT: the port the check expects to accept connections (compose sets it per role).
ENV SIM_HEALTH_PORT=9090
HEALTHCHECK --interval=5s --timeout=4s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import os, socket; socket.create_connection(('127.0.0.1', int(os.environ['SIM_HEALTH_PORT'])), 3).close()"]
CMD ["python3", "-m", "robovox.sim.robot", "--host", "0.0.0.0", "--port", "9090"]
