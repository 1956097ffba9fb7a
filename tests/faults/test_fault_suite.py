"""20 robots x 5 calls/s through the executor, the adapter and the alert monitor (each its
own process) with, in turn, each fault; counted per call_id from the simulators' ops logs
and the inboxes. Every scenario: nothing lost, duplicated, run twice or late, and no
"unknown" answer for a call that never reached its robot."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import RigHolder
from .scenarios import SCENARIOS


@pytest.mark.timeout(900)
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario(name: str, rigs: RigHolder, fault_seconds: float) -> None:
    rig = await rigs.healthy()
    # Bounded here, below pytest's own timeout, so the rig is always torn down in order.
    async with asyncio.timeout(fault_seconds + 300):
        report = await SCENARIOS[name](rig, fault_seconds)
    table = report.table()
    print(f"\n{name}\n{table}")
    assert report.calls > 0 and report.published == report.calls, table
    assert report.failures == {}, table
