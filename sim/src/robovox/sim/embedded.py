"""RoboVox on its embedded default: one command, no Docker, nothing to configure.

Starts a private Redis, the cleaning-robot simulator, each RoboVox service as
its own process (as on an edge box), and, when ``OPENAI_API_KEY`` is not set,
the Realtime emulator in place of OpenAI, all on loopback. Then, on a
terminal, a prompt talks to the robot through its voice session (text, as in
the prototype's text chat), or sends a tool call straight to the executor:

    robovox> start cleaning, turn right        (text to the robot's session)
    robovox> get_battery_voltage               (a tool call, by name)

``--say`` and ``--call`` do the same without a prompt and exit (used by the tests).
Alerts print as they fire and resolve; ``--battery-volts 23.2 --battery-drain 0.5``
drains the simulated battery through the warning and critical thresholds in a
few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
from redis.asyncio import Redis

from robovox.shared.embedded_redis import EmbeddedRedis, free_port
from robovox.shared.link import LinkInfo
from robovox.shared.messages import AlertTransition
from robovox.shared.profile import RobotProfile, load_profiles
from robovox.shared.redis_client import open_redis
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import add_tool_call, follow, last_entry_id, wait_for_output
from robovox.sim.demo_gateway import Gateway
from robovox.sim.errors import SimError

SHIPPED_ROSBRIDGE = "ws://127.0.0.1:9090"
SERVICES = ("robovox.ros_adapter", "robovox.executor", "robovox.alert_monitor")


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


@contextlib.contextmanager
def processes(commands: list[tuple[list[str], dict[str, str]]]) -> Iterator[list[subprocess.Popen[bytes]]]:
    # Their own sessions: a Ctrl-C at the terminal reaches the demo alone, which stops them in order.
    procs = [subprocess.Popen(cmd, env=env, start_new_session=True) for cmd, env in commands]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def prepare_profiles(source: Path, target: Path, rosbridge_url: str) -> dict[str, RobotProfile]:
    """Copy the profiles, pointing the shipped simulator address at the one started here."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in [*source.glob("*.yaml"), *source.glob("*.yml")]:
        (target / path.name).write_text(path.read_text().replace(SHIPPED_ROSBRIDGE, rosbridge_url))
    return load_profiles(target)


class NotOnlineError(SimError):
    """The robot did not come online in time: what was missing is named."""


async def wait_online(redis: Redis, profile: RobotProfile, timeout_s: float = 60.0) -> None:
    """Until every subscribed topic has reported through the adapter and the link is up."""
    keys = RobotKeys.of(profile.robot_id)
    waiting = {sub.topic for sub in profile.telemetry}
    last = "0-0"
    link: LinkInfo | None = None
    try:
        async with asyncio.timeout(timeout_s):
            while waiting or link is None or not link.up:
                fields: Any = await redis.hgetall(keys.link_state)
                link = LinkInfo.from_hash_or_none(fields, profile.robot_id)
                reply: Any = await redis.xread({keys.telemetry: last}, block=1000)
                for _stream, entries in reply or []:
                    last = entries[-1][0]
                    waiting -= {fields.get("topic") for _id, fields in entries}
    except TimeoutError:
        state = f"link {link.state.value} since {link.since:%H:%M:%S}" if link else "no link published by the adapter"
        missing = f"no telemetry yet on {', '.join(sorted(waiting))}" if waiting else "every topic reported"
        raise NotOnlineError(f"{profile.robot_id} not online after {timeout_s:.0f} s: {state}; {missing}") from None


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
    async with asyncio.timeout(60):
        while True:
            found: Any = await redis.xread({keys.conversation: after}, block=30_000)
            for _stream, entries in found or []:
                for entry_id, fields in entries:
                    after = entry_id
                    item = ConversationItem.from_fields(fields)
                    lines.append(describe(item))
                    if item.kind in (ItemKind.ASSISTANT_MESSAGE, ItemKind.FUNCTION_CALL_OUTPUT):
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


async def prompt(redis: Redis, profile: RobotProfile, gateway: Gateway) -> None:
    tools = {t.name for t in profile.tools}
    print(f"\nTools of {profile.robot_id}: {', '.join(sorted(tools))}")
    print("Type what you would say to the robot, or a tool call such as `start_cleaning option=TurnRight`.")
    print("`quit` or Ctrl-D ends.\n")
    while True:
        line = await _read_line_in_daemon_thread()
        if line is None or line.strip() in ("quit", "exit"):
            return
        if line.split(" ", 1)[0] in tools:
            print(await send(redis, profile.robot_id, line))
        elif line.strip():
            print("\n".join(await say(redis, gateway, profile.robot_id, line.strip())))


def _read_line() -> str | None:
    try:
        return input("robovox> ")
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


async def run(args: argparse.Namespace, state_dir: Path, profiles: dict[str, RobotProfile], sim_port: int) -> None:
    rosbridge_url = f"ws://127.0.0.1:{sim_port}"
    robot = profiles[sorted(profiles)[0]]
    with EmbeddedRedis(args.redis_port or free_port(), appendonly=True, data_dir=state_dir / "redis") as server:
        env = {
            **os.environ,
            "ROBOVOX_REDIS_URL": server.url,
            "ROBOVOX_PROFILES_DIR": str(state_dir / "profiles"),
            "ROBOVOX_LOG_LEVEL": args.log_level,
        }
        sim = [sys.executable, "-m", "robovox.sim.robot", "--port", str(sim_port), "--log-level", "WARNING"]
        sim += ["--dialect", args.dialect]
        sim += ["--initial-voltage", str(args.battery_volts), "--idle-drain", str(args.battery_drain)]
        gateway = Gateway.for_demo(env)
        commands = [(sim, env), *gateway.emulator_command]
        commands += [([sys.executable, "-m", module], env) for module in SERVICES]
        commands.append(([sys.executable, "-m", "robovox.gateway"], gateway.env))  # the only one with the API key
        with processes(commands):
            redis = open_redis(server.url)
            try:
                await wait_online(redis, robot)
                await gateway.wait_live(robot.robot_id)
                # From here Ctrl-C (or SIGTERM) ends the demo through an event, so the shutdown below
                # always runs in order: services first, Redis last.
                stopping = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stopping.set)
                print(f"RoboVox is up. Redis: {server.url}  robot simulator: {rosbridge_url}")
                print(f"Realtime: {gateway.provider}.  Gateway API: {gateway.url} (token {gateway.token})")
                print(f"Operator console: {gateway.url}/console/#token={gateway.token}")
                conversation = RobotKeys.of(robot.robot_id).conversation
                print(f"Inspect the streams with: redis-cli -u {server.url} XRANGE '{conversation}' - +")
                for line in args.call:
                    print(await send(redis, robot.robot_id, line))
                for text in args.say:
                    print("\n".join(await say(redis, gateway, robot.robot_id, text)))
                if args.call or args.say:
                    return
                alerts = asyncio.create_task(print_alerts(redis, robot.robot_id))
                talking = asyncio.ensure_future(
                    prompt(redis, robot, gateway) if sys.stdin.isatty() else asyncio.Event().wait()
                )
                stop = asyncio.ensure_future(stopping.wait())
                try:
                    await asyncio.wait([talking, stop], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (talking, stop, alerts):
                        task.cancel()
                    await asyncio.gather(talking, stop, alerts, return_exceptions=True)  # before Redis stops
            finally:
                await redis.aclose()


def port_taken(port: int) -> str | None:
    """Why 127.0.0.1:``port`` cannot be listened on, or None if it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", default="deploy/profiles", help="folder of robot profiles")
    parser.add_argument("--state-dir", default=".demo", help="where the embedded Redis keeps its append-only file")
    parser.add_argument("--redis-port", type=int, default=6399, help="0 picks a free port")
    parser.add_argument("--sim-port", type=int, default=9090, help="0 picks a free port")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--dialect", choices=["ros2", "ros1"], default="ros2", help="which rosbridge the robot simulator plays"
    )
    parser.add_argument("--battery-volts", type=float, default=25.2, help="the simulated battery's starting voltage")
    parser.add_argument(
        "--battery-drain", type=float, default=0.02, help="volts per minute (try 0.5 from 23.2 V to hear alerts)"
    )
    parser.add_argument("--call", action="append", default=[], help="send this call, print the outcome; repeatable")
    parser.add_argument("--say", action="append", default=[], help="say this to the robot's session; repeatable")
    args = parser.parse_args()
    state_dir = Path(args.state_dir).resolve()
    for port, option, what in (
        (args.sim_port, "--sim-port", "robot simulator"),
        (args.redis_port, "--redis-port", "Redis"),
    ):
        taken = port_taken(port) if port else None
        if taken:
            raise SystemExit(
                f"make demo: port {port} for the {what} is taken ({taken}); another rosbridge or Redis may be "
                f"running. Stop it, or run make demo ARGS='{option} 0' to pick a free port."
            )
    sim_port = args.sim_port or free_port()
    profiles = prepare_profiles(Path(args.profiles), state_dir / "profiles", f"ws://127.0.0.1:{sim_port}")
    # SIGTERM ends the demo like Ctrl-C, so its child processes are stopped too, not orphaned; and
    # Ctrl-C does so even when the demo was started with SIGINT ignored (as a background job is).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(run(args, state_dir, profiles, sim_port))
        except NotOnlineError as exc:
            raise SystemExit(f"make demo: {exc} (the services' logs are above)") from None


if __name__ == "__main__":
    main()
