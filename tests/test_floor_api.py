"""The console's floor API against the whole backbone: a robot's state (session, microphone, link,
battery with the monitor's forecast, the profile's telemetry, the latch, the alerts still
firing), the fleet, and the history pages, all read from Redis."""

from __future__ import annotations

import httpx2
from redis.asyncio import Redis

from robovox.alert_monitor.service import AlertMonitor
from robovox.gateway.service import SessionGateway
from robovox.shared.messages import AlertStatus, AlertTransition
from robovox.shared.profile.alerts import Severity
from robovox.shared.testing.streams import add_tool_call, wait_for_output
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS, ROBOT, telemetry_seen


async def test_the_state_names_the_link_battery_forecast_telemetry_and_latch(
    redis: Redis, sim: RobotSimulator, robot_online: str, monitor: AlertMonitor, gateway: SessionGateway,
    api: httpx2.AsyncClient,
) -> None:  # fmt: skip
    await telemetry_seen(redis, "/robovox/battery_forecast", "threshold_v", "22.0")
    state = (await api.get(f"/v1/robots/{ROBOT}/state")).json()
    assert state["robot_id"] == ROBOT and state["link"]["state"] == "up" and state["link"]["last_heard"]
    battery = state["battery"]
    assert abs(battery["voltage"] - sim.robot.battery_voltage) < 0.2
    assert battery["threshold_v"] == 22.0 and battery["summary"]
    shown = {t["topic"]: t for t in state["telemetry"]}
    assert shown["/vacuum_pads/state"]["value"] == "up"
    assert shown["/battery/voltage"]["label"] == "battery voltage" and shown["/battery/voltage"]["unit"] == "V"
    assert shown["/digital_io/state"]["fields"]["camera_led"] in ("true", "false")
    assert state["stopped"] is False and state["emergency_stop"] is None
    assert state["session"]["clients"] == [] and state["session"]["mic_holder"] is None

    assert (await api.post(f"/v1/robots/{ROBOT}/emergency_stop")).status_code == 202
    stopped = (await api.get(f"/v1/robots/{ROBOT}/state")).json()
    assert stopped["stopped"] is True and stopped["emergency_stop"]["triggered_by"] == "operator"
    assert stopped["active_alerts"] == [], "the stop shows as the latch, not as an alert"
    [listed] = (await api.get("/v1/fleet")).json()
    assert listed["robot_id"] == ROBOT and listed["stopped"] is True


async def test_history_pages_need_the_token_and_name_a_cursor(
    redis: Redis, robot_online: str, gateway: SessionGateway, api: httpx2.AsyncClient
) -> None:
    calls = [await add_tool_call(redis, ROBOT, "get_battery_voltage") for _ in range(3)]
    for call in calls:
        await wait_for_output(redis, ROBOT, call.call_id)
    alert = AlertTransition(
        robot_id=ROBOT, rule="battery_low", status=AlertStatus.FIRING, severity=Severity.WARNING,
        condition="/battery/voltage data below 23 V", topic="/battery/voltage", value="22.9", message="Battery low",
    )  # fmt: skip
    await redis.xadd(KEYS.alerts, alert.to_fields())  # type: ignore[arg-type]

    async with httpx2.AsyncClient(base_url=str(api.base_url)) as anonymous:
        assert (await anonymous.get(f"/v1/robots/{ROBOT}/calls")).status_code == 401
    first = (await api.get(f"/v1/robots/{ROBOT}/calls", params={"limit": 2})).json()
    assert [c["call_id"] for c in first["items"]] == [calls[2].call_id, calls[1].call_id]
    assert all(c["outcome"] == "succeeded" and "battery voltage" in c["output"] for c in first["items"])
    rest = (await api.get(f"/v1/robots/{ROBOT}/calls", params={"before": first["next_before"]})).json()
    assert [c["call_id"] for c in rest["items"]] == [calls[0].call_id] and rest["next_before"] is None
    said = (await api.get(f"/v1/robots/{ROBOT}/conversation")).json()["items"]
    assert [i["kind"] for i in said][-1] == "function_call"
    state = (await api.get(f"/v1/robots/{ROBOT}/state")).json()
    assert [a["rule"] for a in state["active_alerts"]] == ["battery_low"]
    refused = await api.get(f"/v1/robots/{ROBOT}/alerts", params={"before": "yesterday"})
    assert refused.status_code == 422 and refused.json()["error"]["param"] == "before"
    assert (await api.get("/v1/robots/nobody/alerts")).status_code == 404
