"""The robot's inbox stream: everything its model must be told that is not the
model's own (tool results, alerts, operators' messages), in order.

Entries are delivered one at a time (one in flight) to whichever Realtime
session is live; during a swap of sessions they wait, and are acked only once
sent. An entry that asks for it (``open_session``), or any entry while the
session is idle-closed, starts the session. A function call's output that the
consumer gives up on still answers the call (``inbox_letters``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from redis.asyncio import Redis

from robovox.gateway.realtime.fit import MessageTooLargeError
from robovox.gateway.realtime.peer import PeerClosedError
from robovox.gateway.robot.inbox_letters import outputs_in_place_of
from robovox.gateway.robot.supervisor import SessionSupervisor
from robovox.shared.consumer import ConsumerConfig, PermanentError, StreamConsumer, read_robot_entry
from robovox.shared.messages import InboxEntry
from robovox.shared.streams import MaxLen, RobotKeys

log = logging.getLogger(__name__)


class RobotInbox:
    def __init__(self, redis: Redis, robot_id: str, consumer: ConsumerConfig, supervisor: SessionSupervisor) -> None:
        self.robot_id = robot_id
        self._redis = redis
        self._keys = RobotKeys.of(robot_id)
        self._supervisor = supervisor
        self._consumer = StreamConsumer(
            redis,
            [self._keys.inbox],
            dataclasses.replace(consumer, max_in_flight=1),
            self._on_entry,
            dead_letter_stream=self._keys.dead_letters,
            on_dead_letter=self._on_dead_letter,
        )

    @property
    def ready(self) -> asyncio.Event:
        """Set once the consumer reads the stream."""
        return self._consumer.ready

    async def run(self) -> None:
        await self._consumer.run()

    def stop(self) -> None:
        self._consumer.stop()

    async def enqueue(self, entry: InboxEntry) -> str:
        """Add ``entry`` to the robot's inbox stream (told to the session in order with results
        and alerts); returns its entry id."""
        fields: Any = entry.to_fields()
        entry_id = await self._redis.xadd(self._keys.inbox, fields, maxlen=MaxLen.INBOX, approximate=True)
        return str(entry_id)

    async def _on_entry(self, _stream: str, _entry_id: str, fields: dict[str, str]) -> None:
        entry = read_robot_entry(InboxEntry, fields, self.robot_id, "entry", "inbox")
        await self._deliver(entry)

    async def _on_dead_letter(self, _stream: str, fields: dict[str, str], reason: str) -> None:
        """A call's output given up on still answers the call (``inbox_letters``)."""
        for entry in outputs_in_place_of(fields, reason, self.robot_id):
            try:
                await self._deliver(entry)
                return
            except PermanentError as exc:
                log.warning("%s: output for call %s not given either: %s", self.robot_id, entry.call_id, exc)

    async def _deliver(self, entry: InboxEntry) -> None:
        supervisor = self._supervisor
        if supervisor.idle or (entry.open_session and not supervisor.wanted):
            log.info("%s: opening the session for a %s from %s", self.robot_id, entry.kind.value, entry.source)
            supervisor.start()
        while True:
            session = await supervisor.wait_live()
            try:
                await session.deliver(entry)
                return
            except MessageTooLargeError as exc:  # nothing to cut: it could never be sent
                raise PermanentError(f"cannot be given to the model: {exc}") from None
            except PeerClosedError:
                supervisor.take_offline(session)
                await session.wait_ended()
