"""Faults the backbone must survive without losing a call or running one twice:
an executor killed mid-call, and a rosbridge outage."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from robovox.ros_adapter.service import RosAdapter
from robovox.shared.entry import utc_now
from robovox.shared.link import LinkState
from robovox.shared.messages import CommandKind, CommandResult, CommandStatus, Outcome, RosCommand
from robovox.shared.testing.streams import add_tool_call, inbox_entries, wait_for_output
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT, telemetry_seen

START = "/robot_navigator/start_cleaning"


async def test_executor_killed_before_ack_is_finished_by_another_exactly_once(
    redis: Redis, sim: RobotSimulator, adapter: RosAdapter, spawn_executor: Any
) -> None:
    await asyncio.wait_for(adapter.robots[ROBOT].link_up_published.wait(), 10)
    await telemetry_seen(redis, "/vacuum_pads/state", "data", "up")
    sim.failures.slow_service[START] = 1.5  # keeps the call in flight while we kill its executor
    first = spawn_executor("executor-a")
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}', deadline_in_s=20)

    await sim.wait_for_op("call_service", START, timeout=15)  # executor-a read it and dispatched it
    pending = await redis.xpending_range(KEYS.tool_calls, "tool-executor", "-", "+", 10)
    assert [p["consumer"] for p in pending] == ["executor-a"], "read but not acked"
    first.send_signal(signal.SIGKILL)
    first.wait()

    second = spawn_executor("executor-b")
    entry = await wait_for_output(redis, ROBOT, call.call_id, timeout_s=20)
    assert entry.outcome is Outcome.SUCCEEDED
    assert len(sim.ops("call_service", START)) == 1, "the robot ran it exactly once"
    assert len(await inbox_entries(redis, ROBOT, call.call_id)) == 1, "the model hears it exactly once"
    second.send_signal(signal.SIGTERM)  # a clean stop finishes and acks what it holds
    assert await asyncio.to_thread(second.wait, 10) == 0
    assert (await redis.xpending(KEYS.tool_calls, "tool-executor"))["pending"] == 0


async def test_motion_call_during_an_outage_fails_fast_and_never_runs_late(
    redis: Redis, sim: RobotSimulator, robot_online: str, adapter: RosAdapter
) -> None:
    robot = adapter.robots[ROBOT]
    await sim.pause_bridge()
    await robot.link.wait_state(LinkState.DOWN, 5)
    started = time.monotonic()
    call = await add_tool_call(redis, ROBOT, "start_cleaning", '{"option":"TurnRight"}')
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert time.monotonic() - started < 1.0, "a command that cannot run fails at once"
    assert entry.outcome in (Outcome.REJECTED, Outcome.FAILED) and entry.speak is True
    assert entry.reason in ("robot_offline", "link_down")
    assert "Cleaning robot 1" in entry.text and "connect" in entry.text

    await asyncio.sleep(1.0)  # the outage lasts a few seconds in all
    await sim.resume_bridge()
    await asyncio.wait_for(robot.link_up_published.wait(), 10)
    await _prove_the_link_is_flowing(redis, sim)
    assert sim.ops("call_service", START) == [], "no late execution after the link returned"


async def test_adapter_refuses_a_command_on_a_dead_link_and_nothing_is_replayed(
    redis: Redis, sim: RobotSimulator, robot_online: str, adapter: RosAdapter
) -> None:
    """The adapter's own guard, below the executor's offline check: a command that
    reaches it while the link is down is answered link_down at once, and roslibpy's
    queue-and-replay never gets hold of it."""
    robot = adapter.robots[ROBOT]
    await sim.pause_bridge()
    await robot.link.wait_state(LinkState.DOWN, 5)
    command = RosCommand(
        call_id="call_direct_1",
        robot_id=ROBOT,
        tool="start_cleaning",
        kind=CommandKind.SERVICE,
        target=START,
        ros_type="cleaning_robot_interfaces/srv/StartCleaning",
        payload=json.dumps({"option": "TurnLeft"}),
        deadline=utc_now() + timedelta(seconds=30),
        timeout_s=5,
    )
    await redis.xadd(KEYS.commands, command.to_fields())  # type: ignore[arg-type]
    result = await _result_for(redis, command.call_id)
    assert result.status is CommandStatus.LINK_DOWN and result.sent_to_robot is False
    assert result.duration_ms < 100

    await sim.resume_bridge()
    await asyncio.wait_for(robot.link_up_published.wait(), 10)
    await _prove_the_link_is_flowing(redis, sim)
    assert sim.ops("call_service", START) == []


async def test_link_dropping_under_a_running_call_reports_unknown_at_once(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    sim.failures.slow_service["/robot_navigator/stop"] = 2.5
    call = await add_tool_call(redis, ROBOT, "stop_cleaning")
    await sim.wait_for_op("call_service", "/robot_navigator/stop")
    started = time.monotonic()
    await sim.drop_connections()
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert time.monotonic() - started < 1.0, "no waiting out the timeout for a reply that cannot come"
    assert entry.outcome is Outcome.UNKNOWN and entry.reason == "interrupted"
    assert "link dropped while the command was running" in entry.text


async def test_telemetry_subscriptions_are_restored_after_a_reconnect(
    redis: Redis, sim: RobotSimulator, robot_online: str, adapter: RosAdapter
) -> None:
    await sim.drop_connections()
    await adapter.robots[ROBOT].link.wait_state(LinkState.DOWN, 5)
    await adapter.robots[ROBOT].link.wait_state(LinkState.UP, 10)
    sim.robot.beacon = True
    await telemetry_seen(redis, "/digital_io/state", "beacon", "true")


async def _prove_the_link_is_flowing(redis: Redis, sim: RobotSimulator) -> None:
    """A fresh call goes through end to end. roslibpy replays its queue the moment
    the link is ready, so anything queued would have reached the robot before it."""
    probe = await add_tool_call(redis, ROBOT, "lower_vacuum_pads")
    entry = await wait_for_output(redis, ROBOT, probe.call_id)
    assert entry.outcome is Outcome.SUCCEEDED
    assert sim.ops("call_service", "/vacuum_pads/lower")


async def _result_for(redis: Redis, call_id: str) -> CommandResult:
    async with asyncio.timeout(5):
        last = "0"
        while True:
            reply: Any = await redis.xread({KEYS.command_results: last}, block=5000)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    if fields["call_id"] == call_id:
                        return CommandResult.from_fields(fields)
