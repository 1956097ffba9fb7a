"""The tool executor process: one RobotCalls per robot profile, in one event loop."""

from __future__ import annotations

from redis.asyncio import Redis

from robovox.executor.robot import RobotCalls
from robovox.executor.settings import ExecutorSettings
from robovox.shared.lifecycle import RobotService
from robovox.shared.profile import RobotProfile


class ToolExecutor(RobotService[ExecutorSettings, RobotCalls]):
    name = "tool-executor"

    def make_worker(self, redis: Redis, profile: RobotProfile) -> RobotCalls:
        return RobotCalls(redis, profile, self.settings)
