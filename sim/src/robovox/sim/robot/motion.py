"""Work-area geometry and ``move_to_corner`` goals (straight line, fixed duration)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

GoalOutcome = Literal["succeeded", "canceled", "aborted"]

# Corner coordinates (metres) of the rectangular work area; the robot starts in the middle.
CORNERS: dict[str, tuple[float, float]] = {
    "front_left": (0.0, 3.0),
    "front_right": (4.0, 3.0),
    "rear_left": (0.0, 0.0),
    "rear_right": (4.0, 0.0),
}
HOME_POSITION = (2.0, 1.5)


class MoveGoal:
    """One ``move_to_corner`` goal. ``outcome`` is set once, when the goal ends."""

    def __init__(
        self,
        corner: str,
        start_time: float,
        duration: float,
        start: tuple[float, float],
        target: tuple[float, float],
    ) -> None:
        self.corner = corner
        self.start_time = start_time
        self.duration = max(0.0, duration)
        self.start = start
        self.target = target
        self.outcome: GoalOutcome | None = None
        self.message = ""
        self.on_end: Callable[[], None] | None = None

    @property
    def end_time(self) -> float:
        return self.start_time + self.duration

    def progress(self, now: float) -> float:
        if self.duration <= 0:
            return 1.0
        return min(1.0, max(0.0, (now - self.start_time) / self.duration))

    def position(self, now: float) -> tuple[float, float]:
        p = self.progress(now)
        return (
            self.start[0] + (self.target[0] - self.start[0]) * p,
            self.start[1] + (self.target[1] - self.start[1]) * p,
        )

    def distance_remaining(self, now: float) -> float:
        x, y = self.position(now)
        return math.hypot(self.target[0] - x, self.target[1] - y)
