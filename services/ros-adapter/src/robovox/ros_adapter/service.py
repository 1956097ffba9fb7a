"""The ROS adapter process: one RobotRuntime per robot profile, in one event loop."""

from __future__ import annotations

from redis.asyncio import Redis

from robovox.ros_adapter.link import configure_reconnect
from robovox.ros_adapter.robot import RobotRuntime
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.lifecycle import RobotService
from robovox.shared.profile import RobotProfile


class RosAdapter(RobotService[AdapterSettings, RobotRuntime]):
    name = "ros-adapter"

    async def prepare(self) -> None:
        configure_reconnect(self.settings.reconnect_initial_s, self.settings.reconnect_max_s)

    def make_worker(self, redis: Redis, profile: RobotProfile) -> RobotRuntime:
        return RobotRuntime(redis, profile, self.settings)
