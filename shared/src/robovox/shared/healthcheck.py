"""A container's health check for a consuming service: ``python -m robovox.shared.healthcheck SERVICE``.

Healthy (exit 0) when the service's process is alive and doing its work, as Redis sees it:

- Redis answers with the service's own settings (``ROBOVOX_REDIS_URL``, password included);
- the service holds its consumer-name lease from this host (``replica_key``): its process runs and
  refreshes it every few seconds;
- ``tool-executor`` and ``ros-adapter``: for every robot profile, the service's consumer is reading
  its stream: its reader's connection (named ``<consumer>/<streams>``, ``reader_name``) is in
  ``CLIENT LIST`` and has sent a command within ``ROBOVOX_BLOCK_MS`` + 10 s (a blocked XREADGROUP
  counts: it is sent again every BLOCK). ``XINFO CONSUMERS``' idle time cannot tell: before Redis
  7.2 a read that finds nothing does not reset it.
- ``ros-adapter``: every robot's link hash is kept by this adapter; each link's state is printed.

One line per robot, then one line with the verdict; the reasons of an unhealthy verdict are named.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from dataclasses import dataclass, field
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from robovox.shared.link import LinkInfo
from robovox.shared.profile import ProfileError, load_profiles
from robovox.shared.settings import ServiceSettings
from robovox.shared.startup import StartupError, settings_from_environment
from robovox.shared.streams import RobotKeys, replica_key

READ_SLACK_MS: Final = 10_000
"""How much longer than BLOCK a consumer may go without reading."""

CONSUMED: Final = {"tool-executor": "tool_calls", "ros-adapter": "commands"}
"""Service -> the robot stream (a ``RobotKeys`` property) its consumer must keep reading."""

SERVICES: Final = ("tool-executor", "ros-adapter", "alert-monitor")


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def verdict(self) -> str:
        return "healthy" if not self.problems else "unhealthy: " + "; ".join(self.problems)


def reader_idle_ms(clients: list[dict[str, Any]], consumer: str, stream: str) -> int | None:
    """How long ago ``consumer``'s reader of ``stream`` sent its last command; none without one."""
    idle = [
        int(client["idle"]) * 1000
        for client in clients
        if str(client.get("name", "")).startswith(f"{consumer}/")
        and stream in str(client["name"]).split("/", 1)[1].split("+")
    ]
    return min(idle) if idle else None


async def check(service: str, settings: ServiceSettings, robot_ids: list[str], redis: Redis) -> Report:
    report = Report()
    consumer = settings.consumer(service)
    await redis.ping()
    holder = await redis.get(replica_key(consumer))
    if holder is None or not str(holder).startswith(f"{socket.gethostname()}:"):
        report.problems.append(f"{consumer} holds no lease from this host (the service is not running here)")
    consumed = CONSUMED.get(service)
    clients: list[dict[str, Any]] = await redis.client_list() if consumed is not None else []
    for robot_id in robot_ids:
        keys = RobotKeys.of(robot_id)
        parts: list[str] = []
        if consumed is not None:
            stream = consumed
            idle = reader_idle_ms(clients, consumer, getattr(keys, stream))
            if idle is None or idle > settings.block_ms + READ_SLACK_MS:
                report.problems.append(f"{robot_id}: {consumer} is not reading {stream}")
                parts.append(f"{stream} not read")
            else:
                parts.append(f"{stream} read {idle} ms ago")
        if service == "ros-adapter":
            parts.append(await link_line(redis, keys, consumer, report))
        report.lines.append(f"{robot_id}: " + (", ".join(parts) or "served"))
    return report


async def link_line(redis: Redis, keys: RobotKeys, consumer: str, report: Report) -> str:
    fields: dict[Any, Any] = await redis.hgetall(keys.link_state)
    if not fields:
        report.problems.append(f"{keys.robot_id}: no link state (the adapter keeps none)")
        return "link unknown"
    link = LinkInfo.from_fields(fields)
    if link.adapter != consumer:
        report.problems.append(f"{keys.robot_id}: the link is held by {link.adapter}, not {consumer}")
    return f"link {link.state.value} to {link.rosbridge_url} since {link.since.isoformat(timespec='seconds')}"


async def run(service: str) -> int:
    try:
        settings = settings_from_environment(ServiceSettings)
        robot_ids = sorted(load_profiles(settings.profiles_dir))
    except (StartupError, ProfileError) as exc:
        print(f"{service}: unhealthy: {exc}")
        return 1
    redis = Redis.from_url(settings.redis_address, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
    try:
        report = await check(service, settings, robot_ids, redis)
    except (RedisError, OSError) as exc:
        print(f"{service}: unhealthy: Redis at {settings.redis_url.rsplit('@', 1)[-1]} does not answer: {exc}")
        return 1
    finally:
        await redis.aclose()
    for line in report.lines:
        print(line)
    print(f"{service}: {report.verdict()}")
    return 0 if not report.problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Health check of a RoboVox consuming service, through Redis.")
    parser.add_argument("service", choices=SERVICES)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.service))


if __name__ == "__main__":
    sys.exit(main())
