"""RoboVox on its embedded default: one command, no Docker, nothing to configure.

Starts a private Redis, the cleaning-robot simulator, each RoboVox service as
its own process (as on an edge box), and, when ``OPENAI_API_KEY`` is not set,
the Realtime emulator in place of OpenAI, all on loopback. Then, on a
terminal, a prompt talks to the robot through its voice session (text, as in
the prototype's text chat), or sends a tool call straight to the executor:

    robovox> start cleaning, turn right        (text to the robot's session)
    robovox> get_battery_voltage               (a tool call, by name)

``help`` lists what the robot understands (its profile's examples), ``robots`` and
``robot <id>`` switch between robots (a profile dropped into ``.demo/profiles/`` is
served at once). ``--say`` and ``--call`` do the same without a prompt and exit.
Alerts print as they fire and resolve; ``--battery-volts 23.2 --battery-drain 0.5``
drains the simulated battery through the warning and critical thresholds in a
few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from robovox.shared.embedded_redis import EmbeddedRedis, free_port
from robovox.shared.link import LinkInfo
from robovox.shared.profile import RobotProfile, load_profiles
from robovox.shared.redis_client import open_redis
from robovox.shared.streams import RobotKeys
from robovox.sim.demo_gateway import Gateway
from robovox.sim.demo_prompt import DemoPrompt, print_alerts, say, send
from robovox.sim.errors import SimError

SHIPPED_ROSBRIDGE = "ws://127.0.0.1:9090"
SERVICES = ("robovox.ros_adapter", "robovox.executor", "robovox.alert_monitor")


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
                prompt = DemoPrompt(redis, gateway, state_dir / "profiles", robot)
                talking = asyncio.ensure_future(
                    prompt.run() if sys.stdin.isatty() else print_alerts(redis, robot.robot_id)
                )
                stop = asyncio.ensure_future(stopping.wait())
                try:
                    await asyncio.wait([talking, stop], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (talking, stop):
                        task.cancel()
                    await asyncio.gather(talking, stop, return_exceptions=True)  # before Redis stops
            finally:
                await redis.aclose()


def port_taken(port: int) -> str | None:
    """Why 127.0.0.1:``port`` cannot be listened on, or None if it can.

    Probed as the simulator and Redis listen, with ``SO_REUSEADDR``: a connection of the last demo
    still in TIME_WAIT does not stop them, so it must not count as taken (a listener still does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
