"""Simulated cleaning robot served over the rosbridge v2 websocket protocol."""

from .cleaning_robot import CleaningRobot, DigitalIO, RobotConfig
from .dialect import Dialect
from .opslog import OpRecord
from .server import ClientInfo, RobotSimulator
from .services import Failures

__all__ = [
    "CleaningRobot",
    "ClientInfo",
    "Dialect",
    "DigitalIO",
    "Failures",
    "OpRecord",
    "RobotConfig",
    "RobotSimulator",
]
