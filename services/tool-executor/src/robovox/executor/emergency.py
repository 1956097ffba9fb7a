"""The emergency stop on the executor's side: the sticky latch that refuses motion, and the robot's
``emergency`` stream read by a consumer of its own, so that the model is told of every stop and
reset (a system message in the robot's inbox) whoever triggered it."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from robovox.executor.settings import ExecutorSettings
from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.consumer import Acked, StreamConsumer, read_robot_entry
from robovox.shared.emergency import STOPPED_SENTENCE
from robovox.shared.messages import (
    EmergencyAction,
    EmergencyRequest,
    EmergencyTrigger,
    InboxEntry,
    InboxKind,
    Urgency,
)
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.profile.alerts import Severity
from robovox.shared.streams import Group, MaxLen, RobotKeys

log = logging.getLogger(__name__)

SERVICE = "tool-executor"
STOP_INSTRUCTIONS = "Say in one short sentence that the robot has been emergency-stopped."


def check_emergency(latched: bool, tool: Tool) -> Rejection | None:
    """Motion is refused while the robot's emergency stop is latched."""
    if latched and tool.motion:
        return Rejection(
            RejectionReason.EMERGENCY_STOPPED,
            f"{STOPPED_SENTENCE}. {tool.name} was not sent. Tell the user exactly that.",
        )
    return None


def notice(request: EmergencyRequest) -> InboxEntry:
    """What the model is told of a stop or a reset."""
    who = "you" if request.trigger is EmergencyTrigger.MODEL else f"{request.trigger.value} ({request.triggered_by})"
    if request.action is EmergencyAction.STOP:
        return InboxEntry(
            kind=InboxKind.SYSTEM_MESSAGE,
            robot_id=request.robot_id,
            text=f"The robot was emergency-stopped by {who}. {STOPPED_SENTENCE}: motion functions are refused "
            "until then. Do not try to move it.",
            # The model that called the stop hears its own call's output; anyone else's stop is spoken now.
            speak=request.trigger is not EmergencyTrigger.MODEL,
            instructions=STOP_INSTRUCTIONS,
            urgency=Urgency.URGENT,
            severity=Severity.CRITICAL,
            source=SERVICE,
            reason="emergency_stop",
        )
    return InboxEntry(
        kind=InboxKind.SYSTEM_MESSAGE,
        robot_id=request.robot_id,
        text=f"A person reset the robot's emergency stop ({who}); motion functions may be used again.",
        speak=False,
        source=SERVICE,
        reason="emergency_reset",
    )


class EmergencyNotices:
    def __init__(self, redis: Redis, profile: RobotProfile, settings: ExecutorSettings) -> None:
        self.profile = profile
        self._redis = redis
        self._keys = RobotKeys.of(profile.robot_id)
        self.consumer = StreamConsumer(
            redis,
            [self._keys.emergency],
            settings.consumer_config(SERVICE, Group.TOOL_EXECUTOR),
            self._handle,
            dead_letter_stream=self._keys.dead_letters,
        )

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str]) -> Acked | None:
        request = read_robot_entry(EmergencyRequest, fields, self.profile.robot_id, "emergency request")
        entry = notice(request)
        await self._redis.xadd(self._keys.inbox, entry.to_fields(), maxlen=MaxLen.INBOX, approximate=True)  # type: ignore[arg-type]
        log.warning(
            "robot %s: emergency %s %s told to the model", request.robot_id, request.action.value, request.stop_id
        )
        return None
