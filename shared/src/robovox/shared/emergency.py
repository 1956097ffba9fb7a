"""The emergency stop's priority path and its sticky latch.

A stop or a reset is one Lua script: the latch (``emergency_state``) set or
cleared, the request appended to the robot's ``emergency`` stream (read by the
executor and the adapter with consumers of their own, never behind tool calls
or commands), and the record appended to the robot's ``alerts`` stream with
what triggered it. The latch is set in the same script as the request, so no
motion call checked after the stop can miss it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from pydantic import AwareDatetime
from redis import Redis as BlockingRedis
from redis.asyncio import Redis

from robovox.shared.entry import StreamEntry, utc_now
from robovox.shared.messages import (
    AlertStatus,
    AlertTransition,
    CommandResult,
    EmergencyAction,
    EmergencyRequest,
    EmergencyTrigger,
)
from robovox.shared.metrics.series import EMERGENCY
from robovox.shared.profile import RobotProfile
from robovox.shared.profile.alerts import Severity
from robovox.shared.streams import MaxLen, RobotKeys

STOPPED_SENTENCE: Final = "The robot is emergency-stopped; a person must reset it from the console first"
STOP_RULE: Final = "emergency_stop"
RESET_RULE: Final = "emergency_reset"
RESET_DEADLINE_S: Final = 10.0


class EmergencyState(StreamEntry):
    """The latch hash ``robovox:{robot}:emergency_state``."""

    stopped: bool
    since: AwareDatetime
    stop_id: str
    trigger: EmergencyTrigger
    triggered_by: str
    result: str | None = None
    """The last stop's outcome on the robot (a CommandStatus), written by the ROS adapter."""
    result_message: str | None = None
    result_at: AwareDatetime | None = None
    reset_by: str | None = None
    reset_at: AwareDatetime | None = None
    reset_result: str | None = None
    """The robot's own reset's outcome, when the profile names one."""


# KEYS: state, emergency, alerts. ARGV: emergency maxlen, alerts maxlen, action, n, the n state
# field/value items, m, the m request items, then the alert record's items.
_EMERGENCY: Final = """
local n = tonumber(ARGV[4])
local state, request, alert = {}, {}, {}
for i = 5, 4 + n do state[#state + 1] = ARGV[i] end
local m = tonumber(ARGV[5 + n])
for i = 6 + n, 5 + n + m do request[#request + 1] = ARGV[i] end
for i = 6 + n + m, #ARGV do alert[#alert + 1] = ARGV[i] end
if ARGV[3] == 'stop' then redis.call('DEL', KEYS[1]) end
if ARGV[3] == 'stop' or redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(state)) end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', unpack(request))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(alert))
return id
"""

# KEYS: state. ARGV: stop id (empty: a reset's result), then field/value items: a stop's written only
# while the latch names that stop, a reset's only while the latch is reset (not stopped again since).
_RESULT: Final = """
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'stop_id') ~= ARGV[1] then return 0 end
if ARGV[1] == '' and redis.call('HGET', KEYS[1], 'stopped') ~= 'false' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""


def _items(fields: dict[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def new_stop_id() -> str:
    return f"estop-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class EmergencyScript:
    """One run of the stop-or-reset script: its request, and the keys and arguments it takes."""

    request: EmergencyRequest
    keys: list[str]
    args: list[Any]

    def count(self) -> None:
        """Once the script ran: the stop (or reset) in the process's metrics."""
        EMERGENCY.labels(self.request.robot_id, self.request.action.value, self.request.trigger.value).inc()


def emergency_script(
    profile: RobotProfile,
    action: EmergencyAction,
    trigger: EmergencyTrigger,
    triggered_by: str,
    *,
    stop_id: str | None = None,
    call_id: str | None = None,
) -> EmergencyScript:
    """What a stop or reset of ``profile``'s robot writes, issued now."""
    stop = profile.emergency_stop
    deadline_s = stop.deadline_s if stop is not None and action is EmergencyAction.STOP else RESET_DEADLINE_S
    now = utc_now()
    request = EmergencyRequest(
        stop_id=stop_id or call_id or new_stop_id(),
        robot_id=profile.robot_id,
        action=action,
        trigger=trigger,
        triggered_by=triggered_by[:200],
        call_id=call_id,
        issued_at=now,
        deadline=now + timedelta(seconds=deadline_s),
    )
    keys = RobotKeys.of(profile.robot_id)
    state: dict[str, str]
    if action is EmergencyAction.STOP:
        state = EmergencyState(
            stopped=True, since=now, stop_id=request.stop_id, trigger=trigger, triggered_by=request.triggered_by
        ).to_fields()
    else:
        state = {"stopped": "false", "reset_by": f"{trigger.value} {request.triggered_by}"}
        state["reset_at"] = request.to_fields()["issued_at"]
    state_items, request_items = _items(state), _items(request.to_fields())
    args: list[Any] = [
        MaxLen.EMERGENCY, MaxLen.ALERTS, action.value, len(state_items), *state_items,
        len(request_items), *request_items, *_items(_record(request).to_fields()),
    ]  # fmt: skip
    return EmergencyScript(request, [keys.emergency_state, keys.emergency, keys.alerts], args)


class BlockingEmergencyStops:
    """Triggers stops from a thread, with a blocking client: a stop word's listener stops the robot
    from the thread that heard it, never waiting for the gateway's event loop."""

    def __init__(self, redis: BlockingRedis) -> None:
        self._script = redis.register_script(_EMERGENCY)

    def trigger(
        self, profile: RobotProfile, action: EmergencyAction, trigger: EmergencyTrigger, triggered_by: str
    ) -> EmergencyRequest:
        script = emergency_script(profile, action, trigger, triggered_by)
        self._script(keys=script.keys, args=script.args)
        script.count()
        return script.request


class EmergencyStops:
    """Triggers stops and resets, and records their outcomes."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_EMERGENCY)
        self._result = redis.register_script(_RESULT)

    async def trigger(
        self,
        profile: RobotProfile,
        action: EmergencyAction,
        trigger: EmergencyTrigger,
        triggered_by: str,
        *,
        stop_id: str | None = None,
        call_id: str | None = None,
    ) -> EmergencyRequest:
        script = emergency_script(profile, action, trigger, triggered_by, stop_id=stop_id, call_id=call_id)
        await self._script(keys=script.keys, args=script.args)
        script.count()
        return script.request

    async def state(self, keys: RobotKeys) -> EmergencyState | None:
        fields: dict[Any, Any] = await self._redis.hgetall(keys.emergency_state)
        return EmergencyState.from_hash_or_none(fields, keys.robot_id)

    async def record_result(self, request: EmergencyRequest, result: CommandResult) -> None:
        """The robot's answer to a stop (or its reset) into the latch, if the latch still names it."""
        keys = RobotKeys.of(request.robot_id)
        if request.action is EmergencyAction.STOP:
            fields = {
                "result": result.status.value,
                "result_message": result.message[:500],
                "result_at": result.to_fields()["finished_at"],
            }
        else:
            fields = {"reset_result": f"{result.status.value} {result.message}"[:500]}
        stop_id = request.stop_id if request.action is EmergencyAction.STOP else ""
        await self._result(keys=[keys.emergency_state], args=[stop_id, *_items(fields)])


def stopped(fields: dict[Any, Any], owner: str) -> EmergencyState | None:
    """The latch as read from its hash: the state if the robot is emergency-stopped, else None.

    A latch hash that cannot be read counts as stopped: unknown never lets motion through."""
    if not fields:
        return None
    state = EmergencyState.from_hash_or_none(fields, owner)
    if state is None:
        return EmergencyState(
            stopped=True, since=utc_now(), stop_id="unknown", trigger=EmergencyTrigger.API, triggered_by="unreadable"
        )
    return state if state.stopped else None


def _record(request: EmergencyRequest) -> AlertTransition:
    who = f"{request.trigger.value} ({request.triggered_by})"
    if request.action is EmergencyAction.STOP:
        rule, status, severity = STOP_RULE, AlertStatus.FIRING, Severity.CRITICAL
        message = f"Emergency stop triggered by {who}."
    else:
        rule, status, severity = RESET_RULE, AlertStatus.RESOLVED, Severity.INFO
        message = f"Emergency stop reset by {who}."
    return AlertTransition(
        robot_id=request.robot_id,
        rule=rule,
        status=status,
        severity=severity,
        condition=f"emergency {request.action.value} by {who}",
        topic="",
        value="",
        message=message,
        trigger=request.trigger.value,
        triggered_by=request.triggered_by,
        stop_id=request.stop_id,
        at=request.issued_at,
    )
