"""One response at a time: results that arrive while the robot speaks wait for
its response.done; urgent notices cut it off."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.gateway.realtime.sequencer import REQUEST_METADATA_KEY
from robovox.gateway.service import SessionGateway
from robovox.shared.messages import InboxEntry, InboxKind, Urgency
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS, ROBOT
from tests.test_gateway import is_output, is_user_text, live_session, say

START = "/robot_navigator/start_cleaning"
LONG_QUESTION = "tell me how the floor of the whole hall looks today after all the cleaning"
CRITICAL = "CRITICAL WARNING! Respond with maximum urgency and severity."


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"seconds_per_word": 0.25}


def errors(sent: list[dict[str, Any]]) -> list[str]:
    return [e["error"]["code"] for e in sent if e["type"] == "error"]


async def test_a_result_arriving_while_the_robot_speaks_is_answered_after_response_done(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient,
    sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    session = await live_session(gateway, emulator)
    sim.failures.slow_service[START] = 0.5
    sim.failures.service_error[START] = "brush jammed"
    await say(api, "start cleaning, turn right")
    call_done = await session.wait_for_server_event("response.output_item.done")
    call = call_done["item"]
    await session.wait_for_server_event("response.done")
    await say(api, LONG_QUESTION)  # a reply of several seconds
    question = await session.wait_for_client_event("conversation.item.create", is_user_text(LONG_QUESTION))
    reply = await session.wait_for_server_event(
        "response.created", lambda e: e["response"]["id"] != call_done["response_id"]
    )

    output = await session.wait_for_client_event("conversation.item.create", is_output(call["call_id"]))
    assert session.active_response_id == reply["response"]["id"], "the result must arrive while the reply runs"
    assert session.received.index(output) > session.received.index(question)

    speak = await session.wait_for_client_event("response.create", after=session.received.index(output))
    answered = await session.wait_for_server_event(
        "response.created",
        lambda e: (e["response"].get("metadata") or {}).get(REQUEST_METADATA_KEY) == speak["event_id"],
    )
    done = [e["response"]["id"] for e in session.sent if e["type"] == "response.done"]
    assert reply["response"]["id"] in done, "the reply finished before the result was answered"
    assert answered["response"]["id"] not in done[: done.index(reply["response"]["id"]) + 1]
    assert errors(session.sent) == []
    assert await redis.xlen(KEYS.dead_letters) == 0


async def test_an_urgent_notice_cancels_the_reply_clears_audio_then_speaks(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient, redis: Redis
) -> None:
    session = await live_session(gateway, emulator)
    await say(api, LONG_QUESTION)
    reply = await session.wait_for_server_event("response.created")
    mark = len(session.received)
    notice = InboxEntry(
        kind=InboxKind.SYSTEM_MESSAGE, robot_id=ROBOT, text="Battery power is critically low.", speak=True,
        instructions=CRITICAL, urgency=Urgency.URGENT, source="alert-monitor",
    )  # fmt: skip
    fields: Any = notice.to_fields()
    await redis.xadd(KEYS.inbox, fields)

    urgent = await session.wait_for_client_event("response.create", after=mark)
    sequence = [e["type"] for e in session.received[mark : session.received.index(urgent) + 1]]
    assert sequence == ["response.cancel", "output_audio_buffer.clear", "conversation.item.create", "response.create"]
    assert session.received[mark]["response_id"] == reply["response"]["id"]
    assert session.received[mark + 2]["item"]["role"] == "system"
    assert urgent["response"]["instructions"].endswith(CRITICAL)
    cancelled = await session.wait_for_server_event(
        "response.done", lambda e: e["response"]["id"] == reply["response"]["id"]
    )
    assert cancelled["response"]["status"] == "cancelled"
    assert errors(session.sent) == []
