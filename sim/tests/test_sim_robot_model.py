"""The robot model and ops log in isolation (fake clock, no network)."""

from __future__ import annotations

import asyncio
import math

import pytest

from robovox.sim.robot import CleaningRobot, RobotConfig, RobotSimulator
from robovox.sim.robot.opslog import OpsLog


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def make_robot(**config: object) -> tuple[CleaningRobot, FakeClock]:
    clock = FakeClock()
    return CleaningRobot(clock, RobotConfig(**config)), clock  # type: ignore[arg-type]


def test_battery_drains_faster_while_cleaning() -> None:
    robot, clock = make_robot(idle_drain_v_per_min=0.5, cleaning_drain_v_per_min=2.0)
    assert robot.battery_voltage == 25.2
    clock.t = 60.0
    assert robot.battery_voltage == pytest.approx(24.7)
    assert robot.start_cleaning("TurnLeft").success
    clock.t = 120.0
    assert robot.battery_voltage == pytest.approx(22.7)
    robot.stop()
    clock.t = 180.0
    assert robot.battery_voltage == pytest.approx(22.2)


def test_seconds_until_voltage_is_the_true_time_to_threshold() -> None:
    robot, clock = make_robot(idle_drain_v_per_min=0.6, cleaning_drain_v_per_min=1.2)
    assert robot.seconds_until_voltage(25.2 - 0.6) == pytest.approx(60.0)
    robot.start_cleaning("TurnRight")
    assert robot.seconds_until_voltage(25.2 - 0.6) == pytest.approx(30.0)
    clock.t = 30.0
    assert robot.seconds_until_voltage(25.2 - 0.6) == pytest.approx(0.0)
    assert robot.seconds_until_voltage(30.0) == 0.0
    robot.battery_voltage = 24.0
    assert robot.seconds_until_voltage(23.0) == pytest.approx(50.0)
    idle, _ = make_robot(idle_drain_v_per_min=0.0)
    assert idle.seconds_until_voltage(20.0) == math.inf


def test_voltage_noise_is_reproducible_with_a_seed() -> None:
    a, _ = make_robot(voltage_noise_std=0.05, seed=7)
    b, _ = make_robot(voltage_noise_std=0.05, seed=7)
    readings_a = [a.message_for("/battery/voltage")["data"] for _ in range(20)]
    readings_b = [b.message_for("/battery/voltage")["data"] for _ in range(20)]
    assert readings_a == readings_b
    assert len(set(readings_a)) == 20
    assert abs(sum(readings_a) / 20 - 25.2) < 0.05
    quiet, _ = make_robot()
    assert quiet.message_for("/battery/voltage") == {"data": 25.2}


def test_listeners_hear_each_changed_topic() -> None:
    robot, _ = make_robot()
    changed: list[str] = []
    robot.add_listener(changed.append)
    robot.lower_pads()
    assert changed == ["/vacuum_pads/state", "/digital_io/state"]
    changed.clear()
    robot.camera_led = True
    robot.camera_led = True  # no change, no notification
    assert changed == ["/digital_io/state"]
    assert robot.io.camera_led and robot.io.vacuum_pump and not robot.io.beacon


def test_emergency_stop_latches_until_reset() -> None:
    robot, _ = make_robot()
    robot.start_cleaning("TurnLeft")
    robot.emergency_stop = True
    assert robot.status == "emergency_stop" and robot.cleaning_option is None
    assert not robot.start_cleaning("TurnLeft").success
    assert robot.stop().success and robot.status == "emergency_stop"
    assert robot.reset_emergency_stop().success
    assert robot.status == "idle"
    assert robot.reset_emergency_stop().message == "Emergency stop was not active"


def test_pads_cannot_be_lowered_while_cleaning() -> None:
    robot, _ = make_robot()
    robot.start_cleaning("TurnLeft")
    result = robot.lower_pads()
    assert not result.success and "cleaning" in result.message
    assert robot.vacuum_pads == "up"


def test_move_goal_interpolates_and_can_be_preempted() -> None:
    robot, clock = make_robot(move_duration_s=4.0)
    first = robot.begin_move("rear_left")
    assert robot.status == "moving"
    clock.t = 2.0
    assert first.distance_remaining(clock.t) == pytest.approx(1.25)
    second = robot.begin_move("rear_right")
    assert first.outcome == "aborted" and first.message == "Preempted by a new goal"
    assert second.start == pytest.approx((1.0, 0.75))
    clock.t = 6.0
    robot.complete_move(second)
    assert robot.position == (4.0, 0.0) and robot.status == "idle"


def test_invalid_status_value_is_rejected() -> None:
    robot, _ = make_robot()
    with pytest.raises(ValueError):
        robot.status = "dancing"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        robot.vacuum_pads = "sideways"  # type: ignore[assignment]


async def test_wait_for_op_wakes_on_append_and_times_out() -> None:
    log = OpsLog()
    waiter = asyncio.ensure_future(log.wait_for("publish", "/a", count=2, timeout=2))
    await asyncio.sleep(0)
    log.append(1, {"op": "publish", "topic": "/a"})
    log.append(1, {"op": "publish", "topic": "/b"})
    await asyncio.sleep(0)
    assert not waiter.done()
    log.append(2, {"op": "publish", "topic": "/a"})
    records = await waiter
    assert [r.conn for r in records] == [1, 2]
    assert log.query(name="/b")[0].op == "publish"
    with pytest.raises(TimeoutError, match="got 0"):
        await log.wait_for("subscribe", timeout=0.01)
    log.clear()
    assert log.query() == []


async def test_simulator_restarts_on_same_port_and_as_context_manager() -> None:
    async with RobotSimulator(port=0) as sim:
        port = sim.port
        assert port > 0
        await sim.pause_bridge()
        await sim.pause_bridge()  # idempotent
        await sim.resume_bridge()
        assert sim.port == port
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
