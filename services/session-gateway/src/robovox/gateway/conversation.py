"""The robot's conversation, kept in Redis (``RobotKeys.conversation``) so that a
new session, in this process or another gateway, can be given it."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import MaxLen, RobotKeys


class ConversationLog:
    def __init__(self, redis: Redis, robot_id: str) -> None:
        self._redis = redis
        self._key = RobotKeys.of(robot_id).conversation

    async def append(self, item: ConversationItem) -> str:
        entry_id: Any = await self._redis.xadd(
            self._key,
            item.to_fields(),  # type: ignore[arg-type]
            maxlen=MaxLen.CONVERSATION,
            approximate=True,
        )
        return str(entry_id)

    async def resumable(self, window_s: float) -> str | None:
        """The id of the conversation whose newest item is younger than ``window_s``, if any."""
        newest: Any = await self._redis.xrevrange(self._key, count=1)
        if not newest:
            return None
        entry_id, fields = newest[0]
        written_ms = int(str(entry_id).split("-")[0])
        if time.time() - written_ms / 1000 > window_s:
            return None
        return str(fields.get("conversation_id") or "") or None

    async def items(self, conversation_id: str, max_items: int) -> tuple[list[ConversationItem], str]:
        """The newest ``max_items`` items of the conversation, oldest first, and the id read up to."""
        # One entry more than asked for when none is: the newest id is needed either way.
        raw: Any = await self._redis.xrevrange(self._key, count=max(max_items, 1))
        last_id = str(raw[0][0]) if raw else "0-0"
        items: list[ConversationItem] = []
        for _entry_id, fields in raw[:max_items]:
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
