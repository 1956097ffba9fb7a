"""Alerts and context when no session is open, and across conversations."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.executor.service import ToolExecutor
from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertStatus, InboxEntry
from robovox.shared.streams import Group
from robovox.shared.testing.streams import follow
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS, ROBOT
from tests.test_alerts import hold_battery, is_system, next_alert
from tests.test_gateway import live_session


async def forecast_with_trend(redis: Redis) -> None:
    """Wait for the monitor's first forecast that has a trend (ten readings over a second or more)."""
    async with asyncio.timeout(15):
        async for _id, fields in follow(redis, KEYS.telemetry, after="0-0"):
            if fields["topic"] == "/robovox/battery_forecast" and "msg.trend_v_per_min" in fields:
                return


async def gateway_pending(redis: Redis) -> list[int]:
    """The gateway's pending count on the inbox once its reader has taken the alert's entry (the alert
    transition is on its stream before the gateway's next read; nothing notifies of a pending count)."""
    async with asyncio.timeout(5):
        while True:
            groups: Any = await redis.xinfo_groups(KEYS.inbox)
            pending = [g["pending"] for g in groups if g["name"] == Group.SESSION_GATEWAY]
            if pending != [0]:
                return pending
            await asyncio.sleep(0.02)


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {"autostart": False}


async def test_an_alert_raised_with_no_session_is_told_when_the_next_one_opens(
    robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, emulator: RealtimeEmulator,
    api: httpx2.AsyncClient, sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    hold_battery(sim, 22.8)
    await next_alert(redis, "battery_low", AlertStatus.FIRING)
    assert emulator.sessions == [], "keep: the monitor does not open a session"
    assert await gateway_pending(redis) == [1], "held, unacked"

    assert (await api.post(f"/v1/robots/{ROBOT}/session/start")).status_code == 202
    session = await live_session(gateway, emulator)
    notice = await session.wait_for_client_event("conversation.item.create", is_system("Warning (battery_low)"))
    await session.wait_for_client_event("response.create", after=session.received.index(notice))


async def test_context_is_told_to_each_new_conversation_and_the_forecast_answers_a_tool(
    robot_online: str, monitor: AlertMonitor, executor: ToolExecutor, gateway: SessionGateway,
    emulator: RealtimeEmulator, api: httpx2.AsyncClient, redis: Redis,
) -> None:  # fmt: skip
    assert (await api.post(f"/v1/robots/{ROBOT}/session/start")).status_code == 202
    first = await live_session(gateway, emulator)
    note = await first.wait_for_client_event("conversation.item.create", is_system("Telemetry update: "))
    assert "battery voltage is 25.2" in note["item"]["content"][0]["text"]
    await forecast_with_trend(redis)
    mark = len(first.received)
    call_id = first.call_tool("get_battery_status", {})
    output = await first.wait_for_client_event(
        "conversation.item.create", lambda e: e["item"].get("call_id") == call_id, after=mark
    )
    assert output["item"]["output"].startswith("battery status: 25.2")
    assert "V per minute" in output["item"]["output"]

    assert (await api.post(f"/v1/robots/{ROBOT}/session/restart", json={"fresh": True})).status_code == 202
    second = await live_session(gateway, emulator, index=1)
    await second.wait_for_client_event("conversation.item.create", is_system("Telemetry update: battery voltage"))
    raw: Any = await redis.xrange(KEYS.inbox)
    notes = [e for _id, f in raw if (e := InboxEntry.from_fields(f)).reason == "telemetry_context"]
    assert len(notes) >= 2 and not any(n.speak for n in notes)
