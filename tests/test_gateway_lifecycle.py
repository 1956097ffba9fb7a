"""A session that reaches the provider's maximum duration is replaced: the new
one is given the conversation, no call is lost or run twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import REPO
from tests.test_clients import join
from tests.test_gateway import is_output, is_user_text, live_session, say, tool_calls

START = "/robot_navigator/start_cleaning"


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"max_session_s": 5.0}


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator) -> Path:
    """The cleaning robot, with start_cleaning allowed 20 s, so a slow one outlives the session."""
    profile = yaml.safe_load((REPO / "deploy" / "profiles" / "cleaner-1.yaml").read_text())
    profile["rosbridge_url"] = sim.url
    for tool in profile["tools"]:
        if tool["name"] == "start_cleaning":
            tool["timeout_s"] = 20
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "cleaner-1.yaml").write_text(yaml.safe_dump(profile))
    return folder


def created_items(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in received if e["type"] == "conversation.item.create"]


async def test_an_expired_session_is_replaced_and_given_the_conversation_without_rerunning_a_call(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient,
    sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    first = await live_session(gateway, emulator, 0)
    await say(api, "release vacuum")
    release = (await first.wait_for_server_event("response.output_item.done"))["item"]
    await first.wait_for_client_event("conversation.item.create", is_output(release["call_id"]))

    # A call still running on the robot when the session expires.
    sim.failures.slow_service[START] = 7.0
    await say(api, "start cleaning, turn left")
    start = (
        await first.wait_for_server_event("response.output_item.done", lambda e: e["item"]["name"] == "start_cleaning")
    )["item"]
    await sim.wait_for_op("call_service", START, timeout=10)

    second = await emulator.wait_for_session(1, timeout=15)
    assert first.closed
    assert any(e["type"] == "error" and e["error"]["code"] == "session_expired" for e in first.sent)
    # The running call's output reaches the new session, which knows the call from the replay.
    await second.wait_for_client_event("conversation.item.create", is_output(start["call_id"]), timeout=15)

    items = created_items(second.received)
    assert [(i["type"], i.get("call_id") or i["content"][0]["text"]) for i in items] == [
        ("message", "release vacuum"),
        ("function_call", release["call_id"]),
        ("function_call_output", release["call_id"]),
        ("message", "start cleaning, turn left"),
        ("function_call", start["call_id"]),
        ("function_call_output", start["call_id"]),
    ]
    assert items[4]["name"] == "start_cleaning" and items[4]["arguments"] == start["arguments"]
    # Nothing ran twice: one tool-call entry per call, one service call each on the robot.
    assert sorted(c.call_id for c in await tool_calls(redis)) == sorted([release["call_id"], start["call_id"]])
    assert len(sim.ops("call_service", START)) == 1
    assert len(sim.ops("call_service", "/vacuum_pads/release")) == 1
    assert gateway.robots["cleaner-1"].sessions_opened == 2


async def test_the_new_session_keeps_talking_after_the_swap(
    robot_online: str, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
) -> None:
    await live_session(gateway, emulator, 0)
    await say(api, "hello robot")
    second = await emulator.wait_for_session(1, timeout=15)
    await gateway.robots["cleaner-1"].wait_live()
    await say(api, "are you still there")
    await second.wait_for_client_event("conversation.item.create", is_user_text("are you still there"))
    replayed = created_items(second.received)
    assert replayed[0]["content"][0]["text"] == "hello robot"
    # The replayed reply of the first session is there as assistant text.
    assert any(i.get("role") == "assistant" for i in replayed)


class TestRecycleBeforeTheCap:
    @pytest.fixture
    def emulator_options(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def gateway_overrides(self) -> dict[str, Any]:
        return {"session_max_s": 2.0, "recycle_quiet_wait_s": 1.0}

    async def test_the_session_is_replaced_before_the_provider_ends_it(
        self, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
    ) -> None:
        first = await live_session(gateway, emulator, 0)
        await say(api, "note the wet floor")
        await first.wait_for_server_event("response.done")
        second = await emulator.wait_for_session(1, timeout=15)
        await second.wait_for_client_event("conversation.item.create", is_user_text("note the wet floor"))
        await first.closed_event.wait()
        assert not any(e["type"] == "error" for e in first.sent), "recycled before the provider's cap, not by it"
        await gateway.robots["cleaner-1"].wait_live()
        await say(api, "still there")
        await second.wait_for_client_event("conversation.item.create", is_user_text("still there"))

    async def test_a_joined_client_follows_the_new_session_but_not_its_replay(
        self, gateway: SessionGateway, emulator: RealtimeEmulator, api: httpx2.AsyncClient
    ) -> None:
        first = await live_session(gateway, emulator, 0)
        client, _ = await join(api)
        try:
            await client.wait_for("session.created", lambda e: e["session"]["id"] == first.session_id)
            await say(api, "note the wet floor")
            await first.wait_for_server_event("response.done")
            second = await emulator.wait_for_session(1, timeout=15)
            await second.wait_for_client_event("conversation.item.create", is_user_text("note the wet floor"))
            taken_over = await client.wait_for(
                "session.created", lambda e: e["session"]["id"] == second.session_id, timeout=15
            )
            await say(api, "still there")
            await client.wait_for(
                "conversation.item.added", added_text("still there"), after=client.events.index(taken_over)
            )
            # The conversation given to the new session is history: the client saw it once, when it was said.
            assert len([e for e in client.events if added_text("note the wet floor")(e)]) == 1
        finally:
            await client.close()


def added_text(text: str) -> Any:
    def check(event: dict[str, Any]) -> bool:
        item = event.get("item") or {}
        return bool(
            event.get("type") == "conversation.item.added"
            and item.get("role") == "user"
            and any(part.get("text") == text for part in item.get("content") or [])
        )

    return check
