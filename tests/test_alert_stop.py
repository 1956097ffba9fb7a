"""An alert rule whose action is the emergency stop tool: the priority path, recorded as the rule's."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.shared.emergency import EmergencyStops
from robovox.shared.messages import AlertStatus, AlertTransition, EmergencyTrigger, Outcome
from robovox.shared.testing.streams import wait_for_output
from robovox.sim.robot import RobotSimulator

from .conftest import KEYS, ROBOT, SHIPPED_PROFILE, write_profiles
from .test_alert_action import next_transition
from .test_alerts import hold_battery


@pytest.fixture
def profiles_dir(tmp_path: Path, sim: RobotSimulator) -> Path:
    text = SHIPPED_PROFILE.read_text()
    assert "      action: stop_cleaning" in text
    return write_profiles(tmp_path, sim, **{ROBOT: text.replace("action: stop_cleaning", "action: emergency_stop")})


async def test_an_alert_action_naming_the_stop_tool_takes_the_priority_path(
    redis: Redis, sim: RobotSimulator, robot_online: str, monitor: AlertMonitor
) -> None:
    hold_battery(sim, 21.5)
    _, alert = await next_transition(redis, AlertStatus.FIRING, "0-0")
    assert alert.action == "emergency_stop" and alert.action_call_id is not None
    output = await wait_for_output(redis, ROBOT, alert.action_call_id)
    assert output.outcome is Outcome.SUCCEEDED, output.text
    assert len(sim.ops("publish", "/emergency_stop")) == 1
    state = await EmergencyStops(redis).state(KEYS)
    assert state is not None and state.stopped and state.trigger is EmergencyTrigger.ALERT
    records = [AlertTransition.from_fields(f) for _id, f in await redis.xrange(KEYS.alerts)]
    stops = [r for r in records if r.rule == "emergency_stop"]
    assert [(r.trigger, r.triggered_by) for r in stops] == [("alert", "rule battery_critical")]
