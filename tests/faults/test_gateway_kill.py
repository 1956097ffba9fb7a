"""SIGKILL of the session gateway with calls in flight.

Three robots (simulators, the ROS adapter and the tool executor in this process), the
Realtime emulator, and the gateway as its own process. The model calls ``stop_cleaning``
seven times on each robot (21 calls), each held 2 s on the robot; once all are published
the gateway is SIGKILLed, the 21 outcomes are written to the inboxes while it is down, and
a new gateway process (the same consumer name, as by default) is started.

Checked from ground truth: every call reached the robot once (the simulators' ops logs) and
was answered once (the inboxes); every outcome written while the gateway was down reached
the new sessions exactly once (the emulator counts each function_call_output); the robots
are live again within a few seconds; the dead gateway's provider calls are hung up at once,
not left to ICE consent (about 30 s).

What the model is told about its calls in flight after the restart: the new session of each
robot continues the same conversation (``conversation_id`` resumed from the log). It is first
given the conversation so far as items, in order, among them the ``function_call`` item of
every call it made (history: nothing is executed again). Then the inbox delivers each
outcome as a ``function_call_output`` for its call_id, the same as if the gateway had never
died (the call ids are known from the replay); outcomes that ask to be spoken get a
``response.create``, silent successes do not. An outcome older than ``ROBOVOX_INBOX_STALE_S``
(60 s) when delivered is prefixed with its time and age and never interrupts. A call whose
``response.output_item.done`` reached the dead gateway but not Redis is not in the log: the
new session does not know of it, and the model is never given an output for it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from robovox.executor.service import ToolExecutor
from robovox.executor.settings import ExecutorSettings
from robovox.ros_adapter.service import RosAdapter
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.messages import Outcome
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import inbox_entries, wait_for_entries
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import FAST, serving
from tests.faults.gateway_harness import (
    GatewayProcess,
    items_received,
    outputs_per_call,
    robot_profiles,
    session_of,
    simulators,
)
from tests.test_gateway import is_output

STOP = "/robot_navigator/stop"
CALLS_PER_ROBOT = 7
HELD_ON_ROBOT_S = 2.0
START_UP_S = 30.0


async def test_gateway_killed_with_calls_in_flight_loses_and_repeats_nothing(
    redis_url: str, redis: Redis, emulator: RealtimeEmulator, tmp_path: Path
) -> None:
    async with simulators(3) as sims:
        robots = robot_profiles(tmp_path / "profiles", sims)
        folder = tmp_path / "profiles"
        adapter_settings = AdapterSettings(redis_url=redis_url, profiles_dir=folder, link_heartbeat_s=0.2, **FAST)
        executor_settings = ExecutorSettings(redis_url=redis_url, profiles_dir=folder, **FAST)
        async with serving(RosAdapter(adapter_settings)) as adapter, serving(ToolExecutor(executor_settings)):
            for simulator in sims:
                simulator.failures.slow_service[STOP] = HELD_ON_ROBOT_S
            for robot_id in robots:
                await asyncio.wait_for(adapter.robots[robot_id].link_up_published.wait(), 10)
            gateway = GatewayProcess(redis_url, folder, emulator, tmp_path / "gateway.log")
            try:
                await run_scenario(gateway, redis, emulator, robots, sims)
            finally:
                gateway.stop()


async def run_scenario(
    gateway: GatewayProcess, redis: Redis, emulator: RealtimeEmulator, robots: list[str], sims: list[Any]
) -> None:
    gateway.start()
    first = await gateway.wait_live(redis, robots)
    old_calls = {session_of(emulator, first[r]).call_id for r in robots}

    calls: dict[str, list[str]] = {}
    for robot_id in robots:  # queued in the emulator behind each other, as the model makes them
        session = session_of(emulator, first[robot_id])
        calls[robot_id] = [session.call_tool("stop_cleaning", {}) for _ in range(CALLS_PER_ROBOT)]
    for robot_id in robots:  # every call published: in Redis, on its way to the robot
        await wait_for_entries(redis, RobotKeys.of(robot_id).tool_calls, CALLS_PER_ROBOT)
    gateway.kill()
    killed_at = time.monotonic()
    assert set(emulator.open_calls) == old_calls, "a killed gateway hangs nothing up"

    for robot_id in robots:  # every outcome written while the gateway is down
        await wait_for_entries(redis, RobotKeys.of(robot_id).inbox, CALLS_PER_ROBOT, timeout_s=15)
    down_s = time.monotonic() - killed_at
    old_sessions = set(emulator.sessions)

    restarted_at = time.monotonic()
    gateway.start()
    second = await gateway.wait_live(redis, robots, not_sessions=first.values())
    live_at = time.monotonic()
    live_s = live_at - restarted_at
    new = {r: session_of(emulator, second[r]) for r in robots}
    new_calls = {s.call_id for s in new.values()}
    await emulator.wait_open_calls(lambda open_calls: set(open_calls) == new_calls, timeout=5)
    hung_up_s = time.monotonic() - live_at
    every_call = [c for r in robots for c in calls[r]]
    for robot_id in robots:
        for call_id in calls[robot_id]:
            await new[robot_id].wait_for_client_event("conversation.item.create", is_output(call_id), timeout=10)
    delivered_s = time.monotonic() - live_at

    # Ground truth: the robots, the inboxes, the emulator.
    for robot_id, simulator in zip(robots, sims, strict=True):
        assert len(simulator.ops("call_service", STOP)) == CALLS_PER_ROBOT, f"{robot_id}: each call ran once"
        entries = await inbox_entries(redis, robot_id)
        assert sorted(e.call_id or "" for e in entries) == sorted(calls[robot_id]), "answered once each"
        assert {e.outcome for e in entries} == {Outcome.SUCCEEDED}
    assert outputs_per_call(emulator.sessions) == dict.fromkeys(every_call, 1), "each output given once"
    assert outputs_per_call(old_sessions) == {}, "nothing reached the dead gateway's sessions"
    for robot_id, new_session in new.items():
        replayed = [item["call_id"] for item in items_received(new_session, "function_call")]
        assert replayed == calls[robot_id], "the new session is given the calls as history, in order"
    # Start-up includes the interpreter's imports: seconds on a quiet machine, more on a loaded one.
    assert live_s < START_UP_S, f"live again {live_s:.1f} s after the restart"
    assert hung_up_s < 2 and delivered_s < 5, "promptly, not after ICE consent fails or a claim timeout"
    assert "left open by session-gateway@" in gateway.log
    print(
        f"\ngateway SIGKILL: {len(every_call)} calls in flight over {len(robots)} robots; down {down_s:.1f} s; "
        f"live again {live_s:.2f} s after the restart; then old calls hung up within {hung_up_s:.2f} s, "
        f"all outcomes told within {delivered_s:.2f} s; lost 0, duplicated 0, executed twice 0"
    )
