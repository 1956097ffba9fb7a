"""The one owner of ``response.create`` and ``response.cancel`` in a session.

The Realtime API lets one response write to the conversation at a time; a
second ``response.create`` fails with ``conversation_already_has_active_response``.
So requests queue while a response is active and go out after its
``response.done``; queued normal requests are merged into one response (one
answer to three results, not three answers). Every ``response.create`` carries
an ``event_id`` and the same id in ``response.metadata``, so a collision
``error`` or the ``response.created`` can be matched to it; a collision puts
the request back at the head of the queue, it never surfaces as a failure.

An urgent request preempts: cancel the active response, clear the output audio
buffer, and go first as soon as the cancelled response is done.

A request's instructions replace the session instructions for that response,
so they are appended to the robot's persona rather than sent alone: the robot
keeps its language and manner when it reports a result.

A client's request with ``response.create`` options (``clients/response_options.py``)
is never merged: it goes as its own response with its options. An out-of-band one
(``conversation: "none"``) writes nothing to the conversation, so it goes at once,
beside whatever response is active, and its ``response.created`` / ``response.done``
leave the sequencer's state alone; it goes with ``tool_choice: "none"``, as a call
made outside the conversation could run on the robot with no place for its output.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

log = logging.getLogger(__name__)

ACTIVE_RESPONSE: Final = "conversation_already_has_active_response"
CANCEL_NOT_ACTIVE: Final = "response_cancel_not_active"
REQUEST_METADATA_KEY: Final = "robovox_request"
UNKNOWN_RESPONSE: Final = "unknown"
"""Stands for a response the server reported only through a collision error."""


def new_event_id() -> str:
    """A client event id: ``rv_`` and 20 hex digits."""
    return f"rv_{secrets.token_hex(10)}"


@dataclass(frozen=True, slots=True)
class ResponseRequest:
    instructions: str | None = None
    urgent: bool = False
    source: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    """A client's checked ``response.create`` options (instructions among them go to ``instructions``)."""
    client_event_id: str | None = None
    """The ``event_id`` of the client's own ``response.create``, named in an error about it."""

    @property
    def out_of_band(self) -> bool:
        return self.options.get("conversation") == "none"

    @property
    def alone(self) -> bool:
        """Goes as a response of its own, never merged with others."""
        return self.urgent or bool(self.options)


SendEvent = Callable[[dict[str, Any]], str]
"""Sends a client event, adding an ``event_id`` unless it has one, and returns the ``event_id``."""


class ResponseSequencer:
    def __init__(self, send: SendEvent, persona: str, response_timeout_s: float) -> None:
        self._send = send
        self._persona = persona
        self._timeout_s = response_timeout_s
        self._queue: deque[ResponseRequest] = deque()
        self._sent: dict[str, list[ResponseRequest]] = {}
        """response.create event_id -> the requests it carries, until created or refused."""
        self._guessed: dict[str, list[ResponseRequest]] = {}
        self._out_of_band: dict[str, ResponseRequest] = {}
        """Out-of-band response.create event_id -> its request, until created or refused."""
        self._out_of_band_running: set[str] = set()
        """Ids of the out-of-band responses not done yet."""
        self.client_event_ids: dict[str, str] = {}
        """response.create event_id -> the client's own event_id, for a client's request with one."""
        self._active: str | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self.idle = asyncio.Event()
        self.idle.set()
        self.collisions = 0
        self.preemptions = 0

    @property
    def busy(self) -> bool:
        return self._active is not None or bool(self._sent)

    def request(self, request: ResponseRequest) -> None:
        """Queue a response; an urgent one goes first (call ``preempt`` before adding its item).
        An out-of-band one goes at once."""
        if request.out_of_band:
            self._send_out_of_band(request)
            return
        if request.urgent:
            self._queue.appendleft(request)
        else:
            self._queue.append(request)
        self._flush()

    def take_pending(self) -> list[ResponseRequest]:
        """Requests not yet answered by a response, for the session that replaces this one."""
        pending = [r for requests in self._sent.values() for r in requests] + list(self._queue)
        pending += self._out_of_band.values()
        self._sent.clear()
        self._queue.clear()
        self._out_of_band.clear()
        self._out_of_band_running.clear()
        self.client_event_ids.clear()
        self._set_active(None)
        return pending

    # Server events
    def on_response_created(self, response_id: str, metadata: dict[str, Any] | None) -> None:
        request_id = str((metadata or {}).get(REQUEST_METADATA_KEY) or "")
        self.client_event_ids.pop(request_id, None)
        if self._out_of_band.pop(request_id, None) is not None:
            self._out_of_band_running.add(response_id)
            return
        if not request_id and self._sent:
            # A provider that does not echo metadata: take the oldest create as the owner,
            # but remember it, in case its collision error is still on the way.
            request_id = next(iter(self._sent))
            self._guessed[request_id] = self._sent[request_id]
        self._sent.pop(request_id, None)
        self._set_active(response_id)

    def on_response_done(self, response_id: str) -> None:
        if response_id in self._out_of_band_running:
            self._out_of_band_running.discard(response_id)
            return
        if self._active in (response_id, UNKNOWN_RESPONSE):
            self._guessed.clear()
            self._set_active(None)
        self._flush()

    def on_error(self, code: str | None, event_id: str | None) -> bool:
        """Handle an ``error`` event; True if it concerned the sequencer (and is handled)."""
        if code == CANCEL_NOT_ACTIVE:
            return True
        if event_id and code != ACTIVE_RESPONSE:
            self.client_event_ids.pop(event_id, None)
        if event_id and self._out_of_band.pop(event_id, None) is not None:
            log.warning("out-of-band response.create %s refused (%s)", event_id, code)
            return True
        requests = (self._sent.pop(event_id, None) or self._guessed.pop(event_id, None)) if event_id else None
        if requests is None:
            return False
        if code == ACTIVE_RESPONSE:
            self.collisions += 1
            self._queue.extendleft(reversed(requests))
            if self._active is None:
                self._set_active(UNKNOWN_RESPONSE)
            return True
        log.warning("response.create %s refused (%s); dropping %d request(s)", event_id, code, len(requests))
        self._flush()
        return True

    def preempt(self) -> None:
        """Cancel the active response and silence it, so an urgent request goes next."""
        if self._active is None and not self._sent:
            return
        self.preemptions += 1
        cancel: dict[str, Any] = {"type": "response.cancel"}
        if self._active and self._active != UNKNOWN_RESPONSE:
            cancel["response_id"] = self._active
        self._send(cancel)
        self._send({"type": "output_audio_buffer.clear"})

    # Internals

    def _flush(self) -> None:
        if self._active is not None or self._sent or not self._queue:
            self._update_idle()
            return
        if self._queue[0].alone:
            batch = [self._queue.popleft()]
        else:
            batch = []
            while self._queue and not self._queue[0].alone:
                batch.append(self._queue.popleft())
        event_id = self._send_create(batch)
        self._sent[event_id] = batch
        self._arm_watchdog()
        self._update_idle()

    def _send_out_of_band(self, request: ResponseRequest) -> None:
        # Never the robot's tools: a call made outside the conversation could run on the
        # robot with its output refused (the call is in no conversation), so none is made.
        request = replace(request, options={**request.options, "tool_choice": "none"})
        self._out_of_band[self._send_create([request])] = request

    def _send_create(self, batch: list[ResponseRequest]) -> str:
        """Send the ``response.create`` for ``batch`` (one request when it has options); its event_id."""
        event_id = new_event_id()
        response: dict[str, Any] = {}
        for request in batch:
            response.update(request.options)
        response["metadata"] = {**(response.get("metadata") or {}), REQUEST_METADATA_KEY: event_id}
        instructions = self._instructions(batch)
        if instructions:
            response["instructions"] = instructions
        if len(batch) == 1 and batch[0].client_event_id:
            self.client_event_ids[event_id] = batch[0].client_event_id
        self._send({"type": "response.create", "event_id": event_id, "response": response})
        return event_id

    def _instructions(self, batch: list[ResponseRequest]) -> str | None:
        given = list(dict.fromkeys(r.instructions for r in batch if r.instructions))
        if not given:
            return None
        return "\n\n".join([self._persona, *given])

    def _set_active(self, response_id: str | None) -> None:
        self._active = response_id
        if response_id is None and not self._sent:
            self._disarm_watchdog()
        else:
            self._arm_watchdog()
        self._update_idle()

    def _update_idle(self) -> None:
        if self._active is None and not self._sent and not self._queue:
            self.idle.set()
        else:
            self.idle.clear()

    def _arm_watchdog(self) -> None:
        self._disarm_watchdog()
        self._watchdog = asyncio.get_running_loop().call_later(self._timeout_s, self._expire)

    def _disarm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _expire(self) -> None:
        log.warning("no response.done within %.0f s; taking the response as finished", self._timeout_s)
        self._watchdog = None
        self._active = None
        self._queue.extendleft(reversed([r for requests in self._sent.values() for r in requests]))
        self._sent.clear()
        self._flush()
