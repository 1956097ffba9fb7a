"""A robot's state as the console's state panel and fleet view show it, read at each request:
the session (this gateway's), who holds the microphone, the rosbridge link (``LinkInfo``), the
battery with the alert monitor's forecast and the profile's telemetry (``telemetry_latest``),
the emergency-stop latch (``EmergencyState``) and the alerts still firing (``alerts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from robovox.gateway.clients.events import ClientListed
from robovox.gateway.floor.history import AlertOut, active_alerts
from robovox.gateway.robot.voice import RobotVoice
from robovox.shared.emergency import EmergencyState, EmergencyStops
from robovox.shared.link import LinkInfo
from robovox.shared.messages import flatten_message
from robovox.shared.profile import RobotProfile
from robovox.shared.profile.alerts import BATTERY_FORECAST_TOPIC
from robovox.shared.profile.mapping import MISSING, as_number, read_field
from robovox.shared.session import SessionState
from robovox.shared.streams import RobotKeys
from robovox.shared.telemetry import LatestSample, read_latest, spoken_value


class SessionOut(BaseModel):
    state: SessionState
    since: datetime
    session_id: str | None
    mic_holder: str | None
    """A client's id, the robot's own microphone, or none."""
    clients: list[ClientListed]


class LinkOut(BaseModel):
    state: str
    """A ``LinkState``, or ``offline`` when no adapter holds the link (its hash expired)."""
    since: datetime | None
    last_heard: datetime | None
    rosbridge_url: str | None
    ros_version: int | None
    check: str | None
    problems: str


class BatteryOut(BaseModel):
    topic: str
    voltage: float | None
    received_at: datetime | None
    trend_v_per_min: float | None
    """Fitted by the alert monitor over its window: negative while draining."""
    minutes_to_threshold: float | None
    """Until ``threshold_v``; none while the voltage is not falling."""
    threshold_v: float | None
    confidence: float | None
    summary: str | None


class TelemetryOut(BaseModel):
    topic: str
    label: str
    value: str | None
    """The profile's field of the newest message, as the model is told it (``24.10``, ``up``)."""
    unit: str
    fields: dict[str, str]
    """Every scalar of the newest message, flattened (``data``, ``camera_led`` ...)."""
    received_at: datetime | None


class RobotStateOut(BaseModel):
    robot_id: str
    display_name: str
    session: SessionOut
    link: LinkOut
    battery: BatteryOut | None
    """None when the profile has no ``alerts.battery_forecast``."""
    telemetry: list[TelemetryOut]
    emergency_stop: EmergencyState | None
    """The latch; none before the robot's first stop."""
    stopped: bool
    active_alerts: list[AlertOut]


async def read_state(robot: RobotVoice) -> RobotStateOut:
    keys = RobotKeys.of(robot.robot_id)
    profile = robot.profile
    topics = [s.topic for s in profile.telemetry] + [BATTERY_FORECAST_TOPIC]
    latest = await read_latest(robot.redis, keys, topics)
    link_fields: dict[Any, Any] = await robot.redis.hgetall(keys.link_state)
    link = LinkInfo.from_hash_or_none(link_fields, robot.robot_id)
    latch = await EmergencyStops(robot.redis).state(keys)
    return RobotStateOut(
        robot_id=robot.robot_id,
        display_name=robot.display_name,
        session=_session(robot),
        link=_link(link),
        battery=_battery(profile, latest),
        telemetry=[_telemetry(profile, s.topic, latest.get(s.topic)) for s in profile.telemetry],
        emergency_stop=latch,
        stopped=bool(latch and latch.stopped),
        active_alerts=await active_alerts(robot.redis, keys),
    )


def _session(robot: RobotVoice) -> SessionOut:
    return SessionOut(
        state=robot.state,
        since=robot.since,
        session_id=robot.live_session.session_id if robot.live_session else None,
        mic_holder=robot.audio.mic_holder,
        clients=robot.clients.listing(),
    )


def _link(link: LinkInfo | None) -> LinkOut:
    if link is None:
        return LinkOut(
            state="offline", since=None, last_heard=None, rosbridge_url=None, ros_version=None, check=None, problems=""
        )
    return LinkOut(
        state=link.state.value,
        since=link.since,
        last_heard=link.last_heard,
        rosbridge_url=link.rosbridge_url,
        ros_version=link.ros_version,
        check=link.check.value,
        problems=link.problems,
    )


def _battery(profile: RobotProfile, latest: dict[str, LatestSample]) -> BatteryOut | None:
    config = profile.alerts.battery_forecast
    if config is None:
        return None
    sample = latest.get(config.topic)
    forecast = latest.get(BATTERY_FORECAST_TOPIC)
    fitted = forecast.msg if forecast else {}
    return BatteryOut(
        topic=config.topic,
        voltage=as_number(_field(sample.msg, config.field)) if sample else None,
        received_at=sample.received_at if sample else None,
        trend_v_per_min=as_number(fitted.get("trend_v_per_min")),
        minutes_to_threshold=as_number(fitted.get("minutes_to_threshold")),
        threshold_v=as_number(fitted.get("threshold_v", config.threshold_v)),
        confidence=as_number(fitted.get("confidence")),
        summary=str(fitted["summary"]) if "summary" in fitted else None,
    )


def _telemetry(profile: RobotProfile, topic: str, sample: LatestSample | None) -> TelemetryOut:
    """The topic as the profile names it: the label, unit, field and decimals of its context entry
    or its first alert rule, else the topic's own name and its ``data``."""
    named = [c for c in profile.alerts.context if c.topic == topic] + [
        r for r in profile.alerts.rules if r.topic == topic and r.label
    ]
    first = named[0] if named else None
    field = first.field if first else "data"
    decimals = getattr(first, "decimals", 2)
    value = _field(sample.msg, field) if sample else None
    return TelemetryOut(
        topic=topic,
        label=(first.label if first else None) or topic,
        value=None if value is None else spoken_value(value, decimals),
        unit=first.unit if first else "",
        fields=flatten_message(sample.msg, prefix="") if sample else {},
        received_at=sample.received_at if sample else None,
    )


def _field(msg: dict[str, Any], path: str) -> Any:
    value = read_field(msg, path)
    return None if value is MISSING else value
