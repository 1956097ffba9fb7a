"""Unit: ``run_command`` against a stand-in link, one CommandResult per thing a link can do."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast

import pytest

from robovox.ros_adapter.commands import run_command
from robovox.ros_adapter.errors import CommandNotSentError, LinkLostError, LinkStalledError, NotSentReason
from robovox.ros_adapter.link import Reply, RosbridgeLink
from robovox.ros_adapter.link.actions import ActionGoals
from robovox.shared.entry import utc_now
from robovox.shared.messages import CommandKind, CommandStatus, RosCommand
from robovox.shared.ros_types import RosVersion


class FakeLink:
    """Records what was asked of it and answers with ``reply`` or raises ``error``."""

    def __init__(self, reply: Reply | None = None, error: BaseException | None = None) -> None:
        self.reply = reply or Reply(ok=True, values={"success": True})
        self.error = error
        self.sent: list[tuple[str, str, str, dict[str, Any]]] = []

    async def _answer(self, op: str, target: str, ros_type: str, payload: dict[str, Any]) -> Reply:
        self.sent.append((op, target, ros_type, payload))
        if self.error is not None:
            raise self.error
        return self.reply

    async def publish(self, topic: str, ros_type: str, msg: dict[str, Any], *, deadline: float) -> float:
        await self._answer("publish", topic, ros_type, msg)
        return 0.0

    async def call_service(self, name: str, ros_type: str, args: dict[str, Any], **_: Any) -> Reply:
        return await self._answer("call_service", name, ros_type, args)

    async def send_goal(self, name: str, ros_type: str, goal: dict[str, Any], **_: Any) -> Reply:
        return await self._answer("send_goal", name, ros_type, goal)


def command(
    kind: CommandKind,
    target: str = "/robot/start",
    payload: dict[str, Any] | None = None,
    ros_type: str = "pkg/srv/Start",
) -> RosCommand:
    return RosCommand(
        call_id="call_unit_1",
        robot_id="cleaner-1",
        tool="start_cleaning",
        kind=kind,
        target=target,
        ros_type=ros_type,
        payload=json.dumps(payload or {"option": "TurnLeft"}),
        deadline=utc_now() + timedelta(seconds=5),
        timeout_s=2.0,
    )


async def run(link: FakeLink, cmd: RosCommand, version: RosVersion | None = RosVersion.ROS2) -> Any:
    return await run_command(cast(RosbridgeLink, link), cmd, version=version, actions=cast(ActionGoals, link))


async def test_a_service_call_goes_out_once_with_its_payload_and_its_values_come_back() -> None:
    link = FakeLink(Reply(ok=True, values={"success": True, "message": "started"}))
    result = await run(link, command(CommandKind.SERVICE))
    assert link.sent == [("call_service", "/robot/start", "pkg/srv/Start", {"option": "TurnLeft"})]
    assert result.status is CommandStatus.SUCCEEDED and result.sent_to_robot
    assert result.values_object() == {"success": True, "message": "started"}


async def test_a_service_rosbridge_refused_is_failed_with_its_words() -> None:
    result = await run(
        FakeLink(Reply(ok=False, values="Service /robot/start does not exist")), command(CommandKind.SERVICE)
    )
    assert result.status is CommandStatus.FAILED and "does not exist" in result.message


@pytest.mark.parametrize(
    ("status", "expected"),
    [(4, CommandStatus.SUCCEEDED), (5, CommandStatus.CANCELED), (6, CommandStatus.FAILED)],
)
async def test_an_action_is_judged_by_its_goal_status(status: int, expected: CommandStatus) -> None:
    action = command(CommandKind.ACTION, ros_type="pkg/action/Move")
    result = await run(FakeLink(Reply(ok=True, values={}, status=status)), action)
    assert result.status is expected


@pytest.mark.parametrize(
    ("error", "expected", "sent"),
    [
        (CommandNotSentError(NotSentReason.LINK_DOWN, "the rosbridge link is down"), CommandStatus.LINK_DOWN, False),
        (CommandNotSentError(NotSentReason.EXPIRED, "its deadline passed"), CommandStatus.EXPIRED, False),
        (CommandNotSentError(NotSentReason.STALLED, "no pong"), CommandStatus.LINK_DOWN, False),
        (LinkLostError("the rosbridge link dropped"), CommandStatus.INTERRUPTED, True),
        (LinkStalledError("the bridge did not answer a ping"), CommandStatus.STALLED, True),
        (TimeoutError(), CommandStatus.TIMED_OUT, True),
    ],
)
async def test_what_the_link_did_is_what_the_result_says(
    error: BaseException, expected: CommandStatus, sent: bool
) -> None:
    result = await run(FakeLink(error=error), command(CommandKind.SERVICE))
    assert (result.status, result.sent_to_robot) == (expected, sent)


async def test_a_publish_is_sent_not_succeeded_since_rosbridge_never_answers_one() -> None:
    link = FakeLink()
    result = await run(link, command(CommandKind.PUBLISH, "/emergency_stop", {"data": True}, "std_msgs/msg/Bool"))
    assert link.sent == [("publish", "/emergency_stop", "std_msgs/msg/Bool", {"data": True})]
    assert result.status is CommandStatus.SENT and result.message.startswith("published on /emergency_stop")


async def test_a_publish_the_bridge_stalled_on_may_arrive_late() -> None:
    link = FakeLink(error=LinkStalledError("the bridge did not answer a ping within 0.5 s"))
    result = await run(link, command(CommandKind.PUBLISH, "/emergency_stop", {"data": True}, "std_msgs/msg/Bool"))
    assert result.status is CommandStatus.STALLED and result.sent_to_robot
    assert "may still get it, late" in result.message


@pytest.mark.parametrize(
    ("version", "kind", "written", "sent"),
    [
        (RosVersion.ROS1, CommandKind.SERVICE, "pkg/srv/Start", "pkg/Start"),
        (RosVersion.ROS2, CommandKind.SERVICE, "pkg/Start", "pkg/srv/Start"),
        (RosVersion.ROS1, CommandKind.PUBLISH, "std_msgs/msg/Bool", "std_msgs/Bool"),
        (None, CommandKind.PUBLISH, "std_msgs/msg/Bool", "std_msgs/msg/Bool"),
    ],
)
async def test_types_go_out_in_the_robots_own_dialect(
    version: RosVersion | None, kind: CommandKind, written: str, sent: str
) -> None:
    link = FakeLink()
    await run(link, command(kind, ros_type=written), version)
    assert link.sent[0][2] == sent
