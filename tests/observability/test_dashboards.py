"""The Grafana dashboards, tested without Grafana: every panel's data source is
provisioned, and every Redis panel's command, run against the Redis a demo run
filled, returns rows with the fields the panel shows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROBOT
from tests.observability.dashboards import (
    DASHBOARDS,
    STREAM_COMMANDS,
    load,
    panels,
    provisioned_datasources,
    redis_query,
    rows,
)
from tests.observability.fleet import Fleet

pytestmark = pytest.mark.timeout(400)  # the first fleet test also starts the fleet and runs the demo


def test_there_are_a_fleet_and_a_robot_dashboard() -> None:
    titles = {load(path)["title"] for path in DASHBOARDS}
    assert titles == {"RoboVox fleet", "RoboVox robot"}
    robot = next(load(p) for p in DASHBOARDS if load(p)["title"] == "RoboVox robot")
    assert [v["name"] for v in robot["templating"]["list"]] == ["robot"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_uses_a_provisioned_data_source(path: Any) -> None:
    sources = provisioned_datasources()
    dashboard = load(path)
    for panel in panels(dashboard):
        for target in [panel, *panel.get("targets", [])]:
            source = target["datasource"]
            assert sources.get(source["uid"]) == source["type"], f"{panel['title']}: {source} is not provisioned"
    for variable in dashboard["templating"]["list"]:
        assert sources.get(variable["datasource"]["uid"]) == variable["datasource"]["type"]


def redis_panels() -> list[Any]:
    found = []
    for path in DASHBOARDS:
        for panel in panels(load(path)):
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "redis-datasource":
                    found.append(pytest.param(path.stem, panel, target, id=f"{path.stem}/{panel['title']}"))
    return found


@pytest.mark.parametrize(("dashboard", "panel", "target"), redis_panels())
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.process
@pytest.mark.webrtc
async def test_every_redis_panel_shows_rows_from_a_demo_run(
    fleet: Fleet, dashboard: str, panel: dict[str, Any], target: dict[str, Any]
) -> None:
    query = redis_query(panel, target, ROBOT)
    assert "$robot" not in " ".join(query.command)
    reply = await fleet.redis.execute_command(*query.command)
    shown = [row for row in rows(query.kind, reply) if all(row.get(k) == v for k, v in query.keep)]
    assert shown, f"{dashboard} / {panel['title']}: {' '.join(query.command)} gave no rows it shows"
    missing = [name for name in query.shows if not any(name in row for row in shown)]
    assert missing == [], f"{dashboard} / {panel['title']}: no row has {missing}"
    if query.kind in STREAM_COMMANDS:
        assert query.command[-2:] == ["COUNT", str(target["count"])], "a stream panel reads a bounded page"
