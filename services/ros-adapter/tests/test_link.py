"""The rosbridge link on its own, against the simulator over a real websocket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from robovox.ros_adapter.errors import CommandNotSentError
from robovox.ros_adapter.link import RosbridgeLink, configure_reconnect
from robovox.ros_adapter.link.actions import Ros2ActionGoals
from robovox.shared.link import LinkState
from robovox.sim.robot import RobotSimulator

TRIGGER = "std_srvs/srv/Trigger"
MOVE = "/robot_navigator/move_to_corner"


@pytest.fixture
async def sim() -> AsyncIterator[RobotSimulator]:
    simulator = RobotSimulator(port=0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def link(sim: RobotSimulator) -> AsyncIterator[RosbridgeLink]:
    configure_reconnect(0.1, 0.5)
    robot_link = RosbridgeLink("r1", sim.url)
    robot_link.start()
    await robot_link.wait_state(LinkState.UP, 10)
    yield robot_link
    await robot_link.close()


async def test_service_call_returns_the_robots_reply(link: RosbridgeLink, sim: RobotSimulator) -> None:
    reply = await link.call_service("/vacuum_pads/lower", TRIGGER, {}, deadline=time.time() + 5, timeout_s=5)
    assert reply.ok and reply.values["success"] is True
    [op] = sim.ops("call_service", "/vacuum_pads/lower")
    assert op.message["type"] == TRIGGER


async def test_command_past_its_deadline_is_never_sent(link: RosbridgeLink, sim: RobotSimulator) -> None:
    with pytest.raises(CommandNotSentError, match="deadline passed") as err:
        await link.call_service("/vacuum_pads/lower", TRIGGER, {}, deadline=time.time() - 0.5, timeout_s=5)
    assert err.value.reason == "expired"
    assert sim.ops("call_service") == []


async def test_command_on_a_dead_link_fails_at_once_and_is_not_replayed(
    link: RosbridgeLink, sim: RobotSimulator
) -> None:
    await sim.pause_bridge()
    await link.wait_state(LinkState.DOWN, 5)
    started = time.monotonic()
    with pytest.raises(CommandNotSentError, match="link is down"):
        await link.call_service("/vacuum_pads/lower", TRIGGER, {}, deadline=time.time() + 60, timeout_s=5)
    assert time.monotonic() - started < 0.1
    await sim.resume_bridge()
    await link.wait_state(LinkState.UP, 10)
    await link.call_service("/robot_navigator/stop", TRIGGER, {}, deadline=time.time() + 5, timeout_s=5)
    assert [op.name for op in sim.ops("call_service")] == ["/robot_navigator/stop"]


async def test_action_that_overruns_its_timeout_is_cancelled(link: RosbridgeLink, sim: RobotSimulator) -> None:
    feedback: list[dict[str, object]] = []
    with pytest.raises(TimeoutError):
        await Ros2ActionGoals(link).send_goal(
            MOVE,
            "cleaning_robot_interfaces/action/MoveToCorner",
            {"corner": "front_left"},
            deadline=time.time() + 5,
            timeout_s=0.5,
            on_feedback=feedback.append,
        )
    [goal] = sim.ops("send_action_goal", MOVE)
    [cancel] = await sim.wait_for_op("cancel_action_goal", MOVE)
    assert cancel.message["id"] == goal.message["id"]
    assert feedback and "distance_remaining" in feedback[0]


async def test_topic_is_advertised_once_per_connection(link: RosbridgeLink, sim: RobotSimulator) -> None:
    for _ in range(2):
        await link.publish("/emergency_stop", "std_msgs/msg/Bool", {"data": False}, deadline=time.time() + 5)
    await sim.wait_for_op("publish", "/emergency_stop", count=2)
    assert len(sim.ops("advertise", "/emergency_stop")) == 1
    await sim.drop_connections()
    await link.wait_state(LinkState.DOWN, 5)
    await link.wait_state(LinkState.UP, 10)
    await link.publish("/emergency_stop", "std_msgs/msg/Bool", {"data": False}, deadline=time.time() + 5)
    await sim.wait_for_op("publish", "/emergency_stop", count=3)
    assert len(sim.ops("advertise", "/emergency_stop")) == 2


async def test_reconnect_backoff_is_bounded(link: RosbridgeLink, sim: RobotSimulator) -> None:
    await sim.pause_bridge()
    await link.wait_state(LinkState.DOWN, 5)
    await asyncio.sleep(2.0)  # several failed attempts: the delay must not have grown past 0.5 s
    await sim.resume_bridge()
    started = time.monotonic()
    await link.wait_state(LinkState.UP, 5)
    assert time.monotonic() - started < 1.0


async def test_half_open_link_is_found_dead_by_pings(sim: RobotSimulator) -> None:
    configure_reconnect(5.0, 5.0)  # no reconnect during the test: it is about detection
    link = RosbridgeLink("r1", sim.url, ping_interval_s=0.3, ping_timeout_s=0.5)
    link.start()
    try:
        await link.wait_state(LinkState.UP, 10)
        sim.freeze_connections()
        started = time.monotonic()
        await link.wait_state(LinkState.DOWN, 5)
        assert time.monotonic() - started < 1.5, "found within ping interval + timeout"
        with pytest.raises(CommandNotSentError, match="link is down"):
            await link.call_service("/robot_navigator/stop", TRIGGER, {}, deadline=time.time() + 5, timeout_s=1)
    finally:
        await link.close()


async def test_subscriptions_are_sent_again_at_once_on_a_new_connection(
    link: RosbridgeLink, sim: RobotSimulator
) -> None:
    """roslibpy sends a subscription again one second after a close; the link sends it as soon as the
    new connection is up, so telemetry (and a stop's confirm) does not wait that second."""
    ups: list[float] = []
    link.on_state(lambda state: ups.append(time.monotonic()) if state is LinkState.UP else None)
    link.subscribe("/battery/voltage", "std_msgs/msg/Float32", 0, lambda _msg: None)
    [first] = await sim.wait_for_op("subscribe", "/battery/voltage", timeout=5)
    await sim.drop_connections()
    ops = await sim.wait_for_op("subscribe", "/battery/voltage", count=2, timeout=5)
    again = ops[1]
    assert again.conn != first.conn and ups, "a new connection, and the link saw it up"
    late_ms = (again.mono_time - ups[-1]) * 1000  # the simulator runs here: one clock
    assert late_ms < 100, f"subscribed again {late_ms:.0f} ms after the new connection was up"
    await asyncio.sleep(1.5)  # roslibpy's own timer would have sent it a second time by now
    assert len(sim.ops("subscribe", "/battery/voltage")) == 2, "subscribed once per connection"
