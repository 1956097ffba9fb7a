"""Every RoboVox service as its own process, each with its ``/metrics``, around one
simulated robot and the Realtime emulator; and a demo run that leaves the data
the dashboards show (calls answered and refused, a dead letter, an emergency
stop and reset, alerts firing, session events, telemetry)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import httpx2
from redis.asyncio import Redis

from robovox.shared.embedded_redis import free_port
from robovox.shared.link import LinkInfo
from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import add_tool_call, last_entry_id, wait_for_output
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import API_KEY, API_TOKEN, ROBOT, SHIPPED_PROFILE

KEYS: Final = RobotKeys.of(ROBOT)
PORT_SETTING: Final = {
    "tool-executor": "ROBOVOX_EXECUTOR_METRICS_PORT",
    "ros-adapter": "ROBOVOX_ADAPTER_METRICS_PORT",
    "alert-monitor": "ROBOVOX_MONITOR_METRICS_PORT",
    "session-gateway": "ROBOVOX_API_PORT",
}
MODULE: Final = {
    "tool-executor": "robovox.executor",
    "ros-adapter": "robovox.ros_adapter",
    "alert-monitor": "robovox.alert_monitor",
    "session-gateway": "robovox.gateway",
}


@dataclass
class Fleet:
    redis: Redis
    sim: RobotSimulator
    targets: dict[str, str]
    """Service name -> ``127.0.0.1:port`` of its ``/metrics``."""
    logs: dict[str, Path]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://{self.targets['session-gateway']}"

    def log_tail(self) -> str:
        return "\n".join(f"--- {name}\n{path.read_text(errors='replace')[-2000:]}" for name, path in self.logs.items())

    def check_running(self) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"{name} exited ({proc.returncode}):\n{self.log_tail()}"

    async def scrape(self, service: str) -> str:
        async with httpx2.AsyncClient() as client:
            reply = await client.get(f"http://{self.targets[service]}/metrics", timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.text


def _env(redis_url: str, profiles: Path, emulator: RealtimeEmulator, ports: dict[str, int]) -> dict[str, str]:
    return {
        **os.environ,
        "ROBOVOX_REDIS_URL": redis_url,
        "ROBOVOX_PROFILES_DIR": str(profiles),
        "ROBOVOX_OPENAI_API_KEY": API_KEY,
        "ROBOVOX_REALTIME_BASE_URL": emulator.base_url,
        "ROBOVOX_ICE_HOST_ADDRESSES": "127.0.0.1",
        "ROBOVOX_API_TOKEN": API_TOKEN,
        "ROBOVOX_BLOCK_MS": "100",
        "ROBOVOX_CLAIM_IDLE_MS": "1000",
        "ROBOVOX_LINK_HEARTBEAT_S": "0.2",
        "ROBOVOX_TICK_S": "0.1",
        "ROBOVOX_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **{PORT_SETTING[name]: str(port) for name, port in ports.items()},
    }


async def _answers(fleet: Fleet, service: str, timeout_s: float = 90.0) -> None:
    async with asyncio.timeout(timeout_s), httpx2.AsyncClient() as client:
        while True:
            fleet.check_running()
            with contextlib.suppress(httpx2.TransportError):
                if (await client.get(f"http://{fleet.targets[service]}/metrics", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.1)  # another process's port: nothing to await here


async def _online(fleet: Fleet, timeout_s: float = 60.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            fleet.check_running()
            link = LinkInfo.from_hash_or_none(await fleet.redis.hgetall(KEYS.link_state), ROBOT)  # type: ignore[misc]
            session = SessionInfo.from_hash_or_none(await fleet.redis.hgetall(KEYS.session), ROBOT)  # type: ignore[misc]
            if link is not None and link.up and session is not None and session.state is SessionState.LIVE:
                return
            await asyncio.sleep(0.05)  # other processes' state: nothing to await here


def stop(proc: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM (unless sent already), then SIGKILL after ``grace_s``."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _spawn(fleet: Fleet, env: dict[str, str], files: list[IO[bytes]]) -> None:
    for name, module in MODULE.items():
        log = fleet.logs[name].open("ab")
        files.append(log)
        fleet.procs[name] = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=log)


@contextlib.asynccontextmanager
async def running_fleet(redis_url: str, redis: Redis, folder: Path) -> AsyncIterator[Fleet]:
    """The four services as processes, their metrics on free loopback ports, the robot online."""
    await redis.flushdb()
    sim = RobotSimulator(port=0, battery_rate_hz=20, state_rate_hz=10)
    emulator = RealtimeEmulator(api_key=API_KEY, ice_host_addresses=["127.0.0.1"])
    await sim.start()
    await emulator.start()
    profiles = folder / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / f"{ROBOT}.yaml").write_text(SHIPPED_PROFILE.read_text().replace("ws://127.0.0.1:9090", sim.url))
    ports = {name: free_port() for name in MODULE}
    env = _env(redis_url, profiles, emulator, ports)
    fleet = Fleet(redis, sim, {n: f"127.0.0.1:{p}" for n, p in ports.items()}, {n: folder / f"{n}.log" for n in MODULE})
    files: list[IO[bytes]] = []
    try:
        _spawn(fleet, env, files)
        for name in MODULE:
            await _answers(fleet, name)
        await _online(fleet)
        yield fleet
    finally:
        for proc in fleet.procs.values():
            proc.terminate()
        for proc in fleet.procs.values():
            stop(proc)
        for log in files:
            log.close()
        await emulator.stop()
        await sim.stop()


async def _until(redis: Redis, stream: str, after: str, wanted: dict[str, str], timeout_s: float = 60.0) -> str:
    """Block on ``stream`` until an entry after ``after`` holds every field of ``wanted``; its id."""
    last = after
    async with asyncio.timeout(timeout_s):
        while True:
            reply: Any = await redis.xread({stream: last}, block=1000)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    if all(fields.get(k) == v for k, v in wanted.items()):
                        return str(entry_id)


async def demo_run(fleet: Fleet) -> None:
    """What the dashboards show, each step awaited on the stream that records it."""
    redis = fleet.redis
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with httpx2.AsyncClient(base_url=fleet.api_url, headers=headers, timeout=10) as api:
        after = await last_entry_id(redis, KEYS.conversation)
        said = await api.post(f"/v1/robots/{ROBOT}/messages", json={"text": "start cleaning, turn right"})
        assert said.status_code == 202, said.text
        called = await _until(redis, KEYS.conversation, after, {"kind": "function_call", "name": "start_cleaning"})
        call_id = (await redis.xrange(KEYS.conversation, called, called))[0][1]["call_id"]
        await _until(redis, KEYS.conversation, called, {"kind": "function_call_output", "call_id": call_id})
        for name, arguments in (
            ("get_battery_voltage", "{}"),
            ("fly_to_the_moon", "{}"),  # refused: unknown tool
            ("start_cleaning", '{"option": "Sideways"}'),  # refused: not an option
        ):
            position = await last_entry_id(redis, KEYS.inbox)
            call = await add_tool_call(redis, ROBOT, name, arguments)
            await wait_for_output(redis, ROBOT, call.call_id, timeout_s=60, after=position)
        position = await last_entry_id(redis, KEYS.dead_letters)
        await redis.xadd(KEYS.tool_calls, {"name": "no call id"})  # dead-lettered by the executor
        await _until(redis, KEYS.dead_letters, position, {"stream": KEYS.tool_calls})
        position = await last_entry_id(redis, KEYS.alerts)
        stop = await api.post(f"/v1/robots/{ROBOT}/emergency_stop", json={})
        assert stop.status_code == 202, stop.text
        await _until(redis, KEYS.alerts, position, {"rule": "emergency_stop"})
        reset = await api.post(f"/v1/robots/{ROBOT}/emergency_stop/reset", json={})
        assert reset.status_code == 202, reset.text
        await _until(redis, KEYS.alerts, position, {"rule": "emergency_reset"})
    fleet.sim.robot.battery_voltage = 21.5  # below both thresholds: warning, then critical (and its action)
    await _until(redis, KEYS.alerts, position, {"rule": "battery_critical", "status": "firing"})
    await _until(redis, KEYS.alerts, position, {"rule": "battery_low", "status": "firing"})
