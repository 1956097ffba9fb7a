"""Function calls from the model into the robot's tool-call stream, once per call_id.

One Lua script marks the call record ``published_at`` (HSETNX), appends the
ToolCall to ``tool_calls`` and the call to the conversation log. A call id the
gateway has already published (a replayed event, a second gateway, a retry
after a Redis hiccup) is never published again. The keys share the robot's
hash slot, so this holds on Redis Cluster.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from redis.asyncio import Redis

from robovox.shared.entry import format_time, utc_now
from robovox.shared.messages import ToolCall
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import CALL_RECORD_TTL_S, MaxLen, RobotKeys

PUBLISHED_AT: Final = "published_at"

# KEYS: call record, tool_calls, conversation.
# ARGV: ttl, tool_calls maxlen, conversation maxlen, published_at, session id, n, n call fields, then item fields.
_PUBLISH = """
if redis.call('HSETNX', KEYS[1], 'published_at', ARGV[4]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'session_id', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local n = tonumber(ARGV[6])
local call, item = {}, {}
for i = 7, 6 + n do call[#call + 1] = ARGV[i] end
for i = 7 + n, #ARGV do item[#item + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(call))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(item))
return 1
"""


def _pairs(fields: dict[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


class CallPublisher:
    def __init__(self, redis: Redis, robot_id: str, call_timeout_s: float) -> None:
        self._redis = redis
        self._robot_id = robot_id
        self._keys = RobotKeys.of(robot_id)
        self._timeout = timedelta(seconds=call_timeout_s)
        self._script = redis.register_script(_PUBLISH)

    async def publish(
        self, call_id: str, name: str, arguments: str, session_id: str, conversation_id: str
    ) -> ToolCall | None:
        """Publish the call; None if this call id was published before."""
        now = utc_now()
        call = ToolCall(
            call_id=call_id,
            robot_id=self._robot_id,
            name=name,
            arguments=arguments,
            session_id=session_id,
            issued_at=now,
            deadline=now + self._timeout,
        )
        item = ConversationItem(
            conversation_id=conversation_id,
            robot_id=self._robot_id,
            kind=ItemKind.FUNCTION_CALL,
            call_id=call_id,
            name=name,
            arguments=arguments,
            source="model",
            session_id=session_id,
            at=now,
        )
        call_fields = _pairs(call.to_fields())
        args: list[Any] = [CALL_RECORD_TTL_S, MaxLen.TOOL_CALLS, MaxLen.CONVERSATION, format_time(now), session_id]
        args += [len(call_fields), *call_fields, *_pairs(item.to_fields())]
        keys = [self._keys.call_record(call_id), self._keys.tool_calls, self._keys.conversation]
        published = await self._script(keys=keys, args=args)
        return call if published else None
