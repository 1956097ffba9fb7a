"""The client-call registry forgets an ended call, but remembers that it ended."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from robovox.gateway.clients.registry import ENDED_KEPT, ClientCalls


@dataclass
class FakeConnection:
    client_call_id: str
    robot_id: str = "cleaner-1"
    joined: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self) -> None:
        self.closed.set()


async def ended(calls: ClientCalls, connection: FakeConnection) -> None:
    connection.joined.set()
    connection.closed.set()  # its peer connection closed (a page closing as it hangs up)
    while calls.get(connection.client_call_id) is not None:  # noqa: ASYNC110 - no event to await: a turn or two
        await asyncio.sleep(0)  # the registry's watcher runs on the next turns


async def test_a_call_whose_peer_closed_first_is_known_as_ended_not_unknown() -> None:
    calls = ClientCalls(join_timeout_s=5.0)
    connection = FakeConnection("rtc_rv_a")
    calls.add(connection)  # type: ignore[arg-type]
    assert calls.get("rtc_rv_a") is connection and calls.ended_robot("rtc_rv_a") is None
    await ended(calls, connection)
    assert calls.get("rtc_rv_a") is None
    assert calls.ended_robot("rtc_rv_a") == "cleaner-1"
    assert calls.ended_robot("rtc_rv_never") is None
    await calls.close()


async def test_only_the_last_ended_calls_are_kept() -> None:
    calls = ClientCalls(join_timeout_s=5.0)
    for n in range(ENDED_KEPT + 1):
        connection = FakeConnection(f"rtc_rv_{n}")
        calls.add(connection)  # type: ignore[arg-type]
        await ended(calls, connection)
    assert calls.ended_robot("rtc_rv_0") is None
    assert calls.ended_robot(f"rtc_rv_{ENDED_KEPT}") == "cleaner-1"
    await calls.close()
