"""What the console's Inspect view loads, all from Redis, with the operator's token as every floor
route (``docs/console.md``):

- ``GET /v1/robots/{robot_id}/streams``: each stream's length, newest entry and consumer groups;
- ``GET /v1/robots/{robot_id}/streams/{stream}/entries``: its latest entries as written, paged;
- ``GET /v1/robots/{robot_id}/dead_letters``: what the consumers gave up on and why, paged;
- ``GET /v1/robots/{robot_id}/telemetry/series``: numeric telemetry as time series.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
from typing import Annotated, Final

from fastapi import APIRouter, Query

from robovox.gateway.floor.inspection import (
    DeadLetterPage,
    EntryPage,
    TelemetrySeries,
    dead_letter_page,
    entry_page,
    telemetry_series,
)  # fmt: skip
from robovox.gateway.http.deps import OperatorOnly, Robot
from robovox.gateway.http.floor import Before
from robovox.shared.stream_info import StreamName, StreamView, streams_of

router = APIRouter(prefix="/v1/robots/{robot_id}", dependencies=[OperatorOnly])

MAX_ENTRIES: Final = 100
MAX_SAMPLES: Final = 10_000
LAG_COUNT_CAP: Final = 10_000
"""Where Redis does not tell a group's lag (before 7), it is counted up to this."""


@router.get("/streams")
async def streams(found: Robot) -> list[StreamView]:
    """Every stream of the robot (``docs/streams.md``), in ``STREAM_MODELS``' order."""
    return await streams_of(found.redis, found.robot_id, LAG_COUNT_CAP)


@router.get("/streams/{stream}/entries")
async def entries(
    found: Robot, stream: StreamName, before: Before, limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 20
) -> EntryPage:
    return await entry_page(found.redis, found.robot_id, stream, limit, before)


@router.get("/dead_letters")
async def dead_letters(
    found: Robot, before: Before, limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 20
) -> DeadLetterPage:
    return await dead_letter_page(found.redis, found.robot_id, limit, before)


@router.get("/telemetry/series")
async def series(
    found: Robot,
    limit: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 2000,
    topic: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> TelemetrySeries:
    """The newest ``limit`` telemetry entries' numeric fields (of ``topic`` only, when named)."""
    return await telemetry_series(found.redis, found.robot_id, limit, topic)
