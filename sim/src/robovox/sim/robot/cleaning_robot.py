"""The simulated cleaning robot: a pure state model driven by a sim clock.

Nothing here knows about websockets or asyncio; the bridge reads the model,
calls its service methods and is told about state changes through listeners
(``add_listener``), which receive the name of the topic whose message changed.
All mutation must happen on the thread running the bridge's event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from .battery import Battery
from .motion import CORNERS, HOME_POSITION, GoalOutcome, MoveGoal

Status = Literal["idle", "cleaning", "moving", "emergency_stop"]
PadsState = Literal["up", "down"]

TOPIC_BATTERY = "/battery/voltage"
TOPIC_PADS = "/vacuum_pads/state"
TOPIC_IO = "/digital_io/state"
TOPIC_STATUS = "/robot_navigator/status"
TOPIC_EMERGENCY_STOP = "/emergency_stop"

CLEANING_OPTIONS = ("TurnLeft", "TurnRight")


@dataclass
class RobotConfig:
    """Tunable parameters of the simulated robot (times are sim seconds)."""

    initial_voltage: float = 25.2
    idle_drain_v_per_min: float = 0.02
    cleaning_drain_v_per_min: float = 0.1
    voltage_noise_std: float = 0.0
    seed: int | None = None
    move_duration_s: float = 2.0
    min_voltage: float = 0.0


@dataclass(frozen=True)
class ServiceResult:
    success: bool
    message: str

    def to_msg(self) -> dict[str, Any]:
        return {"success": self.success, "message": self.message}


@dataclass(frozen=True)
class DigitalIO:
    camera_led: bool
    beacon: bool
    brush_motor: bool
    vacuum_pump: bool

    def to_msg(self) -> dict[str, Any]:
        return {
            "camera_led": self.camera_led,
            "beacon": self.beacon,
            "brush_motor": self.brush_motor,
            "vacuum_pump": self.vacuum_pump,
        }


class CleaningRobot:
    """State of the robot plus the behaviour behind its services and action."""

    def __init__(self, clock: Callable[[], float], config: RobotConfig | None = None) -> None:
        self.config = config or RobotConfig()
        self._clock = clock
        self._listeners: list[Callable[[str], None]] = []
        self._status: Status = "idle"
        self._pads: PadsState = "up"
        self._estop = False
        self._camera_led = False
        self._beacon = False
        self.cleaning_option: str | None = None
        self._position = HOME_POSITION
        self._goal: MoveGoal | None = None
        self.battery = Battery(
            clock,
            self.config.initial_voltage,
            self.config.idle_drain_v_per_min / 60.0,
            self.config.voltage_noise_std,
            self.config.seed,
            self.config.min_voltage,
        )

    # ------------------------------------------------------------ listeners
    def add_listener(self, callback: Callable[[str], None]) -> None:
        """``callback(topic)`` is called whenever that topic's message changes."""
        self._listeners.append(callback)

    def _notify(self, *topics: str) -> None:
        for topic in topics:
            for callback in list(self._listeners):
                callback(topic)

    # ---------------------------------------------------------------- state
    @property
    def status(self) -> Status:
        return self._status

    @status.setter
    def status(self, value: Status) -> None:
        if value not in get_args(Status):
            raise ValueError(f"invalid status {value!r}")
        if value == self._status:
            return
        self._status = value
        self.battery.drain = self.drain_rate()
        if value != "cleaning":
            self.cleaning_option = None
        self._notify(TOPIC_STATUS, TOPIC_IO)

    @property
    def vacuum_pads(self) -> PadsState:
        return self._pads

    @vacuum_pads.setter
    def vacuum_pads(self, value: PadsState) -> None:
        if value not in ("up", "down"):
            raise ValueError(f"invalid vacuum pads state {value!r}")
        if value != self._pads:
            self._pads = value
            self._notify(TOPIC_PADS, TOPIC_IO)

    @property
    def emergency_stop(self) -> bool:
        return self._estop

    @emergency_stop.setter
    def emergency_stop(self, value: bool) -> None:
        if value:
            self.trigger_emergency_stop()
        else:
            self.reset_emergency_stop()

    @property
    def camera_led(self) -> bool:
        return self._camera_led

    @camera_led.setter
    def camera_led(self, value: bool) -> None:
        self.set_io(camera_led=value)

    @property
    def beacon(self) -> bool:
        return self._beacon

    @beacon.setter
    def beacon(self, value: bool) -> None:
        self.set_io(beacon=value)

    def set_io(self, *, camera_led: bool | None = None, beacon: bool | None = None) -> None:
        before = self.io
        if camera_led is not None:
            self._camera_led = bool(camera_led)
        if beacon is not None:
            self._beacon = bool(beacon)
        if self.io != before:
            self._notify(TOPIC_IO)

    @property
    def io(self) -> DigitalIO:
        return DigitalIO(
            camera_led=self._camera_led,
            beacon=self._beacon,
            brush_motor=self._status == "cleaning",
            vacuum_pump=self._pads == "down",
        )

    @property
    def position(self) -> tuple[float, float]:
        if self._goal is not None:
            return self._goal.position(self._clock())
        return self._position

    @property
    def active_goal(self) -> MoveGoal | None:
        return self._goal

    # -------------------------------------------------------------- battery
    def drain_rate(self) -> float:
        """Current true drain in volts per sim second."""
        per_min = (
            self.config.cleaning_drain_v_per_min if self._status == "cleaning" else self.config.idle_drain_v_per_min
        )
        return per_min / 60.0

    @property
    def battery_voltage(self) -> float:
        """True (noise-free) battery voltage now."""
        return self.battery.voltage

    @battery_voltage.setter
    def battery_voltage(self, value: float) -> None:
        self.battery.voltage = value

    def seconds_until_voltage(self, threshold: float) -> float:
        """True sim seconds until the voltage reaches ``threshold`` at the current drain.

        0.0 if already at/below it; ``math.inf`` if it is never reached.  The
        answer changes when the robot starts or stops cleaning.
        """
        return self.battery.seconds_until(threshold)

    # ------------------------------------------------------------- services
    def start_cleaning(self, option: Any) -> ServiceResult:
        if self._estop:
            return ServiceResult(False, "Emergency stop is latched; call /emergency_stop/reset before cleaning")
        if option not in CLEANING_OPTIONS:
            return ServiceResult(False, f"Invalid option {option!r}: expected 'TurnLeft' or 'TurnRight'")
        if self._pads == "down":
            return ServiceResult(False, "Vacuum pads are down; call /vacuum_pads/release before cleaning")
        if self._goal is not None:
            return ServiceResult(False, "Robot is moving to a corner; stop it first")
        self.status = "cleaning"
        self.cleaning_option = cast(str, option)
        return ServiceResult(True, f"Cleaning started ({option})")

    def stop(self) -> ServiceResult:
        was = self._status
        if self._goal is not None:
            self._end_goal(self._goal, "aborted", "Stopped by /robot_navigator/stop")
        if self._estop:
            return ServiceResult(True, "Robot stopped; emergency stop is still latched")
        self.status = "idle"
        return ServiceResult(True, "Robot was already idle" if was == "idle" else "Robot stopped")

    def lower_pads(self) -> ServiceResult:
        if self._status in ("cleaning", "moving"):
            return ServiceResult(False, f"Cannot lower vacuum pads while {self._status}")
        if self._pads == "down":
            return ServiceResult(True, "Vacuum pads are already down")
        self.vacuum_pads = "down"
        return ServiceResult(True, "Vacuum pads lowered and vacuum engaged")

    def release_pads(self) -> ServiceResult:
        if self._pads == "up":
            return ServiceResult(True, "Vacuum pads are already up")
        self.vacuum_pads = "up"
        return ServiceResult(True, "Vacuum released and pads raised")

    def trigger_emergency_stop(self) -> None:
        """Latch the emergency stop: cleaning and motion halt until reset."""
        self._estop = True
        if self._goal is not None:
            self._end_goal(self._goal, "aborted", "Emergency stop activated")
        self.status = "emergency_stop"

    def reset_emergency_stop(self) -> ServiceResult:
        if not self._estop:
            return ServiceResult(True, "Emergency stop was not active")
        self._estop = False
        self.status = "idle"
        return ServiceResult(True, "Emergency stop reset")

    # --------------------------------------------------------------- motion
    def begin_move(self, corner: Any) -> MoveGoal:
        """Start moving to ``corner``; the returned goal may already be aborted."""
        now = self._clock()
        here = self.position
        if corner not in CORNERS:
            goal = MoveGoal(str(corner), now, 0.0, here, here)
            expected = ", ".join(CORNERS)
            self._end_goal(goal, "aborted", f"Invalid corner {corner!r}: expected one of {expected}")
            return goal
        goal = MoveGoal(corner, now, self.config.move_duration_s, here, CORNERS[corner])
        if self._estop:
            self._end_goal(goal, "aborted", "Emergency stop is latched")
            return goal
        if self._goal is not None:
            self._end_goal(self._goal, "aborted", "Preempted by a new goal")
        self._goal = goal
        self.status = "moving"
        return goal

    def cancel_move(self, goal: MoveGoal) -> None:
        self._end_goal(goal, "canceled", "Canceled by client")

    def complete_move(self, goal: MoveGoal) -> None:
        self._end_goal(goal, "succeeded", f"Reached {goal.corner}")

    def _end_goal(self, goal: MoveGoal, outcome: GoalOutcome, message: str) -> None:
        if goal.outcome is not None:
            return
        goal.outcome = outcome
        goal.message = message
        if goal is self._goal:
            now = self._clock()
            self._position = goal.target if outcome == "succeeded" else goal.position(now)
            self._goal = None
            if self._status == "moving":
                self.status = "emergency_stop" if self._estop else "idle"
        if goal.on_end is not None:
            goal.on_end()

    # ------------------------------------------------------------- messages
    def message_for(self, topic: str) -> dict[str, Any]:
        """Current message of one of the robot's published topics."""
        if topic == TOPIC_BATTERY:
            return {"data": self.battery.measured()}
        if topic == TOPIC_PADS:
            return {"data": self._pads}
        if topic == TOPIC_IO:
            return self.io.to_msg()
        if topic == TOPIC_STATUS:
            return {"data": self._status}
        raise KeyError(topic)
