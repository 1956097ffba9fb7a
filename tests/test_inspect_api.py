"""The console's Inspect routes against a real Redis holding a demo run's data (``tests/cli_demo.py``):
a robot's streams with their groups' lag and pending, a stream's latest entries as written, its dead
letters with their reasons and replays, and its numeric telemetry as time series; the operator's
token, 404 for an unknown robot, 422 for a bad parameter, and every size bounded."""

from __future__ import annotations

from typing import Any

import httpx2
from redis.asyncio import Redis

from robovox.gateway.floor.inspection import VALUE_CHARS
from robovox.shared.stream_info import STREAM_MODELS
from robovox.sim.robot import RobotSimulator
from tests.cli_demo import Demo, robovox
from tests.conftest import KEYS, ROBOT

BASE = f"/v1/robots/{ROBOT}"


def problem(answer: httpx2.Response) -> tuple[int, str | None]:
    return answer.status_code, answer.json()["error"]["param"]


async def test_streams_show_lag_and_pending_for_a_group_with_unacked_entries(
    demo: Demo, redis: Redis, api: httpx2.AsyncClient
) -> None:
    # A group that read two inbox entries and never acked them; the rest not delivered to it.
    await redis.xgroup_create(KEYS.inbox, "inspector", id="0")
    read: Any = await redis.xreadgroup("inspector", "inspector@test", {KEYS.inbox: ">"}, count=2)
    first_id = read[0][1][0][0]
    length = await redis.xlen(KEYS.inbox)

    answer = await api.get(f"{BASE}/streams")
    assert answer.status_code == 200, answer.text
    views = answer.json()
    assert [v["stream"] for v in views] == list(STREAM_MODELS)
    inbox = next(v for v in views if v["stream"] == "inbox")
    assert inbox["key"] == KEYS.inbox and inbox["length"] == length and inbox["last_entry_at"]
    groups = {g["name"]: g for g in inbox["groups"]}
    inspector = groups["inspector"]
    assert (inspector["consumers"], inspector["pending"], inspector["lag"]) == (1, 2, length - 2)
    assert inspector["oldest_pending"] == first_id and inspector["oldest_pending_age_s"] > 0
    assert inspector["oldest_pending_idle_s"] >= 0
    assert (groups["session-gateway"]["pending"], groups["session-gateway"]["lag"]) == (0, 0)
    dead = next(v for v in views if v["stream"] == "dead_letters")
    assert dead["length"] == 1 and dead["groups"] == []

    async with httpx2.AsyncClient(base_url=str(api.base_url)) as anonymous:
        for path in ("streams", "streams/inbox/entries", "dead_letters", "telemetry/series"):
            assert (await anonymous.get(f"{BASE}/{path}")).status_code == 401, path
    for path in ("streams", "streams/inbox/entries", "dead_letters", "telemetry/series"):
        missing = await api.get(f"/v1/robots/nobody/{path}")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_robot", path


async def test_the_gateway_serves_the_plotting_library_from_its_package(api: httpx2.AsyncClient) -> None:
    script = await api.get("/console/lib/dygraph.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.text.startswith("/*! @license Copyright 2014 Dan Vanderkam") and "MIT" in script.text[:200]
    assert 'src = "lib/dygraph.js"' in (await api.get("/console/plot.js")).text


async def test_latest_entries_are_the_fields_as_written_newest_first_a_page_at_a_time(
    demo: Demo, redis: Redis, api: httpx2.AsyncClient
) -> None:
    first = (await api.get(f"{BASE}/streams/tool_calls/entries", params={"limit": 1})).json()
    assert first["robot_id"] == ROBOT and first["stream"] == "tool_calls"
    [poison] = first["items"]
    assert poison["entry_id"] == demo.poison_id
    assert poison["fields"] == {"call_id": "call_poison_1", "robot_id": ROBOT, "name": ""}
    assert poison["problem"].startswith("not a valid ToolCall entry: ")
    rest = (await api.get(f"{BASE}/streams/tool_calls/entries", params={"before": first["next_before"]})).json()
    assert [e["fields"]["call_id"] for e in rest["items"]] == [demo.direct_call_id, demo.spoken_call_id]
    assert rest["next_before"] is None and all(e["problem"] is None for e in rest["items"])
    assert list(rest["items"][0]["fields"])[:3] == ["call_id", "robot_id", "name"], "fields in their written order"

    # A value longer than the view shows is cut, with a note saying by how much.
    # The services write events too (the stop's system message, say): page from just after this one.
    written: Any = await redis.xadd(
        KEYS.events, {"robot_id": ROBOT, "direction": "server", "type": "x", "event": "y" * 3000}
    )
    written = written.decode() if isinstance(written, bytes) else written
    ms, seq = written.split("-")
    after_it: dict[str, str | int] = {"limit": 1, "before": f"{ms}-{int(seq) + 1}"}
    [long] = (await api.get(f"{BASE}/streams/events/entries", params=after_it)).json()["items"]
    assert long["entry_id"] == written
    assert len(long["fields"]["event"]) == VALUE_CHARS and "more characters" in long["fields"]["event"]
    empty = (await api.get(f"{BASE}/streams/command_results/entries")).json()
    assert empty["next_before"] is None and len(empty["items"]) <= 20

    for params, path, param in [
        ({}, "streams/nosuch/entries", "stream"),
        ({"limit": 0}, "streams/inbox/entries", "limit"),
        ({"limit": 101}, "streams/inbox/entries", "limit"),
        ({"before": "yesterday"}, "streams/inbox/entries", "before"),
        ({"limit": 101}, "dead_letters", "limit"),
        ({"limit": 10_001}, "telemetry/series", "limit"),
        ({"topic": ""}, "telemetry/series", "topic"),
    ]:
        assert problem(await api.get(f"{BASE}/{path}", params=params)) == (422, param), (path, params)


async def test_dead_letters_say_why_and_whether_they_were_replayed(
    demo: Demo, redis: Redis, api: httpx2.AsyncClient
) -> None:
    page = (await api.get(f"{BASE}/dead_letters")).json()
    [letter] = page["items"]
    assert (page["next_before"], page["skipped"]) == (None, 0)
    assert (letter["robot_id"], letter["stream"], letter["entry_id"]) == (ROBOT, KEYS.tool_calls, demo.poison_id)
    assert letter["group"] == "tool-executor" and letter["deliveries"] >= 1 and letter["consumer"]
    assert letter["reason"].startswith("not a valid ToolCall entry: ") and letter["replayed_as"] is None
    assert '"call_id": "call_poison_1"' in letter["original"]

    replayed = await robovox(demo.redis_url, "dead-letters", ROBOT, "--replay", letter["dead_letter_id"])
    assert replayed.exit_code == 0, replayed.stderr
    again = (await api.get(f"{BASE}/dead_letters", params={"limit": 100})).json()["items"]
    shown = next(d for d in again if d["dead_letter_id"] == letter["dead_letter_id"])
    replays = await redis.hgetall(KEYS.dead_letter_replays)
    assert shown["replayed_as"] == replays[letter["dead_letter_id"]]


async def test_numeric_telemetry_comes_as_time_series_oldest_first(
    demo: Demo, redis: Redis, sim: RobotSimulator, api: httpx2.AsyncClient
) -> None:
    await redis.xadd(KEYS.telemetry, {"topic": "/not/a/sample"})
    answer = (await api.get(f"{BASE}/telemetry/series", params={"limit": 500})).json()
    assert answer["robot_id"] == ROBOT and answer["unreadable"] == 1 and answer["truncated"] is False
    assert 1 < answer["entries"] <= 500
    by_name = {(s["topic"], s["field"]): s for s in answer["series"]}
    battery = by_name[("/battery/voltage", "msg.data")]
    assert len(battery["times_ms"]) == len(battery["values"]) > 1
    assert battery["times_ms"] == sorted(battery["times_ms"])
    assert abs(battery["values"][-1] - sim.robot.battery_voltage) < 0.2
    assert ("/robovox/battery_forecast", "msg.voltage") in by_name
    assert not any(s["field"] == "msg" for s in answer["series"]), "the whole message is no number"
    assert all(s["topic"] != "/vacuum_pads/state" for s in answer["series"]), "text is no number"

    only = (await api.get(f"{BASE}/telemetry/series", params={"topic": "/battery/voltage", "limit": 50})).json()
    assert {s["topic"] for s in only["series"]} == {"/battery/voltage"} and only["entries"] <= 50
