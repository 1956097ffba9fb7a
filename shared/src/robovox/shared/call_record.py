"""The call record: one hash per call_id (``RobotKeys.call_record``) that makes
"at most once" hold across redeliveries, crashes and several instances.

Fields:
- ``state``: ``dispatched`` once the executor sent the command (set with the
  command's XADD in one script, so a command is sent at most once);
  ``done`` once the outcome is in the inbox (set with that XADD, so the model
  hears each call's outcome exactly once).
- ``published_at``, ``session_id``: set by the session gateway with the call's
  tool-call entry (HSETNX, so a call id is published once).
- ``adapter_started_at``: set by the ROS adapter before it touches the robot
  (``claim_execution``); a second adapter seeing it never runs the command again.
- ``abandoned_at``: set by the executor when it gives up on a command the
  adapter had not started by its deadline (``abandon``); the adapter then never
  starts it, so the executor can tell the model, truthfully, that nothing was sent.
  The two are set in scripts that check each other: exactly one of them wins.
- ``result.*``: the CommandResult's fields, written with its XADD.
- ``outcome``, ``command``: for people inspecting a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Final

from redis.asyncio import Redis

from robovox.shared.messages import CommandResult, InboxEntry, RosCommand
from robovox.shared.streams import CALL_RECORD_TTL_S, MaxLen, RobotKeys

STATE: Final = "state"
PUBLISHED_AT: Final = "published_at"
ADAPTER_STARTED_AT: Final = "adapter_started_at"
ABANDONED_AT: Final = "abandoned_at"
RESULT_PREFIX: Final = "result."


class CallState(StrEnum):
    DISPATCHED = "dispatched"
    DONE = "done"


class Claim(IntEnum):
    """What the adapter's claim of a command found."""

    STARTED = 1
    """This adapter may run it: nobody started it before."""
    ALREADY_STARTED = 0
    """An earlier delivery started it (this or another adapter): never run it again."""
    ABANDONED = -1
    """The executor gave up on it before it started and told the model nothing was sent: never run it."""


# KEYS: record. ARGV: now, ttl.
_CLAIM = """
if redis.call('HEXISTS', KEYS[1], 'abandoned_at') == 1 then return -1 end
if redis.call('HSETNX', KEYS[1], 'adapter_started_at', ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: record. ARGV: now, ttl. 1: abandoned (the adapter had not started it); 0: the adapter had.
_ABANDON = """
if redis.call('HEXISTS', KEYS[1], 'adapter_started_at') == 1 then return 0 end
redis.call('HSETNX', KEYS[1], 'abandoned_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


# KEYS: record, commands stream. ARGV: ttl, maxlen, then field/value pairs of the command.
_DISPATCH = """
if redis.call('HSETNX', KEYS[1], 'state', 'dispatched') == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[1])
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'command', ARGV[#ARGV])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(fields, 1, #fields - 1))
return 1
"""

# KEYS: record, inbox stream, and the tool-call stream to ack the call's entry on (optional).
# ARGV: ttl, maxlen, outcome, group, entry id, then field/value pairs of the inbox entry.
_FINISH = """
if KEYS[3] then redis.call('XACK', KEYS[3], ARGV[4], ARGV[5]) end
if redis.call('HGET', KEYS[1], 'state') == 'done' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'outcome', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
return 1
"""


@dataclass(frozen=True, slots=True)
class Ack:
    """The consumer-group entry a step acks in the same script or transaction as its write."""

    stream: str
    group: str
    entry_id: str


class CallRecords:
    """Atomic steps on call records; every step touches keys of one robot (one slot)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._dispatch = redis.register_script(_DISPATCH)
        self._finish = redis.register_script(_FINISH)
        self._claim = redis.register_script(_CLAIM)
        self._abandon = redis.register_script(_ABANDON)

    async def read(self, keys: RobotKeys, call_id: str) -> dict[str, str]:
        record: dict[Any, Any] = await self._redis.hgetall(keys.call_record(call_id))
        return record

    async def dispatch(self, keys: RobotKeys, command: RosCommand) -> bool:
        """Mark the call dispatched and append its command, or do nothing if it already was."""
        pairs = [item for pair in command.to_fields().items() for item in pair]
        summary = f"{command.kind.value} {command.target} {command.payload}"
        args: list[str | int] = [CALL_RECORD_TTL_S, MaxLen.COMMANDS, *pairs, summary]
        return bool(await self._dispatch(keys=[keys.call_record(command.call_id), keys.commands], args=args))

    async def finish(self, keys: RobotKeys, call_id: str, entry: InboxEntry, ack: Ack | None = None) -> bool:
        """Append the call's outcome to the inbox unless an outcome was already appended; ack the
        call's tool-call entry in the same script when ``ack`` is given."""
        pairs = [item for pair in entry.to_fields().items() for item in pair]
        outcome = entry.outcome.value if entry.outcome else ""
        script_keys = [keys.call_record(call_id), keys.inbox, *([ack.stream] if ack else [])]
        args: list[str | int] = [
            CALL_RECORD_TTL_S, MaxLen.INBOX, outcome, ack.group if ack else "", ack.entry_id if ack else "", *pairs,
        ]  # fmt: skip
        return bool(await self._finish(keys=script_keys, args=args))

    async def claim_execution(self, keys: RobotKeys, call_id: str, now_text: str) -> Claim:
        """The ROS adapter's at-most-once gate: STARTED for the first claimant only, unless abandoned."""
        found = await self._claim(keys=[keys.call_record(call_id)], args=[now_text, CALL_RECORD_TTL_S])
        return Claim(int(found))

    async def abandon(self, keys: RobotKeys, call_id: str, now_text: str) -> bool:
        """True if the adapter had not started the call, which now it never will; False if it had."""
        return bool(await self._abandon(keys=[keys.call_record(call_id)], args=[now_text, CALL_RECORD_TTL_S]))

    async def store_result(self, keys: RobotKeys, result: CommandResult, ack: Ack | None = None) -> None:
        """Record the result and append it to the results stream, atomically (with the command's ack)."""
        fields = result.to_fields()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.call_record(result.call_id), mapping={RESULT_PREFIX + k: v for k, v in fields.items()})
            pipe.xadd(keys.command_results, fields, maxlen=MaxLen.COMMAND_RESULTS, approximate=True)  # type: ignore[arg-type]
            if ack is not None:
                pipe.xack(ack.stream, ack.group, ack.entry_id)
            await pipe.execute()


def result_from_record(record: Mapping[str, str]) -> CommandResult | None:
    fields = {k[len(RESULT_PREFIX) :]: v for k, v in record.items() if k.startswith(RESULT_PREFIX)}
    return CommandResult.from_fields(fields) if fields else None
