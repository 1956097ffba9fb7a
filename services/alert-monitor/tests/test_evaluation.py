"""Forecast, notices and the per-robot evaluation on stream-shaped samples."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from robovox.alert_monitor.evaluation import RobotEvaluation, UnreadableSampleError
from robovox.alert_monitor.forecast import BatteryForecaster
from robovox.alert_monitor.notices import CRITICAL_INSTRUCTIONS
from robovox.shared.entry import format_time
from robovox.shared.messages import AlertStatus, InboxEntry, Urgency
from robovox.shared.profile import RobotProfile, load_profile
from robovox.shared.profile.alerts import BatteryForecast

REPO = Path(__file__).resolve().parents[3]
T0 = 1_800_000_000.0


def shipped_profile(**alerts: Any) -> RobotProfile:
    profile = load_profile(REPO / "deploy" / "profiles" / "cleaner-1.yaml")
    if not alerts:
        return profile
    data = profile.model_dump()
    data["alerts"] = {**data["alerts"], **alerts}
    return RobotProfile.model_validate(data)


def sample(topic: str, msg: dict[str, Any], at: float) -> dict[str, str]:
    from datetime import UTC, datetime

    return {
        "robot_id": "cleaner-1",
        "topic": topic,
        "ros_type": "std_msgs/msg/Float32",
        "msg": json.dumps(msg),
        "received_at": format_time(datetime.fromtimestamp(at, UTC)),
    }


def test_forecast_recovers_the_drain_rate_from_noisy_samples() -> None:
    rng = random.Random(3)
    forecaster = BatteryForecaster(BatteryForecast(threshold_v=22.0, window_s=120))
    drain_v_per_s = 0.5 / 60
    for i in range(600):  # one minute at 10 Hz
        at = i * 0.1
        forecaster.add(at, 25.0 - drain_v_per_s * at + rng.gauss(0, 0.01))
    forecast = forecaster.forecast()
    assert forecast is not None
    true_minutes = (25.0 - drain_v_per_s * 59.9 - 22.0) / 0.5
    assert forecast.minutes_to_threshold == pytest.approx(true_minutes, rel=0.02)
    assert forecast.trend_v_per_min == pytest.approx(-0.5, rel=0.02)
    assert forecast.confidence > 0.9
    assert "minutes until 22 V" in forecast.summary()
    assert forecast.spoken().startswith("About 5 minutes")


def test_forecast_of_a_steady_battery_has_no_time_to_threshold() -> None:
    forecaster = BatteryForecaster(BatteryForecast(threshold_v=22.0, min_samples=5))
    for i in range(5):
        forecaster.add(float(i), 24.0 + (0.001 if i % 2 else 0.0))
    forecast = forecaster.forecast()
    assert forecast is not None and forecast.minutes_to_threshold is None
    assert forecast.spoken() == "" and "not falling" in forecast.summary()
    assert "minutes_to_threshold" not in forecast.message()


def test_forecast_waits_for_enough_readings() -> None:
    forecaster = BatteryForecaster(BatteryForecast(threshold_v=22.0))
    for i in range(9):
        forecaster.add(i * 0.5, 24.0)
    assert forecaster.forecast() is None


def notices(evaluation: RobotEvaluation) -> list[InboxEntry]:
    return [a.notice for a in evaluation.take().alerts if a.notice is not None]


def test_severity_decides_delivery() -> None:
    evaluation = RobotEvaluation(shipped_profile(), now=T0)
    evaluation.evaluate(sample("/vacuum_pads/state", {"data": "up"}, T0))
    evaluation.evaluate(sample("/vacuum_pads/state", {"data": "down"}, T0 + 0.1))
    (info,) = notices(evaluation)
    assert (info.speak, info.urgency, info.text) == (
        False,
        Urgency.NORMAL,
        "Notice (vacuum_pads_moved): The vacuum pads are now down.",
    )
    for i in range(30):
        evaluation.evaluate(sample("/battery/voltage", {"data": 22.9}, T0 + 1 + i * 0.1))
    (warning,) = notices(evaluation)
    assert warning.speak and warning.urgency is Urgency.NORMAL and not warning.open_session
    assert warning.text.startswith("Warning (battery_low): Battery is low at 22.9 volts.")
    for i in range(20):
        evaluation.evaluate(sample("/battery/voltage", {"data": 21.8}, T0 + 5 + i * 0.1))
    (critical,) = notices(evaluation)
    assert critical.urgency is Urgency.URGENT and critical.instructions == CRITICAL_INSTRUCTIONS
    assert critical.text.startswith("CRITICAL WARNING (battery_critical): Battery critically low at 21.8 volts.")


def test_warnings_use_the_forecast_and_ask_to_open_a_session_when_configured() -> None:
    evaluation = RobotEvaluation(shipped_profile(when_no_session="open"), now=T0)
    for i in range(600):  # a minute at 10 Hz, 0.2 V per minute: below 23.0 V after 30 s, fires 2 s later
        at = T0 + i * 0.1
        evaluation.evaluate(sample("/battery/voltage", {"data": 23.1 - 0.2 * (at - T0) / 60}, at))
    out = evaluation.take()
    (alert,) = [a for a in out.alerts if a.record.rule == "battery_low"]
    assert alert.notice is not None and alert.notice.open_session
    assert alert.notice.text.endswith("Battery is low at 23.0 volts. About 5 minutes until the battery needs swapping.")
    assert alert.record.status is AlertStatus.FIRING and alert.record.minutes_to_threshold is not None
    assert alert.record.condition == "/battery/voltage data below 23 V" and alert.record.value.startswith("22.")
    assert len(out.derived) >= 55  # the forecast, once a second of sample time
    topic, msg, _ = out.derived[-1]
    assert topic == "/robovox/battery_forecast" and msg["trend_v_per_min"] == pytest.approx(-0.2, rel=0.01)


def test_context_is_told_when_it_moves_enough() -> None:
    evaluation = RobotEvaluation(shipped_profile(), now=T0)
    assert evaluation.context_note(T0) is None  # nothing known yet
    evaluation.evaluate(sample("/battery/voltage", {"data": 24.5}, T0))
    evaluation.evaluate(sample("/robot_navigator/status", {"data": "idle"}, T0))
    first = evaluation.context_note(T0)
    assert first is not None and not first.speak
    assert first.text == "Telemetry update: battery voltage is 24.50 V; navigator status is idle."
    evaluation.evaluate(sample("/battery/voltage", {"data": 24.45}, T0 + 100))
    assert evaluation.context_note(T0 + 100) is None  # moved less than min_delta
    evaluation.evaluate(sample("/robot_navigator/status", {"data": "cleaning"}, T0 + 101))
    note = evaluation.context_note(T0 + 101)
    assert note is not None and note.text == "Telemetry update: navigator status is cleaning."
    evaluation.forget_context()
    again = evaluation.context_note(T0 + 102)
    assert again is not None and "battery voltage is 24.45 V" in again.text


def test_unreadable_samples_are_refused_and_unwatched_ones_skipped() -> None:
    evaluation = RobotEvaluation(shipped_profile(), now=T0)
    with pytest.raises(UnreadableSampleError, match="unreadable sample on /battery/voltage: JSONDecodeError"):
        evaluation.evaluate({"robot_id": "cleaner-1", "topic": "/battery/voltage", "msg": "{not json"})
    with pytest.raises(UnreadableSampleError, match="sample for robot 'cleaner-2' on 'cleaner-1''s stream"):
        evaluation.evaluate({**sample("/battery/voltage", {"data": 20.0}, T0), "robot_id": "cleaner-2"})
    with pytest.raises(UnreadableSampleError, match="it has no topic"):
        evaluation.evaluate({"junk": "x"})
    evaluation.evaluate(sample("/digital_io/state", {"camera_led": True}, T0))
    evaluation.evaluate(sample("/robovox/battery_forecast", {"voltage": 1.0}, T0))
    assert (evaluation.samples_unreadable, evaluation.samples_evaluated) == (3, 0)
