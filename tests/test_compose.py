"""The edge box's compose file, read as text and YAML (make test-docker runs it): every variable it
reads is documented in .env.example; the floor never points at a simulator, the sim profile
never at anything real; secrets come as files, never on a command line or in an environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = (REPO / "docker-compose.yml").read_text()
SERVICES: dict[str, Any] = yaml.safe_load(COMPOSE)["services"]
FOUR = ("session-gateway", "tool-executor", "ros-adapter", "alert-monitor")


def test_every_variable_compose_reads_is_documented_in_the_env_example() -> None:
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", example, re.M))
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE)) - {"ENV_FILE"}  # ENV_FILE: the test's own .env
    assert read - documented == set()


def test_the_floor_and_the_sim_profiles_each_run_the_four_services() -> None:
    for name in FOUR:
        assert SERVICES[name]["profiles"] == ["floor"]
        assert SERVICES[f"{name}-sim"]["profiles"] == ["sim"]
        assert SERVICES[name]["image"] == SERVICES[f"{name}-sim"]["image"]
    assert "profiles" not in SERVICES["redis"]
    assert SERVICES["robot-sim"]["profiles"] == SERVICES["realtime-emulator"]["profiles"] == ["sim"]


def test_the_floor_gateway_is_not_pointed_at_the_emulator_and_the_sim_one_is() -> None:
    floor = SERVICES["session-gateway"]["environment"]
    assert "ROBOVOX_REALTIME_BASE_URL" not in floor  # the .env's, else the gateway's default (OpenAI)
    sim = SERVICES["session-gateway-sim"]["environment"]
    assert sim["ROBOVOX_REALTIME_BASE_URL"] == "http://127.0.0.1:${SIM_REALTIME_PORT:-8765}/v1"
    assert {s["source"] for s in SERVICES["session-gateway-sim"]["secrets"]} == {
        "redis_password", "api_token", "emulator_api_key",
    }  # fmt: skip


def test_secrets_are_files_and_on_no_command_line() -> None:
    for name, service in SERVICES.items():
        command = " ".join(map(str, service.get("command", [])))
        environment = " ".join(f"{k}={v}" for k, v in service.get("environment", {}).items())
        for secret in ("KEY", "TOKEN", "PASSWORD"):
            assert f"{secret}}}" not in command and f"_{secret}:" not in environment, name
    assert "--api-key-file" in SERVICES["realtime-emulator"]["command"]
