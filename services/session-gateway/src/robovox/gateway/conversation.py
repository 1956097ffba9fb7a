"""The robot's conversation, kept in Redis (``RobotKeys.conversation``) so that a
new session, in this process or another gateway, can be given it."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import MaxLen, RobotKeys


class ConversationLog:
    def __init__(self, redis: Redis, robot_id: str) -> None:
        self._redis = redis
        self._key = RobotKeys.of(robot_id).conversation

    @property
    def key(self) -> str:
        return self._key

    async def append(self, item: ConversationItem) -> str:
        entry_id: Any = await self._redis.xadd(
            self._key,
            item.to_fields(),  # type: ignore[arg-type]
            maxlen=MaxLen.CONVERSATION,
            approximate=True,
        )
        return str(entry_id)

    async def last_id(self) -> str:
        newest: Any = await self._redis.xrevrange(self._key, count=1)
        return str(newest[0][0]) if newest else "0-0"

    async def latest_conversation_id(self) -> str | None:
        newest: Any = await self._redis.xrevrange(self._key, count=1)
        return str(newest[0][1].get("conversation_id")) if newest else None

    async def items(self, conversation_id: str, max_items: int) -> tuple[list[ConversationItem], str]:
        """The newest ``max_items`` items of the conversation, oldest first, and the id read up to."""
        raw: Any = await self._redis.xrevrange(self._key, count=max_items) if max_items else []
        last_id = str(raw[0][0]) if raw else await self.last_id()
        items: list[ConversationItem] = []
        for _entry_id, fields in raw:
            if fields.get("conversation_id") != conversation_id:
                break
            items.append(ConversationItem.from_fields(fields))
        items.reverse()
        return replayable(items), last_id

    async def items_after(self, conversation_id: str, after: str) -> tuple[list[ConversationItem], str]:
        """Items appended after entry ``after`` (those a swap of sessions could miss)."""
        raw: Any = await self._redis.xrange(self._key, min=f"({after}" if after != "0-0" else "-")
        items = [ConversationItem.from_fields(f) for _id, f in raw if f.get("conversation_id") == conversation_id]
        return items, str(raw[-1][0]) if raw else after


def replayable(items: list[ConversationItem]) -> list[ConversationItem]:
    """Drop outputs whose call fell out of the window: the API refuses an output without its call."""
    calls = {i.call_id for i in items if i.kind is ItemKind.FUNCTION_CALL}
    return [i for i in items if i.kind is not ItemKind.FUNCTION_CALL_OUTPUT or i.call_id in calls]
