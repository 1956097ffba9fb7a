"""Every Prometheus expression of the dashboards, evaluated by a real Prometheus
(Debian's) scraping the fleet's services after a demo run: each is valid and
returns data, and the robot variable lists the robot."""

from __future__ import annotations

import pytest

from tests.conftest import ROBOT
from tests.observability.dashboards import prometheus_expressions
from tests.observability.prometheus import Prometheus

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.process,
    pytest.mark.webrtc,
    pytest.mark.timeout(400),  # the first test also starts the fleet and runs the demo
]


async def test_the_robot_variable_lists_the_robot(prometheus: Prometheus) -> None:
    assert await prometheus.label_values("robot", "robovox_link_state") == [ROBOT]


@pytest.mark.parametrize(
    ("dashboard", "panel", "expr"), [pytest.param(*e, id=f"{e[0]}/{e[1]}") for e in prometheus_expressions(ROBOT)]
)
async def test_every_dashboard_expression_returns_data(
    prometheus: Prometheus, dashboard: str, panel: str, expr: str
) -> None:
    assert "$" not in expr, f"{dashboard} / {panel}: a variable was left in {expr}"
    data = await prometheus.query(expr)
    assert data["result"], f"{dashboard} / {panel}: no data for {expr}"
