"""The local stop word end to end: "emergency stop" spoken into a client's microphone over real
WebRTC reaches the simulated robot as its stop, through the gateway's spotter and the priority
path, with the emulator's own response withheld so the model cannot be the one stopping."""

from __future__ import annotations

import dataclasses

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertTransition
from robovox.shared.testing.streams import inbox_entries
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from robovox.sim.speech import SpeakingMicrophone, say, speech_tools

from .conftest import KEYS, ROBOT
from .test_clients import join
from .test_gateway import live_session

pytestmark = pytest.mark.skipif(speech_tools() is not None, reason=speech_tools() or "")


async def test_a_spoken_stop_over_webrtc_stops_the_robot_without_the_model(
    redis: Redis, sim: RobotSimulator, robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator,
    api: httpx2.AsyncClient,
) -> None:  # fmt: skip
    session = await live_session(gateway, emulator)
    session.input_audio.detection = dataclasses.replace(session.input_audio.detection, create_response=False)
    microphone = SpeakingMicrophone()
    client, _location = await join(api, microphone=microphone)
    try:
        me = await client.wait_for("robovox.client")
        assert me["you_hold_mic"]
        microphone.speak(say("start cleaning and turn right"))
        microphone.speak(say("emergency stop", voice="en-gb"))
        [op] = await sim.wait_for_op("publish", "/emergency_stop", timeout=20)
        assert microphone.ended is not None and op.mono_time - microphone.ended < 2.0
        assert sim.ops("call_service", "/start_cleaning") == [], "the model was never asked to do anything"
        [record] = [AlertTransition.from_fields(f) for _id, f in await redis.xrange(KEYS.alerts)]
        assert record.rule == "emergency_stop" and record.trigger == "stop_word"
        assert record.triggered_by.startswith("'emergency stop' score ") and record.triggered_by.endswith(
            f"on {me['client_id']}"
        )
        state = (await api.get(f"/v1/robots/{ROBOT}/emergency_stop")).json()
        assert state["stopped"] is True and state["state"]["trigger"] == "stop_word"
        told = await _told(redis)
        assert "stop_word" in told, told
        assert [t for t in session.speech_turns if t.response_id is not None] == [], "the emulator responded"
    finally:
        await client.close()


async def _told(redis: Redis) -> str:
    """The system message the executor puts in the inbox for the stop (awaited on the stream)."""
    for _ in range(100):
        entries = await inbox_entries(redis, ROBOT)
        texts = [e.model_dump_json() for e in entries if "emergency" in e.model_dump_json().lower()]
        if texts:
            return texts[0]
        await redis.xread({KEYS.inbox: "$"}, block=100)
    return ""
