"""The tool executor process: one RobotCalls per robot profile, in one event loop."""

from __future__ import annotations

import asyncio
import logging

from robovox.executor.robot import RobotCalls
from robovox.executor.settings import ExecutorSettings
from robovox.shared.lifecycle import run_until_stopped
from robovox.shared.profile import RobotProfile, load_profiles
from robovox.shared.redis_client import connect_redis

log = logging.getLogger(__name__)


class ToolExecutor:
    def __init__(self, settings: ExecutorSettings, profiles: dict[str, RobotProfile] | None = None) -> None:
        self.settings = settings
        self.profiles = profiles if profiles is not None else load_profiles(settings.profiles_dir)
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once every robot's consumer is reading its stream."""
        self.robots: dict[str, RobotCalls] = {}

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        redis = connect_redis(self.settings)
        try:
            self.robots = {rid: RobotCalls(redis, p, self.settings) for rid, p in self.profiles.items()}
            log.info("tool executor serving %s", ", ".join(sorted(self.robots)))
            await run_until_stopped(
                (robot.run(self.stopping) for robot in self.robots.values()),
                (robot.consumer.ready for robot in self.robots.values()),
                self.ready,
            )
        finally:
            await redis.aclose()
