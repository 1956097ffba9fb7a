"""The alert monitor process: one RobotMonitor per robot profile, in one event loop."""

from __future__ import annotations

from redis.asyncio import Redis

from robovox.alert_monitor.robot import RobotMonitor
from robovox.alert_monitor.settings import MonitorSettings
from robovox.shared.lifecycle import RobotService
from robovox.shared.profile import RobotProfile


class AlertMonitor(RobotService[MonitorSettings, RobotMonitor]):
    name = "alert-monitor"

    def make_worker(self, redis: Redis, profile: RobotProfile) -> RobotMonitor:
        return RobotMonitor(redis, profile, self.settings)
