"""The session gateway end to end: text to the robot's session over real WebRTC
(the Realtime emulator), a function call through the executor and the ROS
adapter to the simulator, and the outcome back into the conversation."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.messages import ToolCall
from robovox.sim.realtime import EmulatedSession, RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS, ROBOT, telemetry_seen


def is_output(call_id: str | None = None) -> Any:
    def check(event: dict[str, Any]) -> bool:
        item = event["item"]
        return bool(item["type"] == "function_call_output" and (call_id is None or item["call_id"] == call_id))

    return check


def is_user_text(text: str) -> Any:
    def check(event: dict[str, Any]) -> bool:
        item = event["item"]
        return bool(item.get("role") == "user" and item["content"][0].get("text") == text)

    return check


async def say(api: httpx2.AsyncClient, text: str) -> None:
    reply = await api.post(f"/v1/robots/{ROBOT}/messages", json={"text": text})
    assert reply.status_code == 202, reply.text


async def live_session(gateway: SessionGateway, emulator: RealtimeEmulator, index: int = 0) -> EmulatedSession:
    session = await emulator.wait_for_session(index)
    await gateway.robots[ROBOT].wait_live()
    return session


async def tool_calls(redis: Redis) -> list[ToolCall]:
    raw: Any = await redis.xrange(KEYS.tool_calls)
    return [ToolCall.from_fields(fields) for _id, fields in raw]


async def test_start_cleaning_turn_right_runs_on_the_robot_and_nothing_is_spoken(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient,
    sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    session = await live_session(gateway, emulator)
    await say(api, "start cleaning, turn right")

    done = await session.wait_for_server_event("response.output_item.done")
    assert done["item"]["name"] == "start_cleaning"
    assert json.loads(done["item"]["arguments"]) == {"option": "TurnRight"}
    (ran,) = await sim.wait_for_op("call_service", "/robot_navigator/start_cleaning", timeout=10)
    assert ran.message["args"]["option"] == "TurnRight"

    output = await session.wait_for_client_event("conversation.item.create", is_output(done["item"]["call_id"]))
    after_output = session.received.index(output)
    # Nothing is spoken: the next thing the session gets is the next message, not a response.create.
    await say(api, "thank you")
    thanks = await session.wait_for_client_event("conversation.item.create", is_user_text("thank you"))
    between = session.received[after_output + 1 : session.received.index(thanks)]
    assert [e["type"] for e in between if e["type"] == "response.create"] == []

    (call,) = await tool_calls(redis)
    assert call.call_id == done["item"]["call_id"] and call.session_id == session.session_id


async def test_with_the_pads_down_the_model_hears_the_precondition_and_is_asked_to_speak(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient,
    sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    sim.robot.vacuum_pads = "down"
    await telemetry_seen(redis, "/vacuum_pads/state", "data", "down")
    session = await live_session(gateway, emulator)
    await say(api, "start cleaning, turn right")

    output = await session.wait_for_client_event("conversation.item.create", is_output())
    assert output["item"]["output"].startswith(
        "I failed to start cleaning. Please make sure the vacuum pads are raised."
    )
    after_output = session.received.index(output)
    speak = await session.wait_for_client_event("response.create", after=after_output)
    assert "instructions" in speak["response"]
    assert sim.ops("call_service", "/robot_navigator/start_cleaning") == []
