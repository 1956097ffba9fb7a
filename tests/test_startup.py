"""Every service fails fast at start, in one line a problem and without a traceback (its process,
run as a user would)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process

SERVICES = ["robovox.executor", "robovox.ros_adapter", "robovox.alert_monitor", "robovox.gateway"]
BAD_PROFILE = """\
robot_id: r1
rosbridge_url: ws://127.0.0.1:9
instructions: You are a robot.
tools:
  - name: stop
    description: Stop.
    ros:
      call_service: {name: /stop, type: std_srvs/srv/Trigger}
    timeout_s: -1
"""


def start(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ROBOVOX_")}
    return subprocess.run(
        [sys.executable, "-m", module], env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("module", SERVICES)
def test_bad_settings_stop_the_service_with_a_line_each(module: str) -> None:
    done = start(module, ROBOVOX_BLOCK_MS="abc", ROBOVOX_LOG_LEVEL="verbose")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    lines = done.stderr.strip().split("\n")
    assert lines[0].endswith("cannot start: bad settings:")
    assert sorted(lines[1:]) == [
        "ROBOVOX_BLOCK_MS='abc': Input should be a valid integer, unable to parse string as an integer",
        "ROBOVOX_LOG_LEVEL='verbose': not a log level; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ]


@pytest.mark.parametrize("module", SERVICES)
def test_a_bad_profile_stops_the_service_naming_file_line_and_field(module: str, tmp_path: Path) -> None:
    (tmp_path / "r1.yaml").write_text(BAD_PROFILE)
    done = start(
        module,
        ROBOVOX_PROFILES_DIR=str(tmp_path),
        ROBOVOX_BLOK_MS="500",
        ROBOVOX_API_ENABLED="false",
        ROBOVOX_OPENAI_API_KEY="sk-test",
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "ROBOVOX_BLOK_MS is not a RoboVox setting (did you mean ROBOVOX_BLOCK_MS?); it is ignored" in done.stderr
    where = f"{tmp_path / 'r1.yaml'}:9"
    assert done.stderr.strip().endswith(
        f"cannot start: bad robot profiles:\n{where}: tools.0.timeout_s: Input should be greater than 0"
    )


def test_a_taken_api_port_stops_the_gateway_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = start(
            "robovox.gateway",
            ROBOVOX_API_TOKEN="t" * 16,
            ROBOVOX_OPENAI_API_KEY="sk-test",
            ROBOVOX_API_PORT=str(port),
            ROBOVOX_REDIS_URL="redis://127.0.0.1:9/0",
        )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(
        f"session-gateway cannot start: ROBOVOX_API_PORT={port}: cannot listen on 127.0.0.1:{port}: "
        "Address already in use (another process has it? free it, or pick another port; 0 takes a free one)"
    )


def test_a_gateway_without_a_key_says_so_at_once() -> None:
    done = start("robovox.gateway", ROBOVOX_API_TOKEN="t" * 16)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().split("\n")[-1] == (
        "ROBOVOX_OPENAI_API_KEY is not set: the gateway cannot open Realtime sessions with https://api.openai.com/v1 "
        "(set the key, or point ROBOVOX_REALTIME_BASE_URL at a Realtime emulator, as make demo does)"
    )
