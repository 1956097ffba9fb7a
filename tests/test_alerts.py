"""The alert monitor end to end: the simulator's battery, the ROS adapter, the
monitor, the gateway and the Realtime emulator over WebRTC on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.notices import CRITICAL_INSTRUCTIONS, WARNING_INSTRUCTIONS
from robovox.alert_monitor.service import AlertMonitor
from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertStatus, AlertTransition, Severity
from robovox.shared.testing.streams import follow
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS
from tests.test_gateway import live_session, say
from tests.test_gateway_responses import LONG_QUESTION, errors


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"seconds_per_word": 0.25}


def is_system(prefix: str) -> Any:
    def check(event: dict[str, Any]) -> bool:
        item = event["item"]
        return bool(item.get("role") == "system" and item["content"][0]["text"].startswith(prefix))

    return check


async def alerts(redis: Redis) -> list[AlertTransition]:
    raw: Any = await redis.xrange(KEYS.alerts)
    return [AlertTransition.from_fields(fields) for _id, fields in raw]


async def next_alert(redis: Redis, rule: str, status: AlertStatus, timeout_s: float = 15.0) -> AlertTransition:
    """Block on the alerts stream until ``rule`` makes the ``status`` transition."""
    async with asyncio.timeout(timeout_s):
        async for _id, fields in follow(redis, KEYS.alerts, after="0-0"):
            alert = AlertTransition.from_fields(fields)
            if alert.rule == rule and alert.status is status:
                return alert
    raise AssertionError("unreachable")


async def battery_readings(redis: Redis, count: int) -> list[float]:
    """The next ``count`` battery samples the adapter records."""
    values: list[float] = []
    async with asyncio.timeout(count + 10):
        async for _id, fields in follow(redis, KEYS.telemetry):
            if fields["topic"] == "/battery/voltage":
                values.append(float(fields["msg.data"]))
                if len(values) == count:
                    break
    return values


def hold_battery(sim: RobotSimulator, volts: float, noise_std: float = 0.0) -> None:
    sim.robot.battery.drain = 0.0
    sim.robot.battery_voltage = volts
    sim.robot.battery.noise_std = noise_std


async def test_a_warning_fires_once_while_noise_crosses_the_threshold(
    robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, emulator: RealtimeEmulator,
    sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    session = await live_session(gateway, emulator)
    hold_battery(sim, 22.8)
    fired = await next_alert(redis, "battery_low", AlertStatus.FIRING)
    assert fired.severity is Severity.WARNING and float(fired.value) < 23.0
    notice = await session.wait_for_client_event("conversation.item.create", is_system("Warning (battery_low)"))
    speak = await session.wait_for_client_event("response.create", after=session.received.index(notice))
    assert speak["response"]["instructions"].endswith(WARNING_INSTRUCTIONS)

    hold_battery(sim, 23.0, noise_std=0.05)  # flaps across 23.0 V, inside the 23.4 V clear band
    values = await battery_readings(redis, 25)
    assert min(values) < 23.0 <= max(values), "the noise must cross the threshold"
    hold_battery(sim, 23.5)
    await next_alert(redis, "battery_low", AlertStatus.RESOLVED)
    hold_battery(sim, 22.8)  # low again, but within the 600 s cooldown
    await battery_readings(redis, 15)  # 3 s: longer than the rule's for_s of 2 s

    assert [(a.rule, a.status) for a in await alerts(redis) if a.rule == "battery_low"] == [
        ("battery_low", AlertStatus.FIRING),
        ("battery_low", AlertStatus.RESOLVED),
    ]
    warnings = [e for e in session.received if e["type"] == "conversation.item.create" and is_system("Warning")(e)]
    assert len(warnings) == 1
    assert errors(session.sent) == []


async def test_a_critical_alert_preempts_the_reply_and_resolves_only_past_the_clear_band(
    robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, emulator: RealtimeEmulator,
    api: Any, sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    session = await live_session(gateway, emulator)
    await session.wait_for_client_event("conversation.item.create", is_system("Telemetry update: battery voltage"))
    await say(api, LONG_QUESTION)  # a reply of several seconds
    reply = await session.wait_for_server_event("response.created")
    mark = len(session.received)
    hold_battery(sim, 21.5)

    urgent = await session.wait_for_client_event(
        "response.create", lambda e: e["response"]["instructions"].endswith(CRITICAL_INSTRUCTIONS), after=mark
    )
    sequence = session.received[mark : session.received.index(urgent) + 1]
    assert [e["type"] for e in sequence] == [
        "response.cancel", "output_audio_buffer.clear", "conversation.item.create", "response.create",
    ]  # fmt: skip
    assert sequence[0]["response_id"] == reply["response"]["id"]
    assert is_system("CRITICAL WARNING (battery_critical): Battery critically low at 21.5 volts.")(sequence[2])
    cancelled = await session.wait_for_server_event(
        "response.done", lambda e: e["response"]["id"] == reply["response"]["id"]
    )
    assert cancelled["response"]["status"] == "cancelled"

    hold_battery(sim, 22.3)  # above the threshold (22.0 V), below the clear band (22.5 V)
    await battery_readings(redis, 10)
    assert not [a for a in await alerts(redis) if a.rule == "battery_critical" and a.status is AlertStatus.RESOLVED]
    hold_battery(sim, 22.6)
    resolved = await next_alert(redis, "battery_critical", AlertStatus.RESOLVED)
    assert float(resolved.value) >= 22.5
    told = await session.wait_for_client_event("conversation.item.create", is_system("Resolved (battery_critical)"))
    after_told = session.received[session.received.index(told) + 1 :]
    assert not [e for e in after_told if e["type"] == "response.create"], "a resolution is told silently"
    assert errors(session.sent) == []
