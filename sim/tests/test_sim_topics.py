"""Published/subscribed topics through a real roslibpy client."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
import roslibpy

from robovox.sim.robot import RobotConfig, RobotSimulator

FAST_DRAIN = RobotConfig(idle_drain_v_per_min=6.0, cleaning_drain_v_per_min=30.0)


@pytest.mark.parametrize("robot_config", [FAST_DRAIN])
async def test_battery_voltage_arrives_at_the_throttled_rate_and_falls(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any
) -> None:
    inbox = new_inbox()
    topic = roslibpy.Topic(ros, "/battery/voltage", "std_msgs/msg/Float32", throttle_rate=300)
    topic.subscribe(inbox)

    samples = [await inbox.get_stamped() for _ in range(6)]
    topic.unsubscribe()

    [sub] = sim.ops("subscribe", "/battery/voltage")
    assert sub.message["throttle_rate"] == 300
    stamps = [t for t, _ in samples]
    values = [m["data"] for _, m in samples]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # 10 Hz source throttled to >= 300 ms: each gap is 300-400 ms (plus client jitter).
    assert min(gaps) > 0.25, gaps
    assert max(gaps) < 0.6, gaps
    assert all(b < a for a, b in itertools.pairwise(values)), values
    assert values[0] <= 25.2
    # 6 V/min idle drain = 0.1 V/s.
    slope = (values[0] - values[-1]) / (stamps[-1] - stamps[0])
    assert slope == pytest.approx(0.1, rel=0.15)


async def test_unthrottled_battery_topic_runs_at_battery_rate(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any
) -> None:
    inbox = new_inbox()
    roslibpy.Topic(ros, "/battery/voltage", "std_msgs/msg/Float32").subscribe(inbox)
    first, _ = await inbox.get_stamped()
    for _ in range(10):
        last, _ = await inbox.get_stamped()
    rate = 10 / (last - first)
    assert 7.0 < rate < 13.0, rate


@pytest.mark.parametrize("sim_options", [{"time_scale": 60.0}])
async def test_time_scale_speeds_up_battery_drain(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    # 0.02 V per sim minute idle; at 60x that is 0.02 V per real second.
    v0 = sim.robot.battery_voltage
    assert sim.wall_seconds_until_voltage(v0 - 0.02) == pytest.approx(1.0, rel=0.01)
    inbox = new_inbox()
    roslibpy.Topic(ros, "/battery/voltage", "std_msgs/msg/Float32", throttle_rate=100).subscribe(inbox)
    t0, first = await inbox.get_stamped()
    for _ in range(5):
        t1, last = await inbox.get_stamped()
    slope = (first["data"] - last["data"]) / (t1 - t0)
    assert slope == pytest.approx(0.02, rel=0.25)


async def test_emergency_stop_publish_latches_and_halts_cleaning(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any, call_service: Any
) -> None:
    statuses = new_inbox()
    roslibpy.Topic(ros, "/robot_navigator/status", "std_msgs/msg/String").subscribe(statuses)
    ok, values = await call_service(
        ros, "/robot_navigator/start_cleaning", "cleaning_robot_interfaces/srv/StartCleaning", {"option": "TurnLeft"}
    )
    assert ok and values["success"]
    await statuses.wait_for(lambda m: m["data"] == "cleaning")

    roslibpy.Topic(ros, "/emergency_stop", "std_msgs/msg/Bool").publish(roslibpy.Message({"data": True}))
    await statuses.wait_for(lambda m: m["data"] == "emergency_stop")
    assert sim.robot.emergency_stop is True
    assert sim.robot.io.brush_motor is False
    [published] = sim.ops("publish", "/emergency_stop")
    assert published.message["msg"] == {"data": True}

    ok, values = await call_service(
        ros, "/robot_navigator/start_cleaning", "cleaning_robot_interfaces/srv/StartCleaning", {"option": "TurnLeft"}
    )
    assert ok and values["success"] is False
    assert "emergency stop" in values["message"].lower()

    ok, values = await call_service(ros, "/emergency_stop/reset", "std_srvs/srv/Trigger")
    assert ok and values["success"] is True
    await statuses.wait_for(lambda m: m["data"] == "idle")
    assert sim.robot.emergency_stop is False


async def test_state_topics_publish_immediately_on_change(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any
) -> None:
    pads, io = new_inbox(), new_inbox()
    roslibpy.Topic(ros, "/vacuum_pads/state", "std_msgs/msg/String").subscribe(pads)
    roslibpy.Topic(ros, "/digital_io/state", "cleaning_robot_interfaces/msg/DigitalIO").subscribe(io)
    assert (await pads.get())["data"] == "up"
    first_io = await io.get()
    assert first_io == {"camera_led": False, "beacon": False, "brush_motor": False, "vacuum_pump": False}

    # Changes right after a periodic (2 Hz) publish must arrive well before the next one.
    changed = time.monotonic()
    sim.robot.vacuum_pads = "down"
    sim.robot.camera_led = True
    sim.robot.beacon = True
    assert (await pads.wait_for(lambda m: m["data"] == "down"))["data"] == "down"
    latest: dict[str, Any] = await io.wait_for(lambda m: m["camera_led"] and m["beacon"])
    assert time.monotonic() - changed < 0.4
    assert latest == {"camera_led": True, "beacon": True, "brush_motor": False, "vacuum_pump": True}


async def test_ros1_type_names_are_accepted(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    inbox = new_inbox()
    roslibpy.Topic(ros, "/battery/voltage", "std_msgs/Float32").subscribe(inbox)
    assert isinstance((await inbox.get())["data"], float)

    roslibpy.Topic(ros, "/emergency_stop", "std_msgs/Bool").publish(roslibpy.Message({"data": True}))
    await sim.wait_for_op("publish", "/emergency_stop")
    assert sim.robot.status == "emergency_stop"
    assert sim.topics()["/emergency_stop"] == "std_msgs/msg/Bool"


async def test_client_topics_are_relayed_between_clients(
    sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any
) -> None:
    inbox = new_inbox()
    roslibpy.Topic(ros, "/voice/transcript", "std_msgs/String").subscribe(inbox)
    await sim.wait_for_op("subscribe", "/voice/transcript")
    assert sim.topics()["/voice/transcript"] == "std_msgs/msg/String"

    assert sim.publish("/voice/transcript", {"data": "start cleaning"}) == 1
    assert await inbox.get() == {"data": "start cleaning"}

    roslibpy.Topic(ros, "/voice/transcript", "std_msgs/String").publish(roslibpy.Message({"data": "hi"}))
    assert await inbox.get() == {"data": "hi"}


async def test_unsubscribe_stops_delivery(sim: RobotSimulator, ros: roslibpy.Ros, new_inbox: Any) -> None:
    inbox = new_inbox()
    topic = roslibpy.Topic(ros, "/battery/voltage", "std_msgs/msg/Float32")
    topic.subscribe(inbox)
    await inbox.get()
    topic.unsubscribe()
    await sim.wait_for_op("unsubscribe", "/battery/voltage")
    inbox.drain()
    assert sim.publish("/battery/voltage", {"data": 1.0}) == 0
