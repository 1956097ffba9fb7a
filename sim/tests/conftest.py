"""Fixtures: a RobotSimulator on a free 127.0.0.1 port and real roslibpy clients
using the asyncio transport.

roslibpy's asyncio transport runs its own event loop in a background thread
(one per process), so every blocking roslibpy call goes through
``asyncio.to_thread`` and every roslibpy callback is bridged back into the
test's loop with ``loop.call_soon_threadsafe`` (see ``Inbox``).  Helpers are
exposed as fixtures (``new_inbox``, ``call_service``, ``ros_factory``) so the
tests work under any pytest import mode.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import roslibpy
from roslibpy.comm.comm_asyncio import AsyncioRosBridgeClientFactory

from robovox.sim.robot import RobotConfig, RobotSimulator

TIMEOUT = 5.0


class Inbox:
    """Thread-safe sink for roslibpy callbacks, readable from the test's loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()

    def __call__(self, item: Any = None) -> None:
        stamp = time.monotonic()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (stamp, item))

    async def get_stamped(self, timeout_s: float = TIMEOUT) -> tuple[float, Any]:
        return await asyncio.wait_for(self._queue.get(), timeout_s)

    async def get(self, timeout_s: float = TIMEOUT) -> Any:
        return (await self.get_stamped(timeout_s))[1]

    async def wait_for(self, predicate: Callable[[Any], bool], timeout_s: float = TIMEOUT) -> Any:
        """Skip items until one satisfies ``predicate`` (bounded by ``timeout_s``)."""

        async def _scan() -> Any:
            while True:
                item = (await self._queue.get())[1]
                if predicate(item):
                    return item

        return await asyncio.wait_for(_scan(), timeout_s)

    def drain(self) -> list[Any]:
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait()[1])
        return items


def connect_ros(port: int) -> roslibpy.Ros:
    """Blocking: connect a roslibpy client using the asyncio transport."""
    ros = roslibpy.Ros("127.0.0.1", port, transport="asyncio")
    ros.run(timeout=TIMEOUT)
    return ros


def close_ros(ros: roslibpy.Ros) -> None:
    """Blocking: close without leaving a reconnect loop behind.

    ``Ros.close()`` is a no-op while disconnected, and the factory would keep
    retrying forever; ``_stop`` is the factory's own "give up" flag.
    """
    ros.factory._stop = True
    if ros.is_connected:
        ros.close()


async def call_service(
    ros: roslibpy.Ros, name: str, service_type: str, args: dict[str, Any] | None = None
) -> tuple[bool, Any]:
    """Call a service with roslibpy's callback API: ``(True, values)`` or ``(False, error)``."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[tuple[bool, Any]] = loop.create_future()

    def settle(outcome: tuple[bool, Any]) -> None:
        if not future.done():
            future.set_result(outcome)

    roslibpy.Service(ros, name, service_type).call(
        roslibpy.ServiceRequest(args or {}),
        lambda resp: loop.call_soon_threadsafe(settle, (True, dict(resp))),
        lambda err: loop.call_soon_threadsafe(settle, (False, err)),
    )
    return await asyncio.wait_for(future, TIMEOUT)


def fast_reconnect() -> None:
    """Reconnect quickly after pause_bridge()/drop_connections() (defaults: 1 s, 3600 s).

    These are class attributes shared by every client in the process, so they are
    (re)applied right before each client is created.
    """
    AsyncioRosBridgeClientFactory.set_initial_delay(0.1)
    AsyncioRosBridgeClientFactory.set_max_delay(0.5)


@pytest.fixture
def robot_config() -> RobotConfig:
    return RobotConfig()


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def sim(robot_config: RobotConfig, sim_options: dict[str, Any]) -> AsyncIterator[RobotSimulator]:
    async with RobotSimulator("127.0.0.1", 0, robot_config=robot_config, **sim_options) as s:
        yield s


@pytest.fixture
async def ros_factory(sim: RobotSimulator) -> AsyncIterator[Callable[[], Awaitable[roslibpy.Ros]]]:
    """Connect additional roslibpy clients to ``sim``; all are closed at teardown."""
    clients: list[roslibpy.Ros] = []

    async def connect() -> roslibpy.Ros:
        fast_reconnect()
        client = await asyncio.to_thread(connect_ros, sim.port)
        clients.append(client)
        return client

    try:
        yield connect
    finally:
        for client in clients:
            await asyncio.to_thread(close_ros, client)


@pytest.fixture
async def ros(ros_factory: Callable[[], Awaitable[roslibpy.Ros]]) -> roslibpy.Ros:
    return await ros_factory()


@pytest.fixture(name="new_inbox")
def new_inbox_fixture() -> type[Inbox]:
    """``new_inbox()`` makes an ``Inbox`` bound to the running test loop."""
    return Inbox


@pytest.fixture(name="call_service")
def call_service_fixture() -> Callable[..., Awaitable[tuple[bool, Any]]]:
    """``await call_service(ros, name, type, args)`` -> ``(True, values)`` / ``(False, error)``."""
    return call_service
