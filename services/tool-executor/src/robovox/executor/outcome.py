"""What the model hears about each call: the function_call_output text, whether
to speak now, and with which instructions."""

from __future__ import annotations

from typing import Final, Protocol

from robovox.executor.verdict import Rejection
from robovox.shared.limits import cut_text
from robovox.shared.messages import CommandResult, CommandStatus, InboxEntry, InboxKind, Outcome
from robovox.shared.profile import CallService, RobotProfile, SendActionGoal, Tool

SOURCE: Final = "tool-executor"
FAILURE_INSTRUCTIONS: Final = (
    "Respond to the function call output: tell the user briefly what went wrong and what they can do."
)
QUERY_INSTRUCTIONS: Final = "Respond to the function call output: answer the user's question with it."
SENT_INSTRUCTIONS: Final = (
    "Respond to the function call output: say briefly that the command was sent, without claiming it took effect."
)


class CallRef(Protocol):
    """What an answer needs of its call: a ToolCall, or what could be read of a call that is not one."""

    @property
    def call_id(self) -> str: ...
    @property
    def robot_id(self) -> str: ...
    @property
    def name(self) -> str: ...


def _output(
    call: CallRef,
    text: str,
    outcome: Outcome,
    *,
    speak: bool,
    reason: str | None = None,
    instructions: str | None = None,
) -> InboxEntry:
    return InboxEntry(
        kind=InboxKind.FUNCTION_CALL_OUTPUT,
        robot_id=call.robot_id,
        call_id=call.call_id,
        tool=call.name,
        text=text,
        speak=speak,
        source=SOURCE,
        outcome=outcome,
        reason=reason,
        instructions=instructions,
    )


def rejected(call: CallRef, rejection: Rejection) -> InboxEntry:
    return _output(
        call,
        rejection.sentence,
        Outcome.REJECTED,
        speak=True,
        reason=rejection.reason.value,
        instructions=FAILURE_INSTRUCTIONS,
    )


def answered(call: CallRef, text: str) -> InboxEntry:
    return _output(call, text, Outcome.SUCCEEDED, speak=True, instructions=QUERY_INSTRUCTIONS)


def _reply_binding(tool: Tool | None) -> CallService | SendActionGoal | None:
    """The binding whose reply carries success and message fields, if the tool has one."""
    return (tool.ros.call_service or tool.ros.send_action_goal) if tool else None


def _robot_message(tool: Tool | None, result: CommandResult) -> str:
    binding = _reply_binding(tool)
    field = binding.message_field if binding else "message"
    if not field:
        return ""
    return str(result.values_object().get(field, "")).strip()


def _reported_failure(tool: Tool | None, result: CommandResult) -> bool:
    binding = _reply_binding(tool)
    field = binding.success_field if binding else None
    return field is not None and result.values_object().get(field) is False


def not_started(call: CallRef) -> InboxEntry:
    """The adapter never started the command, and now never will (the call record says so)."""
    return _output(
        call,
        f"{call.name} was not run: the robot's connection did not take it up before its deadline, so nothing was "
        "done. Ask the user whether it is still wanted.",
        Outcome.FAILED,
        speak=True,
        reason="not_started",
        instructions=FAILURE_INSTRUCTIONS,
    )


def not_processed(call: CallRef, why: str) -> InboxEntry:
    """A call RoboVox could not handle at all (unreadable, or given up on before it was dispatched)."""
    return _output(
        call,
        f"RoboVox could not process the call to {call.name or 'this function'} ({cut_text(why, 200)}), so nothing "
        "was sent to the robot. Tell the user, and call it again if it is still wanted.",
        Outcome.REJECTED,
        speak=True,
        reason="not_processed",
        instructions=FAILURE_INSTRUCTIONS,
    )


def untraceable(call: CallRef, why: str) -> InboxEntry:
    """A call whose record cannot be read: whether its command was sent cannot be known."""
    return _output(
        call,
        f"RoboVox lost track of {call.name or 'this function'} ({cut_text(why, 200)}) and cannot tell whether it "
        "reached the robot. Tell the user to check the robot before repeating it.",
        Outcome.UNKNOWN,
        speak=True,
        reason="record_unreadable",
        instructions=FAILURE_INSTRUCTIONS,
    )


def from_result(call: CallRef, tool: Tool | None, profile: RobotProfile, result: CommandResult | None) -> InboxEntry:
    """The answer from the adapter's result; ``None`` means it started the command and never reported."""
    name = call.name
    robot = profile.display_name or profile.robot_id
    if result is None:
        return _output(
            call,
            f"RoboVox sent {name} to the robot but got no confirmation that it finished; the robot may still be "
            "carrying it out. Tell the user to check the robot before repeating the command.",
            Outcome.UNKNOWN,
            speak=True,
            reason="no_result",
            instructions=FAILURE_INSTRUCTIONS,
        )
    said = _robot_message(tool, result) or (result.message if tool and tool.confirm else "")
    if result.status is CommandStatus.SENT:
        return _output(
            call,
            f"{name} was sent to the robot: {result.message}. Nothing confirms it took effect; if it matters, "
            "tell the user to check.",
            Outcome.SENT,
            speak=bool(tool and tool.speak_on_success),
            reason="not_confirmable",
            instructions=SENT_INSTRUCTIONS,
        )
    if result.ok and not _reported_failure(tool, result):
        speak = bool(tool and tool.speak_on_success)
        text = f"{name} succeeded" + (f": {said}" if said else ".")
        return _output(
            call, text, Outcome.SUCCEEDED, speak=speak, instructions=tool.success_instructions if tool else None
        )
    failed = {
        CommandStatus.SUCCEEDED: (Outcome.FAILED, f"{name} failed: {said or 'the robot reported failure'}."),
        CommandStatus.FAILED: (Outcome.FAILED, f"{name} failed: {said or result.message}."),
        CommandStatus.LINK_DOWN: (
            Outcome.FAILED,
            f"{robot} lost its connection before {name} could be sent, so nothing was done. "
            "Tell the user to check the robot's connection, then try again.",
        ),
        CommandStatus.EXPIRED: (
            Outcome.FAILED,
            f"{name} was not run: it could not start before its deadline. Ask the user whether it is still wanted.",
        ),
        CommandStatus.UNAVAILABLE: (
            Outcome.FAILED,
            f"{name} is unavailable: {result.message}. Nothing was sent. Tell the user this function does not "
            "work on this robot until its setup is fixed.",
        ),
        CommandStatus.TIMED_OUT: (
            Outcome.UNKNOWN,
            f"{name} did not finish in time ({result.message}). Tell the user to check the robot before repeating it.",
        ),
        CommandStatus.CANCELED: (Outcome.FAILED, f"{name} was canceled before it finished."),
        CommandStatus.UNCONFIRMED: (
            Outcome.UNKNOWN,
            f"{name} was sent but did not take effect as expected ({result.message}). Tell the user to check the "
            "robot before repeating it.",
        ),
        CommandStatus.STALLED: (
            Outcome.UNKNOWN,
            f"The outcome of {name} is unknown: {result.message}. Tell the user the robot may still carry it out "
            "late, and to check the robot before repeating it.",
        ),
        CommandStatus.SENT: (Outcome.SENT, f"{name} was sent to the robot."),
        CommandStatus.INTERRUPTED: (
            Outcome.UNKNOWN,
            f"The outcome of {name} is unknown: {result.message}. Tell the user to check the robot before "
            "repeating it.",
        ),
    }
    outcome, text = failed[result.status]
    return _output(call, text, outcome, speak=True, reason=result.status.value, instructions=FAILURE_INSTRUCTIONS)
