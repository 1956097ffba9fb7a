"""A connection attempt that hangs for good (a bridge that accepts the TCP connection and never
answers the websocket handshake, as a wedged bridge does) is given up after the connect timeout
and a fresh one reaches the bridge once it answers again."""

from __future__ import annotations

import asyncio
import time

import pytest

from robovox.ros_adapter.link import RosbridgeLink, configure_reconnect
from robovox.shared.embedded_redis import free_port
from robovox.shared.link import LinkState
from robovox.sim.robot import RobotSimulator

pytestmark = pytest.mark.network


async def test_a_handshake_that_never_comes_is_replaced_by_a_fresh_connection() -> None:
    port = free_port()
    held: list[asyncio.StreamWriter] = []
    accepted = asyncio.Event()

    async def hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, never answered, never closed
        accepted.set()

    wedged = await asyncio.start_server(hang, "127.0.0.1", port)
    configure_reconnect(0.1, 0.5)
    link = RosbridgeLink("r1", f"ws://127.0.0.1:{port}", connect_timeout_s=1.0)
    samples: list[dict[str, object]] = []
    sampled = asyncio.Event()

    def record(msg: dict[str, object]) -> None:
        samples.append(msg)
        sampled.set()

    link.subscribe("/battery/voltage", "std_msgs/msg/Float32", 0, record)
    link.start()
    sim = RobotSimulator(port=port, battery_rate_hz=20)
    try:
        await asyncio.wait_for(accepted.wait(), 5)
        wedged.close()  # stops listening; the held connection stays open, its handshake pending
        await sim.start()  # the bridge answers again, on the same port
        started = time.monotonic()
        await link.wait_state(LinkState.UP, 10)
        assert time.monotonic() - started < 3, "taken up by a fresh connection after the 1 s timeout"
        assert link.state is LinkState.UP and link.connects == 1
        await asyncio.wait_for(sampled.wait(), 5)  # telemetry flows: the subscription came along
        assert len(sim.ops("subscribe", "/battery/voltage")) == 1, "subscribed once, on the fresh connection"
    finally:
        await link.close()
        await sim.stop()
        for writer in held:
            writer.close()
