"""The simulated robot's side of the ROS graph: its topics, services, action and rosapi."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .actionlib import ActionlibServer
from .actions import MoveToCornerServer
from .cleaning_robot import (
    TOPIC_BATTERY,
    TOPIC_EMERGENCY_STOP,
    TOPIC_IO,
    TOPIC_PADS,
    TOPIC_STATUS,
    CleaningRobot,
)
from .clock import SimClock
from .protocol import BridgeContext
from .rosapi import register_rosapi

# Written ROS 2 style; each dialect spells them its own way (DialectRules.native).
PUBLISHED_TOPICS = {
    TOPIC_BATTERY: "std_msgs/msg/Float32",
    TOPIC_PADS: "std_msgs/msg/String",
    TOPIC_IO: "cleaning_robot_interfaces/msg/DigitalIO",
    TOPIC_STATUS: "std_msgs/msg/String",
}
NODES = (
    "/battery",
    "/digital_io",
    "/emergency_stop",
    "/robot_navigator",
    "/rosapi",
    "/rosbridge_websocket",
    "/vacuum_pads",
)
TRIGGER = "std_srvs/srv/Trigger"


class RobotGraph:
    """Declares the robot's endpoints on the bridge's bus and registry, in the bridge's dialect.

    ``rates`` (Hz of sim time) and ``sources`` say what to publish periodically:
    the robot's state topics and, on ROS 1, the actionlib status topic.
    """

    def __init__(
        self, robot: CleaningRobot, clock: SimClock, ctx: BridgeContext, battery_rate_hz: float, state_rate_hz: float
    ) -> None:
        self.robot = robot
        self._bus = ctx.bus
        self.rates = {
            TOPIC_BATTERY: battery_rate_hz,
            TOPIC_PADS: state_rate_hz,
            TOPIC_IO: state_rate_hz,
            TOPIC_STATUS: state_rate_hz,
        }
        self.sources: dict[str, Callable[[], dict[str, Any]]] = {
            topic: functools.partial(robot.message_for, topic) for topic in self.rates
        }
        self.actionlib: list[ActionlibServer] = []
        bus, services, rules = ctx.bus, ctx.services, ctx.rules
        for topic, type_ in PUBLISHED_TOPICS.items():
            bus.declare(topic, rules.native(type_))
        bus.listen(TOPIC_EMERGENCY_STOP, rules.native("std_msgs/msg/Bool"), self._on_emergency_stop)
        services.register(
            "/robot_navigator/start_cleaning",
            "cleaning_robot_interfaces/srv/StartCleaning",
            lambda req: robot.start_cleaning(req["option"]).to_msg(),
        )
        services.register("/robot_navigator/stop", TRIGGER, lambda _: robot.stop().to_msg())
        services.register("/vacuum_pads/lower", TRIGGER, lambda _: robot.lower_pads().to_msg())
        services.register("/vacuum_pads/release", TRIGGER, lambda _: robot.release_pads().to_msg())
        services.register("/emergency_stop/reset", TRIGGER, lambda _: robot.reset_emergency_stop().to_msg())
        move = MoveToCornerServer(robot, clock)
        if rules.ros2_actions:
            ctx.actions[move.name] = move
        else:
            lib = ActionlibServer(move, bus, clock)
            self.actionlib.append(lib)
            self.rates[lib.status_topic] = state_rate_hz
            self.sources[lib.status_topic] = lib.status_message
        register_rosapi(services, bus, ctx.actions, clock, NODES)
        robot.add_listener(self._on_robot_change)

    def _on_emergency_stop(self, msg: dict[str, Any]) -> None:
        if msg.get("data"):
            self.robot.trigger_emergency_stop()

    def _on_robot_change(self, topic: str) -> None:
        if self._bus.has_subscribers(topic):
            self._bus.publish(topic, self.robot.message_for(topic))

    async def aclose(self) -> None:
        for lib in self.actionlib:
            await lib.aclose()
