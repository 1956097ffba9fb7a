"""What the adapter hears from a robot: proof it is reachable, and proof a command took effect.

A websocket that is up is not a robot that is reachable: after a ROS master
restart the bridge answers pings while no node publishes and publishes go
nowhere. The robot counts as heard only while its telemetry (the profile's
heartbeat topic, or any subscribed topic) keeps arriving. The same messages
confirm commands whose tool declares ``confirm``: a message received after the
command was written must show the expected value within ``within_s``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from robovox.shared.entry import utc_now
from robovox.shared.messages import CommandResult, CommandStatus
from robovox.shared.profile import Confirm
from robovox.shared.profile.mapping import MISSING, read_field


@dataclass
class Watch:
    confirm: Confirm
    not_before: float
    """``time.monotonic()``: only messages received from then on count."""
    done: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Hearing:
    def __init__(self, heartbeat_topics: set[str], max_silence_s: float) -> None:
        self._heartbeat_topics = heartbeat_topics
        self.max_silence_s = max_silence_s
        self.last_heard: datetime | None = None
        self._last_heard_mono = 0.0
        self._listening_since = time.monotonic()
        self._watches: list[Watch] = []
        self.changed = asyncio.Event()
        """Set when the robot is heard again after a silence."""

    def listen_from_now(self) -> None:
        """A new connection: silence is counted from here until its first message."""
        self._listening_since = time.monotonic()

    def message(self, topic: str, msg: dict[str, Any]) -> None:
        now = time.monotonic()
        if topic in self._heartbeat_topics:
            was_silent = self.silent()
            self._last_heard_mono = now
            self.last_heard = utc_now()
            if was_silent:
                self.changed.set()
        for watch in self._watches:
            if watch.done.done() or watch.confirm.topic != topic or now < watch.not_before:
                continue
            value = read_field(msg, watch.confirm.field)
            if value is not MISSING and watch.confirm.holds(value):
                watch.done.set_result(value)

    def silent_for_s(self) -> float:
        return time.monotonic() - max(self._last_heard_mono, self._listening_since)

    def silent(self) -> bool:
        return self.silent_for_s() > self.max_silence_s

    def expect(self, confirm: Confirm) -> Watch:
        """Start watching for ``confirm`` from now (call right before the command is written)."""
        watch = Watch(confirm, time.monotonic())
        self._watches.append(watch)
        return watch

    async def confirmed(self, watch: Watch) -> tuple[bool, Any]:
        """Whether a message showed the confirmation within ``within_s`` of the write, and its value."""
        remaining = watch.confirm.within_s - (time.monotonic() - watch.not_before)
        try:
            value = await asyncio.wait_for(asyncio.shield(watch.done), max(remaining, 0.0))
            return True, value
        except TimeoutError:
            return False, None
        finally:
            self._watches.remove(watch)


async def settle(
    hearing: Hearing, confirm: Confirm | None, watch: Watch | None, result: CommandResult
) -> CommandResult:
    """``result`` as the tool's ``confirm`` makes it: succeeded if telemetry showed it, unconfirmed if not."""
    if watch is None or confirm is None:
        return result
    held, value = await hearing.confirmed(watch)
    if result.status not in (CommandStatus.SENT, CommandStatus.SUCCEEDED):
        return result
    if held:
        return result.model_copy(
            update={
                "status": CommandStatus.SUCCEEDED,
                "message": f"confirmed: {confirm.topic} {confirm.field} is {value!r}",
            }
        )
    return result.model_copy(
        update={
            "status": CommandStatus.UNCONFIRMED,
            "message": f"sent, but not confirmed: no message showed {confirm.describe()}",
        }
    )
