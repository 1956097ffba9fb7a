"""A robot's history as the console loads it on joining, newest first, from its streams: the
conversation (``conversation``), its calls with their outcomes (``tool_calls``, each call's record,
and its answer on ``inbox``) and its alerts (``alerts``). Nothing here lives in the gateway's
memory, so a restarted gateway shows the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel
from redis.asyncio import Redis

from robovox.gateway.floor.paging import newest_first
from robovox.shared.call_life import CallRecord
from robovox.shared.emergency import RESET_RULE, STOP_RULE
from robovox.shared.entry import EntryError
from robovox.shared.messages import AlertStatus, AlertTransition, InboxEntry, InboxKind, ToolCall
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import RobotKeys

CONTEXT_PREFIX: Final = "Telemetry update: "
"""How the alert monitor's silent telemetry context begins (its ``reason`` is not logged with the item)."""
ANSWER_SCAN: Final = 2000
"""Inbox entries looked at, newest first, for the answers to a page of calls."""
ACTIVE_SCAN: Final = 1000
"""Alert transitions looked at for the rules still firing."""
EMERGENCY_RULES: Final = frozenset({STOP_RULE, RESET_RULE})


class ConversationItemOut(ConversationItem):
    entry_id: str
    """The item's entry id on the ``conversation`` stream (a page's cursor)."""


class ConversationPage(BaseModel):
    items: list[ConversationItemOut]
    next_before: str | None


class CallOut(BaseModel):
    entry_id: str
    call_id: str
    name: str
    arguments: str
    session_id: str | None
    issued_at: datetime
    state: str | None
    """The call record's state (``published`` ... ``done``); none once the record expired (24 h)."""
    outcome: str | None
    """``succeeded``, ``sent``, ``rejected``, ``failed``, ``unknown``; none while it runs."""
    output: str | None
    """What the model was told of it."""
    reason: str | None
    result_status: str | None
    """The command's status on the robot (``succeeded``, ``link_down`` ...), when one was sent."""
    done_at: datetime | None


class CallPage(BaseModel):
    items: list[CallOut]
    next_before: str | None


class AlertOut(AlertTransition):
    entry_id: str


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_before: str | None


def is_context(item: ConversationItem) -> bool:
    return item.kind is ItemKind.SYSTEM_MESSAGE and item.text.startswith(CONTEXT_PREFIX)


async def conversation_page(
    redis: Redis, keys: RobotKeys, limit: int, before: str | None, context: bool = False
) -> ConversationPage:
    def keep(item: ConversationItem) -> bool:
        return context or not is_context(item)

    page = await newest_first(redis, keys.conversation, ConversationItem, limit, before, keep)
    items = [ConversationItemOut(entry_id=entry_id, **item.model_dump()) for entry_id, item in page.entries]
    return ConversationPage(items=items, next_before=page.next_before)


async def alert_page(redis: Redis, keys: RobotKeys, limit: int, before: str | None) -> AlertPage:
    page = await newest_first(redis, keys.alerts, AlertTransition, limit, before)
    items = [AlertOut(entry_id=entry_id, **alert.model_dump()) for entry_id, alert in page.entries]
    return AlertPage(items=items, next_before=page.next_before)


async def active_alerts(redis: Redis, keys: RobotKeys) -> list[AlertOut]:
    """Each rule whose newest transition is ``firing``, newest first (the emergency stop's own
    records are left out: its latch says whether the robot is stopped)."""
    seen: set[str] = set()

    def newest_of_rule(alert: AlertTransition) -> bool:
        fresh = alert.rule not in seen and alert.rule not in EMERGENCY_RULES
        seen.add(alert.rule)
        return fresh

    page = await newest_first(redis, keys.alerts, AlertTransition, ACTIVE_SCAN, None, newest_of_rule, ACTIVE_SCAN)
    return [
        AlertOut(entry_id=entry_id, **alert.model_dump())
        for entry_id, alert in page.entries
        if alert.status is AlertStatus.FIRING
    ]


async def call_page(redis: Redis, keys: RobotKeys, limit: int, before: str | None) -> CallPage:
    page = await newest_first(redis, keys.tool_calls, ToolCall, limit, before)
    if not page.entries:
        return CallPage(items=[], next_before=page.next_before)
    records = await _records(redis, keys, [call.call_id for _id, call in page.entries])
    answers = await _answers(redis, keys, {call.call_id for _id, call in page.entries})
    items = [
        _call_out(entry_id, call, records.get(call.call_id), answers.get(call.call_id))
        for entry_id, call in page.entries
    ]
    return CallPage(items=items, next_before=page.next_before)


def _call_out(entry_id: str, call: ToolCall, record: CallRecord | None, answer: InboxEntry | None) -> CallOut:
    outcome = (answer.outcome.value if answer and answer.outcome else None) or (record.outcome if record else None)
    return CallOut(
        entry_id=entry_id,
        call_id=call.call_id,
        name=call.name,
        arguments=call.arguments,
        session_id=call.session_id,
        issued_at=call.issued_at,
        state=record.state.value if record and record.state else None,
        outcome=outcome or None,
        output=answer.text if answer else None,
        reason=answer.reason if answer else None,
        result_status=record.result.status.value if record and record.result else None,
        done_at=record.done_at if record else (answer.created_at if answer else None),
    )


async def _records(redis: Redis, keys: RobotKeys, call_ids: list[str]) -> dict[str, CallRecord]:
    async with redis.pipeline(transaction=False) as pipe:
        for call_id in call_ids:
            pipe.hgetall(keys.call_record(call_id))
        replies: list[Any] = await pipe.execute()
    records = {}
    for call_id, fields in zip(call_ids, replies, strict=True):
        if not fields:
            continue
        try:
            records[call_id] = CallRecord.from_record(fields)
        except EntryError:
            continue  # shown without its record, as one that expired
    return records


async def _answers(redis: Redis, keys: RobotKeys, call_ids: set[str]) -> dict[str, InboxEntry]:
    """The ``function_call_output`` of each call, among the newest ``ANSWER_SCAN`` inbox entries
    (an older call's outcome still comes from its record)."""
    answers: dict[str, InboxEntry] = {}

    def is_answer(entry: InboxEntry) -> bool:
        return entry.kind is InboxKind.FUNCTION_CALL_OUTPUT and entry.call_id in call_ids

    page = await newest_first(redis, keys.inbox, InboxEntry, len(call_ids), None, is_answer, ANSWER_SCAN)
    for _entry_id, entry in page.entries:
        if entry.call_id and entry.call_id not in answers:
            answers[entry.call_id] = entry
    return answers
