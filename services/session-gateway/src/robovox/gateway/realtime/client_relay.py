"""What of a provider's server event the robot's clients see (``docs/console.md``).

- The echoes of the conversation replayed into a new session (its
  ``conversation.item.*`` events for the items the gateway gave it, and any
  error about them) are not news: clients never see them.
- ``session_expired`` is the gateway's business: it has already replaced the
  session, and clients are told with ``robovox.session`` (a page written for
  OpenAI takes the error as the end of its session).
- The sequencer's own business is not shown: a collision
  (``conversation_already_has_active_response``: the request waits its turn) or
  a cancel that found nothing to cancel. An error about a client's own
  ``response.create`` names that client's ``event_id``, not the gateway's.
- A ``response.created`` / ``response.done`` carries the metadata of the request
  it answers: the gateway's own key (``robovox_request``) is taken out, so a
  page sees its own metadata, and a response the page did not ask for has none.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from typing import Any, Final

from robovox.gateway.realtime.sequencer import ACTIVE_RESPONSE, CANCEL_NOT_ACTIVE, REQUEST_METADATA_KEY

SESSION_EXPIRED: Final = "session_expired"
HIDDEN_CODES: Final = frozenset({SESSION_EXPIRED, ACTIVE_RESPONSE, CANCEL_NOT_ACTIVE})
ITEM_EVENTS: Final = frozenset(
    {"conversation.item.added", "conversation.item.done", "conversation.item.created", "conversation.item.retrieved"}
)
RESPONSE_EVENTS: Final = frozenset({"response.created", "response.done"})


def for_clients(
    event: dict[str, Any], raw: str, replayed: Container[str], client_event_ids: Mapping[str, str] | None = None
) -> str | None:
    """The event as clients get it (``raw`` when unchanged), or None when they do not see it.
    ``client_event_ids`` maps the gateway's ``response.create`` event ids to the clients' own."""
    kind = event.get("type")
    if kind in ITEM_EVENTS:
        item = event.get("item")
        if isinstance(item, dict) and item.get("id") in replayed:
            return None
        return raw
    if kind in RESPONSE_EVENTS:
        return _without_request_key(event, raw)
    if kind == "error":
        error = event.get("error")
        if not isinstance(error, dict):
            return raw
        about = error.get("event_id")
        if error.get("code") in HIDDEN_CODES or about in replayed:
            return None
        if client_event_ids and isinstance(about, str) and about in client_event_ids:
            changed = {**event, "error": {**error, "event_id": client_event_ids[about]}}
            return json.dumps(changed, separators=(",", ":"), ensure_ascii=False)
    return raw


def _without_request_key(event: dict[str, Any], raw: str) -> str:
    response = event.get("response")
    metadata = response.get("metadata") if isinstance(response, dict) else None
    if not isinstance(metadata, dict) or REQUEST_METADATA_KEY not in metadata:
        return raw
    assert isinstance(response, dict)
    left = {k: v for k, v in metadata.items() if k != REQUEST_METADATA_KEY}
    changed = {**event, "response": {**response, "metadata": left or None}}
    return json.dumps(changed, separators=(",", ":"), ensure_ascii=False)
