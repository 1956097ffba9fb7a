"""A tool call's life, from the model's function call to its answer: one record
hash per call (``RobotKeys.call_record``) whose ``state`` field moves forward
only, each step in one Lua script together with the stream entry it belongs to.
Every service moves a call through this module; ``docs/call-life.md`` draws it.

    state        set by            with                               then
    published    session gateway   the ToolCall's XADD (tool_calls)   dispatched | done
    dispatched   tool executor     the RosCommand's XADD (commands)   started | abandoned
    started      ROS adapter       nothing: before it touches robot   result
    abandoned    tool executor     nothing: not started by deadline   done
    result       ROS adapter       the CommandResult's XADD + ack     done
    done         tool executor     the answer's XADD (inbox) + ack    (final)

A refusal or a query answer goes from ``published`` to ``done`` directly. The
moves that decide "at most once" are compare-and-set in their scripts:
``dispatched`` is taken once (one command per call), ``started`` and
``abandoned`` exclude each other (the adapter never starts a command the
executor has told the model was not run), and ``done`` is taken once (the model
hears each call's outcome once). A result stored after ``done`` (the executor
gave up waiting) is still recorded, and the state stays ``done``.

Other fields, each written once, for people inspecting a call and for the
outcome sentences: ``published_at``, ``session_id``, ``dispatched_at``,
``command``, ``started_at``, ``abandoned_at``, ``result_at``, ``result.*`` (the
CommandResult's fields), ``done_at``, ``outcome``. Every key a script touches
belongs to one robot (one hash slot), so this holds on Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Final

from pydantic import AwareDatetime
from redis.asyncio import Redis

from robovox.shared.entry import StreamEntry, format_time, utc_now
from robovox.shared.messages import CommandResult, InboxEntry, RosCommand, ToolCall
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import CALL_RECORD_TTL_S, MaxLen, RobotKeys

RESULT_PREFIX: Final = "result."


class CallState(StrEnum):
    PUBLISHED = "published"
    DISPATCHED = "dispatched"
    STARTED = "started"
    ABANDONED = "abandoned"
    RESULT = "result"
    DONE = "done"


SENT_TO_ADAPTER: Final = frozenset({CallState.DISPATCHED, CallState.STARTED, CallState.RESULT})
"""States in which the call's command is on the commands stream and its result is awaited."""


class Started(IntEnum):
    """What the adapter's ``start`` of a command found."""

    NOW = 1
    """Started now: this adapter runs it (nobody started it before)."""
    BEFORE = 0
    """An earlier delivery started it (this or another adapter): never run it again."""
    NEVER = -1
    """The executor abandoned it (and told the model nothing was sent), or answered it without a
    start: never run it."""


class CallRecord(StreamEntry):
    """The record hash of one call, as the scripts below write it."""

    state: CallState | None = None
    published_at: AwareDatetime | None = None
    session_id: str | None = None
    dispatched_at: AwareDatetime | None = None
    command: str | None = None
    """The command as sent (kind, target, payload), for people inspecting the call."""
    started_at: AwareDatetime | None = None
    abandoned_at: AwareDatetime | None = None
    result_at: AwareDatetime | None = None
    result: CommandResult | None = None
    done_at: AwareDatetime | None = None
    outcome: str | None = None

    @classmethod
    def from_record(cls, fields: dict[str, str]) -> CallRecord:
        """Parse an HGETALL reply (an empty one is a call nobody has recorded yet)."""
        result = {k[len(RESULT_PREFIX) :]: v for k, v in fields.items() if k.startswith(RESULT_PREFIX)}
        plain: dict[str, Any] = {k: v for k, v in fields.items() if not k.startswith(RESULT_PREFIX)}
        record = cls.from_fields(plain)
        return record.model_copy(update={"result": CommandResult.from_fields(result)}) if result else record


# KEYS: record, tool_calls, conversation. ARGV: ttl, tool_calls maxlen, conversation maxlen,
# now, session id, n, then n ToolCall field/value items, then the ConversationItem's.
PUBLISH_SCRIPT: Final = """
if redis.call('HSETNX', KEYS[1], 'state', 'published') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'published_at', ARGV[4], 'session_id', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local n = tonumber(ARGV[6])
local call, item = {}, {}
for i = 7, 6 + n do call[#call + 1] = ARGV[i] end
for i = 7 + n, #ARGV do item[#item + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(call))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(item))
return 1
"""

# KEYS: record, commands. ARGV: ttl, maxlen, now, summary, then the RosCommand's field/value items.
# A record without a state is a call published before its record expired, or by hand: dispatch it.
_DISPATCH: Final = """
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'published' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'dispatched', 'dispatched_at', ARGV[3], 'command', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 5))
return 1
"""

# KEYS: record. ARGV: now, ttl. 1: started now; 0: started before; -1: abandoned, or answered
# without being started: never start it.
_START: Final = """
if redis.call('HEXISTS', KEYS[1], 'abandoned_at') == 1 then return -1 end
if redis.call('HEXISTS', KEYS[1], 'started_at') == 1 then return 0 end
if redis.call('HGET', KEYS[1], 'state') == 'done' then return -1 end
redis.call('HSET', KEYS[1], 'state', 'started', 'started_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: record. ARGV: now, ttl. 1: abandoned (now or before: the adapter had not started it);
# 0: the adapter had started it, or the call is done.
_ABANDON: Final = """
if redis.call('HEXISTS', KEYS[1], 'started_at') == 1 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'abandoned_at') == 1 then return 1 end
if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'abandoned', 'abandoned_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: record, command_results, commands. ARGV: ttl, maxlen, now, group, entry id (empty: no ack),
# n, then n result.* field/value items for the record, then the CommandResult's for the stream.
_STORE_RESULT: Final = """
local n = tonumber(ARGV[6])
local record, entry = {}, {}
for i = 7, 6 + n do record[#record + 1] = ARGV[i] end
for i = 7 + n, #ARGV do entry[#entry + 1] = ARGV[i] end
if redis.call('HGET', KEYS[1], 'state') ~= 'done' then redis.call('HSET', KEYS[1], 'state', 'result') end
redis.call('HSET', KEYS[1], 'result_at', ARGV[3], unpack(record))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
if ARGV[5] ~= '' then redis.call('XACK', KEYS[3], ARGV[4], ARGV[5]) end
return 1
"""

# KEYS: record, inbox, and the tool-call stream to ack the call's entry on (optional).
# ARGV: ttl, maxlen, now, outcome, group, entry id, then the InboxEntry's field/value items.
_FINISH: Final = """
if KEYS[3] then redis.call('XACK', KEYS[3], ARGV[5], ARGV[6]) end
if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'done_at', ARGV[3], 'outcome', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 7))
return 1
"""


def _items(fields: dict[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def publish_script_call(keys: RobotKeys, call: ToolCall, conversation_id: str) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of ``PUBLISH_SCRIPT`` for ``call``, and its item in conversation
    ``conversation_id``. The gateway sends the script itself (over its own connection, timed), so
    it takes the script and its arguments."""
    item = ConversationItem(
        conversation_id=conversation_id,
        robot_id=call.robot_id,
        kind=ItemKind.FUNCTION_CALL,
        call_id=call.call_id,
        name=call.name,
        arguments=call.arguments,
        source="model",
        session_id=call.session_id,
        at=call.issued_at,
    )
    call_items = _items(call.to_fields())
    args: list[Any] = [
        CALL_RECORD_TTL_S, MaxLen.TOOL_CALLS, MaxLen.CONVERSATION, format_time(call.issued_at), call.session_id or "",
        len(call_items), *call_items, *_items(item.to_fields()),
    ]  # fmt: skip
    return [keys.call_record(call.call_id), keys.tool_calls, keys.conversation], args


@dataclass(frozen=True, slots=True)
class Ack:
    """The consumer-group entry a step acks in the same script as its write."""

    stream: str
    group: str
    entry_id: str


def _now() -> str:
    return format_time(utc_now())


class CallLife:
    """The steps of every call's life after it is published, each one atomic."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._dispatch = redis.register_script(_DISPATCH)
        self._start = redis.register_script(_START)
        self._abandon = redis.register_script(_ABANDON)
        self._store_result = redis.register_script(_STORE_RESULT)
        self._finish = redis.register_script(_FINISH)

    async def read(self, keys: RobotKeys, call_id: str) -> CallRecord:
        fields: dict[Any, Any] = await self._redis.hgetall(keys.call_record(call_id))
        return CallRecord.from_record(fields)

    async def dispatch(self, keys: RobotKeys, command: RosCommand) -> bool:
        """published -> dispatched with the command's XADD; False if the call was dispatched (or further) before."""
        summary = f"{command.kind.value} {command.target} {command.payload}"
        args: list[Any] = [CALL_RECORD_TTL_S, MaxLen.COMMANDS, _now(), summary, *_items(command.to_fields())]
        return bool(await self._dispatch(keys=[keys.call_record(command.call_id), keys.commands], args=args))

    async def start(self, keys: RobotKeys, call_id: str) -> Started:
        """dispatched -> started: the ROS adapter's at-most-once gate, just before it writes the command."""
        return Started(int(await self._start(keys=[keys.call_record(call_id)], args=[_now(), CALL_RECORD_TTL_S])))

    async def abandon(self, keys: RobotKeys, call_id: str) -> bool:
        """dispatched -> abandoned: True if the adapter had not started the call, which now it never
        will; False if it had (or the call is done)."""
        return bool(await self._abandon(keys=[keys.call_record(call_id)], args=[_now(), CALL_RECORD_TTL_S]))

    async def store_result(self, keys: RobotKeys, result: CommandResult, ack: Ack | None = None) -> None:
        """started -> result: the result into the record and onto ``command_results``, the command acked."""
        fields = result.to_fields()
        record = _items({RESULT_PREFIX + k: v for k, v in fields.items()})
        args: list[Any] = [
            CALL_RECORD_TTL_S, MaxLen.COMMAND_RESULTS, _now(), ack.group if ack else "", ack.entry_id if ack else "",
            len(record), *record, *_items(fields),
        ]  # fmt: skip
        script_keys = [keys.call_record(result.call_id), keys.command_results, ack.stream if ack else keys.commands]
        await self._store_result(keys=script_keys, args=args)

    async def finish(self, keys: RobotKeys, call_id: str, entry: InboxEntry, ack: Ack | None = None) -> bool:
        """-> done with the answer's XADD, unless the call was answered before; ack the call's
        tool-call entry in the same script when ``ack`` is given."""
        outcome = entry.outcome.value if entry.outcome else ""
        script_keys = [keys.call_record(call_id), keys.inbox, *([ack.stream] if ack else [])]
        args: list[Any] = [
            CALL_RECORD_TTL_S, MaxLen.INBOX, _now(), outcome, ack.group if ack else "", ack.entry_id if ack else "",
            *_items(entry.to_fields()),
        ]  # fmt: skip
        return bool(await self._finish(keys=script_keys, args=args))
