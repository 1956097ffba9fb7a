"""Short-lived secrets that let a client (a browser) join one robot's session.

The operator's token makes a secret; the secret opens that robot only, until it
expires. Redis keeps the grant under the secret's SHA-256 (never the secret
itself), with the secret's lifetime as TTL, so any gateway process can check it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from robovox.shared.streams import client_secret_key

SECRET_PREFIX = "ek_rv_"


class SecretGrant(BaseModel):
    robot_id: str
    operator: str
    expires_at: float
    """Unix seconds."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ClientSecretStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def issue(self, robot_id: str, operator: str, ttl_s: int) -> tuple[str, SecretGrant]:
        value = SECRET_PREFIX + secrets.token_urlsafe(32)
        grant = SecretGrant(robot_id=robot_id, operator=operator, expires_at=time.time() + ttl_s)
        await self._redis.set(client_secret_key(_digest(value)), grant.model_dump_json(), px=ttl_s * 1000)
        return value, grant

    async def check(self, value: str) -> SecretGrant | None:
        """The grant of a live secret; None when unknown or expired."""
        if not value.startswith(SECRET_PREFIX):
            return None
        raw: Any = await self._redis.get(client_secret_key(_digest(value)))
        if raw is None:
            return None
        try:
            grant = SecretGrant.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            return None
        # Redis expires the key too; this guards the millisecond in between.
        return grant if grant.expires_at > time.time() else None
