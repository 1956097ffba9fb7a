"""Robot services called through a real roslibpy client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import roslibpy
from roslibpy.core import ServiceException

from robovox.sim.robot import RobotSimulator

START = "/robot_navigator/start_cleaning"
START_TYPE = "cleaning_robot_interfaces/srv/StartCleaning"
TRIGGER = "std_srvs/srv/Trigger"


async def test_start_cleaning_succeeds_and_is_recorded_in_ops_log(sim: RobotSimulator, ros: roslibpy.Ros) -> None:
    before_wall, before_mono = time.time(), time.perf_counter()
    service = roslibpy.Service(ros, START, START_TYPE)
    response = await asyncio.to_thread(service.call, roslibpy.ServiceRequest({"option": "TurnLeft"}), timeout=5)

    assert response["success"] is True
    assert "TurnLeft" in response["message"]
    assert sim.robot.status == "cleaning"
    assert sim.robot.io.brush_motor is True

    [record] = sim.ops("call_service", START)
    assert record.conn == sim.clients[0].conn
    assert record.message["args"] == {"option": "TurnLeft"}
    assert record.message["id"].startswith("call_service:")
    assert before_wall <= record.wall_time <= time.time()
    assert before_mono <= record.mono_time <= time.perf_counter()
    assert sim.ops("subscribe") == []


async def test_start_cleaning_is_refused_while_vacuum_pads_are_down(
    sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any
) -> None:
    ok, values = await call_service(ros, "/vacuum_pads/lower", TRIGGER)
    assert ok and values["success"] is True
    assert sim.robot.vacuum_pads == "down"
    assert sim.robot.io.vacuum_pump is True

    ok, values = await call_service(ros, START, START_TYPE, {"option": "TurnRight"})
    assert ok, "a refusal is a successful call with success=false"
    assert values["success"] is False
    assert "pads" in values["message"].lower()
    assert sim.robot.status == "idle"

    ok, values = await call_service(ros, "/vacuum_pads/release", TRIGGER)
    assert ok and values["success"] is True
    assert sim.robot.vacuum_pads == "up"
    ok, values = await call_service(ros, START, START_TYPE, {"option": "TurnRight"})
    assert values["success"] is True


async def test_start_cleaning_rejects_an_invalid_option(
    sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any
) -> None:
    ok, values = await call_service(ros, START, START_TYPE, {"option": "Sideways"})
    assert ok
    assert values == {"success": False, "message": values["message"]}
    assert "Sideways" in values["message"]
    assert sim.robot.status == "idle"


async def test_stop_returns_the_robot_to_idle(sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any) -> None:
    await call_service(ros, START, START_TYPE, {"option": "TurnLeft"})
    ok, values = await call_service(ros, "/robot_navigator/stop", TRIGGER)
    assert ok and values["success"] is True
    assert sim.robot.status == "idle"
    assert sim.robot.io.brush_motor is False


async def test_unknown_service_calls_the_errback(sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any) -> None:
    ok, error = await call_service(ros, "/no/such/service", TRIGGER)
    assert ok is False
    assert error == "Service /no/such/service does not exist"
    [record] = await sim.wait_for_op("call_service", "/no/such/service")
    assert record.op == "call_service"


async def test_injected_service_error_fails_the_call(sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any) -> None:
    sim.failures.service_error[START] = "navigator crashed"

    ok, error = await call_service(ros, START, START_TYPE, {"option": "TurnLeft"})
    assert (ok, error) == (False, "navigator crashed")
    assert sim.robot.status == "idle", "a failing service must not run"

    service = roslibpy.Service(ros, START, START_TYPE)
    with pytest.raises(ServiceException, match="navigator crashed"):
        await asyncio.to_thread(service.call, roslibpy.ServiceRequest({"option": "TurnLeft"}), timeout=5)

    del sim.failures.service_error[START]
    ok, values = await call_service(ros, START, START_TYPE, {"option": "TurnLeft"})
    assert ok and values["success"] is True


async def test_slow_service_delays_the_response_without_blocking_others(
    sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any
) -> None:
    sim.failures.slow_service["/vacuum_pads/lower"] = 0.5
    start = time.monotonic()
    slow = asyncio.ensure_future(call_service(ros, "/vacuum_pads/lower", TRIGGER))
    await sim.wait_for_op("call_service", "/vacuum_pads/lower")

    ok, values = await call_service(ros, "/rosapi/topics", "rosapi_msgs/srv/Topics")
    assert ok and "/battery/voltage" in values["topics"]
    assert not slow.done(), "the fast call overtook the slow one"

    ok, values = await slow
    elapsed = time.monotonic() - start
    assert ok and values["success"] is True
    assert 0.45 <= elapsed < 3.0
    assert sim.robot.vacuum_pads == "down"


async def test_bad_request_fields_fail_like_rosbridge(
    sim: RobotSimulator, ros: roslibpy.Ros, call_service: Any
) -> None:
    ok, error = await call_service(ros, START, START_TYPE, {"direction": "TurnLeft"})
    assert ok is False
    assert "does not have a field direction" in error
    ok, error = await call_service(ros, START, START_TYPE, {"option": 3})
    assert ok is False
    assert "expected string" in error
