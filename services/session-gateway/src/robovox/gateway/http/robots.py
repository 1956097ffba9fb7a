"""``/v1/robots``: the robots and their sessions, session control, text chat.

Text sent to a robot goes through its inbox stream like every other thing the
model is told, so it is ordered with results and alerts and can be inspected.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from robovox.gateway.errors import ApiError, ApiErrorCode
from robovox.gateway.http.deps import OperatorOnly, Robot, Robots
from robovox.gateway.robot.voice import RobotVoice
from robovox.shared.messages import InboxEntry, InboxKind
from robovox.shared.session import SessionState

router = APIRouter(prefix="/v1/robots", dependencies=[OperatorOnly])


class RateLimitOut(BaseModel):
    name: str
    limit: int | None
    remaining: int | None
    reset_seconds: float | None


class RobotOut(BaseModel):
    robot_id: str
    display_name: str
    state: SessionState
    since: datetime
    session_id: str | None
    provider_call_id: str | None
    conversation_id: str | None
    started_at: datetime | None
    recycle_at: datetime | None
    sessions_opened: int
    rate_limits: list[RateLimitOut]
    rate_limits_at: datetime | None
    last_error: str | None


class RestartIn(BaseModel):
    fresh: bool = False
    """Start a new conversation instead of continuing the current one."""


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    speak: bool = True
    """Ask the robot to answer (as in the prototype's text chat)."""


class MessageOut(BaseModel):
    robot_id: str
    inbox_entry_id: str
    state: SessionState


def robot_out(robot: RobotVoice) -> RobotOut:
    info = robot.info()
    return RobotOut(
        robot_id=info.robot_id,
        display_name=robot.display_name,
        state=info.state,
        since=info.since,
        session_id=info.session_id,
        provider_call_id=info.provider_call_id,
        conversation_id=info.conversation_id,
        started_at=info.started_at,
        recycle_at=info.recycle_at,
        sessions_opened=info.sessions_opened,
        rate_limits=[RateLimitOut(**limit.model_dump()) for limit in robot.rate_limits],
        rate_limits_at=info.rate_limits_at,
        last_error=info.last_error,
    )


@router.get("")
async def list_robots(robots: Robots) -> list[RobotOut]:
    return [robot_out(r) for _, r in sorted(robots.items())]


@router.get("/{robot_id}")
async def get_robot(found: Robot) -> RobotOut:
    return robot_out(found)


@router.post("/{robot_id}/session/start", status_code=202)
async def start_session(found: Robot) -> RobotOut:
    found.start()
    return robot_out(found)


@router.post("/{robot_id}/session/stop", status_code=202)
async def stop_session(found: Robot) -> RobotOut:
    found.stop()
    return robot_out(found)


@router.post("/{robot_id}/session/restart", status_code=202)
async def restart_session(found: Robot, body: RestartIn | None = None) -> RobotOut:
    found.restart(fresh=body.fresh if body else False)
    return robot_out(found)


@router.post("/{robot_id}/messages", status_code=202)
async def send_message(found: Robot, body: MessageIn) -> MessageOut:
    if found.state is SessionState.STOPPED:
        raise ApiError(ApiErrorCode.SESSION_STOPPED, "the robot's session is stopped; start it first")
    entry = InboxEntry(
        kind=InboxKind.USER_MESSAGE, robot_id=found.robot_id, text=body.text, speak=body.speak, source="operator:api"
    )
    entry_id = await found.enqueue(entry)
    return MessageOut(robot_id=found.robot_id, inbox_entry_id=entry_id, state=found.state)
