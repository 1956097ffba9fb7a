#!/usr/bin/env bash
# Base images for make test-docker where Docker Hub cannot be reached: prints the Python
# and the Redis image to build on, one a line. Each is the real one when the engine has it
# or can pull it, else a local stand-in from Debian's packages alone:
#   robovox-standin/python:3.11-bookworm  debootstrap'd bookworm (python3 3.11, venv), `docker import`ed
#   robovox-standin/redis:7-bookworm      that plus Debian's redis-server
# The debootstrap'd root is cached as a tarball ($CACHE), so only a first run pays for it.
set -euo pipefail

PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.11-slim-bookworm}
REDIS_IMAGE=${REDIS_IMAGE:-redis:7.4.2-alpine}
STANDIN_PYTHON=robovox-standin/python:3.11-bookworm
STANDIN_REDIS=robovox-standin/redis:7-bookworm
CACHE=${ROBOVOX_DOCKER_CACHE:-/var/cache/robovox-test-docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { echo "[standin] $*" >&2; }

have() { docker image inspect "$1" >/dev/null 2>&1; }

runs_as_a_user() {
    # The services run as an unprivileged user: a stand-in whose root they cannot traverse (one
    # imported from a tarball of a 0700 directory, as an earlier standin.sh made) is no base.
    docker run --rm --network none --user 10001 --entrypoint python3 "$1" -c pass >/dev/null 2>&1
}

pullable() {
    # One short try: where no registry answers, this fails within the timeout.
    timeout 20 docker pull --quiet "$1" >/dev/null 2>&1
}

python_rootfs() {
    local tarball=$CACHE/python-3.11-bookworm.tar.gz
    if [ ! -s "$tarball" ]; then
        say "debootstrap of a minimal bookworm with python3 (a few minutes, once; cached in $CACHE)"
        command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >&2
        local root
        root=$(mktemp -d /tmp/robovox-standin.XXXXXX)
        chmod 755 "$root" # mktemp's 0700 would become the image's /: no user but root could reach /bin
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$MIRROR" >&2
        rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc \
            "$root"/usr/share/man "$root"/usr/share/locale
        mkdir -p "$CACHE"
        tar -C "$root" -czf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$root"
    fi
    echo "$tarball"
}

python_image() {
    if have "$PYTHON_IMAGE" || pullable "$PYTHON_IMAGE"; then
        echo "$PYTHON_IMAGE"
        return
    fi
    if have "$STANDIN_PYTHON" && ! runs_as_a_user "$STANDIN_PYTHON"; then
        say "$STANDIN_PYTHON cannot run python3 as an unprivileged user: rebuilding it and what was built on it"
        docker image rm --force "$STANDIN_PYTHON" "$STANDIN_REDIS" >/dev/null 2>&1 || true
        rm -f "$CACHE/python-3.11-bookworm.tar.gz"
    fi
    if ! have "$STANDIN_PYTHON"; then
        local tarball
        tarball=$(python_rootfs)
        say "importing $tarball as $STANDIN_PYTHON"
        docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$tarball" "$STANDIN_PYTHON" >/dev/null
    fi
    echo "$STANDIN_PYTHON"
}

redis_image() {
    local python=$1
    if have "$REDIS_IMAGE" || pullable "$REDIS_IMAGE"; then
        echo "$REDIS_IMAGE"
        return
    fi
    if ! have "$STANDIN_REDIS"; then
        say "building $STANDIN_REDIS from $python and Debian's redis-server"
        docker build --quiet --network host -t "$STANDIN_REDIS" - >/dev/null <<EOF
FROM $python
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /data /usr/local/etc/redis && chown redis:redis /data
WORKDIR /data
EOF
    fi
    echo "$STANDIN_REDIS"
}

python=$(python_image)
echo "$python"
redis_image "$python"
