"""``robovox`` against a real Redis holding a demo run's data (``tests/cli_demo.py``): the services,
the simulator and the Realtime emulator, a spoken call, a direct call, a poison entry, an alert and
an emergency stop."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from robovox.shared.testing.streams import add_tool_call, wait_for_entries
from tests.cli_demo import ROBOVOX, Demo, robovox, robovox_json
from tests.conftest import KEYS, ROBOT

ANSI = "\x1b["


async def test_robots_and_alerts_say_link_session_battery_firing_alerts_and_the_stop(demo: Demo) -> None:
    (robot,) = await robovox_json(demo.redis_url, "robots")
    assert (robot["robot_id"], robot["link"], robot["session"], robot["ros"]) == (ROBOT, "up", "live", "ROS 2 humble")
    assert robot["battery"]["topic"] == "/battery/voltage" and 22.0 < robot["battery"]["volts"] < 23.5
    assert [(a["rule"], a["severity"]) for a in robot["alerts"]] == [
        ("battery_low", "warning"), ("emergency_stop", "critical"),
    ]  # fmt: skip
    assert robot["emergency_stopped"] is True

    text = (await robovox(demo.redis_url, "robots")).stdout
    assert text.splitlines()[0].split() == ["ROBOT", "LINK", "ROS", "SESSION", "BATTERY", "FIRING", "ALERTS", "E-STOP"]
    row = text.splitlines()[1]
    assert row.startswith(f"{ROBOT}  up for ") and " live for " in row and " V (" in row
    assert "warning battery_low, critical emergency_stop" in row and row.endswith("STOPPED")
    assert ANSI not in text  # not a terminal: no colour
    assert ANSI in (await robovox(demo.redis_url, "--color", "robots")).stdout

    transitions = await robovox_json(demo.redis_url, "alerts", ROBOT)
    assert [(t["rule"], t["status"]) for t in transitions] == [("battery_low", "firing"), ("emergency_stop", "firing")]
    assert transitions[1]["stop_id"] == demo.stop_id and transitions[1]["triggered_by"] == "operator"
    table = (await robovox(demo.redis_url, "alerts", "--since", "10m")).stdout.splitlines()
    assert len(table) == 3 and table[1].split()[3:6] == ["battery_low", "warning", "firing"]
    assert table[2].split()[3:6] == ["emergency_stop", "critical", "firing"] and table[2].endswith("api by operator")
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert (await robovox(demo.redis_url, "alerts", "--since", later)).stdout == "no alerts\n"


async def test_streams_show_length_lag_pending_and_the_oldest_pending_entry(demo: Demo, redis: Redis) -> None:
    # A group with one entry read and never acked, and the rest not yet delivered.
    await redis.xgroup_create(KEYS.inbox, "inspector", id="0")
    read: Any = await redis.xreadgroup("inspector", "inspector@test", {KEYS.inbox: ">"}, count=1)
    first_id = read[0][1][0][0]
    length = await redis.xlen(KEYS.inbox)
    assert length >= 3

    views = await robovox_json(demo.redis_url, "streams", ROBOT)
    inbox = next(v for v in views if v["stream"] == "inbox")
    assert inbox["length"] == length and inbox["key"] == KEYS.inbox
    groups = {g["name"]: g for g in inbox["groups"]}
    assert groups["inspector"]["pending"] == 1 and groups["inspector"]["lag"] == length - 1
    assert groups["inspector"]["oldest_pending"] == first_id and groups["inspector"]["oldest_pending_age_s"] > 0
    assert groups["session-gateway"]["pending"] == 0 and groups["session-gateway"]["lag"] == 0
    tool_calls = next(v for v in views if v["stream"] == "tool_calls")
    assert [(g["name"], g["pending"], g["lag"]) for g in tool_calls["groups"]] == [("tool-executor", 0, 0)]

    lines = (await robovox(demo.redis_url, "streams", ROBOT)).stdout.splitlines()
    inspector = next(line for line in lines if "inspector (1)" in line)
    assert inspector.split("inspector (1)")[1].split()[:2] == ["1", str(length - 1)]  # pending, lag
    assert f"{first_id} (" in inspector and " old, idle " in inspector


async def test_call_shows_every_stage_of_a_spoken_call_with_times(demo: Demo) -> None:
    call = await robovox_json(demo.redis_url, "call", demo.spoken_call_id)
    assert (call["robot_id"], call["state"], call["outcome"]) == (ROBOT, "done", "succeeded")
    stages = [(s["service"], s["stage"]) for s in call["stages"]]
    for stage in [
        ("provider", "event response.function_call_arguments.done"),  # the model completed the call
        ("session-gateway", "published"),
        ("session-gateway", "tool call"),
        ("session-gateway", "conversation function call"),
        ("tool-executor", "dispatched"),
        ("tool-executor", "command"),
        ("ros-adapter", "started"),
        ("ros-adapter", "result"),
        ("ros-adapter", "command result"),
        ("tool-executor", "done"),
        ("tool-executor", "answer"),
        ("session-gateway", "conversation function call output"),
        ("session-gateway", "event conversation.item.create"),
    ]:
        assert stage in stages, f"{stage} missing from {stages}"
    order = [stages.index(s) for s in [("session-gateway", "published"), ("tool-executor", "dispatched"),
             ("ros-adapter", "started"), ("ros-adapter", "result"), ("tool-executor", "done")]]  # fmt: skip
    assert order == sorted(order)
    times = [datetime.fromisoformat(s["at"]) for s in call["stages"]]
    assert times == sorted(times) and times[-1] - times[0] < timedelta(seconds=10)

    text = (await robovox(demo.redis_url, "call", demo.spoken_call_id)).stdout.splitlines()
    assert text[0].startswith(f"call {demo.spoken_call_id} on {ROBOT}: state done, outcome succeeded, ")
    assert text[2].split() == ["TIME", "+MS", "SERVICE", "STAGE", "DETAIL", "FROM"]
    assert len(text) == 3 + len(stages)
    dispatched = next(line for line in text if " dispatched " in line)
    assert "service /robot_navigator/start_cleaning" in dispatched and dispatched.endswith("record")

    direct = await robovox_json(demo.redis_url, "call", demo.direct_call_id, "--robot", ROBOT)
    assert [s["stage"] for s in direct["stages"] if s["source"] == "record"] == ["published", "done"]  # a query
    missing = await robovox(demo.redis_url, "call", "call_nobody_made")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert missing.stderr == (
        "robovox: no call call_nobody_made on any robot: no record (kept 24 h) and no stream entry names it\n"
    )


async def test_dead_letters_say_why_and_replay_puts_one_back_exactly_once(demo: Demo, redis: Redis) -> None:
    (letter,) = await robovox_json(demo.redis_url, "dead-letters")
    assert (letter["stream"], letter["entry_id"], letter["group"]) == (KEYS.tool_calls, demo.poison_id, "tool-executor")
    assert letter["reason"].startswith("not a valid ToolCall entry: name: String should have at least 1 character")
    assert letter["replayed_as"] is None

    before = await redis.xlen(KEYS.tool_calls)
    replayed = await robovox(demo.redis_url, "dead-letters", ROBOT, "--replay", letter["dead_letter_id"])
    assert replayed.exit_code == 0, replayed.output
    (new_id,) = [entry_id for entry_id, _ in await redis.xrange(KEYS.tool_calls, f"({demo.poison_id}")][-1:]
    assert replayed.stdout == (
        f"replayed dead letter {letter['dead_letter_id']} of {ROBOT}: tool_calls entry {new_id} (once)\n"
    )
    assert await redis.xlen(KEYS.tool_calls) == before + 1
    assert (await redis.xrange(KEYS.tool_calls, new_id, new_id))[0][1] == {
        "call_id": "call_poison_1", "robot_id": ROBOT, "name": "",
    }  # fmt: skip

    again = await robovox_json(demo.redis_url, "dead-letters", "--replay", letter["dead_letter_id"])
    assert again == [{"robot_id": ROBOT, "dead_letter_id": letter["dead_letter_id"], "stream": "tool_calls",
                      "entry_id": new_id, "now": False}]  # fmt: skip
    assert await redis.xlen(KEYS.tool_calls) == before + 1
    said = (await robovox(demo.redis_url, "dead-letters", "--replay", letter["dead_letter_id"])).stdout
    assert said.endswith(f"was replayed before, as tool_calls entry {new_id}: nothing written\n")

    await wait_for_entries(redis, KEYS.dead_letters, 2)  # the executor read the replayed entry, and refused it again
    letters = await robovox_json(demo.redis_url, "dead-letters", ROBOT, "--since", "5m")
    assert [(d["entry_id"], d["replayed_as"]) for d in letters] == [(demo.poison_id, new_id), (new_id, None)]
    table = (await robovox(demo.redis_url, "dead-letters")).stdout.splitlines()
    assert table[1].endswith(new_id) and "not a valid ToolCall entry" in table[1]

    unknown = await robovox(demo.redis_url, "dead-letters", "--replay", "1-0")
    assert (unknown.exit_code, unknown.stderr) == (1, "robovox: no dead letter 1-0 on any robot\n")


async def test_tail_follows_the_streams_live_through_the_installed_command(robot_online: str, redis: Redis,
                                                                           redis_url: str) -> None:  # fmt: skip
    wanted = "call_tail_wanted"
    command = [str(ROBOVOX), "tail", ROBOT, "tool_calls", "inbox", "--filter", f"call_id={wanted}", "--count", "2"]
    env = {**os.environ, "ROBOVOX_REDIS_URL": redis_url}
    tail = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert tail.stderr is not None
        ready = await asyncio.wait_for(tail.stderr.readline(), 20)
        assert ready == b"following 2 streams (Ctrl-C ends)\n"
        await add_tool_call(redis, ROBOT, "get_battery_voltage", call_id="call_tail_other")
        await add_tool_call(redis, ROBOT, "get_battery_voltage", call_id=wanted)
        out, err = await asyncio.wait_for(tail.communicate(), 20)
    finally:
        if tail.returncode is None:
            tail.kill()
            await tail.wait()
    assert tail.returncode == 0, err
    lines = out.decode().splitlines()
    assert len(lines) == 2 and ANSI not in out.decode()
    assert f" {ROBOT} tool_calls " in lines[0] and f" {wanted} get_battery_voltage({{}})" in lines[0]
    assert (
        f" {ROBOT} inbox " in lines[1] and f" {wanted} succeeded spoken from tool-executor: battery voltage" in lines[1]
    )
