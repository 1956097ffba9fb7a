"""``/v1/robots/{robot_id}/emergency_stop``: the robot's emergency stop and its reset, never through
the model.

A stop is one script (``robovox.shared.emergency``): the latch set, the request on the robot's
``emergency`` stream (the priority path through the executor and the adapter), and the record on
its ``alerts`` stream with who asked. The answer comes at once (202): the stop is on its way to the
robot; ``GET`` shows what the robot answered. The reset is deliberate: only a person with the
operator's token can make it, it is logged and recorded, and it is not a tool the model can call.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
import logging
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from robovox.gateway.http.deps import OperatorOnly, Robot
from robovox.gateway.robot.voice import RobotVoice
from robovox.shared.emergency import EmergencyState, EmergencyStops
from robovox.shared.messages import EmergencyAction, EmergencyTrigger
from robovox.shared.streams import RobotKeys

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/robots", dependencies=[OperatorOnly])


class EmergencyIn(BaseModel):
    client_id: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_.:@-]+$")
    """Who is asking (a console's client id), recorded with the stop."""


class EmergencyOut(BaseModel):
    robot_id: str
    action: EmergencyAction
    stop_id: str
    deadline: datetime
    triggered_by: str


class EmergencyStateOut(BaseModel):
    robot_id: str
    stopped: bool
    state: EmergencyState | None


def _caller(body: EmergencyIn | None) -> str:
    return f"operator client:{body.client_id}" if body and body.client_id else "operator"


async def _trigger(found: RobotVoice, action: EmergencyAction, body: EmergencyIn | None) -> EmergencyOut:
    if found.profile.emergency_stop is None:
        raise HTTPException(409, f"robot {found.robot_id!r} has no emergency_stop in its profile")
    who = _caller(body)
    request = await EmergencyStops(found.redis).trigger(found.profile, action, EmergencyTrigger.API, who)
    log.warning("robot %s: emergency %s %s by the API (%s)", found.robot_id, action.value, request.stop_id, who)
    return EmergencyOut(
        robot_id=found.robot_id, action=action, stop_id=request.stop_id, deadline=request.deadline, triggered_by=who
    )


@router.post("/{robot_id}/emergency_stop", status_code=202)
async def emergency_stop(found: Robot, body: EmergencyIn | None = None) -> EmergencyOut:
    return await _trigger(found, EmergencyAction.STOP, body)


@router.post("/{robot_id}/emergency_stop/reset", status_code=202)
async def emergency_reset(found: Robot, body: EmergencyIn | None = None) -> EmergencyOut:
    return await _trigger(found, EmergencyAction.RESET, body)


@router.get("/{robot_id}/emergency_stop")
async def emergency_state(found: Robot) -> EmergencyStateOut:
    state = await EmergencyStops(found.redis).state(RobotKeys.of(found.robot_id))
    return EmergencyStateOut(robot_id=found.robot_id, stopped=bool(state and state.stopped), state=state)
