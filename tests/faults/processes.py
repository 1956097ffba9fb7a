"""The processes a fault run kills: a private redis-server with an append-only
file, and the RoboVox services, each its own process with its log in a file."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import IO, Protocol

from robovox.shared.embedded_redis import find_redis_server, free_port

READY_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: SIGKILL when the process that started it dies (a test run stopped
    by a timeout or ^C leaves no Redis or service behind)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class _Stoppable(Protocol):
    def stop(self) -> object: ...


_STARTED: weakref.WeakSet[_Stoppable] = weakref.WeakSet()


def stop_leftovers() -> None:
    """Stop every process this module started that is still running (a test's last resort)."""
    for proc in list(_STARTED):
        proc.stop()


def prioritise(pid: int, nice: int) -> bool:
    """Run ``pid`` at ``nice``; False if this process may not (raising needs CAP_SYS_NICE)."""
    if nice == 0:
        return True
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except PermissionError:
        return False
    except ProcessLookupError:
        pass  # it already exited: nothing left to run at any priority
    return True


class RedisServer:
    """redis-server on a free 127.0.0.1 port with ``appendonly yes`` and ``appendfsync everysec``
    in its own directory: SIGKILL it and start it again on the same port, from its AOF."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = log_path
        self.nice = 0
        self.starts = 0
        self.unix_socket = False
        """Clients connect over the server's Unix socket (``url`` is ``unix://``), as on an edge box
        whose Redis shares the machine; the TCP port stays open for anything that asks for it (set it
        before ``start()``)."""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        if self.unix_socket:
            return f"unix://{self.socket_path}?db=0"
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    async def start(self) -> None:
        """Start (again, from the AOF in ``data_dir``) and return once it answers."""
        self._spawn()
        await self._until_ready()

    def _spawn(self) -> None:
        if self.running:
            raise RuntimeError("redis-server is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--dir", str(self.data_dir),
            "--logfile", str(self.log_path),
            "--loglevel", "notice",
        ]  # fmt: skip
        if self.unix_socket:  # only when asked: a socket's path may hold at most 107 bytes
            args += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        prioritise(self._proc.pid, self.nice)
        _STARTED.add(self)
        self.starts += 1

    async def _until_ready(self) -> None:
        """PING until PONG (not LOADING: the AOF is read before Redis answers)."""
        end = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < end:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited at start; see {self.log_path}")
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                try:
                    writer.write(b"PING\r\n")
                    await writer.drain()
                    reply = await asyncio.wait_for(reader.readline(), 1.0)
                finally:
                    writer.close()
                if reply.startswith(b"+PONG"):
                    return
            except (OSError, TimeoutError):
                pass
            await asyncio.sleep(0.02)
        raise TimeoutError(f"redis-server did not answer on port {self.port} within {READY_TIMEOUT_S} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final AOF flush."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


class ServiceProcess:
    """``python -m <module>`` with a fixed consumer name (as a supervisor restarting a
    replica would keep it), stdout and stderr appended to ``<log_dir>/<name>.log``."""

    def __init__(self, module: str, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.module = module
        self.name = name
        self.env = {**env, "ROBOVOX_CONSUMER_NAME": name}
        self.log_path = log_dir / f"{name}.log"
        self.starts = 0
        self.kills = 0
        self.nice = 0
        """The priority it runs at (set before ``start``; the soak bench raises it as an edge box should)."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"=== {self.name}: start {self.starts} ({self.module}) ===\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        prioritise(self._proc.pid, self.nice)
        _STARTED.add(self)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a power cut would."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
            self.kills += 1
        self._proc = None
        self._close_log()

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        if self._proc is None:
            return None
        code: int | None = self._proc.poll()
        if code is None:
            self._proc.terminate()
            try:
                code = self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
                code = None
        self._close_log()
        return code

    def exited(self) -> int | None:
        """The exit code if the process ended by itself, else None."""
        return self._proc.poll() if self._proc is not None else None

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def service_env(
    redis_url: str, profiles_dir: Path, log_level: str, block_ms: int, claim_idle_ms: int
) -> dict[str, str]:
    """What every service process of a fault run gets: this run's Redis and profiles, fast
    reclaims and reconnects."""
    return {
        **os.environ,
        "ROBOVOX_REDIS_URL": redis_url,
        "ROBOVOX_PROFILES_DIR": str(profiles_dir),
        "ROBOVOX_LOG_LEVEL": log_level,
        "ROBOVOX_BLOCK_MS": str(block_ms),
        "ROBOVOX_CLAIM_IDLE_MS": str(claim_idle_ms),
        "ROBOVOX_SHUTDOWN_GRACE_MS": "2000",
        "ROBOVOX_RESULT_GRACE_S": "1.0",
        "ROBOVOX_RECONNECT_INITIAL_S": "0.1",
        "ROBOVOX_RECONNECT_MAX_S": "0.5",
    }
