#!/usr/bin/env bash
# make test-docker: the edge box's compose stack, built and run where it is built.
#  1. Docker's engine and compose v2 from Debian's packages if missing (compose v2 is
#     trixie's docker-compose package: bookworm's is v1, which rejects `name:`);
#  2. dockerd (vfs, no bridge, no iptables) in the background if none runs;
#  3. base images: the real ones if present or pullable, else local stand-ins (standin.sh);
#  4. every image built, `docker compose --profile sim up --wait` (every health check green);
#  5. one call end to end through the gateway's HTTPS API (e2e_call.py);
#  6. everything torn down (containers, volumes, the engine if this started it), failed or not.
# Only loopback is used, on ports of its own: a Redis or anything else already on the box is
# left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
START=$(date +%s)
log() { echo "[test-docker +$(($(date +%s) - START))s] $*"; }

if [ "$(id -u)" != 0 ]; then
    echo "make test-docker runs as root (it installs and starts Docker's engine)" >&2
    exit 1
fi

ensure_engine() {
    if ! command -v dockerd >/dev/null; then
        log "installing Docker's engine (Debian's docker.io)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    fi
    if ! docker compose version 2>/dev/null | grep -Eq ' v?2\.'; then
        log "installing compose v2 (Debian trixie's docker-compose package)"
        local apt_dir=/var/cache/robovox-test-docker/trixie-apt
        mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR:-http://deb.debian.org/debian} trixie main" \
            >"$apt_dir/sources.list"
        local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives")
        apt-get "${opts[@]}" update -qq
        (cd "$apt_dir" && apt-get "${opts[@]}" download docker-compose 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
        dpkg -i "$apt_dir"/docker-compose_*.deb >/dev/null
    fi
    docker compose version
}

DOCKERD_PID=
ensure_daemon() {
    if docker info >/dev/null 2>&1; then
        log "using the running Docker engine"
        return
    fi
    log "starting dockerd (vfs, no bridge, no iptables)"
    dockerd --storage-driver=vfs --iptables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    if ! timeout 60 sh -c 'until docker info >/dev/null 2>&1; do sleep 0.2; done'; then
        tail -20 "$WORK/dockerd.log" >&2
        echo "dockerd did not come up" >&2
        return 1
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PROJECT=robovox-test
WORK=$(mktemp -d /tmp/robovox-test-docker.XXXXXX)
COMPOSE=(docker compose -p "$PROJECT" --env-file "$WORK/test.env" -f docker-compose.yml -f tests/docker/compose.test.yml
    --profile sim)
UP=0

teardown() {
    local status=$?
    set +e
    if [ "$UP" = 1 ]; then
        if [ "$status" != 0 ]; then
            log "FAILED: the stack's state and logs"
            "${COMPOSE[@]}" ps -a
            "${COMPOSE[@]}" logs --no-color --tail 60
        fi
        log "tearing the stack down"
        "${COMPOSE[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1
        # Images an earlier build tagged and this one replaced (the tagged ones stay, for the next run).
        docker image prune --force >/dev/null 2>&1
    fi
    if [ -n "$DOCKERD_PID" ]; then
        log "stopping the dockerd this started (pid $DOCKERD_PID)"
        kill "$DOCKERD_PID" 2>/dev/null
        wait "$DOCKERD_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
    log "done: $([ "$status" = 0 ] && echo passed || echo "FAILED ($status)") in $(($(date +%s) - START)) s"
    exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

ensure_engine

# The floor's stack as an admin starts it from .env.example: the file is valid and runs Redis
# and the four services, no simulator.
floor=$(docker compose -p "$PROJECT-floor" --env-file .env.example config --services | sort | tr '\n' ' ')
if [ "$floor" != "alert-monitor redis ros-adapter session-gateway tool-executor " ]; then
    echo "docker compose up with .env.example runs: $floor" >&2
    exit 1
fi
log "docker compose up with .env.example runs: $floor"

ensure_daemon

mapfile -t BASES < <(bash tests/docker/standin.sh)
log "base images: Python ${BASES[0]}, Redis ${BASES[1]}"

# The test's own secrets, ports and settings: nothing from a .env or ./secrets in the clone.
mkdir -p "$WORK/secrets"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$WORK/secrets/api_token"
python3 -c 'import secrets; print(secrets.token_hex(24))' >"$WORK/secrets/redis_password"
echo "sk-not-used-by-the-sim-profile" >"$WORK/secrets/openai_api_key"
chmod 644 "$WORK"/secrets/*
API_PORT=$(free_port)
REDIS_PORT=$(free_port)
cat >"$WORK/test.env" <<EOF
ENV_FILE=$WORK/test.env
SECRETS_DIR=$WORK/secrets
PYTHON_IMAGE=${BASES[0]}
REDIS_IMAGE=${BASES[1]}
IMAGE_TAG=test
REDIS_PORT=$REDIS_PORT
SIM_ROBOT_PORT=$(free_port)
SIM_REALTIME_PORT=$(free_port)
ROBOVOX_API_HOST=127.0.0.1
ROBOVOX_API_PORT=$API_PORT
ROBOVOX_ICE_HOST_ADDRESSES=127.0.0.1
ROBOVOX_LOG_LEVEL=INFO
EOF

log "building every image"
"${COMPOSE[@]}" build
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^robovox/.*:test ' | sed 's/^/  image /'

log "docker compose --profile sim up --wait (every health check must pass)"
UP=1
"${COMPOSE[@]}" up --detach --wait --wait-timeout 180
"${COMPOSE[@]}" ps --format '  {{.Service}}: {{.Status}}'
for service in ros-adapter-sim tool-executor-sim alert-monitor-sim; do
    "${COMPOSE[@]}" exec -T "$service" python3 -m robovox.shared.healthcheck "${service%-sim}" | sed "s/^/  /"
done
"${COMPOSE[@]}" logs session-gateway-sim 2>&1 | grep -i fingerprint | sed 's/^/  /' || true
"${COMPOSE[@]}" exec -T session-gateway-sim cat /app/tls/cert.pem >"$WORK/gateway-cert.pem"

log "one call end to end through the gateway's API"
"$ROOT/.venv/bin/python" -m tests.docker.e2e_call --api-url "https://127.0.0.1:$API_PORT" \
    --token-file "$WORK/secrets/api_token" --redis-url "redis://127.0.0.1:$REDIS_PORT/0" \
    --redis-password-file "$WORK/secrets/redis_password" --ca-file "$WORK/gateway-cert.pem"
