"""The backbone assembled: Redis, the robot simulator over a real websocket, the
ROS adapter (roslibpy) and the tool executor, with the test as the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.alert_monitor.settings import MonitorSettings
from robovox.executor.service import ToolExecutor
from robovox.executor.settings import ExecutorSettings
from robovox.gateway.service import SessionGateway
from robovox.gateway.settings import GatewaySettings
from robovox.ros_adapter.service import RosAdapter
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.lifecycle import RobotService
from robovox.shared.profile import RobotProfile, load_profiles
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import LOOK_MS
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator

if TYPE_CHECKING:
    from tests.cli_demo import Demo

REPO = Path(__file__).resolve().parents[1]
ROBOT = "cleaner-1"
KEYS = RobotKeys.of(ROBOT)

ServiceT = TypeVar("ServiceT", bound=RobotService[Any, Any])

FAST: dict[str, Any] = {"block_ms": 100, "claim_idle_ms": 1000, "shutdown_grace_ms": 300}


@contextlib.asynccontextmanager
async def started_simulator() -> AsyncIterator[RobotSimulator]:
    """A cleaning-robot simulator on a free port, its telemetry fast enough for tests."""
    simulator = RobotSimulator(port=0, battery_rate_hz=20, state_rate_hz=10)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def sim() -> AsyncIterator[RobotSimulator]:
    async with started_simulator() as simulator:
        yield simulator


def write_profiles(tmp_path: Path, sim: RobotSimulator, **texts: str) -> Path:
    """A profiles folder with one file per name, each the given text pointed at this test's simulator."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.yaml").write_text(text.replace("ws://127.0.0.1:9090", sim.url))
    return folder


SHIPPED_PROFILE = REPO / "deploy" / "profiles" / "cleaner-1.yaml"


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator) -> Path:
    """The shipped cleaning-robot profile, pointed at this test's simulator."""
    return write_profiles(tmp_path, sim, **{ROBOT: SHIPPED_PROFILE.read_text()})


@pytest.fixture
def profile(profiles_dir: Path) -> RobotProfile:
    return load_profiles(profiles_dir)[ROBOT]


async def _serve(service: Any) -> tuple[Any, asyncio.Task[None]]:
    task = asyncio.create_task(service.run())
    ready = asyncio.create_task(service.ready.wait())
    await asyncio.wait([task, ready], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    assert service.ready.is_set(), "service did not become ready"
    return service, task


@contextlib.asynccontextmanager
async def serving(service: ServiceT, stop_within_s: float = 10.0) -> AsyncIterator[ServiceT]:
    """Run a service in this loop until the block ends, as its process would."""
    _, task = await _serve(service)
    try:
        yield service
    finally:
        service.stop()
        await asyncio.wait_for(task, stop_within_s)


@pytest.fixture
async def adapter(redis_url: str, profiles_dir: Path) -> AsyncIterator[RosAdapter]:
    settings = AdapterSettings(
        redis_url=redis_url, profiles_dir=profiles_dir, reconnect_initial_s=0.1, reconnect_max_s=0.5,
        link_heartbeat_s=0.2, link_recheck_s=0.2, **FAST,
    )  # fmt: skip
    async with serving(RosAdapter(settings)) as service:
        yield service


@pytest.fixture
async def executor(redis_url: str, profiles_dir: Path) -> AsyncIterator[ToolExecutor]:
    settings = ExecutorSettings(redis_url=redis_url, profiles_dir=profiles_dir, result_grace_s=1.0, **FAST)
    async with serving(ToolExecutor(settings)) as service:
        yield service


@pytest.fixture
async def monitor(redis_url: str, profiles_dir: Path) -> AsyncIterator[AlertMonitor]:
    settings = MonitorSettings(redis_url=redis_url, profiles_dir=profiles_dir, tick_s=0.1, **FAST)
    async with serving(AlertMonitor(settings)) as service:
        yield service


async def telemetry_seen(redis: Redis, topic: str, where: str, equals: str, timeout_s: float = 10.0) -> None:
    """Block on the telemetry stream until ``topic`` reports ``where == equals``."""
    last = "$"
    latest: str | None = await redis.hget(KEYS.telemetry_latest, topic)  # type: ignore[assignment]
    if latest is not None and f'"{where}":"{equals}"' in latest.replace(" ", ""):
        return
    async with asyncio.timeout(timeout_s):
        while True:
            reply: Any = await redis.xread({KEYS.telemetry: last}, block=LOOK_MS)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    if fields.get("topic") == topic and fields.get(f"msg.{where}") == equals:
                        return


@pytest.fixture
async def robot_online(redis: Redis, adapter: RosAdapter, executor: ToolExecutor) -> str:
    """Every part running, the link up, the pads reported up."""
    await asyncio.wait_for(adapter.robots[ROBOT].link_up_published.wait(), 10)
    await telemetry_seen(redis, "/vacuum_pads/state", "data", "up")
    return ROBOT


@pytest.fixture
def executor_process_env(redis_url: str, profiles_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ROBOVOX_REDIS_URL": redis_url,
        "ROBOVOX_PROFILES_DIR": str(profiles_dir),
        "ROBOVOX_BLOCK_MS": "100",
        "ROBOVOX_CLAIM_IDLE_MS": "1000",
        "ROBOVOX_LOG_LEVEL": "INFO",
    }


@pytest.fixture
def spawn_executor(executor_process_env: dict[str, str]) -> Iterator[Any]:
    """Start tool-executor processes; all are killed at the end of the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(name: str) -> subprocess.Popen[bytes]:
        env = {**executor_process_env, "ROBOVOX_CONSUMER_NAME": name}
        proc = subprocess.Popen([sys.executable, "-m", "robovox.executor"], env=env)
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


# The session gateway, talking to the Realtime emulator over WebRTC on loopback.

API_KEY = "sk-test-never-leaves-the-gateway-4242"
API_TOKEN = "test-api-token"
LOOPBACK_ONLY = ["127.0.0.1"]


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Override in a test module to change the emulator (``max_session_s``, ``seconds_per_word`` ...)."""
    return {}


@pytest.fixture
async def emulator(emulator_options: dict[str, Any]) -> AsyncIterator[RealtimeEmulator]:
    emu = RealtimeEmulator(api_key=API_KEY, ice_host_addresses=LOOPBACK_ONLY, **emulator_options)
    await emu.start()
    yield emu
    await emu.stop()
    assert emu.validation_errors == [], "the gateway sent events the real API would refuse"


def gateway_settings(redis_url: str, profiles_dir: Path, base_url: str, **overrides: Any) -> GatewaySettings:
    options: dict[str, Any] = {
        "redis_url": redis_url, "profiles_dir": profiles_dir, "openai_api_key": API_KEY,
        "realtime_base_url": base_url, "ice_host_addresses": LOOPBACK_ONLY, "api_token": API_TOKEN,
        "api_port": 0, "session_retry_initial_s": 0.1, "session_retry_max_s": 1.0, "connect_timeout_s": 10.0,
        **FAST, **overrides,
    }  # fmt: skip
    return GatewaySettings(**options)


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    """Override in a test module to change the gateway's settings."""
    return {}


@pytest.fixture
async def gateway(
    redis_url: str, profiles_dir: Path, emulator: RealtimeEmulator, gateway_overrides: dict[str, Any]
) -> AsyncIterator[SessionGateway]:
    settings = gateway_settings(redis_url, profiles_dir, emulator.base_url, **gateway_overrides)
    async with serving(SessionGateway(settings), stop_within_s=15) as service:
        await asyncio.wait_for(service.api_started.wait(), 5)
        yield service


@pytest.fixture
async def api(gateway: SessionGateway) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        base_url=f"http://127.0.0.1:{gateway.api_port}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    ) as client:
        yield client


@pytest.fixture
async def demo(
    robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, emulator: RealtimeEmulator,
    api: httpx2.AsyncClient, sim: RobotSimulator, redis: Redis, redis_url: str,
) -> AsyncIterator[Demo]:  # fmt: skip
    """A demo run's data in Redis (``tests/cli_demo.py``), for the CLI's and the Inspect view's tests."""
    from tests.cli_demo import run_demo  # it imports the CLI, which most tests never need

    yield await run_demo(redis, redis_url, sim, gateway, emulator, api)
