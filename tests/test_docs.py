"""The README's settings table and docs/streams.md stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from robovox.alert_monitor.settings import MonitorSettings
from robovox.executor.settings import ExecutorSettings
from robovox.gateway.settings import GatewaySettings
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.settings import ENV_PREFIX, ServiceSettings
from robovox.shared.stream_info import STREAM_MODELS, STREAM_NAMES
from robovox.shared.streams import RobotKeys

REPO = Path(__file__).resolve().parents[1]


def readme_settings() -> dict[str, str]:
    rows = re.findall(r"^\| `(ROBOVOX_[A-Z0-9_]+)` \| ([a-z-]+) \|", (REPO / "README.md").read_text(), re.M)
    return dict(rows)


@pytest.mark.parametrize(
    ("settings", "service"),
    [
        (ServiceSettings, "all"),
        (ExecutorSettings, "tool-executor"),
        (AdapterSettings, "ros-adapter"),
        (GatewaySettings, "session-gateway"),
        (MonitorSettings, "alert-monitor"),
    ],
)
def test_every_setting_is_in_the_readme_table(settings: type[BaseSettings], service: str) -> None:
    table = readme_settings()
    own = set(settings.model_fields) - (set(ServiceSettings.model_fields) if settings is not ServiceSettings else set())
    for field in own:
        name = f"{ENV_PREFIX}{field.upper()}"
        assert table.get(name) == service, f"{name} is missing from the README table (service {service})"


def test_the_readme_table_names_no_setting_that_does_not_exist() -> None:
    known = {
        f"{ENV_PREFIX}{field.upper()}"
        for settings in (ServiceSettings, ExecutorSettings, AdapterSettings, GatewaySettings, MonitorSettings)
        for field in settings.model_fields
    }
    assert set(readme_settings()) <= known


def test_streams_doc_lists_every_key() -> None:
    doc = (REPO / "docs" / "streams.md").read_text()
    keys = RobotKeys.of("robot")
    for name in dir(RobotKeys):
        if isinstance(getattr(RobotKeys, name), property):
            documented = getattr(keys, name)
            assert f"`{documented}`" in doc, f"{documented} is not in docs/streams.md"
    assert "`robovox:{robot}:call:<call_id>`" in doc
    assert "`robovox:{robot}:motion_guard:<tool>:<args digest>`" in doc


def test_the_list_of_setting_names_is_every_services_settings() -> None:
    from robovox.shared.setting_names import SETTING_NAMES

    known = {
        f"{ENV_PREFIX}{field.upper()}"
        for settings in (ServiceSettings, ExecutorSettings, AdapterSettings, GatewaySettings, MonitorSettings)
        for field in settings.model_fields
    }
    assert known == SETTING_NAMES, "update robovox/shared/setting_names.py"


def test_the_streams_people_inspect_are_the_streams_of_the_doc() -> None:
    """``robovox streams``, ``robovox tail`` and the console's Inspect view know a robot's streams from
    ``STREAM_MODELS``; each has its section in docs/streams.md, and the routes' ``StreamName`` names them."""
    doc = (REPO / "docs" / "streams.md").read_text()
    documented = re.findall(r"^### `robovox:\{robot\}:([a-z_]+)`$", doc, re.M)
    assert sorted(documented) == sorted(STREAM_MODELS)
    assert tuple(STREAM_MODELS) == STREAM_NAMES
