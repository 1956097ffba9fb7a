"""The demo's prompt: text to a robot's voice session, tool calls by name, and a few words of
its own (``help``, ``robots``, ``robot <id>``), with the robot's alerts printed as they come."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import httpx2
from redis.asyncio import Redis

from robovox.shared.messages import AlertTransition
from robovox.shared.profile import ProfileError, RobotProfile, load_profiles
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import LOOK_MS, add_tool_call, follow, last_entry_id, wait_for_output
from robovox.sim.demo_gateway import Gateway

PROMPT = "robovox> "


def parse_call(line: str) -> tuple[str, str]:
    """``start_cleaning option=TurnRight`` or ``start_cleaning {"option": "TurnRight"}``."""
    name, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    if not rest or rest.startswith("{"):
        return name, rest or "{}"
    arguments: dict[str, Any] = {}
    for pair in rest.split():
        key, _, value = pair.partition("=")
        try:
            arguments[key] = json.loads(value)
        except json.JSONDecodeError:
            arguments[key] = value
    return name, json.dumps(arguments)


async def send(redis: Redis, robot_id: str, line: str) -> str:
    name, arguments = parse_call(line)
    position = await last_entry_id(redis, RobotKeys.of(robot_id).inbox)
    call = await add_tool_call(redis, robot_id, name, arguments)
    entry = await wait_for_output(redis, robot_id, call.call_id, timeout_s=90, after=position)
    spoken = "speak now" if entry.speak else "silent"
    return f"[{entry.outcome.value if entry.outcome else '?'}, {spoken}] {entry.text}"


async def say(redis: Redis, gateway: Gateway, robot_id: str, text: str) -> list[str]:
    """Text to the robot's session; the conversation items it led to, until the model's turn ends."""
    keys = RobotKeys.of(robot_id)
    after = await last_entry_id(redis, keys.conversation)
    async with httpx2.AsyncClient(base_url=gateway.url, headers={"Authorization": f"Bearer {gateway.token}"}) as api:
        reply = await api.post(f"/v1/robots/{robot_id}/messages", json={"text": text})
    if reply.status_code != 202:
        return [f"[gateway {reply.status_code}] {reply.text}"]
    lines: list[str] = []
    inbox_at = await last_entry_id(redis, keys.inbox)
    async with asyncio.timeout(60):
        while True:
            found: Any = await redis.xread({keys.conversation: after}, block=LOOK_MS)
            for _stream, entries in found or []:
                for entry_id, fields in entries:
                    after = entry_id
                    item = ConversationItem.from_fields(fields)
                    lines.append(describe(item))
                    if item.kind is ItemKind.ASSISTANT_MESSAGE:
                        return lines
                    if item.kind is ItemKind.FUNCTION_CALL_OUTPUT and item.call_id is not None:
                        # A silent result ends the turn; one to be spoken ends it with the model's words.
                        output = await wait_for_output(redis, robot_id, item.call_id, after=inbox_at)
                        if not output.speak:
                            return lines


async def print_alerts(redis: Redis, robot_id: str) -> None:
    """Each alert transition as it happens, between prompts."""
    async for _id, fields in follow(redis, RobotKeys.of(robot_id).alerts):
        alert = AlertTransition.from_fields(fields)
        print(f"\n  [alert {alert.severity.value} {alert.status.value}] {alert.rule}: {alert.message}")


def describe(item: ConversationItem) -> str:
    if item.kind is ItemKind.FUNCTION_CALL:
        return f"  model calls {item.name}({item.arguments})"
    if item.kind is ItemKind.FUNCTION_CALL_OUTPUT:
        return f"  result: {item.text}"
    return f"  {item.kind.value.replace('_message', '')}: {item.text}"


def help_text(profile: RobotProfile) -> str:
    lines = [f"Talking to {profile.robot_id} ({profile.display_name}). Say what you would say to it, for example:"]
    for tool in profile.tools:
        said = f'"{tool.examples[0]}"' if tool.examples else "(no examples in the profile)"
        lines.append(f"  {said:52} -> {tool.name}")
    lines += [
        "Or call a tool by name, e.g. `start_cleaning option=TurnRight`.",
        "`robots` lists the robots, `robot <id>` switches to one, `quit` or Ctrl-D ends.",
    ]
    return "\n".join(lines)


class DemoPrompt:
    """The prompt's state: which robot it talks to, and the task printing that robot's alerts."""

    def __init__(self, redis: Redis, gateway: Gateway, profiles_dir: Path, profile: RobotProfile) -> None:
        self._redis = redis
        self._gateway = gateway
        self._profiles_dir = profiles_dir
        self.profile = profile
        self._alerts: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self._follow_alerts()
        print(f"\n{help_text(self.profile)}\n")
        try:
            while True:
                line = await _read_line_in_daemon_thread()
                if line is None or line.strip() in ("quit", "exit"):
                    return
                print(await self.answer(line.strip()))
        finally:
            await self._stop_alerts()

    async def answer(self, line: str) -> str:
        """What the prompt prints for one line."""
        words = line.split()
        if not words:
            return ""
        if words == ["help"]:
            return help_text(self.profile)
        if words == ["robots"]:
            return "\n".join(self._robots_text())
        if words[0] == "robot":
            return await self._switch(words[1:])
        if words[0] in {t.name for t in self.profile.tools}:
            return await send(self._redis, self.profile.robot_id, line)
        return "\n".join(await say(self._redis, self._gateway, self.profile.robot_id, line))

    def _profiles(self) -> dict[str, RobotProfile]:
        """The profiles as the services now serve them (the folder may have changed since the start)."""
        try:
            return load_profiles(self._profiles_dir)
        except ProfileError:
            return {self.profile.robot_id: self.profile}

    def _robots_text(self) -> list[str]:
        return [
            f"{'*' if rid == self.profile.robot_id else ' '} {rid} ({p.display_name})"
            for rid, p in sorted(self._profiles().items())
        ]

    async def _switch(self, args: list[str]) -> str:
        profiles = self._profiles()
        if len(args) != 1 or args[0] not in profiles:
            wanted = f"No robot {args[0]!r}. " if len(args) == 1 else ""
            return f"{wanted}Use `robot <id>` with one of: {', '.join(sorted(profiles))}."
        self.profile = profiles[args[0]]
        if self._alerts is not None:  # follow the new robot's alerts instead
            await self._stop_alerts()
            self._follow_alerts()
        return f"Now talking to {self.profile.robot_id} ({self.profile.display_name}). `help` lists what it can do."

    def _follow_alerts(self) -> None:
        self._alerts = asyncio.create_task(print_alerts(self._redis, self.profile.robot_id))

    async def _stop_alerts(self) -> None:
        if self._alerts is not None:
            self._alerts.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._alerts
            self._alerts = None


def _read_line() -> str | None:
    try:
        return input(PROMPT)
    except EOFError:
        return None


async def _read_line_in_daemon_thread() -> str | None:
    """``input()`` on a daemon thread: Ctrl-C ends the demo at once, instead of asyncio's shutdown
    waiting for the executor thread blocked in ``input()`` until Enter."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str | None] = loop.create_future()

    def read() -> None:
        value = _read_line()
        loop.call_soon_threadsafe(lambda: None if line.done() else line.set_result(value))

    threading.Thread(target=read, name="demo-prompt", daemon=True).start()
    return await line
