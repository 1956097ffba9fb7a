"""Know the robot before trusting it: the profile checked against what the robot has.

rosbridge reports nothing it cannot do: a type name in the wrong dialect, a
topic nobody has, a type that clashes, all fail without a word. So at every
connect the adapter asks the robot's rosapi which ROS it runs and what each
profile topic, service and action is on the robot, and every mismatch becomes
a log line, a sentence in the robot's link state, and a tool the executor
refuses with that sentence. A robot without rosapi is allowed, with a warning
that nothing could be checked.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from robovox.ros_adapter.errors import AdapterError
from robovox.ros_adapter.link import RosbridgeLink
from robovox.shared.link import RobotCheck
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.ros_types import ActionlibPart, InterfaceKind, RosTypeName, RosVersion

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    version: RosVersion | None
    distro: str = ""
    check: RobotCheck = RobotCheck.PENDING
    problems: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Tool name -> why it cannot run on this robot."""


class RosapiError(AdapterError):
    """rosapi did not answer, or answered that it is not there."""


class _Rosapi:
    def __init__(self, link: RosbridgeLink, version: RosVersion | None, timeout_s: float) -> None:
        self._link = link
        self.version = version
        self._timeout_s = timeout_s

    async def call(self, service: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Ask rosapi (no type: the bridge knows its own rosapi's types, which differ by release)."""
        try:
            reply = await self._link.call_service(
                f"/rosapi/{service}", None, args or {}, deadline=math.inf, timeout_s=self._timeout_s
            )
        except TimeoutError:
            raise RosapiError(f"/rosapi/{service} did not answer within {self._timeout_s:g} s") from None
        except AdapterError as exc:
            raise RosapiError(f"/rosapi/{service}: {exc}") from None
        if not reply.ok or not isinstance(reply.values, dict):
            raise RosapiError(f"/rosapi/{service}: {reply.values}")
        return reply.values


async def _ros_version(rosapi: _Rosapi) -> tuple[RosVersion, str]:
    try:
        answer = await rosapi.call("get_ros_version")
        return RosVersion(int(answer["version"])), str(answer.get("distro", ""))
    except (RosapiError, KeyError, ValueError):
        pass  # an older rosapi: its own service types tell the dialect
    answer = await rosapi.call("service_type", {"service": "/rosapi/topics"})
    srv_type = str(answer.get("type", ""))
    if not srv_type:
        raise RosapiError("the robot's rosapi does not list itself")
    return (RosVersion.ROS2 if "/srv/" in srv_type else RosVersion.ROS1), ""


async def check_robot(
    link: RosbridgeLink, profile: RobotProfile, *, fixed: RosVersion | None, timeout_s: float
) -> CheckReport:
    rosapi = _Rosapi(link, fixed, timeout_s)
    try:
        version, distro = await _ros_version(rosapi)
    except RosapiError as exc:
        log.warning(
            "robot %s: nothing could be checked: the robot has no working rosapi (%s); sending types as the "
            "profile writes them",
            profile.robot_id,
            exc,
        )
        return CheckReport(fixed, check=RobotCheck.UNCHECKED, problems=[f"nothing could be checked: {exc}"])
    if fixed is not None and fixed is not version:
        problem = f"the profile says ROS {fixed.value} but the robot runs ROS {version.value}"
        return CheckReport(version, distro, RobotCheck.PROBLEMS, [problem], {t.name: problem for t in profile.tools})
    rosapi.version = version
    report = CheckReport(version, distro)
    try:
        await _compare(rosapi, profile, report)
    except RosapiError as exc:
        report.problems.append(f"the check stopped: {exc}")
    report.check = RobotCheck.PROBLEMS if report.problems else RobotCheck.PASSED
    for problem in report.problems:
        log.warning("robot %s: %s", profile.robot_id, problem)
    log.info(
        "robot %s: ROS %d%s; profile check %s",
        profile.robot_id,
        version.value,
        f" ({distro})" if distro else "",
        report.check.value,
    )
    return report


async def _compare(rosapi: _Rosapi, profile: RobotProfile, report: CheckReport) -> None:
    topics: dict[str, str] = {s.topic: s.type for s in profile.telemetry}
    services: dict[str, str] = {}
    actions: dict[str, str] = {}
    for tool in profile.tools:
        ros = tool.ros
        if ros.publish is not None:
            topics.setdefault(ros.publish.topic, ros.publish.type)
        elif ros.call_service is not None:
            services[ros.call_service.name] = ros.call_service.type
        elif ros.send_action_goal is not None:
            actions[ros.send_action_goal.name] = ros.send_action_goal.type
    topic_types, service_types, action_found = await asyncio.gather(
        _answers(rosapi, "topic_type", "topic", topics),
        _answers(rosapi, "service_type", "service", services),
        _actions(rosapi, actions),
    )
    for name, wanted in services.items():
        _found(report, profile, {name}, _mismatch(name, "service", service_types[name], wanted, InterfaceKind.SRV))
    for name, why in action_found.items():
        _found(report, profile, {name}, why)
    for topic, wanted in topics.items():
        _found(report, profile, {topic}, _mismatch(topic, "topic", topic_types[topic], wanted, InterfaceKind.MSG))


def _found(report: CheckReport, profile: RobotProfile, names: set[str], why: str | None) -> None:
    """Record a problem, and disable every tool that uses one of ``names``."""
    if why is None:
        return
    report.problems.append(why)
    for tool in profile.tools:
        if names & _names_used(tool):
            report.unavailable.setdefault(tool.name, why)


async def _answers(rosapi: _Rosapi, service: str, key: str, names: dict[str, str]) -> dict[str, str]:
    replies = await asyncio.gather(*(rosapi.call(service, {key: name}) for name in names))
    return {name: str(reply.get("type", "")) for name, reply in zip(names, replies, strict=True)}


async def _actions(rosapi: _Rosapi, actions: dict[str, str]) -> dict[str, str]:
    """Action name -> what is wrong with it (absent when it is fine)."""
    if not actions:
        return {}
    wrong: dict[str, str] = {}
    if rosapi.version is RosVersion.ROS2:
        servers = set((await rosapi.call("action_servers")).get("action_servers", []))
        for name in actions:
            if name not in servers and name.lstrip("/") not in servers:
                wrong[name] = f"the robot has no action server {name}"
        return wrong
    goals = {f"{name}/{ActionlibPart.GOAL}": name for name in actions}
    found = await _answers(rosapi, "topic_type", "topic", dict.fromkeys(goals, ""))
    for topic, name in goals.items():
        wanted = RosTypeName.parse(actions[name], InterfaceKind.ACTION).actionlib(ActionlibPart.GOAL)
        if not found[topic]:
            wrong[name] = f"the robot has no action server {name} (no actionlib topic {topic})"
        elif found[topic] != wanted:
            wrong[name] = f"{topic} is {found[topic]} on the robot; the profile's action type needs {wanted}"
    return wrong


def _mismatch(name: str, what: str, found: str, wanted: str, kind: InterfaceKind) -> str | None:
    if not found:
        return f"the robot has no {what} {name}"
    if not RosTypeName.parse(wanted, kind).names_same(found):
        return f"{name} is {found} on the robot; the profile says {wanted}"
    return None


def _names_used(tool: Tool) -> set[str]:
    """Every topic, service and action ``tool`` needs."""
    ros = tool.ros
    names = {p.topic for p in tool.preconditions}
    if tool.confirm is not None:
        names.add(tool.confirm.topic)
    for binding_name in (
        ros.publish.topic if ros.publish else None,
        ros.read_telemetry.topic if ros.read_telemetry else None,
        ros.call_service.name if ros.call_service else None,
        ros.send_action_goal.name if ros.send_action_goal else None,
    ):
        if binding_name is not None:
            names.add(binding_name)
    return names
