"""The robot's conversation, kept in Redis (``RobotKeys.conversation``) so that a
new session, in this process or another gateway, can be given it.

Entries are read as bytes and decoded one by one: an entry that is not UTF-8 or
not a ConversationItem is left out of the replay and dead-lettered (once per
process), so junk on the stream never keeps a robot's session from opening."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis

from robovox.shared.consumer import UnreadableEntryError, add_dead_letter, dead_letter, decode_fields, decode_lossy
from robovox.shared.entry import EntryError
from robovox.shared.limits import Limits, cut_text
from robovox.shared.redis_client import read_raw
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import Group, MaxLen, RobotKeys

log = logging.getLogger(__name__)

RawEntries = list[tuple[bytes, dict[bytes, bytes]]]


class ConversationLog:
    def __init__(
        self, redis: Redis, robot_id: str, *, consumer: str = Group.SESSION_GATEWAY, limits: Limits | None = None
    ) -> None:
        self._limits = limits or Limits()
        self._redis = redis
        self._keys = RobotKeys.of(robot_id)
        self._key = self._keys.conversation
        self._consumer = consumer
        self._rejected: set[str] = set()

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
        newest: RawEntries = await read_raw(self._redis, "XREVRANGE", self._key, "+", "-", "COUNT", 10)
        for entry_id, raw in newest:  # the newest entry that is an item: junk after it changes nothing
            if (item := await self._item(entry_id.decode(), raw)) is None:
                continue
            written_ms = int(entry_id.split(b"-")[0])
            return item.conversation_id if time.time() - written_ms / 1000 <= window_s else None
        return None

    async def items(self, conversation_id: str, max_items: int) -> tuple[list[ConversationItem], str]:
        """The newest ``max_items`` items of the conversation, oldest first, and the id read up to."""
        # One entry more than asked for when none is: the newest id is needed either way.
        raw: RawEntries = await read_raw(self._redis, "XREVRANGE", self._key, "+", "-", "COUNT", max(max_items, 1))
        last_id = raw[0][0].decode() if raw else "0-0"
        items: list[ConversationItem] = []
        for entry_id, fields in raw[:max_items]:
            if (item := await self._item(entry_id.decode(), fields)) is None:
                continue
            if item.conversation_id != conversation_id:
                break
            items.append(item)
        items.reverse()
        return replayable(items), last_id

    async def items_after(self, conversation_id: str, after: str) -> tuple[list[ConversationItem], str]:
        """Items appended after entry ``after`` (those a swap of sessions could miss)."""
        raw: RawEntries = await read_raw(self._redis, "XRANGE", self._key, f"({after}" if after != "0-0" else "-", "+")
        items = []
        for entry_id, fields in raw:
            if decode_lossy(fields).get("conversation_id") != conversation_id:
                continue
            if (item := await self._item(entry_id.decode(), fields)) is not None:
                items.append(item)
        return items, raw[-1][0].decode() if raw else after

    async def _item(self, entry_id: str, raw: dict[bytes, bytes]) -> ConversationItem | None:
        try:
            item = ConversationItem.from_fields(decode_fields(raw))
            if item.robot_id != self._keys.robot_id:
                raise EntryError(f"item of robot {item.robot_id!r} in {self._keys.robot_id!r}'s conversation")
            if len(item.text) > (limit := self._limits.output_chars):
                item = item.model_copy(update={"text": cut_text(item.text, limit)})
            return item
        except (UnreadableEntryError, EntryError) as exc:
            if entry_id not in self._rejected:
                self._rejected.add(entry_id)
                await self._dead_letter(entry_id, raw, str(exc))
            return None

    async def _dead_letter(self, entry_id: str, raw: dict[bytes, bytes], reason: str) -> None:
        letter = dead_letter(
            self._key, entry_id, raw, f"left out of the replay: {reason}", group=Group.SESSION_GATEWAY,
            consumer=self._consumer, original_chars=self._limits.dead_letter_chars,
        )  # fmt: skip
        await add_dead_letter(self._redis, self._keys.dead_letters, letter)


def replayable(items: list[ConversationItem]) -> list[ConversationItem]:
    """Drop outputs whose call fell out of the window: the API refuses an output without its call."""
    calls = {i.call_id for i in items if i.kind is ItemKind.FUNCTION_CALL}
    return [i for i in items if i.kind is not ItemKind.FUNCTION_CALL_OUTPUT or i.call_id in calls]
