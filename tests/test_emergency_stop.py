"""The emergency stop's priority path, against the real simulator and Redis: ahead of slow calls in
flight, sticky until a person resets it, through a rosbridge outage within its deadline and never
after it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis

from robovox.ros_adapter.service import RosAdapter
from robovox.shared.emergency import STOPPED_SENTENCE, EmergencyState, EmergencyStops
from robovox.shared.link import LinkState
from robovox.shared.messages import (
    AlertTransition,
    CommandStatus,
    EmergencyAction,
    EmergencyTrigger,
    InboxEntry,
    InboxKind,
    Outcome,
)
from robovox.shared.profile import RobotProfile, realtime_tools
from robovox.shared.testing.streams import add_tool_call, follow, inbox_entries, wait_for_output
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT

STOP_TOPIC = "/emergency_stop"
RELEASE = "/vacuum_pads/release"


async def until(check: Any, timeout_s: float = 5.0) -> None:
    """Await a condition on what another process writes (checked every 20 ms)."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - a hash written by another service: nothing to be notified by
            await asyncio.sleep(0.02)


async def latch(redis: Redis) -> EmergencyState | None:
    return await EmergencyStops(redis).state(KEYS)


async def system_message(redis: Redis, reason: str, timeout_s: float = 5.0) -> InboxEntry:
    async with asyncio.timeout(timeout_s):
        async for _id, fields in follow(redis, KEYS.inbox, after="0-0"):
            entry = InboxEntry.from_fields(fields)
            if entry.kind is InboxKind.SYSTEM_MESSAGE and entry.reason == reason:
                return entry
    raise AssertionError("unreachable")


async def stop(redis: Redis, profile: RobotProfile, who: str = "test") -> str:
    request = await EmergencyStops(redis).trigger(profile, EmergencyAction.STOP, EmergencyTrigger.API, who)
    return request.stop_id


async def test_the_stop_overtakes_16_slow_calls_in_flight(
    redis: Redis, sim: RobotSimulator, profile: RobotProfile, robot_online: str
) -> None:
    sim.failures.slow_service[RELEASE] = 3.0
    calls = [await add_tool_call(redis, ROBOT, "release_vacuum") for _ in range(16)]
    await sim.wait_for_op("call_service", RELEASE, count=16)  # every executor and adapter slot is taken
    began = time.perf_counter()
    await stop(redis, profile)
    [op] = await sim.wait_for_op("publish", STOP_TOPIC, timeout=2)
    waited_ms = (op.mono_time - began) * 1000
    assert waited_ms < 250, f"the stop took {waited_ms:.0f} ms behind 16 slow calls"
    assert op.message["msg"] == {"data": True}
    for call in calls:
        assert await inbox_entries(redis, ROBOT, call.call_id) == [], "a slow call ended before the stop"
    assert sim.robot.status == "emergency_stop"
    notice = await system_message(redis, "emergency_stop")
    assert notice.speak and STOPPED_SENTENCE in notice.text

    async def confirmed() -> bool:
        state = await latch(redis)
        return state is not None and state.result == CommandStatus.SUCCEEDED.value

    await until(confirmed)  # the profile's confirm saw /robot_navigator/status say emergency_stop


async def test_after_a_stop_start_cleaning_is_refused_with_the_sentence_until_a_reset(
    redis: Redis, sim: RobotSimulator, profile: RobotProfile, robot_online: str
) -> None:
    await stop(redis, profile)
    await sim.wait_for_op("publish", STOP_TOPIC)
    refused = await add_tool_call(redis, ROBOT, "start_cleaning", {"option": "TurnLeft"})
    entry = await wait_for_output(redis, ROBOT, refused.call_id)
    assert entry.outcome is Outcome.REJECTED and entry.reason == "emergency_stopped"
    assert entry.text.startswith(STOPPED_SENTENCE)
    assert sim.ops("call_service", "/robot_navigator/start_cleaning") == []
    stopped = await add_tool_call(redis, ROBOT, "stop_cleaning")  # not motion: still allowed
    assert (await wait_for_output(redis, ROBOT, stopped.call_id)).outcome is Outcome.SUCCEEDED

    await EmergencyStops(redis).trigger(profile, EmergencyAction.RESET, EmergencyTrigger.API, "a person")
    await sim.wait_for_op("call_service", "/emergency_stop/reset")
    assert (await system_message(redis, "emergency_reset")).speak is False
    again = await add_tool_call(redis, ROBOT, "start_cleaning", {"option": "TurnLeft"})
    assert (await wait_for_output(redis, ROBOT, again.call_id)).outcome is Outcome.SUCCEEDED
    assert sim.robot.status == "cleaning"

    async def reset_recorded() -> bool:
        state = await latch(redis)
        return state is not None and (state.reset_result or "").startswith("succeeded")

    await until(reset_recorded)
    records = [AlertTransition.from_fields(f) for _id, f in await redis.xrange(KEYS.alerts)]
    assert [(r.rule, r.trigger, r.triggered_by) for r in records] == [
        ("emergency_stop", "api", "test"),
        ("emergency_reset", "api", "a person"),
    ]


def test_the_reset_is_not_a_tool_the_model_can_call(profile: RobotProfile) -> None:
    names = [tool["name"] for tool in realtime_tools(profile)]
    assert profile.emergency_stop is not None and profile.emergency_stop.tool in names
    assert profile.emergency_stop.reset is not None
    assert not [name for name in names if "reset" in name]
    rendered = str(realtime_tools(profile))
    assert "/emergency_stop/reset" not in rendered


async def test_the_models_stop_call_takes_the_priority_path(
    redis: Redis, sim: RobotSimulator, robot_online: str
) -> None:
    call = await add_tool_call(redis, ROBOT, "emergency_stop", '{"anything": "goes"}')
    entry = await wait_for_output(redis, ROBOT, call.call_id)
    assert entry.outcome is Outcome.SUCCEEDED, entry.text
    assert len(sim.ops("publish", STOP_TOPIC)) == 1
    state = await latch(redis)
    assert state is not None and state.stopped and state.trigger is EmergencyTrigger.MODEL
    assert (await system_message(redis, "emergency_stop")).speak is False, "the model hears its own call's output"
    [record] = [AlertTransition.from_fields(f) for _id, f in await redis.xrange(KEYS.alerts)]
    assert record.triggered_by == f"call {call.call_id}" and record.stop_id == call.call_id


async def _outage(sim: RobotSimulator, adapter: RosAdapter) -> None:
    await sim.pause_bridge()
    link = adapter.robots[ROBOT].link
    await until(lambda: _is(link.state is not LinkState.UP))


async def _is(value: bool) -> bool:
    return value


async def test_a_stop_during_an_outage_goes_out_within_100_ms_of_the_link_returning(
    redis: Redis, sim: RobotSimulator, profile: RobotProfile, adapter: RosAdapter, robot_online: str
) -> None:
    await _outage(sim, adapter)
    await stop(redis, profile)
    await system_message(redis, "emergency_stop")  # on the priority path, and the link still down
    assert sim.ops("publish", STOP_TOPIC) == []
    await sim.resume_bridge()
    [op] = await sim.wait_for_op("publish", STOP_TOPIC, timeout=5)
    returned = min(o.mono_time for o in sim.ops() if o.conn == op.conn)  # the new link's first op
    after_ms = (op.mono_time - returned) * 1000
    assert after_ms < 100, f"the stop went out {after_ms:.0f} ms after the link returned"
    assert sim.robot.status == "emergency_stop"


async def test_a_stop_whose_deadline_passes_in_the_outage_is_never_sent(
    redis: Redis, sim: RobotSimulator, profile: RobotProfile, adapter: RosAdapter, robot_online: str
) -> None:
    assert profile.emergency_stop is not None
    short = profile.model_copy(update={"emergency_stop": profile.emergency_stop.model_copy(update={"deadline_s": 0.3})})
    await _outage(sim, adapter)
    await stop(redis, short)

    async def given_up() -> bool:
        state = await latch(redis)
        return state is not None and state.result == CommandStatus.EXPIRED.value

    await until(given_up)
    await sim.resume_bridge()
    await asyncio.wait_for(adapter.robots[ROBOT].link_up_published.wait(), 10)
    follow_up = await add_tool_call(redis, ROBOT, "stop_cleaning")  # a command on the new link: it is open
    assert (await wait_for_output(redis, ROBOT, follow_up.call_id)).outcome is Outcome.SUCCEEDED
    assert sim.ops("publish", STOP_TOPIC) == [], "a stop went out after its deadline"
    state = await latch(redis)
    assert state is not None and state.stopped, "the latch holds: nobody reset it"


async def test_a_stop_written_into_a_stalled_bridge_is_claimed_only_once_a_bridge_read_it(
    redis: Redis, sim: RobotSimulator, profile: RobotProfile, adapter: RosAdapter, robot_online: str
) -> None:
    """A stop is written without the ping other commands wait for: into a bridge that stopped
    reading it goes at once, and its outcome waits for a bridge that shows it read one."""
    link = adapter.robots[ROBOT].link
    sim.freeze()  # as SIGSTOP: the link still looks up until a ping goes unanswered
    await stop(redis, profile)
    await until(lambda: _is(link.state is not LinkState.UP))  # the stop's own ping found the stall
    state = await latch(redis)
    assert state is not None and state.stopped and state.result is None, "nothing is claimed of a stalled bridge"
    sim.thaw()

    # Written again on the new link, and read there. The profile's stop has a confirm: the robot's
    # status, on a subscription sent again as the new link comes up, within a second; on a busy
    # machine it can miss that second, and "unconfirmed" (sent, not seen) is as truthful an answer.
    read = {CommandStatus.SUCCEEDED.value, CommandStatus.UNCONFIRMED.value}

    async def answered() -> bool:
        state = await latch(redis)
        return state is not None and state.result in read

    await until(answered, timeout_s=10)
    assert sim.ops("publish", STOP_TOPIC), "the simulator got the stop"
    assert sim.robot.status == "emergency_stop"
