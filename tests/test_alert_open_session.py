"""A robot with its own speaker: an alert opens its session to be announced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.gateway.service import SessionGateway
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import ROBOT, SHIPPED_PROFILE, write_profiles
from tests.test_alerts import hold_battery, is_system
from tests.test_gateway import live_session


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator) -> Path:
    text = SHIPPED_PROFILE.read_text()
    assert "when_no_session: keep" in text
    return write_profiles(tmp_path, sim, **{ROBOT: text.replace("when_no_session: keep", "when_no_session: open")})


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {"autostart": False}


async def test_a_warning_opens_the_session_to_announce_itself(
    robot_online: str, monitor: AlertMonitor, gateway: SessionGateway, emulator: RealtimeEmulator,
    sim: RobotSimulator, redis: Redis,
) -> None:  # fmt: skip
    hold_battery(sim, 22.8)
    session = await live_session(gateway, emulator)
    notice = await session.wait_for_client_event("conversation.item.create", is_system("Warning (battery_low)"))
    await session.wait_for_client_event("response.create", after=session.received.index(notice))
