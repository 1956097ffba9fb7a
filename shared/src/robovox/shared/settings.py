"""Settings common to every RoboVox service, read from ``ROBOVOX_*`` variables.

Each service subclasses ``ServiceSettings`` with its own fields; the README's
settings table lists them all (a test keeps the table complete).
"""

from __future__ import annotations

import socket
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from robovox.shared.consumer import ConsumerConfig
from robovox.shared.limits import Limits
from robovox.shared.logs import LogFormat

ENV_PREFIX = "ROBOVOX_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def default_consumer_name(service: str) -> str:
    """Stable across restarts and readable in XINFO CONSUMERS: ``tool-executor@edge-1``.

    A restarted process takes up the entries its predecessor read and never acked at
    once (its own pending list) instead of waiting for the idle claim. In a container
    the host name is the container's, which a restart keeps. Two replicas on one host
    must each be given a name (``ROBOVOX_CONSUMER_NAME``); the consumer lease refuses
    a second live process with the same name."""
    return f"{service}@{socket.gethostname()}"


class EventLoop(StrEnum):
    UVLOOP = "uvloop"
    ASYNCIO = "asyncio"


class ServiceSettings(BaseSettings):
    """What every service needs: Redis, the robot profiles, and how it consumes streams."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis server holding every stream.")
    profiles_dir: Path = Field(
        default=Path("deploy/profiles"), description="Folder of robot profiles (`*.yaml`, one per robot)."
    )
    profiles_watch_s: float = Field(
        default=2.0,
        ge=0,
        description="How often the profiles folder is looked at for added, changed or removed profiles, "
        "served without a restart (0: only on SIGHUP).",
    )
    log_level: str = Field(default="INFO", description="Python log level.")
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="`text` (one line for people) or `json` (one JSON object a line, with `robot_id` and "
        "`call_id` where known).",
    )
    event_loop: EventLoop = Field(
        default=EventLoop.UVLOOP,
        description="`uvloop` (libuv, less CPU per Redis command) or `asyncio` (the standard library's loop).",
    )
    consumer_name: str = Field(
        default="",
        description="This process's consumer name in its groups; default `<service>@<host>`, stable across "
        "restarts. Set one per replica when several run on one host.",
    )
    block_ms: int = Field(
        default=1000,
        ge=10,
        le=60_000,
        description="XREADGROUP BLOCK time; the Redis socket timeout is kept 5 s above it.",
    )
    claim_idle_ms: int = Field(
        default=15_000,
        ge=100,
        description="An entry pending this long on a silent consumer is claimed by another (XAUTOCLAIM).",
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="Deliveries after which an entry goes to the dead-letter stream."
    )
    max_in_flight: int = Field(default=16, ge=1, description="Entries handled at once per robot stream.")
    shutdown_grace_ms: int = Field(
        default=5000,
        ge=0,
        description="On shutdown, how long in-flight entries may finish; the rest stay unacked for redelivery.",
    )

    redis_pool_size: int = Field(
        default=0,
        ge=0,
        description="Connections for short Redis commands (0: derived from robots and `ROBOVOX_MAX_IN_FLIGHT`, "
        "logged at start). Blocking readers have a connection each, outside this pool.",
    )
    redis_pool_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="How long a command waits for a free pooled connection before it fails (and is retried).",
    )
    max_arguments_bytes: int = Field(
        default=Limits().arguments_bytes, ge=64, description="Largest arguments text of one function call (bytes)."
    )
    max_arguments_depth: int = Field(
        default=Limits().arguments_depth, ge=1, le=200, description="Deepest nesting in a call's arguments."
    )
    max_argument_chars: int = Field(
        default=Limits().argument_chars, ge=8, description="Longest string value in a call's arguments."
    )
    max_output_chars: int = Field(
        default=Limits().output_chars,
        ge=200,
        description="Most characters of text sent to the model in one item; longer text is cut with a note.",
    )
    max_entry_bytes: int = Field(
        default=Limits().entry_bytes,
        ge=1024,
        description="Largest stream entry a consumer handles; larger ones are dead-lettered unread.",
    )
    max_dead_letter_chars: int = Field(
        default=Limits().dead_letter_chars, ge=256, description="Most characters of an entry a dead letter keeps."
    )

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, level: str) -> str:
        if level.upper() not in LOG_LEVELS:
            raise ValueError(f"not a log level; use one of {', '.join(LOG_LEVELS)}")
        return level.upper()

    @model_validator(mode="after")
    def _block_below_claim_idle(self) -> ServiceSettings:
        if self.block_ms >= self.claim_idle_ms:
            raise ValueError("ROBOVOX_BLOCK_MS must be below ROBOVOX_CLAIM_IDLE_MS")
        return self

    @property
    def redis_socket_timeout_s(self) -> float:
        """Socket timeout kept well above BLOCK, so a blocked read never times out client-side."""
        return self.block_ms / 1000 + 5.0

    @property
    def limits(self) -> Limits:
        return Limits(
            arguments_bytes=self.max_arguments_bytes,
            arguments_depth=self.max_arguments_depth,
            argument_chars=self.max_argument_chars,
            output_chars=self.max_output_chars,
            entry_bytes=self.max_entry_bytes,
            dead_letter_chars=self.max_dead_letter_chars,
        )

    def consumer(self, service: str) -> str:
        return self.consumer_name or default_consumer_name(service)

    def consumer_config(self, service: str, group: str) -> ConsumerConfig:
        return ConsumerConfig(
            group=group,
            consumer=self.consumer(service),
            block_ms=self.block_ms,
            claim_idle_ms=self.claim_idle_ms,
            max_deliveries=self.max_deliveries,
            max_in_flight=self.max_in_flight,
            shutdown_grace_ms=self.shutdown_grace_ms,
            max_entry_bytes=self.max_entry_bytes,
            dead_letter_chars=self.max_dead_letter_chars,
        )
