"""The executor's work for one robot: each tool call, from its entry to its outcome.

A call's life is kept in its call record, so every step is safe to repeat:
a call already answered is only acked; a call already dispatched (by this
process before a restart, or by an executor that died) is waited on, never
sent again; a new call is checked and then dispatched at most once.

What the model is told comes from the record, never from a guess: a command
the adapter had not started by its deadline is abandoned in the record (the
adapter then never starts it) and answered "not run"; only a command the
adapter did start and never reported is answered "no confirmation".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis

from robovox.executor import outcome
from robovox.executor.arguments import parse_arguments
from robovox.executor.command import build_command
from robovox.executor.command_rpc import CommandReply, CommandRpc
from robovox.executor.emergency import EmergencyNotices, check_emergency
from robovox.executor.policy import check_deadline, check_link, check_preconditions, check_repeated_motion
from robovox.executor.queries import answer_query
from robovox.executor.results import ResultFollower
from robovox.executor.settings import ExecutorSettings
from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.aio import supervise
from robovox.shared.call_life import Ack, CallLife, CallRecord, CallState
from robovox.shared.consumer import ACKED, Acked, PermanentError, StreamConsumer, read_robot_entry
from robovox.shared.emergency import EmergencyState, EmergencyStops, stopped
from robovox.shared.entry import EntryError, utc_now
from robovox.shared.limits import cut_text
from robovox.shared.link import LinkInfo
from robovox.shared.messages import (
    ALERT_SESSION_PREFIX,
    CallId,
    EmergencyAction,
    EmergencyRequest,
    EmergencyTrigger,
    InboxEntry,
    ToolCall,
)
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.streams import Group, RobotKeys

log = logging.getLogger(__name__)

SERVICE = "tool-executor"
_CALL_ID: TypeAdapter[str] = TypeAdapter(CallId)


@dataclass(frozen=True, slots=True)
class UnreadableCall:
    """What could be read of a tool-call entry that is not a valid ToolCall."""

    call_id: str
    robot_id: str
    name: str


class RobotCalls:
    def __init__(self, redis: Redis, profile: RobotProfile, settings: ExecutorSettings) -> None:
        self.profile = profile
        self._redis = redis
        self._settings = settings
        self._keys = RobotKeys.of(profile.robot_id)
        self._calls = CallLife(redis)
        self._limits = settings.limits
        self._validators: dict[str, tuple[object, Draft202012Validator]] = {}
        self._stops = EmergencyStops(redis)
        self.emergency = EmergencyNotices(redis, profile, settings)
        results = ResultFollower(
            redis, self._keys, self._calls, settings.block_ms, consumer=settings.consumer(SERVICE), limits=self._limits
        )
        self.commands = CommandRpc(
            self._keys,
            self._calls,
            results,
            start_grace_s=settings.start_grace_s,
            result_grace_s=settings.result_grace_s,
        )
        self.consumer = StreamConsumer(
            redis,
            [self._keys.tool_calls],
            settings.consumer_config(SERVICE, Group.TOOL_EXECUTOR),
            self._handle,
            dead_letter_stream=self._keys.dead_letters,
            on_dead_letter=self._answer_dead_letter,
        )

    @property
    def ready(self) -> asyncio.Event:
        return self.consumer.ready

    async def run(self, stopping: asyncio.Event) -> None:
        robot = self.profile.robot_id
        # The results listener stops after the consumers: a call in flight at a stop still gets its result.
        handlers_done = asyncio.Event()
        listener = asyncio.create_task(self.commands.run(handlers_done), name=f"{robot} results listener")
        consumer = asyncio.create_task(self.consumer.run(), name=f"{robot} tool-call consumer")
        notices = asyncio.create_task(self.emergency.consumer.run(), name=f"{robot} emergency notices")
        grace_s = self._settings.shutdown_grace_ms / 1000 + 2
        try:
            await supervise(stopping, [consumer, listener, notices])
        finally:
            self.consumer.stop()
            self.emergency.consumer.stop()
            await asyncio.wait([consumer, notices], timeout=grace_s)
            handlers_done.set()
            await asyncio.wait([listener], timeout=grace_s)

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str]) -> Acked | None:
        call = read_robot_entry(ToolCall, fields, self.profile.robot_id, "call")
        async with self._redis.pipeline(transaction=False) as pipe:  # one round trip for what every call reads
            pipe.hgetall(self._keys.call_record(call.call_id))
            pipe.hgetall(self._keys.link_state)
            pipe.hgetall(self._keys.emergency_state)
            record_fields, link_fields, latch_fields = await pipe.execute()
        try:
            record = CallRecord.from_record(record_fields)
        except EntryError as exc:
            raise PermanentError(f"its call record cannot be read: {exc}") from None
        if record.state is CallState.DONE:
            return None
        tool = self.profile.tool(call.name)
        if record.state not in (None, CallState.PUBLISHED):
            log.info("%s: %s was dispatched before; waiting for its result", call.robot_id, call.call_id)
            reply = await self.commands.reply(call, _timeout_s(tool))
            entry = self._answer(call, tool, reply)
        else:
            # An unreadable link hash is no link: motion is refused as offline.
            link = LinkInfo.from_hash_or_none(link_fields, call.robot_id)
            latch = stopped(latch_fields, call.robot_id)
            entry = await self._decide_and_run(call, tool, link, latch)
        await self._finish(entry, Ack(stream, Group.TOOL_EXECUTOR, entry_id))
        return ACKED

    async def _finish(self, entry: InboxEntry, ack: Ack | None = None) -> None:
        """Append the answer (its text cut to what the model is given) unless the call was answered
        before, and ack the call's entry in the same script."""
        text = cut_text(entry.text, self._limits.output_chars)
        if text != entry.text:
            entry = entry.model_copy(update={"text": text})
        assert entry.call_id is not None, "every answer is a function_call_output"
        if await self._calls.finish(self._keys, entry.call_id, entry, ack):
            log.info(
                "%s: %s %s -> %s%s",
                entry.robot_id,
                entry.call_id,
                entry.tool,
                entry.outcome.value if entry.outcome else "",
                f" ({entry.reason})" if entry.reason else "",
            )

    async def _decide_and_run(
        self, call: ToolCall, tool: Tool | None, link: LinkInfo | None, latch: EmergencyState | None
    ) -> InboxEntry:
        if tool is None:
            names = ", ".join(t.name for t in self.profile.tools)
            return outcome.rejected(
                call,
                Rejection(
                    RejectionReason.UNKNOWN_TOOL,
                    f'There is no function named "{call.name}". The available functions are: {names}. '
                    "Tell the user what you can do instead.",
                ),
            )
        if self.profile.is_emergency_stop(tool.name):  # whatever its arguments: the priority path
            return await self._emergency_stop(call, tool, on_path=latch is not None and latch.stop_id == call.call_id)
        arguments = parse_arguments(tool, call.arguments, self._limits, self._validator(tool))
        if isinstance(arguments, Rejection):
            return outcome.rejected(call, arguments)
        rejection = (
            check_emergency(latch is not None, tool)
            or check_deadline(call)
            or check_link(link, self.profile, tool)
            or await check_preconditions(self._redis, self._keys, tool)
        )
        if rejection is None and tool.is_query:
            answer = await answer_query(self._redis, self._keys, tool, arguments)
            return outcome.rejected(call, answer) if isinstance(answer, Rejection) else outcome.answered(call, answer)
        rejection = rejection or await check_repeated_motion(
            self._redis, self._keys, tool, call, arguments, self._settings.motion_repeat_window_s
        )
        if rejection is not None:
            return outcome.rejected(call, rejection)
        reply = await self.commands.call(call, build_command(call, tool, arguments), tool.timeout_s)
        return self._answer(call, tool, reply)

    async def _emergency_stop(self, call: ToolCall, tool: Tool, *, on_path: bool) -> InboxEntry:
        """The model's own stop call: on the priority path (no deadline, link, precondition or motion
        checks, no in-flight queue in the adapter), answered from the adapter's result. ``on_path``:
        the gateway put it there when it published the call (the latch names it)."""

        trigger, who = EmergencyTrigger.MODEL, f"call {call.call_id}"
        if call.session_id and call.session_id.startswith(ALERT_SESSION_PREFIX):  # an alert rule's action
            trigger, who = EmergencyTrigger.ALERT, f"rule {call.session_id.removeprefix(ALERT_SESSION_PREFIX)}"

        async def send() -> EmergencyRequest:
            return await self._stops.trigger(self.profile, EmergencyAction.STOP, trigger, who, call_id=call.call_id)

        # The deadline the adapter works to is the stop's own: the reply waits for that.
        stop_s = self.profile.emergency_stop.deadline_s if self.profile.emergency_stop else tool.timeout_s
        stop_call = call.model_copy(update={"deadline": max(call.deadline, utc_now() + timedelta(seconds=stop_s))})
        if on_path:
            reply = await self.commands.reply(stop_call, tool.timeout_s)
        else:
            reply = await self.commands.priority(stop_call, send, tool.timeout_s)
        return self._answer(call, tool, reply)

    def _validator(self, tool: Tool) -> Draft202012Validator:
        """The tool's schema, compiled once (again if the profile's tool changed)."""
        cached = self._validators.get(tool.name)
        if cached is None or cached[0] is not tool.parameters:
            cached = (tool.parameters, Draft202012Validator(tool.parameters))
            self._validators[tool.name] = cached
        return cached[1]

    def _answer(self, call: ToolCall | UnreadableCall, tool: Tool | None, reply: CommandReply) -> InboxEntry:
        if not reply.started:
            return outcome.not_started(call)
        return outcome.from_result(call, tool, self.profile, reply.result)

    async def _answer_dead_letter(self, stream: str, fields: dict[str, str], reason: str) -> None:
        """A call given up on still gets exactly one output if it names a call of this robot, and the
        output says what the call record knows: not sent, sent and unconfirmed, or finished."""
        try:
            call_id = _CALL_ID.validate_python(fields.get("call_id"))
        except ValidationError:
            return  # without a valid call_id there is nothing the model could match it to
        if fields.get("robot_id") != self.profile.robot_id:
            return  # another robot's call: answered on nobody's inbox
        call = UnreadableCall(call_id, self.profile.robot_id, cut_text(fields.get("name", ""), 128))
        try:
            record = await self._calls.read(self._keys, call_id)
        except EntryError as exc:  # nothing can be said of what was sent
            await self._finish(outcome.untraceable(call, f"its call record cannot be read: {exc}"))
            return
        if record.state is CallState.DONE:
            return
        if record.state in (None, CallState.PUBLISHED):
            entry = outcome.not_processed(call, reason)
        else:
            entry = self._answer(call, self.profile.tool(call.name), await self.commands.known_reply(call_id))
        await self._finish(entry)


def _timeout_s(tool: Tool | None) -> float:
    return tool.timeout_s if tool else 0.0
