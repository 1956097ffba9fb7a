"""The fault suite's rig, shared by its scenarios: starting 20 robots and the services
takes longer than a short scenario, and each scenario leaves the rig serving again.

Each scenario's load runs ``ROBOVOX_FAULT_SECONDS`` (4 s in ``make test``, 60 s in
``make soak``). A rig that a scenario left with a robot not answering is replaced
before the next scenario, so one failure does not hide in the next one's counts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from .harness import Rig
from .processes import stop_leftovers

SHORT_S = 4.0


@pytest.fixture(scope="session")
def fault_seconds() -> float:
    return float(os.environ.get("ROBOVOX_FAULT_SECONDS", SHORT_S))


class RigHolder:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._rig: Rig | None = None
        self._built = 0

    async def healthy(self) -> Rig:
        """The rig, replaced by a new one if the last scenario left a robot not answering."""
        if self._rig is not None and await self._rig.probe_all("check"):
            await self._rig.stop()
            self._rig = None
        if self._rig is None:
            self._built += 1
            rig = Rig(self._root / f"rig{self._built}")
            await rig.__aenter__()  # stops what it started if it cannot come up
            self._rig = rig
        return self._rig

    async def close(self) -> None:
        if self._rig is not None:
            await self._rig.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rigs() -> AsyncIterator[RigHolder]:
    holder = RigHolder(Path(tempfile.mkdtemp(prefix="robovox-faults-")))
    try:
        yield holder
    finally:
        await holder.close()
        stop_leftovers()


@pytest.fixture(scope="module", autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """A run cut short (a timeout) still leaves no Redis or service running."""
    yield
    stop_leftovers()
