"""Unit: the connect-time check against a stand-in rosapi, for what the simulator cannot be."""

from __future__ import annotations

from typing import Any, cast

import pytest

from robovox.ros_adapter.link import Reply, RosbridgeLink
from robovox.ros_adapter.robot_check import check_robot
from robovox.shared.link import RobotCheck
from robovox.shared.ros_types import RosVersion
from robovox.shared.testing.profiles import shipped_profile


class Rosapi:
    """Answers rosapi questions from a table; a service missing from it does not exist."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def call_service(self, name: str, ros_type: str | None, args: dict[str, Any], **_: Any) -> Reply:
        self.asked.append(name)
        answer = self.answers.get(name)
        if answer is None:
            return Reply(False, f"Service {name} does not exist.")
        return Reply(True, answer(args) if callable(answer) else answer)


async def test_a_robot_without_rosapi_is_allowed_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    report = await check_robot(cast(RosbridgeLink, Rosapi({})), shipped_profile(), fixed=None, timeout_s=1)
    assert report.check is RobotCheck.UNCHECKED and report.unavailable == {} and report.version is None
    assert "nothing could be checked" in report.problems[0]
    assert any("nothing could be checked" in r.getMessage() for r in caplog.records)


async def test_an_older_rosapi_is_known_by_its_own_service_types() -> None:
    rosapi = Rosapi({"/rosapi/service_type": {"type": "rosapi/Topics"}, "/rosapi/topic_type": {"type": ""}})
    report = await check_robot(cast(RosbridgeLink, rosapi), shipped_profile(), fixed=None, timeout_s=1)
    assert report.version is RosVersion.ROS1 and report.check is RobotCheck.PROBLEMS
    assert "the robot has no topic /battery/voltage" in report.problems


async def test_a_profile_fixed_to_the_other_ros_disables_every_tool() -> None:
    rosapi = Rosapi({"/rosapi/get_ros_version": {"version": 1, "distro": "noetic"}})
    profile = shipped_profile()
    report = await check_robot(cast(RosbridgeLink, rosapi), profile, fixed=RosVersion.ROS2, timeout_s=1)
    assert report.problems == ["the profile says ROS 2 but the robot runs ROS 1"]
    assert set(report.unavailable) == {t.name for t in profile.tools}
