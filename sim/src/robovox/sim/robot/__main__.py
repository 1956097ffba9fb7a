"""Command line entry point: ``robovox-sim`` / ``python -m robovox.sim.robot``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from robovox.sim.cli import run_cli, serve_until_signalled

from .cleaning_robot import RobotConfig
from .dialect import Dialect
from .server import RobotSimulator


def build_parser() -> argparse.ArgumentParser:
    defaults = RobotConfig()
    p = argparse.ArgumentParser(
        prog="robovox-sim",
        description="rosbridge v2 websocket server simulating a cleaning robot",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9090)
    p.add_argument(
        "--dialect",
        type=Dialect,
        choices=list(Dialect),
        default=Dialect.ROS2,
        help="the rosbridge to play: ros2 (default) or ros1 (rosbridge_suite 0.11 on Noetic)",
    )
    p.add_argument("--time-scale", type=float, default=1.0, help="sim seconds per real second")
    p.add_argument("--battery-rate-hz", type=float, default=10.0)
    p.add_argument("--state-rate-hz", type=float, default=2.0)
    p.add_argument("--initial-voltage", type=float, default=defaults.initial_voltage)
    p.add_argument(
        "--idle-drain",
        type=float,
        default=defaults.idle_drain_v_per_min,
        help="battery drain while not cleaning, volts per sim minute",
    )
    p.add_argument(
        "--cleaning-drain",
        type=float,
        default=defaults.cleaning_drain_v_per_min,
        help="battery drain while cleaning, volts per sim minute",
    )
    p.add_argument(
        "--voltage-noise",
        type=float,
        default=defaults.voltage_noise_std,
        help="std-dev of gaussian noise on published voltage",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--move-duration", type=float, default=defaults.move_duration_s, help="sim seconds a move_to_corner goal takes"
    )
    p.add_argument("--log-level", default="INFO")
    return p


async def _run(args: argparse.Namespace) -> None:
    config = RobotConfig(
        initial_voltage=args.initial_voltage,
        idle_drain_v_per_min=args.idle_drain,
        cleaning_drain_v_per_min=args.cleaning_drain,
        voltage_noise_std=args.voltage_noise,
        seed=args.seed,
        move_duration_s=args.move_duration,
    )
    sim = RobotSimulator(
        args.host,
        args.port,
        time_scale=args.time_scale,
        battery_rate_hz=args.battery_rate_hz,
        state_rate_hz=args.state_rate_hz,
        robot_config=config,
        dialect=args.dialect,
    )
    await serve_until_signalled(sim, lambda: f"robovox-sim ({sim.dialect}) listening on {sim.url}")


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_cli(_run(args), args.log_level)


if __name__ == "__main__":
    main()
