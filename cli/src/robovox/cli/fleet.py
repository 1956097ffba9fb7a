"""``robovox robots`` and ``robovox alerts``: what each robot's state hashes and streams say now,
as pydantic models (``--json`` prints them as they are). ``robovox streams`` is
``robovox.shared.stream_info``, which the console's Inspect view shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from robovox.cli.source import Source, id_at
from robovox.shared.messages import AlertStatus, AlertTransition
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import read_latest

FORECAST_TOPIC = "/robovox/battery_forecast"


class Battery(BaseModel):
    topic: str
    volts: float
    at: datetime
    minutes_left: float | None = None
    """The alert monitor's forecast, when it has one (``/robovox/battery_forecast``)."""


class FiringAlert(BaseModel):
    rule: str
    severity: str
    since: datetime
    value: str


class RobotView(BaseModel):
    robot_id: str
    link: str | None
    """The link hash's state; none when no adapter holds the robot (the hash expired)."""
    link_since: datetime | None = None
    ros: str = ""
    session: str | None
    """The session hash's state; none when no gateway holds the robot."""
    session_since: datetime | None = None
    emergency_stopped: bool = False
    battery: Battery | None = None
    alerts: list[FiringAlert] = []


async def robot_view(source: Source, robot_id: str) -> RobotView:
    link, session, stop = await source.link(robot_id), await source.session(robot_id), await source.emergency(robot_id)
    ros = f"ROS {link.ros_version} {link.ros_distro}".strip() if link and link.ros_version else ""
    return RobotView(
        robot_id=robot_id,
        link=link.state.value if link else None,
        link_since=link.since if link else None,
        ros=ros,
        session=session.state.value if session else None,
        session_since=session.since if session else None,
        emergency_stopped=bool(stop and stop.stopped),
        battery=await battery(source, robot_id),
        alerts=await firing_alerts(source, robot_id),
    )


async def battery(source: Source, robot_id: str) -> Battery | None:
    """The newest battery voltage in the latest-value hash: a topic naming a battery whose message
    holds a number (``data`` or ``voltage``), with the forecast's minutes when there is one."""
    keys = RobotKeys.of(robot_id)
    topics = [t.decode() if isinstance(t, bytes) else str(t) for t in await source.redis.hkeys(keys.telemetry_latest)]
    latest = await read_latest(source.redis, keys, sorted(topics))
    forecast = latest.pop(FORECAST_TOPIC, None)
    for topic, sample in latest.items():
        volts = _number(sample.msg.get("data", sample.msg.get("voltage")))
        if "battery" in topic and volts is not None:
            minutes = _number(forecast.msg.get("minutes_to_threshold")) if forecast else None
            return Battery(topic=topic, volts=volts, at=sample.received_at, minutes_left=minutes)
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


async def alert_transitions(source: Source, robot_id: str, since: datetime | None = None) -> list[AlertTransition]:
    entries = await source.scan_stream(robot_id, "alerts", id_at(since) if since else "-")
    return [e.model for e in entries if isinstance(e.model, AlertTransition)]


async def firing_alerts(source: Source, robot_id: str) -> list[FiringAlert]:
    """Rules whose last transition on the alerts stream is ``firing`` (an emergency stop stays
    firing until its reset, which the stream records as rule ``emergency_reset``)."""
    last: dict[str, AlertTransition] = {}
    for alert in await alert_transitions(source, robot_id):
        rule = "emergency_stop" if alert.rule == "emergency_reset" else alert.rule
        last[rule] = alert
    return [
        FiringAlert(rule=rule, severity=a.severity.value, since=a.at, value=a.value)
        for rule, a in sorted(last.items())
        if a.status is AlertStatus.FIRING
    ]
