"""The session gateway as its own process, for fault scenarios that kill it: robots
(simulators and profiles), the gateway's environment, and counts from ground truth
(the emulator's sessions and the robots' streams)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import yaml
from redis.asyncio import Redis

from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import RobotKeys
from robovox.sim.realtime import EmulatedSession, RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import API_KEY, API_TOKEN, SHIPPED_PROFILE


class RosbridgePeer(Protocol):
    """A robot's rosbridge, in this process (a ``RobotSimulator``) or another (``bench.peers``)."""

    @property
    def url(self) -> str: ...


class RealtimePeer(Protocol):
    """The Realtime API the gateway talks to: the emulator, here or in another process."""

    @property
    def base_url(self) -> str: ...


@contextlib.asynccontextmanager
async def simulators(count: int) -> AsyncIterator[list[RobotSimulator]]:
    sims = [RobotSimulator(port=0, battery_rate_hz=20, state_rate_hz=10) for _ in range(count)]
    try:
        for simulator in sims:
            await simulator.start()
        yield sims
    finally:
        for simulator in sims:
            await simulator.stop()


def robot_profiles(folder: Path, sims: Sequence[RosbridgePeer]) -> list[str]:
    """One copy of the shipped cleaning robot per simulator, ``cleaner-1`` ...; their ids."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = yaml.safe_load(SHIPPED_PROFILE.read_text())
    robots = []
    for number, simulator in enumerate(sims, start=1):
        robot_id = f"cleaner-{number}"
        (folder / f"{robot_id}.yaml").write_text(
            yaml.safe_dump({**profile, "robot_id": robot_id, "rosbridge_url": simulator.url})
        )
        robots.append(robot_id)
    return robots


class GatewayProcess:
    """``python -m robovox.gateway`` with the settings tests use, its log in ``log_path``.

    The consumer name is left to its default, so a restarted process is the same consumer
    (``session-gateway@<host>``), as in production."""

    def __init__(self, redis_url: str, profiles_dir: Path, emulator: RealtimePeer, log_path: Path) -> None:
        self.env = {
            **os.environ,
            "ROBOVOX_REDIS_URL": redis_url,
            "ROBOVOX_PROFILES_DIR": str(profiles_dir),
            "ROBOVOX_OPENAI_API_KEY": API_KEY,
            "ROBOVOX_REALTIME_BASE_URL": emulator.base_url,
            "ROBOVOX_ICE_HOST_ADDRESSES": "127.0.0.1",
            "ROBOVOX_API_TOKEN": API_TOKEN,
            "ROBOVOX_API_PORT": "0",
            "ROBOVOX_SESSION_RETRY_INITIAL_S": "0.1",
            "ROBOVOX_SESSION_RETRY_MAX_S": "1.0",
            "ROBOVOX_BLOCK_MS": "100",
            "ROBOVOX_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "robovox.gateway"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL: no hang-up, no ack, no last write."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_live(
        self, redis: Redis, robots: Iterable[str], not_sessions: Iterable[str] = (), timeout_s: float = 30.0
    ) -> dict[str, str]:
        """Each robot's live session id, once its session hash says live with a session not in
        ``not_sessions`` (a killed predecessor's hash says live until it expires)."""
        old = set(not_sessions)
        live: dict[str, str] = {}
        async with asyncio.timeout(timeout_s):
            while True:
                assert self.proc is not None and self.proc.poll() is None, f"the gateway exited:\n{self.log[-3000:]}"
                for robot_id in robots:
                    fields: Any = await redis.hgetall(RobotKeys.of(robot_id).session)
                    info = SessionInfo.from_hash(fields)
                    if info and info.state is SessionState.LIVE and info.session_id and info.session_id not in old:
                        live[robot_id] = info.session_id
                if len(live) == len(list(robots)):
                    return live
                live.clear()
                await asyncio.sleep(0.05)  # another process's state: nothing to await here


def session_of(emulator: RealtimeEmulator, session_id: str) -> EmulatedSession:
    return next(s for s in emulator.sessions if s.session_id == session_id)


def items_received(session: EmulatedSession, kind: str) -> list[dict[str, Any]]:
    return [
        e["item"] for e in session.received if e["type"] == "conversation.item.create" and e["item"]["type"] == kind
    ]


def outputs_per_call(sessions: Iterable[EmulatedSession]) -> Counter[str]:
    """How often each call_id's output was given to the model, over ``sessions``."""
    return Counter(item["call_id"] for s in sessions for item in items_received(s, "function_call_output"))
