"""``robovox call <call_id>``: the call's whole life across the services, from its record
(``robovox.shared.call_life``) and every stream entry that names it, in time order."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Final

from pydantic import BaseModel

from robovox.cli.errors import BadInputError, NotFoundError
from robovox.cli.source import Source, id_at
from robovox.shared.call_life import CallRecord
from robovox.shared.messages import (
    ALERT_SESSION_PREFIX,
    CommandResult,
    DeadLetter,
    EmergencyRequest,
    InboxEntry,
    RosCommand,
    ToolCall,
)
from robovox.shared.session import ConversationItem, RealtimeEventEntry
from robovox.shared.stream_info import Entry

CALL_STREAMS: Final = (
    "tool_calls", "commands", "command_results", "inbox", "emergency", "conversation", "events", "dead_letters",
)  # fmt: skip
CALL_ID: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ALERT_CALL: Final = re.compile(r"^alert-.+-(\d{13})$")
BEFORE: Final = timedelta(seconds=30)
"""How far before the call's first known time its streams are searched (the model's events)."""
AFTER: Final = timedelta(minutes=5)


class Stage(BaseModel):
    at: datetime
    service: str
    stage: str
    detail: str = ""
    source: str
    """``record`` (the call's hash) or the stream and entry id it was read from."""


class CallTimeline(BaseModel):
    call_id: str
    robot_id: str
    state: str | None
    """The record's state; none when the record is gone (24 h) or never existed (an alert's action)."""
    outcome: str | None
    stages: list[Stage]

    @property
    def took_ms(self) -> float | None:
        if len(self.stages) < 2:
            return None
        return (self.stages[-1].at - self.stages[0].at).total_seconds() * 1000


def _said(status: str, message: str) -> str:
    return f"{status}: {message}" if message else status


def record_stages(record: CallRecord) -> list[Stage]:
    """The record's times, one stage each."""
    result = record.result
    marks: list[tuple[datetime | None, str, str, str]] = [
        (record.published_at, "session-gateway", "published", f"session {record.session_id or '-'}"),
        (record.dispatched_at, "tool-executor", "dispatched", record.command or ""),
        (record.started_at, "ros-adapter", "started", "claimed before touching the robot"),
        (record.abandoned_at, "tool-executor", "abandoned", "not started by its deadline: never run"),
        (record.result_at, "ros-adapter", "result", _said(result.status.value, result.message) if result else ""),
        (record.done_at, "tool-executor", "done", f"outcome {record.outcome or '-'}"),
    ]
    return [Stage(at=at, service=s, stage=n, detail=d, source="record") for at, s, n, d in marks if at is not None]


def entry_stage(entry: Entry) -> Stage | None:
    """What a stream entry naming the call says about it, or None for one that does not fit its model."""
    m, where = entry.model, f"{entry.stream} {entry.entry_id}"
    if isinstance(m, ToolCall):
        by = "alert-monitor" if (m.session_id or "").startswith(ALERT_SESSION_PREFIX) else "session-gateway"
        detail = f"{m.name}({m.arguments}) deadline {m.deadline:%H:%M:%S.%f}"[:-3]
        return Stage(at=entry.at, service=by, stage="tool call", detail=detail, source=where)
    if isinstance(m, RosCommand):
        detail = f"{m.kind.value} {m.target} {m.payload}"
        return Stage(at=entry.at, service="tool-executor", stage="command", detail=detail, source=where)
    if isinstance(m, CommandResult):
        detail = _said(f"{m.status.value} in {m.duration_ms:.1f} ms", m.message)
        return Stage(at=m.finished_at, service="ros-adapter", stage="command result", detail=detail, source=where)
    if isinstance(m, InboxEntry):
        said = "spoken" if m.speak else "silent"
        detail = f"{m.outcome.value if m.outcome else '-'}, {said}: {m.text}"
        return Stage(at=entry.at, service=m.source, stage="answer", detail=detail, source=where)
    if isinstance(m, EmergencyRequest):
        detail = f"{m.action.value} {m.stop_id} by {m.triggered_by}"
        return Stage(at=entry.at, service="emergency", stage="emergency", detail=detail, source=where)
    if isinstance(m, ConversationItem):
        stage = "conversation " + m.kind.value.replace("_", " ")
        return Stage(at=m.at, service="session-gateway", stage=stage, detail=m.text or m.arguments or "", source=where)
    if isinstance(m, RealtimeEventEntry):
        if m.type.endswith(".delta"):
            return None  # the arguments streaming in: the ``.done`` event that follows has them whole
        by = "provider" if m.direction == "server" else "session-gateway"
        return Stage(at=m.at, service=by, stage=f"event {m.type}", detail=m.text or "", source=where)
    if isinstance(m, DeadLetter):
        detail = f"{m.stream} {m.entry_id} by {m.group}/{m.consumer} after {m.deliveries}: {m.reason}"
        return Stage(at=m.dead_at, service=m.group, stage="dead-lettered", detail=detail, source=where)
    return None


def names_call(entry: Entry, call_id: str) -> bool:
    if entry.stream != "dead_letters":
        return entry.fields.get("call_id") == call_id
    try:
        original = json.loads(entry.fields.get("original", ""))
    except json.JSONDecodeError:
        return f'"call_id": "{call_id}"' in entry.fields.get("original", "")
    return isinstance(original, dict) and original.get("call_id") == call_id


def search_window(call_id: str, record: CallRecord | None) -> tuple[str, str]:
    """The entry ids to search the streams between: around the record's times, or the alert
    action's firing time in its call_id; the whole streams when neither is known."""
    times = [s.at for s in record_stages(record)] if record else []
    if not times and (alert := ALERT_CALL.match(call_id)):
        times = [datetime.fromtimestamp(int(alert.group(1)) / 1000, UTC)]
    if not times:
        return "-", "+"
    return id_at(min(times) - BEFORE), id_at(max(times) + AFTER)


async def timeline(source: Source, call_id: str, robot_id: str | None) -> CallTimeline:
    if not CALL_ID.match(call_id):
        raise BadInputError(f"{call_id!r} is not a call id (1-128 characters of A-Z, a-z, 0-9, _ . : -)")
    robots = [robot_id] if robot_id else await source.find_call(call_id)
    if not robots:
        robots = await source.robots()  # no record (expired, or an alert's action): look in every robot's streams
    found: list[CallTimeline] = []
    for robot in robots:
        record = await source.call_record(robot, call_id)
        start, end = search_window(call_id, record)
        stages = record_stages(record) if record else []
        for stream in CALL_STREAMS:
            for entry in await source.scan_stream(robot, stream, start, end):
                if names_call(entry, call_id) and (stage := entry_stage(entry)):
                    stages.append(stage)
        if stages:
            stages.sort(key=lambda s: s.at)
            state = record.state.value if record and record.state else None
            found.append(CallTimeline(call_id=call_id, robot_id=robot, state=state,
                                      outcome=record.outcome if record else None, stages=stages))  # fmt: skip
    if not found:
        where = f"robot {robot_id}" if robot_id else "any robot"
        raise NotFoundError(f"no call {call_id} on {where}: no record (kept 24 h) and no stream entry names it")
    if len(found) > 1:
        named = ", ".join(t.robot_id for t in found)
        raise BadInputError(f"call {call_id} is on several robots ({named}); name one with --robot")
    return found[0]
