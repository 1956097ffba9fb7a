"""One robot's alert monitor: telemetry in (plain XREAD, no group, on a
connection of its own that returns bytes), alerts, notices and the battery
forecast out. A telemetry entry that is not UTF-8, or that breaks evaluation,
goes to the robot's dead-letter stream with the reason; the robot's rules go on.

Each batch of samples is written in one transaction: the alerts stream entry,
the inbox notice and the rule's new state go together, so a restarted monitor
neither repeats a notice nor forgets an alert that is firing. The telemetry
position goes with them; a monitor that was down briefly evaluates what it
missed, one that was down long starts from the newest sample.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.alert_monitor.evaluation import Outgoing, RobotEvaluation, UnreadableSampleError
from robovox.alert_monitor.settings import MonitorSettings
from robovox.shared.aio import wait_first
from robovox.shared.consumer import UnreadableEntryError, dead_letter, decode_fields
from robovox.shared.entry import utc_from_timestamp
from robovox.shared.limits import cut_text
from robovox.shared.messages import DeadLetter, InboxEntry
from robovox.shared.metrics.series import count_alert, show_firing
from robovox.shared.profile import RobotProfile
from robovox.shared.profile.alerts import BATTERY_FORECAST_TYPE
from robovox.shared.redis_client import dedicated_reader
from robovox.shared.session import SessionInfo, SessionState
from robovox.shared.streams import MaxLen, RobotKeys
from robovox.shared.telemetry import record_samples

log = logging.getLogger(__name__)

GROUP = "alert-monitor"
"""Names the monitor in its dead letters (it reads telemetry without a consumer group)."""
POSITION_FIELD = "_position"
READ_COUNT = 500
RETRY_S = 1.0


class RobotMonitor:
    def __init__(
        self, redis: Redis, profile: RobotProfile, settings: MonitorSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.robot_id = profile.robot_id
        self._redis = redis
        self._keys = RobotKeys.of(profile.robot_id)
        self._settings = settings
        self._clock = clock
        self.evaluation = RobotEvaluation(profile, clock())
        self.ready = asyncio.Event()
        self.position = "0-0"
        self.session_live = False
        self._conversation_id: str | None = None
        self._unwritten = Outgoing()
        self._context: list[InboxEntry] = []
        self._saved_position = ""
        self._reader: Redis | None = None
        self._dead_letters: list[DeadLetter] = []

    async def run(self, stopping: asyncio.Event) -> None:
        self._reader = dedicated_reader(self._redis)
        try:
            await self._monitor(stopping)
        finally:
            await self._reader.aclose()

    async def _monitor(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self._resume()
                break
            except (RedisError, OSError) as exc:
                log.warning("%s: cannot read the alert state yet: %s", self.robot_id, exc)
                await wait_first(stopping.wait(), within_s=RETRY_S)
        self.ready.set()
        next_tick = 0.0
        while not stopping.is_set():
            try:
                now = self._clock()
                if now >= next_tick:
                    next_tick = now + self._settings.tick_s
                    self.evaluation.tick(now)
                    await self._follow_session(now)
                    await self._write(save_position=True)
                await self._read(max(1, int((next_tick - self._clock()) * 1000)))
                await self._write(save_position=False)
            except (RedisError, OSError) as exc:
                log.warning("%s: Redis unavailable (%s); retrying", self.robot_id, exc)
                await wait_first(stopping.wait(), within_s=RETRY_S)

    async def _resume(self) -> None:
        state: dict[str, str] = await self._redis.hgetall(self._keys.alert_state)  # type: ignore[assignment]
        saved = state.pop(POSITION_FIELD, None)
        self.evaluation.restore(state)
        firing = sorted(name for name, e in self.evaluation.rules.items() if e.active)
        for name, evaluator in self.evaluation.rules.items():
            show_firing(self.robot_id, name, evaluator.rule.severity, evaluator.active)
        if firing:
            log.info("%s: alerts still firing from before: %s", self.robot_id, ", ".join(firing))
        if saved is not None:
            age_s = self._clock() - int(saved.split("-")[0]) / 1000
            if age_s <= self._settings.resume_window_s:
                self.position = saved
                return
        assert self._reader is not None, "run() opens the reader"
        newest: Any = await self._reader.xrevrange(self._keys.telemetry, count=1)  # bytes: any entry is safe
        self.position = newest[0][0].decode() if newest else "0-0"

    async def _read(self, block_ms: int) -> None:
        assert self._reader is not None, "run() opens the reader"
        reply: Any = await self._reader.xread({self._keys.telemetry: self.position}, count=READ_COUNT, block=block_ms)
        evaluate = self.evaluation.evaluate
        for _stream, entries in reply or ():
            for entry_id, raw in entries:
                try:
                    evaluate(decode_fields(raw))
                except Exception as exc:  # one bad sample must not stop the robot's alerts
                    self._reject(entry_id.decode(), raw, exc)
            self.position = entries[-1][0].decode()

    def _reject(self, entry_id: str, raw: dict[bytes, bytes], error: Exception) -> None:
        known = isinstance(error, UnreadableEntryError | UnreadableSampleError)
        reason = str(error) if known else f"evaluation failed: {type(error).__name__}: {error}"
        log.error("%s: telemetry entry %s dead-lettered: %s", self.robot_id, entry_id, cut_text(reason, 300))
        self._dead_letters.append(
            dead_letter(
                self._keys.telemetry,
                entry_id,
                raw,
                reason,
                group=GROUP,
                consumer=self._settings.consumer(GROUP),
                original_chars=self._settings.max_dead_letter_chars,
            )
        )

    async def _follow_session(self, now: float) -> None:
        """Context goes only to a live session; a new conversation is told every value again."""
        if not self.evaluation.context:
            return  # nothing to tell: no need to read the session every tick
        fields: Any = await self._redis.hgetall(self._keys.session)
        session = SessionInfo.from_hash_or_none(fields, self.robot_id)  # unreadable: no live session
        self.session_live = session is not None and session.state is SessionState.LIVE
        if session is not None and self.session_live and session.conversation_id != self._conversation_id:
            self._conversation_id = session.conversation_id
            self.evaluation.forget_context()
        if self.session_live:
            note = self.evaluation.context_note(now)
            if note is not None:
                self._context.append(note)

    async def _write(self, save_position: bool) -> None:
        """Everything decided since the last write, in one transaction (kept for the next try if it fails)."""
        out = self.evaluation.take()
        self._unwritten.alerts.extend(out.alerts)
        self._unwritten.derived.extend(out.derived)
        pending = self._unwritten
        if not (
            pending or self._context or self._dead_letters or (save_position and self.position != self._saved_position)
        ):
            return
        keys = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            for letter in self._dead_letters:
                pipe.xadd(keys.dead_letters, letter.to_fields(), maxlen=MaxLen.DEAD_LETTERS, approximate=True)  # type: ignore[arg-type]
            for alert in pending.alerts:
                pipe.xadd(keys.alerts, alert.record.to_fields(), maxlen=MaxLen.ALERTS, approximate=True)  # type: ignore[arg-type]
                if alert.notice is not None:
                    pipe.xadd(keys.inbox, alert.notice.to_fields(), maxlen=MaxLen.INBOX, approximate=True)  # type: ignore[arg-type]
                if alert.action is not None:  # in the transition's transaction: once per firing
                    pipe.xadd(keys.tool_calls, alert.action.to_fields(), maxlen=MaxLen.TOOL_CALLS, approximate=True)  # type: ignore[arg-type]
                pipe.hset(keys.alert_state, alert.rule, alert.state)
            for note in self._context:
                pipe.xadd(keys.inbox, note.to_fields(), maxlen=MaxLen.INBOX, approximate=True)  # type: ignore[arg-type]
            derived = [
                (topic, BATTERY_FORECAST_TYPE, msg, utc_from_timestamp(at)) for topic, msg, at in pending.derived
            ]
            record_samples(pipe, self.robot_id, derived, MaxLen.TELEMETRY)
            pipe.hset(keys.alert_state, POSITION_FIELD, self.position)
            await pipe.execute()
        self._saved_position = self.position
        for alert in pending.alerts:
            log.info("%s: %s %s: %s", self.robot_id, alert.record.rule, alert.record.status.value, alert.record.message)
            count_alert(alert.record)
        self._unwritten = Outgoing()
        self._context = []
        self._dead_letters = []
