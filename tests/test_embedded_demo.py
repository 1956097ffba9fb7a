"""`make demo`'s embedded default starts every part as its own process and serves calls."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robovox.sim.embedded import port_taken

pytestmark = pytest.mark.process

REPO = Path(__file__).resolve().parents[1]


def test_embedded_default_runs_calls_end_to_end(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "robovox.sim.embedded", "--redis-port", "0", "--sim-port", "0"]
    command += ["--state-dir", str(tmp_path), "--call", "start_cleaning option=TurnRight"]
    command += ["--call", "get_battery_voltage", "--call", "start_cleaning option=Sideways"]
    run = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("RoboVox is up. Redis: redis://127.0.0.1:") for line in lines)
    outcomes = [line for line in lines if line.startswith("[")]
    assert outcomes[0].startswith("[succeeded, silent] start_cleaning succeeded")
    assert outcomes[1].startswith("[succeeded, speak now] battery voltage: ")
    assert outcomes[2] == (
        '[rejected, speak now] Argument "option" of start_cleaning must be one of TurnLeft, TurnRight; '
        'got "Sideways". Ask the user which one they mean.'
    )


def test_embedded_default_talks_to_the_robot_through_the_emulated_realtime_session(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "robovox.sim.embedded", "--redis-port", "0", "--sim-port", "0"]
    command += ["--state-dir", str(tmp_path), "--say", "start cleaning, turn right", "--say", "hello robot"]
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=90, env=env)
    assert run.returncode == 0, run.stderr
    assert "Realtime: the Realtime emulator (no OPENAI_API_KEY)." in run.stdout
    said = [line.strip() for line in run.stdout.splitlines() if line.startswith("  ")]
    said = [line for line in said if not line.startswith("system: Telemetry update")]  # the alert monitor's context
    assert said == [
        "user: start cleaning, turn right",
        'model calls start_cleaning({"option": "TurnRight"})',
        "result: start_cleaning succeeded: Cleaning started (TurnRight)",
        "user: hello robot",
        "assistant: You said: hello robot",
    ]


def test_a_taken_simulator_port_is_said_at_once_with_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "robovox.sim.embedded", "--redis-port", "0", "--sim-port", str(port)]
        run = subprocess.run(
            [*command, "--state-dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60
        )
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (
        f"make demo: port {port} for the robot simulator is taken (Address already in use); another rosbridge "
        "or Redis may be running. Stop it, or run make demo ARGS='--sim-port 0' to pick a free port."
    )


def test_a_port_whose_last_connection_is_in_time_wait_is_free_for_the_next_demo() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers and Redis listen
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server's side closes first: its end of the connection waits in TIME_WAIT
        client.close()
    assert port_taken(port) is None
    with socket.socket() as listening:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", port))
        listening.listen()
        assert port_taken(port) == "Address already in use"


def test_the_embedded_default_plays_a_ros1_bridge_with_the_same_profile(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "robovox.sim.embedded",
        "--redis-port",
        "0",
        "--sim-port",
        "0",
        "--dialect",
        "ros1",
    ]
    command += ["--state-dir", str(tmp_path), "--call", "move_to_corner corner=front_left", "--call", "emergency_stop"]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    outcomes = [line for line in run.stdout.splitlines() if line.startswith("[")]
    assert outcomes[0].startswith("[succeeded, speak now] move_to_corner succeeded")
    assert outcomes[1] == (
        "[succeeded, speak now] emergency_stop succeeded: confirmed: /robot_navigator/status data is 'emergency_stop'"
    )


def test_ctrl_c_stops_the_services_first_and_redis_last_within_5_s(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "robovox.sim.embedded", "--redis-port", "0", "--sim-port", "0"]
    demo = subprocess.Popen(
        [*command, "--state-dir", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # until it is up
            if line.startswith("RoboVox is up."):
                break
        pressed = time.monotonic()
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground process group
        _out, err = demo.communicate(timeout=30)
        took_s = time.monotonic() - pressed
    finally:
        if demo.poll() is None:  # the demo stops its services on SIGTERM; SIGKILL would orphan them
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
    assert took_s < 5.0, f"Ctrl-C took {took_s:.1f} s"
    assert "Traceback" not in err, err
    assert "Redis unreachable" not in err and "Redis unavailable" not in err, "Redis stopped before the services"
