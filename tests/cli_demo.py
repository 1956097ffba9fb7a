"""A demo run's data for the CLI's tests: the services, the simulator and the Realtime emulator
as the other end-to-end tests run them, a spoken call, a direct call, and a poison entry."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from click.testing import CliRunner, Result
from redis.asyncio import Redis

from robovox.cli.app import cli
from robovox.gateway.service import SessionGateway
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.testing.streams import add_tool_call, wait_for_entries, wait_for_output
from robovox.sim.realtime import RealtimeEmulator
from robovox.sim.robot import RobotSimulator
from tests.conftest import KEYS, ROBOT

ROBOVOX = Path(sys.executable).parent / "robovox"
"""The command ``make env`` installs."""


@dataclass(frozen=True, slots=True)
class Demo:
    redis_url: str
    spoken_call_id: str
    """``start cleaning, turn right``: the model's call, from the emulated session to the robot."""
    direct_call_id: str
    """``get_battery_voltage`` written straight to the tool-call stream."""
    poison_id: str
    """A tool-call entry that is not a ToolCall, dead-lettered by the executor."""
    stop_id: str
    """The operator's emergency stop, after the battery_low alert fired."""


async def run_demo(
    redis: Redis, redis_url: str, sim: RobotSimulator, gateway: SessionGateway, emulator: RealtimeEmulator,
    api: httpx2.AsyncClient,
) -> Demo:  # fmt: skip
    await emulator.wait_for_session(0)
    await gateway.robots[ROBOT].wait_live()
    reply = await api.post(f"/v1/robots/{ROBOT}/messages", json={"text": "start cleaning, turn right"})
    assert reply.status_code == 202, reply.text
    spoken = await delivered_output(redis)
    direct = await add_tool_call(redis, ROBOT, "get_battery_voltage")
    await wait_for_output(redis, ROBOT, direct.call_id)
    poison: Any = await redis.xadd(KEYS.tool_calls, {"call_id": "call_poison_1", "robot_id": ROBOT, "name": ""})
    await wait_for_entries(redis, KEYS.dead_letters, 1)
    sim.robot.battery_voltage = 22.8  # below battery_low's 23.0 V, above battery_critical's 22.0 V
    await wait_for_entries(redis, KEYS.alerts, 1, timeout_s=15)
    stop = await api.post(f"/v1/robots/{ROBOT}/emergency_stop")
    assert stop.status_code == 202, stop.text
    await wait_for_entries(redis, KEYS.alerts, 2)
    return Demo(redis_url, spoken, direct.call_id, str(poison), stop.json()["stop_id"])


async def delivered_output(redis: Redis, timeout_s: float = 20.0) -> str:
    """The call id of the first function call output the gateway put into the conversation."""
    last = "0-0"
    async with asyncio.timeout(timeout_s):
        while True:
            reply: Any = await redis.xread({KEYS.conversation: last}, block=1000)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    item = ConversationItem.from_fields(fields)
                    if item.kind is ItemKind.FUNCTION_CALL_OUTPUT and item.call_id:
                        return item.call_id


async def robovox(redis_url: str, *args: str) -> Result:
    """``robovox <args>`` in a thread (it runs its own event loop), as a user would run it."""
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, cli, ["--redis-url", redis_url, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


async def robovox_json(redis_url: str, *args: str) -> Any:
    result = await robovox(redis_url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
