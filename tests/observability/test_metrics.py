"""``/metrics`` of every service, scraped after a demo run went through them: each
exposes the series it owns, with the labels the dashboards use."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROBOT
from tests.observability.fleet import Fleet

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.process,
    pytest.mark.webrtc,
    pytest.mark.timeout(400),  # the first test also starts the fleet and runs the demo
]

Samples = list[tuple[str, dict[str, str], float]]


def samples(text: str) -> Samples:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def have(found: Samples, name: str, **labels: str) -> list[float]:
    values = [v for n, lab, v in found if n == name and all(lab.get(k) == want for k, want in labels.items())]
    assert values, f"no {name} {labels} among {sorted({n for n, _, _ in found})}"
    return values


async def test_the_executor_counts_calls_refusals_stages_and_dead_letters(fleet: Fleet) -> None:
    found = samples(await fleet.scrape("tool-executor"))
    assert sum(have(found, "robovox_calls_total", robot=ROBOT, tool="start_cleaning", outcome="succeeded")) >= 1
    assert sum(have(found, "robovox_calls_total", robot=ROBOT, tool="get_battery_voltage")) >= 1
    assert have(found, "robovox_refusals_total", robot=ROBOT, tool="unknown", reason="unknown_tool") == [1.0]
    assert have(found, "robovox_refusals_total", robot=ROBOT, tool="start_cleaning", reason="not_an_option") == [1.0]
    for stage in ("dispatched", "answered"):
        assert have(found, "robovox_call_stage_seconds_count", robot=ROBOT, tool="start_cleaning", stage=stage)[0] >= 1
    assert have(found, "robovox_dead_letters_total", robot=ROBOT, stream="tool_calls", group="tool-executor") == [1.0]
    assert have(found, "robovox_stream_length", robot=ROBOT, stream="tool_calls")[0] >= 5
    assert have(found, "robovox_group_lag", robot=ROBOT, stream="tool_calls", group="tool-executor") == [0.0]
    assert have(found, "robovox_group_pending", robot=ROBOT, stream="emergency", group="ros-adapter") == [0.0]
    have(found, "robovox_redis_errors_total", where="tool-executor")
    assert have(found, "robovox_loop_lag_seconds_count")[0] > 0
    ids = [lab for n, lab, _ in found if n.startswith("robovox_") for k in lab if k in ("call_id", "stop_id")]
    assert ids == [], "no call or stop ids in labels"


async def test_the_adapter_reports_the_link_and_the_robots_stages(fleet: Fleet) -> None:
    found = samples(await fleet.scrape("ros-adapter"))
    assert have(found, "robovox_link_state", robot=ROBOT, state="up") == [1.0]
    assert have(found, "robovox_link_state", robot=ROBOT, state="down") == [0.0]
    have(found, "robovox_link_reconnects_total", robot=ROBOT)
    for stage in ("sent", "result"):
        assert have(found, "robovox_call_stage_seconds_count", robot=ROBOT, tool="start_cleaning", stage=stage)[0] >= 1
    assert have(found, "robovox_stream_length", robot=ROBOT, stream="telemetry")[0] > 0
    have(found, "robovox_group_pending", robot=ROBOT, stream="commands", group="ros-adapter")


async def test_the_gateway_reports_sessions_publishing_and_stops(fleet: Fleet) -> None:
    found = samples(await fleet.scrape("session-gateway"))
    assert have(found, "robovox_session_state", robot=ROBOT, state="live") == [1.0]
    have(found, "robovox_session_recycles_total", robot=ROBOT)
    have(found, "robovox_session_reconnects_total", robot=ROBOT)
    assert have(found, "robovox_call_stage_seconds_count", robot=ROBOT, tool="start_cleaning", stage="published") == [
        1.0
    ]
    assert have(found, "robovox_emergency_requests_total", robot=ROBOT, action="stop", trigger="api") == [1.0]
    assert have(found, "robovox_emergency_requests_total", robot=ROBOT, action="reset", trigger="api") == [1.0]
    assert have(found, "robovox_stream_length", robot=ROBOT, stream="events")[0] > 0
    have(found, "robovox_group_lag", robot=ROBOT, stream="inbox", group="session-gateway")


async def test_the_monitor_reports_alerts(fleet: Fleet) -> None:
    found = samples(await fleet.scrape("alert-monitor"))
    for rule, severity in (("battery_low", "warning"), ("battery_critical", "critical")):
        assert have(found, "robovox_alerts_firing", robot=ROBOT, rule=rule, severity=severity) == [1.0]
        assert have(found, "robovox_alert_transitions_total", rule=rule, severity=severity, status="firing") == [1.0]
    assert have(found, "robovox_alerts_firing", robot=ROBOT, rule="battery_silent") == [0.0]
    assert have(found, "robovox_stream_length", robot=ROBOT, stream="alerts")[0] >= 4
