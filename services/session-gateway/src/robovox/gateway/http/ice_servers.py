"""``GET /v1/ice_servers`` (operator token): the STUN and TURN servers a console gives its
``RTCPeerConnection``, the same the gateway's own peers use (``ROBOVOX_STUN_URLS``,
``ROBOVOX_TURN_*``). On one LAN the list is empty: host candidates meet directly."""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
from fastapi import APIRouter
from pydantic import BaseModel

from robovox.gateway.http.deps import OperatorOnly, Settings

router = APIRouter()


class IceServers(BaseModel):
    ice_servers: list[dict[str, str | list[str]]]
    """Entries as ``RTCPeerConnection({iceServers})`` takes them: ``urls``, and ``username`` and
    ``credential`` for TURN."""


@router.get("/v1/ice_servers", dependencies=[OperatorOnly])
async def ice_servers(settings: Settings) -> IceServers:
    return IceServers(ice_servers=[server.to_json() for server in settings.ice_servers])
