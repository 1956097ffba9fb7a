"""Text for the model is never over the data channel's message limit. A 1 MB result is over
the inbox's entry size: it is dead-lettered with the reason, and the model still gets the
call's output, cut (``limits.output_chars``, with a note); the robot keeps answering. An
event still over the provider's message size is cut to fit."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.limits import Limits
from robovox.shared.messages import InboxEntry, InboxKind
from robovox.shared.testing.streams import wait_for_entries
from robovox.sim.realtime import EmulatedSession, RealtimeEmulator
from tests.conftest import KEYS
from tests.test_gateway import is_output, is_user_text, live_session, say

MEGABYTE_TEXT = "The battery log reads: " + "0123456789" * 100_000


async def answered_call(session: EmulatedSession, redis: Redis) -> str:
    """A call the model made, published by the gateway (so its output is expected)."""
    call_id = session.call_tool("get_battery_voltage", {})
    await wait_for_entries(redis, KEYS.tool_calls, 1)
    return call_id


async def huge_output(redis: Redis, call_id: str) -> None:
    entry = InboxEntry(
        kind=InboxKind.FUNCTION_CALL_OUTPUT, robot_id="cleaner-1", text=MEGABYTE_TEXT, speak=True,
        source="tool-executor", call_id=call_id, tool="get_battery_voltage", instructions="Say it. " * 10_000,
    )  # fmt: skip
    await redis.xadd(KEYS.inbox, entry.to_fields())  # type: ignore[arg-type]


async def still_answers(session: EmulatedSession, api: httpx2.AsyncClient, redis: Redis) -> None:
    await say(api, "hello robot")
    said = await session.wait_for_client_event("conversation.item.create", is_user_text("hello robot"))
    await session.wait_for_client_event("response.create", after=session.received.index(said))
    done = await session.wait_for_server_event("response.done", lambda e: "hello robot" in str(e["response"]))
    assert done["response"]["status"] == "completed"
    assert (await redis.xpending(KEYS.inbox, "session-gateway"))["pending"] == 0


def outputs_for(session: EmulatedSession, call_id: str) -> list[dict[str, Any]]:
    return [e for e in session.received if e["type"] == "conversation.item.create" and is_output(call_id)(e)]


async def test_a_megabyte_result_reaches_the_model_cut_and_the_robot_keeps_answering(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient, redis: Redis
) -> None:
    session = await live_session(gateway, emulator)
    call_id = await answered_call(session, redis)
    await huge_output(redis, call_id)

    output = await session.wait_for_client_event("conversation.item.create", is_output(call_id))
    text = output["item"]["output"]
    assert len(text) <= Limits().output_chars and text.startswith("The battery log reads: 0123")
    assert text.endswith("more characters]"), "the model is told it was cut"
    speak = await session.wait_for_client_event("response.create", after=session.received.index(output))
    assert len(speak["response"]["instructions"]) <= len(gateway.robots["cleaner-1"].profile.persona()) + 4002
    done = await session.wait_for_server_event("response.done", lambda e: "Done: The battery" in str(e["response"]))
    assert done["response"]["status"] == "completed"
    await still_answers(session, api, redis)
    assert len(outputs_for(session, call_id)) == 1, "one output for the call"
    (letter,) = await redis.xrange(KEYS.dead_letters)
    assert "over the limit of 262144 bytes" in letter[1]["reason"]


@pytest.mark.parametrize("gateway_overrides", [{"max_output_chars": 10_000_000, "max_entry_bytes": 4_000_000}])
async def test_an_event_over_the_providers_message_size_is_cut_to_fit(
    gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient, redis: Redis
) -> None:
    session = await live_session(gateway, emulator)
    call_id = await answered_call(session, redis)
    await huge_output(redis, call_id)

    output: dict[str, Any] = await session.wait_for_client_event("conversation.item.create", is_output(call_id))
    text = output["item"]["output"]
    limit = gateway.robots["cleaner-1"].current.peer.max_message_size  # type: ignore[union-attr]
    assert limit == 262_144, "the emulator's aiortc offers 256 KiB, as OpenAI does"
    assert 200_000 < len(text) < limit and "more characters]" in text
    await still_answers(session, api, redis)
    assert len(outputs_for(session, call_id)) == 1 and await redis.xlen(KEYS.dead_letters) == 0
