"""Unit: the safety checks and the answers' sentences, called directly (no Redis)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from robovox.executor import outcome
from robovox.executor.command import build_command
from robovox.executor.policy import check_deadline, check_link
from robovox.executor.verdict import RejectionReason
from robovox.shared.entry import utc_now
from robovox.shared.link import LinkInfo, LinkState
from robovox.shared.messages import CommandKind, CommandResult, CommandStatus, Outcome, ToolCall
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.testing.profiles import shipped_profile, tool_named


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return shipped_profile()


def tool(profile: RobotProfile, name: str) -> Tool:
    return tool_named(profile, name)


def call(name: str, deadline_in_s: float = 10.0) -> ToolCall:
    now = utc_now()
    return ToolCall(
        call_id="call_unit_1",
        robot_id="cleaner-1",
        name=name,
        arguments="{}",
        issued_at=now,
        deadline=now + timedelta(seconds=deadline_in_s),
    )


def link(state: LinkState) -> LinkInfo:
    return LinkInfo(state=state, since=utc_now(), rosbridge_url="ws://x", adapter="a", connects=1, telemetry_dropped=0)


def result(status: CommandStatus, values: dict[str, object] | None = None, message: str = "") -> CommandResult:
    return CommandResult(
        call_id="call_unit_1",
        robot_id="cleaner-1",
        status=status,
        message=message,
        values=json.dumps(values or {}),
        sent_to_robot=status is not CommandStatus.LINK_DOWN,
        duration_ms=1.0,
    )


def test_a_call_within_its_deadline_passes_and_a_late_one_is_refused() -> None:
    assert check_deadline(call("stop_cleaning")) is None
    late = check_deadline(call("stop_cleaning", deadline_in_s=-2.0))
    assert late is not None and late.reason is RejectionReason.DEADLINE_PASSED
    assert late.sentence.startswith("stop_cleaning was not run: it reached the robot 2.0 s after its deadline")


@pytest.mark.parametrize("state", [LinkState.CONNECTING, LinkState.DOWN, LinkState.CLOSED])
def test_only_an_up_link_lets_a_command_through(profile: RobotProfile, state: LinkState) -> None:
    stop = tool(profile, "stop_cleaning")
    assert check_link(link(LinkState.UP), profile, stop) is None
    refused = check_link(link(state), profile, stop)
    assert refused is not None and refused.reason is RejectionReason.ROBOT_OFFLINE
    assert "its ROS bridge is not answering" in refused.sentence
    nobody = check_link(None, profile, stop)
    assert nobody is not None and "no ROS adapter is connected to it" in nobody.sentence


def test_a_service_result_is_succeeded_unless_the_robot_says_otherwise(profile: RobotProfile) -> None:
    start = tool(profile, "start_cleaning")
    ok = outcome.from_result(call("start_cleaning"), start, profile, result(CommandStatus.SUCCEEDED, {"success": True}))
    assert ok.outcome is Outcome.SUCCEEDED and ok.text.startswith("start_cleaning succeeded")
    said_no = outcome.from_result(
        call("start_cleaning"),
        start,
        profile,
        result(CommandStatus.SUCCEEDED, {"success": False, "message": "pads are up"}),
    )
    assert said_no.outcome is Outcome.FAILED and said_no.text == "start_cleaning failed: pads are up."


@pytest.mark.parametrize(
    ("status", "expected", "starts"),
    [
        (CommandStatus.LINK_DOWN, Outcome.FAILED, "Cleaning robot 1 lost its connection before stop_cleaning"),
        (CommandStatus.EXPIRED, Outcome.FAILED, "stop_cleaning was not run: it could not start before its deadline"),
        (CommandStatus.TIMED_OUT, Outcome.UNKNOWN, "stop_cleaning did not finish in time"),
        (CommandStatus.INTERRUPTED, Outcome.UNKNOWN, "The outcome of stop_cleaning is unknown"),
        (CommandStatus.CANCELED, Outcome.FAILED, "stop_cleaning was canceled before it finished."),
    ],
)
def test_every_failure_has_a_truthful_outcome(
    profile: RobotProfile, status: CommandStatus, expected: Outcome, starts: str
) -> None:
    entry = outcome.from_result(call("stop_cleaning"), tool(profile, "stop_cleaning"), profile, result(status))
    assert entry.outcome is expected and entry.reason == status.value and entry.text.startswith(starts)
    assert entry.speak is True and entry.instructions == outcome.FAILURE_INSTRUCTIONS


def test_not_started_no_result_and_not_processed_say_what_the_record_knows(profile: RobotProfile) -> None:
    stop = call("stop_cleaning")
    assert outcome.not_started(stop).reason == "not_started" and "nothing was done" in outcome.not_started(stop).text
    unconfirmed = outcome.from_result(stop, tool(profile, "stop_cleaning"), profile, None)
    assert unconfirmed.outcome is Outcome.UNKNOWN and unconfirmed.reason == "no_result"
    unreadable = outcome.not_processed(stop, "x" * 1000)
    assert unreadable.outcome is Outcome.REJECTED and "nothing was sent to the robot" in unreadable.text
    assert len(unreadable.text) < 400, "the reason is cut"


def test_a_tool_becomes_the_command_its_binding_names(profile: RobotProfile) -> None:
    cleaning = call("start_cleaning")
    start = build_command(cleaning, tool(profile, "start_cleaning"), {"option": "TurnLeft"})
    assert (start.kind, start.target) == (CommandKind.SERVICE, "/robot_navigator/start_cleaning")
    assert start.ros_type == "cleaning_robot_interfaces/srv/StartCleaning"
    assert start.payload_object() == {"option": "TurnLeft"}
    assert (start.timeout_s, start.deadline, start.call_id) == (5, cleaning.deadline, cleaning.call_id)
    move = build_command(call("move_to_corner"), tool(profile, "move_to_corner"), {"corner": "front_left"})
    assert (move.kind, move.target) == (CommandKind.ACTION, "/robot_navigator/move_to_corner")
    assert move.payload_object() == {"corner": "front_left"}
    stop = build_command(call("emergency_stop"), tool(profile, "emergency_stop"), {})
    assert stop.kind is CommandKind.PUBLISH


def test_a_tool_the_robot_lacks_is_refused_with_what_the_adapter_found(profile: RobotProfile) -> None:
    missing = "the robot has no service /robot_navigator/start_cleaning"
    found = link(LinkState.UP).model_copy(update={"unavailable": json.dumps({"start_cleaning": missing})})
    refused = check_link(found, profile, tool(profile, "start_cleaning"))
    assert refused is not None and refused.reason is RejectionReason.TOOL_UNAVAILABLE
    assert refused.sentence.startswith(f"start_cleaning is unavailable: {missing}. Nothing was sent.")
    assert check_link(found, profile, tool(profile, "stop_cleaning")) is None


def test_an_unreachable_robot_is_not_moved_but_may_still_be_stopped(profile: RobotProfile) -> None:
    heard = utc_now() - timedelta(seconds=7)
    silent = link(LinkState.UNREACHABLE).model_copy(update={"last_heard": heard})
    refused = check_link(silent, profile, tool(profile, "move_to_corner"))
    assert refused is not None and refused.reason is RejectionReason.ROBOT_UNREACHABLE
    assert "is not reachable (nothing heard from it since" in refused.sentence
    assert "although its ROS bridge is connected" in refused.sentence
    assert check_link(silent, profile, tool(profile, "stop_cleaning")) is None


@pytest.mark.parametrize(
    ("status", "expected", "words"),
    [
        (CommandStatus.SENT, Outcome.SENT, "was sent to the robot"),
        (CommandStatus.UNCONFIRMED, Outcome.UNKNOWN, "was sent but did not take effect as expected"),
        (CommandStatus.STALLED, Outcome.UNKNOWN, "may still carry it out late"),
    ],
)
def test_what_nothing_confirmed_is_never_called_a_success(
    profile: RobotProfile, status: CommandStatus, expected: Outcome, words: str
) -> None:
    stop = tool(profile, "emergency_stop")
    said = outcome.from_result(call("emergency_stop"), stop, profile, result(status, message="published"))
    assert said.outcome is expected and words in said.text
    assert "succeeded" not in said.text


def test_every_command_status_has_an_answer(profile: RobotProfile) -> None:
    stop = tool(profile, "stop_cleaning")
    for status in CommandStatus:
        said = outcome.from_result(call("stop_cleaning"), stop, profile, result(status, message="why"))
        assert said.text and said.outcome is not None
    unavailable = outcome.from_result(
        call("stop_cleaning"),
        stop,
        profile,
        result(CommandStatus.UNAVAILABLE, message="the robot has no service /robot_navigator/stop"),
    )
    assert unavailable.text.startswith("stop_cleaning is unavailable: the robot has no service /robot_navigator/stop.")
