"""The metrics listener, the stream figures and the helpers behind ``/metrics``."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from robovox.shared.messages import CommandStatus
from robovox.shared.metrics import MetricsListener, MetricsListenError, StreamFigures, set_state
from robovox.shared.metrics.series import LINK_STATE, Children
from robovox.shared.streams import RobotKeys, split_robot_key


async def _get(port: int, path: str) -> tuple[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    reply = (await reader.read()).decode()
    writer.close()
    head, _, body = reply.partition("\r\n\r\n")
    return head.splitlines()[0], body


async def test_the_listener_serves_metrics_and_nothing_else() -> None:
    listener = MetricsListener("127.0.0.1", 0, None)
    await listener.start()
    try:
        status, body = await _get(listener.port, "/metrics")
        assert status == "HTTP/1.1 200 OK"
        assert "# TYPE robovox_calls_total counter" in body
        status, _ = await _get(listener.port, "/")
        assert status == "HTTP/1.1 404 Not Found"
    finally:
        await listener.close()


async def test_a_taken_port_is_said_in_one_line() -> None:
    first = MetricsListener("127.0.0.1", 0, None)
    await first.start()
    try:
        with pytest.raises(MetricsListenError, match=f"127.0.0.1:{first.port}"):
            await MetricsListener("127.0.0.1", first.port, None).start()
    finally:
        await first.close()


def test_robot_keys_split_into_robot_and_stream() -> None:
    assert split_robot_key(RobotKeys.of("cleaner-1").tool_calls) == ("cleaner-1", "tool_calls")
    assert split_robot_key("robovox:replica:x") == ("", "robovox:replica:x")


def test_a_state_gauge_has_one_series_per_state() -> None:
    set_state(LINK_STATE, "robot-a", CommandStatus, CommandStatus.SENT)
    values = {s.labels["state"]: s.value for s in LINK_STATE.collect()[0].samples if s.labels["robot"] == "robot-a"}
    assert values[CommandStatus.SENT.value] == 1.0
    assert sum(values.values()) == 1.0 and len(values) == len(CommandStatus)


def test_children_are_looked_up_once() -> None:
    children = Children(LINK_STATE)
    assert children("robot-b", "up") is children("robot-b", "up")


def test_only_robot_streams_have_figures(redis: Redis) -> None:
    with pytest.raises(ValueError, match="not a robot stream"):
        StreamFigures(redis, lambda: ["cleaner-1"], ["session"])


async def test_stream_figures_count_length_lag_and_pending(redis: Redis) -> None:
    keys = RobotKeys.of("cleaner-1")
    for n in range(3):
        await redis.xadd(keys.inbox, {"n": str(n)})
    await redis.xgroup_create(keys.inbox, "readers", id="0")
    await redis.xreadgroup("readers", "one", {keys.inbox: ">"}, count=1)
    families = {f.name: f for f in await StreamFigures(redis, lambda: ["cleaner-1"], ["inbox", "alerts"]).families()}
    assert [s.value for s in families["robovox_stream_length"].samples] == [3.0]  # alerts does not exist yet
    assert [(s.labels["group"], s.value) for s in families["robovox_group_pending"].samples] == [("readers", 1.0)]
    assert [s.value for s in families["robovox_group_lag"].samples] == [2.0]
