"""The ROS adapter process: one RobotRuntime per robot profile, in one event loop."""

from __future__ import annotations

import asyncio
import logging

from robovox.ros_adapter.link import configure_reconnect
from robovox.ros_adapter.robot import RobotRuntime
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.lifecycle import run_until_stopped
from robovox.shared.profile import RobotProfile, load_profiles
from robovox.shared.redis_client import connect_redis

log = logging.getLogger(__name__)


class RosAdapter:
    def __init__(self, settings: AdapterSettings, profiles: dict[str, RobotProfile] | None = None) -> None:
        self.settings = settings
        self.profiles = profiles if profiles is not None else load_profiles(settings.profiles_dir)
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once every robot's consumer is reading its stream."""
        self.robots: dict[str, RobotRuntime] = {}

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        configure_reconnect(self.settings.reconnect_initial_s, self.settings.reconnect_max_s)
        redis = connect_redis(self.settings)
        try:
            self.robots = {rid: RobotRuntime(redis, p, self.settings) for rid, p in self.profiles.items()}
            log.info("ROS adapter serving %s", ", ".join(sorted(self.robots)))
            await run_until_stopped(
                (robot.run(self.stopping) for robot in self.robots.values()),
                (robot.consumer.ready for robot in self.robots.values()),
                self.ready,
            )
        finally:
            await redis.aclose()
