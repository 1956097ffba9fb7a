"""Unit: ``run_command`` against a stand-in link, one CommandResult per thing a link can do."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast

import pytest

from robovox.ros_adapter.commands import run_command
from robovox.ros_adapter.errors import CommandNotSentError, LinkLostError, NotSentReason
from robovox.ros_adapter.link import Reply, RosbridgeLink
from robovox.shared.entry import utc_now
from robovox.shared.messages import CommandKind, CommandStatus, RosCommand


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

    async def publish(self, topic: str, ros_type: str, msg: dict[str, Any], *, deadline: float) -> None:
        await self._answer("publish", topic, ros_type, msg)

    async def call_service(self, name: str, ros_type: str, args: dict[str, Any], **_: Any) -> Reply:
        return await self._answer("call_service", name, ros_type, args)

    async def send_action_goal(self, name: str, ros_type: str, goal: dict[str, Any], **_: Any) -> Reply:
        return await self._answer("send_action_goal", name, ros_type, goal)


def command(kind: CommandKind, target: str = "/robot/start", payload: dict[str, Any] | None = None) -> RosCommand:
    return RosCommand(
        call_id="call_unit_1",
        robot_id="cleaner-1",
        tool="start_cleaning",
        kind=kind,
        target=target,
        ros_type="pkg/srv/Start",
        payload=json.dumps(payload or {"option": "TurnLeft"}),
        deadline=utc_now() + timedelta(seconds=5),
        timeout_s=2.0,
    )


async def run(link: FakeLink, cmd: RosCommand) -> Any:
    return await run_command(cast(RosbridgeLink, link), cmd)


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
    result = await run(FakeLink(Reply(ok=True, values={}, status=status)), command(CommandKind.ACTION))
    assert result.status is expected


@pytest.mark.parametrize(
    ("error", "expected", "sent"),
    [
        (CommandNotSentError(NotSentReason.LINK_DOWN, "the rosbridge link is down"), CommandStatus.LINK_DOWN, False),
        (CommandNotSentError(NotSentReason.EXPIRED, "its deadline passed"), CommandStatus.EXPIRED, False),
        (LinkLostError("the rosbridge link dropped"), CommandStatus.INTERRUPTED, True),
        (TimeoutError(), CommandStatus.TIMED_OUT, True),
    ],
)
async def test_what_the_link_did_is_what_the_result_says(
    error: BaseException, expected: CommandStatus, sent: bool
) -> None:
    result = await run(FakeLink(error=error), command(CommandKind.SERVICE))
    assert (result.status, result.sent_to_robot) == (expected, sent)


async def test_a_publish_is_sent_on_its_topic() -> None:
    link = FakeLink()
    result = await run(link, command(CommandKind.PUBLISH, "/emergency_stop", {"data": True}))
    assert link.sent == [("publish", "/emergency_stop", "pkg/srv/Start", {"data": True})]
    assert result.status is CommandStatus.SUCCEEDED and result.message == "published on /emergency_stop"
