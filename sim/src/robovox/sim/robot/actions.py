"""ROS 2 action servers of the simulated robot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .cleaning_robot import CleaningRobot
from .clock import SimClock

# action_msgs/msg/GoalStatus values
STATUS_SUCCEEDED = 4
STATUS_CANCELED = 5
STATUS_ABORTED = 6

FeedbackFn = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class ActionOutcome:
    status: int
    values: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        return self.status == STATUS_SUCCEEDED


class GoalContext:
    """Per-goal handle shared by the bridge (cancel requests) and the executor."""

    def __init__(self) -> None:
        self.cancel_requested = False
        self._wake = asyncio.Event()

    def request_cancel(self) -> None:
        self.cancel_requested = True
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds`` real seconds, or until woken."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))


class ActionServer(Protocol):
    name: str
    type: str

    async def execute(self, goal: dict[str, Any], ctx: GoalContext, feedback: FeedbackFn | None) -> ActionOutcome: ...


class MoveToCornerServer:
    """``/robot_navigator/move_to_corner``: feedback ``distance_remaining`` at ~10 Hz (sim)."""

    name = "/robot_navigator/move_to_corner"
    type = "cleaning_robot_interfaces/action/MoveToCorner"

    def __init__(self, robot: CleaningRobot, clock: SimClock, feedback_rate_hz: float = 10.0) -> None:
        self.robot = robot
        self.clock = clock
        self.feedback_period = 1.0 / feedback_rate_hz

    async def execute(self, goal: dict[str, Any], ctx: GoalContext, feedback: FeedbackFn | None) -> ActionOutcome:
        move = self.robot.begin_move(goal.get("corner"))
        move.on_end = ctx.wake
        next_feedback = self.clock.now()
        try:
            while move.outcome is None:
                if ctx.cancel_requested:
                    self.robot.cancel_move(move)
                    break
                now = self.clock.now()
                if now >= move.end_time:
                    self.robot.complete_move(move)
                    break
                wake_at = move.end_time
                if feedback is not None:
                    if now >= next_feedback:
                        feedback({"distance_remaining": move.distance_remaining(now)})
                        while next_feedback <= now:
                            next_feedback += self.feedback_period
                    wake_at = min(wake_at, next_feedback)
                await ctx.wait(self.clock.to_real(wake_at - now))
        finally:
            if move.outcome is None:  # executor task cancelled (client gone / shutdown)
                self.robot.cancel_move(move)
        status = {
            "succeeded": STATUS_SUCCEEDED,
            "canceled": STATUS_CANCELED,
            "aborted": STATUS_ABORTED,
        }[move.outcome or "aborted"]
        return ActionOutcome(status, {"success": status == STATUS_SUCCEEDED, "message": move.message})
