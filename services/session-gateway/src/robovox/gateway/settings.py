"""Session gateway settings (``ROBOVOX_*``; see the README's table)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from robovox.shared.settings import EventLoop, ServiceSettings
from robovox.shared.webrtc import IceServer, check_ip_addresses, ice_servers


class Provider(StrEnum):
    OPENAI = "openai"
    AZURE = "azure"


class Signaling(StrEnum):
    CALLS = "calls"
    """One step: the offer and the session config to ``/realtime/calls`` with the API key."""
    CLIENT_SECRET = "client_secret"
    """Two steps: an ephemeral key from ``/realtime/client_secrets``, then the raw SDP offer with it."""


class MicPolicy(StrEnum):
    TAKEOVER = "takeover"
    """Asking for the microphone moves it to the one who asked."""
    EXCLUSIVE = "exclusive"
    """The microphone stays with its holder until released."""


ORIGIN = re.compile(r"https?://(\[[0-9a-fA-F:.]+\]|[^/\s:\[\]]+)(:\d{1,5})?/?")
"""A web origin as browsers send it: scheme, host and optional port."""


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class GatewaySettings(ServiceSettings):
    event_loop: EventLoop = Field(
        default=EventLoop.ASYNCIO,
        description="The standard library's loop by default: aiortc and aioice are built and tested on it.",
    )
    openai_api_key: SecretStr = Field(
        default=SecretStr(""),
        description="API key for the Realtime API (OpenAI or Azure). Held by the gateway only, never logged.",
    )
    realtime_base_url: str = Field(
        default="https://api.openai.com/v1",
        description="Base URL of the Realtime API; Azure: `https://<resource>.openai.azure.com/openai/v1`.",
    )
    realtime_provider: Provider = Field(
        default=Provider.OPENAI,
        description="`openai` or `azure` (Azure sends the key as `api-key` and always uses `client_secret`).",
    )
    realtime_signaling: Signaling = Field(
        default=Signaling.CALLS,
        description="`calls` (one multipart POST with the API key) or `client_secret` (ephemeral key, raw SDP).",
    )
    realtime_model: str = Field(
        default="gpt-realtime", description="Model (Azure: deployment name) for every robot's session."
    )
    transcription_model: str = Field(
        default="gpt-4o-mini-transcribe",
        description="Model transcribing what people say, for the conversation log (empty: off).",
    )
    ice_host_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated IPs offered as ICE host candidates (empty: every interface but loopback). "
        "`127.0.0.1` keeps media on loopback.",
    )
    stun_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated STUN servers (`stun:host:port`); none by default."
    )
    turn_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated TURN servers (`turn:host:3478`, `turns:host:5349`) for the gateway's peers and "
        "the console's; none by default.",
    )
    turn_username: str = Field(default="", description="User name for the TURN servers.")
    turn_credential: SecretStr = Field(
        default=SecretStr(""), description="Password for the TURN servers (handed to the console, which needs it)."
    )
    api_host: str = Field(default="127.0.0.1", description="Address the gateway's HTTP API listens on.")
    api_port: int = Field(default=8700, ge=0, le=65535, description="Port of the gateway's HTTP API (0: any free).")
    api_token: SecretStr = Field(
        default=SecretStr(""), description="Bearer token the HTTP API requires (required unless the API is off)."
    )
    api_enabled: bool = Field(default=True, description="Serve the HTTP API.")
    tls_cert_file: str = Field(
        default="",
        description="PEM certificate (chain) the API and console are served with over HTTPS (empty: plain HTTP). "
        "A phone's browser gives a page its microphone only over HTTPS.",
    )
    tls_key_file: str = Field(default="", description="PEM private key of `ROBOVOX_TLS_CERT_FILE`.")
    tls_generate: bool = Field(
        default=False,
        description="When the certificate and key files do not exist, make a self-signed pair there at start (for "
        "this host's names and `ROBOVOX_ICE_HOST_ADDRESSES`) and log its SHA-256 fingerprint.",
    )
    autostart: bool = Field(default=True, description="Open every robot's session at start-up.")
    session_max_s: float = Field(
        default=55 * 60,
        gt=0,
        description="Recycle a session after this long, before the provider's cap (60 minutes).",
    )
    recycle_quiet_wait_s: float = Field(
        default=20.0, ge=0, description="At recycle time, how long to wait for the robot to finish speaking."
    )
    idle_close_s: float = Field(
        default=0.0,
        ge=0,
        description="Close a session after this long without activity or a joined client (0: never); reopened on "
        "demand.",
    )
    connect_timeout_s: float = Field(
        default=15.0, gt=0, description="Time allowed to open a session (signaling, ICE, DTLS, data channel)."
    )
    session_retry_initial_s: float = Field(
        default=0.5, gt=0, description="First wait before reopening a failed session."
    )
    session_retry_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait between attempts to reopen a failed session."
    )
    replay_max_items: int = Field(
        default=200, ge=0, description="Most recent conversation items given to a new session of the same conversation."
    )
    response_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="A response with no `response.done` after this long is taken as finished (lost event).",
    )
    inbox_stale_s: float = Field(
        default=60.0,
        gt=0,
        description="An inbox entry older than this when delivered (it waited for a session) is told with its age "
        "and never preempts.",
    )
    client_secret_ttl_s: int = Field(
        default=60,
        ge=10,
        le=7200,
        description="Lifetime of a client secret from `/v1/realtime/client_secrets` when the request names none.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (`http://host:port`) whose pages may call the `/v1` API from a "
        "browser (CORS); none by default. `*` allows any origin, and only while credentials are off.",
    )
    cors_allow_credentials: bool = Field(
        default=False,
        description="Answer CORS requests with `Access-Control-Allow-Credentials: true` (cookies); the API "
        "authenticates with `Authorization: Bearer` and needs none. Refused at start-up with `*` in the origins.",
    )
    client_peer_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="A client whose peer has answered no consent check (one a second) for this long is gone: it "
        "loses its place and the microphone.",
    )
    clients_per_robot: int = Field(
        default=8, ge=1, description="Most clients (consoles, Realtime pages) joined to one robot at a time."
    )
    mic_policy: MicPolicy = Field(
        default=MicPolicy.TAKEOVER,
        description="`takeover`: `robovox.mic.take` moves the robot's microphone to the asking client; "
        "`exclusive`: it stays with its holder until released.",
    )

    @field_validator("ice_host_addresses", mode="before")
    @classmethod
    def _ips(cls, value: object) -> object:
        listed = _comma_list(value)
        return check_ip_addresses(listed) if isinstance(listed, list) else listed

    @field_validator("stun_urls", "turn_urls", mode="before")
    @classmethod
    def _urls(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        listed = _comma_list(value)
        if isinstance(listed, list):
            for origin in listed:
                if origin != "*" and not ORIGIN.fullmatch(str(origin)):
                    raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path) or *")
            return [str(origin).rstrip("/") for origin in listed]
        return listed

    @model_validator(mode="after")
    def _api_needs_token(self) -> GatewaySettings:
        if self.api_enabled and not self.api_token.get_secret_value():
            raise ValueError(
                "ROBOVOX_API_TOKEN must be set while the HTTP API is on (or set ROBOVOX_API_ENABLED=false)"
            )
        if not self.openai_api_key.get_secret_value():
            raise ValueError(
                f"ROBOVOX_OPENAI_API_KEY is not set: the gateway cannot open Realtime sessions with "
                f"{self.realtime_base_url} (set the key, or point ROBOVOX_REALTIME_BASE_URL at a Realtime "
                "emulator, as make demo does)"
            )
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError(
                "ROBOVOX_CORS_ORIGINS=* is refused with ROBOVOX_CORS_ALLOW_CREDENTIALS=true: name the origins"
            )
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("ROBOVOX_TLS_CERT_FILE and ROBOVOX_TLS_KEY_FILE go together: set both, or neither")
        if self.session_retry_initial_s > self.session_retry_max_s:
            raise ValueError("ROBOVOX_SESSION_RETRY_INITIAL_S must not exceed ROBOVOX_SESSION_RETRY_MAX_S")
        return self

    @property
    def ice_servers(self) -> list[IceServer]:
        """The STUN and TURN servers, for the gateway's peers and handed to the console."""
        return ice_servers(self.stun_urls, self.turn_urls, self.turn_username, self.turn_credential.get_secret_value())

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert_file)

    @property
    def signaling(self) -> Signaling:
        return Signaling.CLIENT_SECRET if self.realtime_provider is Provider.AZURE else self.realtime_signaling
