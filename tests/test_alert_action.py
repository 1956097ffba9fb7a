"""An alert rule's action: the tool it names runs once per firing, through the executor's checks,
and both the alert and the action are recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.shared.messages import AlertStatus, AlertTransition, Outcome, ToolCall
from robovox.shared.testing.streams import follow, wait_for_output
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT, SHIPPED_PROFILE, write_profiles
from .test_alerts import hold_battery

STOP = "/robot_navigator/stop"


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator) -> Path:
    """The shipped profile, with battery_critical free to fire again at once (no cooldown)."""
    shipped = "      cooldown_s: 300\n      action: stop_cleaning"
    text = SHIPPED_PROFILE.read_text()
    assert shipped in text
    return write_profiles(tmp_path, sim, **{ROBOT: text.replace(shipped, shipped.replace("300", "0"))})


async def test_the_action_runs_once_per_firing(
    redis: Redis, sim: RobotSimulator, robot_online: str, monitor: AlertMonitor
) -> None:
    call_ids: list[str] = []
    after = "0-0"
    for firing in (1, 2):
        hold_battery(sim, 21.5)
        after, alert = await next_transition(redis, AlertStatus.FIRING, after)
        assert alert.action == "stop_cleaning" and alert.action_call_id is not None
        call_ids.append(alert.action_call_id)
        output = await wait_for_output(redis, ROBOT, alert.action_call_id)
        assert output.outcome is Outcome.SUCCEEDED and output.tool == "stop_cleaning"
        assert len(sim.ops("call_service", STOP)) == firing
        hold_battery(sim, 23.0)
        after, _ = await next_transition(redis, AlertStatus.RESOLVED, after)
    assert len(set(call_ids)) == 2
    calls = [ToolCall.from_fields(f) for _id, f in await redis.xrange(KEYS.tool_calls)]
    assert sorted(c.call_id for c in calls) == sorted(call_ids), "one tool call per firing, no more"
    assert {c.session_id for c in calls} == {"alert:battery_critical"}


async def next_transition(redis: Redis, status: AlertStatus, after: str) -> tuple[str, AlertTransition]:
    """battery_critical's next ``status`` transition after entry ``after``, and its entry id."""
    async with asyncio.timeout(15):
        async for entry_id, fields in follow(redis, KEYS.alerts, after=after):
            alert = AlertTransition.from_fields(fields)
            if alert.rule == "battery_critical" and alert.status is status:
                return entry_id, alert
    raise AssertionError("unreachable")
