"""One Realtime session of one robot: the peer, its response sequencer, and what
the gateway tells the model through it.

- Inbox entries become conversation items, then a response when asked.
- A new session is given the conversation so far (``replay``); nothing in it is
  executed again.
- The server's events go to the session's ``ServerEventRouter`` (function calls,
  responses, rate limits, expiry), which keeps the state below up to date.

A session lives for one provider call; the robot's supervisor opens, replaces
and closes sessions, and owns everything that outlives them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any

from robovox.gateway.calls.publisher import CallPublisher
from robovox.gateway.clients.events import InboxEvent
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.event_log import EventLog
from robovox.gateway.realtime.event_router import ServerEventRouter
from robovox.gateway.realtime.fit import MessageTooLargeError, fit_event
from robovox.gateway.realtime.peer import RealtimePeer
from robovox.gateway.realtime.provider_calls import ProviderCalls
from robovox.gateway.realtime.sequencer import ResponseRequest, ResponseSequencer, new_event_id
from robovox.gateway.realtime.server_events import RateLimit
from robovox.gateway.realtime.session_config import session_config
from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.gateway.settings import GatewaySettings
from robovox.shared.aio import wait_first
from robovox.shared.entry import format_time, utc_now
from robovox.shared.limits import cut_text
from robovox.shared.messages import InboxEntry, InboxKind, Urgency
from robovox.shared.profile import RobotProfile
from robovox.shared.session import ConversationItem, ItemKind

log = logging.getLogger(__name__)

ITEM_KINDS = {
    InboxKind.FUNCTION_CALL_OUTPUT: ItemKind.FUNCTION_CALL_OUTPUT,
    InboxKind.SYSTEM_MESSAGE: ItemKind.SYSTEM_MESSAGE,
    InboxKind.USER_MESSAGE: ItemKind.USER_MESSAGE,
}


class RealtimeSession:
    def __init__(
        self,
        conversation_id: str,
        *,
        profile: RobotProfile,
        settings: GatewaySettings,
        signaling: RealtimeSignaling,
        publisher: CallPublisher,
        conversation: ConversationLog,
        event_log: EventLog,
        clients: ClientRoster,
        provider_calls: ProviderCalls,
    ) -> None:
        self.conversation_id = conversation_id
        self.robot_id = profile.robot_id
        self._profile = profile
        self._settings = settings
        self._signaling = signaling
        self._conversation = conversation
        self._event_log = event_log
        self._clients = clients
        self._provider_calls = provider_calls
        """This session's call is in it from the provider's answer until it is hung up."""
        self.router = ServerEventRouter(
            self, publisher=publisher, conversation=conversation, event_log=event_log, clients=clients
        )
        self.peer = RealtimePeer(self.router.on_message, settings.ice_servers)
        self.sequencer = ResponseSequencer(self.send, profile.persona(), settings.response_timeout_s)
        self.session_id: str | None = None
        self.started_at = time.monotonic()
        self.started_wall = utc_now()
        self.rate_limits: dict[str, RateLimit] = {}
        self.rate_limits_at = utc_now()
        self.created = asyncio.Event()
        self.expired = asyncio.Event()
        self.last_activity = time.monotonic()
        self.last_error: str | None = None
        self.created_text: str | None = None
        self.rate_limits_text: str | None = None
        """The raw ``session.created`` and latest ``rate_limits.updated``, for clients that join later."""
        self.serving_clients = False
        """Clients see this session's events from when it is installed as the robot's live session
        (``greet_clients``), not while it is being opened or given the conversation."""
        self.replayed_ids: set[str] = set()
        """The item ids and event ids of the replayed conversation: their echoes are not shown to clients."""
        self.known_calls: set[str] = set()
        """Call ids in this session's conversation: an output may only refer to one of them."""

    @property
    def provider_call_id(self) -> str:
        """The provider's id of this session's call (``rtc_...``), once answered."""
        return self.peer.provider_call_id

    @property
    def ended(self) -> bool:
        return self.peer.closed.is_set() or self.expired.is_set()

    @property
    def end_reason(self) -> str:
        """Why the session ended (once ``ended``)."""
        return "expired" if self.expired.is_set() else str(self.peer.close_reason)

    async def wait_ended(self) -> None:
        """Wait until the session can no longer be used."""
        await wait_first(self.peer.closed.wait(), self.expired.wait())

    async def open(self) -> None:
        settings = self._settings
        config = session_config(self._profile, settings)
        await self.peer.open(self._signaling, config, settings.connect_timeout_s, self._provider_calls.add)
        async with asyncio.timeout(settings.connect_timeout_s):
            await self.created.wait()
        self.started_at = time.monotonic()
        self.started_wall = utc_now()

    async def close(self) -> None:
        provider_call_id = self.provider_call_id
        await self.peer.close()
        await self.router.settled(2.0)
        if provider_call_id and not self.expired.is_set():
            await self._signaling.hang_up(provider_call_id)
        self._provider_calls.discard(provider_call_id)

    # Client events
    def send(self, event: dict[str, Any]) -> str:
        """Send a client event, its longest text cut if it is over the provider's message size.
        Raises PeerClosedError, or MessageTooLargeError when there is no text to cut."""
        event.setdefault("event_id", new_event_id())
        try:
            text = self.peer.send(event)
        except MessageTooLargeError as exc:
            event, text = fit_event(event, self.peer.message_budget)
            log.warning("%s: %s; sent with its text cut to %d bytes", self.robot_id, exc, len(text.encode()))
            self.peer.send_text(text, str(event.get("type")))
        self._event_log.add(self.robot_id, "client", event, text, self.session_id)
        return str(event["event_id"])

    def replay(self, items: Iterable[ConversationItem]) -> int:
        """Give this session earlier items of its conversation; nothing is executed again."""
        count = 0
        for item in items:
            if item.kind is ItemKind.FUNCTION_CALL_OUTPUT and item.call_id not in self.known_calls:
                continue
            item_id, event_id = f"item_rv{secrets.token_hex(10)}", new_event_id()
            self.replayed_ids.update((item_id, event_id))
            create = {
                "type": "conversation.item.create",
                "event_id": event_id,
                "item": {"id": item_id, **item.realtime_item()},
            }
            try:
                self.send(create)
            except MessageTooLargeError as exc:
                log.warning("%s: an item of the conversation left out of the replay: %s", self.robot_id, exc)
                continue
            if item.kind is ItemKind.FUNCTION_CALL and item.call_id:
                self.known_calls.add(item.call_id)
            count += 1
        return count

    async def deliver(self, entry: InboxEntry) -> None:
        """Put an inbox entry into the conversation, and ask for a response if it says so."""
        self.last_activity = time.monotonic()
        age_s = (utc_now() - entry.created_at).total_seconds()
        stale = age_s > self._settings.inbox_stale_s
        urgent = entry.urgency is Urgency.URGENT and not stale
        if urgent:
            self.sequencer.preempt()
        limit = self._settings.limits.output_chars
        text = cut_text(entry.text, limit)
        instructions = cut_text(entry.instructions, limit) if entry.instructions else None
        if stale:
            # It waited for a session: old news, told as such, never a reason to interrupt.
            text = f"(From {format_time(entry.created_at)}, {age_s / 60:.0f} minutes ago.) {text}"
        item = self._item_for(entry, text)
        self.send({"type": "conversation.item.create", "item": item.realtime_item()})
        if entry.speak:
            self.sequencer.request(ResponseRequest(instructions, urgent=urgent, source=entry.source))
        if len(self._clients):
            self._clients.broadcast(InboxEvent.of(entry, item.text))
        await self._conversation.append(item)

    def greet_clients(self) -> None:
        """Start serving the robot's clients: they get this session's ``session.created`` and rate
        limits now (a client joining later gets them on joining), then its events as they come."""
        self.serving_clients = True
        for text in (self.created_text, self.rate_limits_text):
            if text and len(self._clients):
                self._clients.broadcast_text(text)

    def _item_for(self, entry: InboxEntry, text: str) -> ConversationItem:
        kind = ITEM_KINDS[entry.kind]
        if kind is ItemKind.FUNCTION_CALL_OUTPUT and entry.call_id not in self.known_calls:
            # The call belongs to an earlier conversation (the session was stopped and
            # started afresh): an output would be refused, a notice is not.
            kind = ItemKind.SYSTEM_MESSAGE
            text = f"Result of an earlier request ({entry.tool or 'a tool'}): {text}"
        return ConversationItem(
            conversation_id=self.conversation_id,
            robot_id=self.robot_id,
            kind=kind,
            text=text,
            call_id=entry.call_id if kind is ItemKind.FUNCTION_CALL_OUTPUT else None,
            source=entry.source,
            session_id=self.session_id,
        )
