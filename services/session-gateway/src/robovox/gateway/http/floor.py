"""What the console loads to run a floor, all from Redis, so a restarted gateway shows the same:

- ``GET /v1/fleet``: every robot's state (the fleet view);
- ``GET /v1/robots/{robot_id}/state``: one robot's (the state panel);
- ``GET /v1/robots/{robot_id}/conversation``, ``/calls``, ``/alerts``: its history, newest first, a
  page at a time (``limit``, and ``before``: the ``next_before`` of the page above).
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from robovox.gateway.floor.history import (
    AlertPage,
    CallPage,
    ConversationPage,
    alert_page,
    call_page,
    conversation_page,
)  # fmt: skip
from robovox.gateway.floor.paging import check_cursor
from robovox.gateway.floor.state import RobotStateOut, read_state
from robovox.gateway.http.deps import OperatorOnly, Robot, Robots
from robovox.shared.streams import RobotKeys

router = APIRouter(prefix="/v1", dependencies=[OperatorOnly])

MAX_PAGE = 200


async def _before(before: Annotated[str | None, Query(max_length=42)] = None) -> str | None:
    return check_cursor(before)


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Before = Annotated[str | None, Depends(_before)]


@router.get("/fleet")
async def fleet(robots: Robots) -> list[RobotStateOut]:
    return list(await asyncio.gather(*(read_state(robot) for _id, robot in sorted(robots.items()))))


@router.get("/robots/{robot_id}/state")
async def robot_state(found: Robot) -> RobotStateOut:
    return await read_state(found)


@router.get("/robots/{robot_id}/conversation")
async def conversation(found: Robot, before: Before, limit: Limit = 50, context: bool = False) -> ConversationPage:
    """``context=true`` keeps the alert monitor's silent telemetry notes, left out otherwise."""
    return await conversation_page(found.redis, RobotKeys.of(found.robot_id), limit, before, context)


@router.get("/robots/{robot_id}/calls")
async def calls(found: Robot, before: Before, limit: Limit = 20) -> CallPage:
    return await call_page(found.redis, RobotKeys.of(found.robot_id), limit, before)


@router.get("/robots/{robot_id}/alerts")
async def alerts(found: Robot, before: Before, limit: Limit = 20) -> AlertPage:
    return await alert_page(found.redis, RobotKeys.of(found.robot_id), limit, before)
