"""``RealtimeEmulator``: the HTTP server (uvicorn in the caller's loop) and the sessions it starts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import uvicorn
from openai.types.realtime import ClientSecretCreateResponse
from pydantic import TypeAdapter, ValidationError

from robovox.shared.webrtc import restrict_ice_host_addresses

from . import events
from .api import build_app
from .config import session_object
from .input_audio import DEFAULT_HEARD_TEXT
from .session import EmulatedSession, SessionSettings
from .waiting import Signal

LOG = logging.getLogger("robovox.sim.realtime")
_SECRET_RESPONSE = TypeAdapter(ClientSecretCreateResponse)


@dataclass(frozen=True)
class ClientSecret:
    value: str
    expires_at: float
    session: dict[str, Any]

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


class RealtimeEmulator:
    """An offline stand-in for the OpenAI Realtime API (GA) over WebRTC.

    Run it inside an asyncio loop: ``await emu.start()`` / ``await emu.stop()`` or
    ``async with RealtimeEmulator(...) as emu``. All methods must be called from that loop.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = "sk-test",
        max_session_s: float = 3600.0,
        seconds_per_word: float = 0.05,
        function_call_delay_s: float = 0.0,
        ice_host_addresses: Sequence[str] = ("127.0.0.1",),
        heard_text: str = DEFAULT_HEARD_TEXT,
        answers_speech: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.settings = SessionSettings(
            max_session_s, seconds_per_word, function_call_delay_s, heard_text, answers_speech
        )
        self.ice_host_addresses = tuple(ice_host_addresses)
        self.sessions: list[EmulatedSession] = []
        self.validation_errors: list[str] = []
        self.client_secrets: dict[str, ClientSecret] = {}
        self.calls_created = 0
        self.credentials_seen: list[tuple[str, frozenset[str]]] = []
        """Per HTTP request: its path and which credential headers it carried (``authorization``, ``api-key``)."""
        self._changed = Signal()
        self._server: uvicorn.Server | None = None
        self._main_loop: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def azure_base_url(self) -> str:
        return f"http://{self.host}:{self.port}/openai/v1"

    @property
    def heard_text(self) -> str:
        """What speech heard in a new session's incoming audio is transcribed as (``session.heard_text``
        changes it for one session)."""
        return self.settings.heard_text

    @heard_text.setter
    def heard_text(self, text: str) -> None:
        self.settings = dataclasses.replace(self.settings, heard_text=text)

    @property
    def secrets_issued(self) -> int:
        return len(self.client_secrets)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        restrict_ice_host_addresses(self.ice_host_addresses)
        config = uvicorn.Config(
            build_app(self),
            host=self.host,
            port=self.port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup()
        self._server = server
        self.port = int(server.servers[0].sockets[0].getsockname()[1])
        self._main_loop = asyncio.get_running_loop().create_task(server.main_loop(), name="realtime emulator http")
        LOG.info("Realtime emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        await asyncio.gather(*(session.close() for session in self.sessions))
        server, self._server = self._server, None
        if server is None:
            return
        server.should_exit = True
        if self._main_loop is not None:
            await self._main_loop
            self._main_loop = None
        await server.shutdown()

    async def __aenter__(self) -> RealtimeEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -------------------------------------------------------------- sessions
    async def wait_for_session(self, index: int, timeout: float = 10.0) -> EmulatedSession:  # noqa: ASYNC109
        """Session number ``index`` (creation order) once its ``oai-events`` channel is open."""

        def ready() -> EmulatedSession | None:
            if index < len(self.sessions) and self.sessions[index].channel_open:
                return self.sessions[index]
            return None

        return await self._changed.wait_for(ready, timeout, f"session #{index} with an open channel")

    @property
    def open_calls(self) -> list[str]:
        """Call ids of the sessions not yet closed (hung up, ended by the client, failed or expired)."""
        return [s.call_id for s in self.sessions if not s.closed]

    async def wait_open_calls(self, check: Callable[[list[str]], bool], timeout: float = 10.0) -> list[str]:  # noqa: ASYNC109
        """The open calls once ``check`` accepts them, re-checked as sessions open and close."""
        return await self._changed.wait_for(
            lambda: self.open_calls if check(self.open_calls) else None, timeout, "open calls to change"
        )

    def session_for_call(self, call_id: str) -> EmulatedSession | None:
        return next((s for s in self.sessions if s.call_id == call_id), None)

    async def create_call(self, offer_sdp: str, config: dict[str, Any]) -> tuple[EmulatedSession, str]:
        session = EmulatedSession(
            events.new_id("rtc"), config, self.settings, self.validation_errors, on_change=self._changed.notify
        )
        answer = await session.accept(offer_sdp)
        self.sessions.append(session)
        self.calls_created += 1
        self._changed.notify()
        LOG.info("call %s started (session %s)", session.call_id, session.session_id)
        return session, answer

    def issue_client_secret(self, session: dict[str, Any], seconds: int) -> dict[str, Any]:
        now = time.time()
        secret = ClientSecret(events.new_id("ek", 16), now + seconds, session)
        self.client_secrets[secret.value] = secret
        body = {
            "value": secret.value,
            "expires_at": int(secret.expires_at),
            "session": session_object(events.new_id("sess"), session, int(now + self.settings.max_session_s)),
        }
        try:
            _SECRET_RESPONSE.validate_python(body)
        except ValidationError as exc:
            self.validation_errors.append(f"client_secrets response: {exc}")
            raise
        return body
