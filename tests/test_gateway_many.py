"""Twenty robots in one gateway, each with its own live session, calls and streams."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from robovox.gateway.service import SessionGateway
from robovox.shared.messages import ToolCall
from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import wait_for_entries
from robovox.sim.realtime import RealtimeEmulator
from tests.conftest import REPO

ROBOTS = [f"cleaner-{n:02d}" for n in range(1, 21)]


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    """Twenty copies of the cleaning robot (their rosbridge is never reached in this test)."""
    profile = yaml.safe_load((REPO / "deploy" / "profiles" / "cleaner-1.yaml").read_text())
    folder = tmp_path / "profiles"
    folder.mkdir()
    for robot_id in ROBOTS:
        text = yaml.safe_dump({**profile, "robot_id": robot_id, "rosbridge_url": "ws://127.0.0.1:9"})
        (folder / f"{robot_id}.yaml").write_text(text)
    return folder


async def test_twenty_robots_each_hold_a_live_session_in_one_gateway(
    gateway: SessionGateway, emulator: RealtimeEmulator, redis: Redis
) -> None:
    await asyncio.wait_for(asyncio.gather(*(gateway.robots[r].wait_live() for r in ROBOTS)), 60)
    assert {r.state for r in gateway.robots.values()} == {SessionState.LIVE}
    sessions = {s.session_id: s for s in emulator.sessions}
    assert len(sessions) == 20 and not any(s.closed for s in sessions.values())

    by_robot = {}
    for robot_id in ROBOTS:
        session = sessions[gateway.robots[robot_id].current.session_id]  # type: ignore[union-attr]
        by_robot[robot_id] = session.call_tool("stop_cleaning", {})
    for robot_id, call_id in by_robot.items():
        ((_id, fields),) = await wait_for_entries(redis, RobotKeys.of(robot_id).tool_calls, 1)
        call = ToolCall.from_fields(fields)
        assert (call.robot_id, call.call_id, call.name) == (robot_id, call_id, "stop_cleaning")
    info = SessionInfo.from_hash(await redis.hgetall(RobotKeys.of(ROBOTS[-1]).session))
    assert info is not None and info.state is SessionState.LIVE and info.session_id
