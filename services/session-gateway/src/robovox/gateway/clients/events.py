"""The gateway's own events to its clients, all named ``robovox.*`` (``docs/console.md``).

They go on each client's ``oai-events`` channel beside the model's server events,
as compact JSON with the fields in the order given here; times are ISO 8601 as
``datetime.isoformat`` writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from robovox.shared.entry import utc_now
from robovox.shared.messages import InboxEntry, InboxKind, Outcome, Urgency
from robovox.shared.profile.alerts import Severity
from robovox.shared.session import SessionState


def _iso(at: datetime) -> str:
    return at.isoformat()


IsoTime = Annotated[AwareDatetime, PlainSerializer(_iso, return_type=str)]


class RobovoxEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    def encoded(self) -> str:
        """The event as sent on the data channel."""
        return self.model_dump_json()


class ClientListed(BaseModel):
    model_config = ConfigDict(frozen=True)

    client_id: str
    operator: str


class ClientEvent(RobovoxEvent):
    """Who is joined and who holds the microphone: on joining, and whenever a client joins,
    leaves or the microphone moves. Each client gets its own (``client_id``, ``you_hold_mic``)."""

    type: Literal["robovox.client"] = "robovox.client"
    robot_id: str
    client_id: str
    mic_holder: str | None
    you_hold_mic: bool
    clients: list[ClientListed]


class SessionEvent(RobovoxEvent):
    """The robot's session state, on joining and on each change."""

    type: Literal["robovox.session"] = "robovox.session"
    robot_id: str
    state: SessionState
    session_id: str | None
    """The live Realtime session's id, if there is one."""


class ToolCallEvent(RobovoxEvent):
    """A function call published to the robot's tools."""

    type: Literal["robovox.tool_call"] = "robovox.tool_call"
    call_id: str
    name: str
    arguments: str
    session_id: str | None
    at: IsoTime = Field(default_factory=utc_now)


class InboxEvent(RobovoxEvent):
    """Something the gateway told the model: a tool's result, an alert, an operator's message."""

    type: Literal["robovox.inbox"] = "robovox.inbox"
    kind: InboxKind
    source: str
    text: str
    """As the model was told it (cut to the output limit, dated when stale)."""
    call_id: str | None
    tool: str | None
    outcome: Outcome | None
    reason: str | None
    urgency: Urgency
    severity: Severity | None
    speak: bool
    created_at: IsoTime
    at: IsoTime = Field(default_factory=utc_now)

    @classmethod
    def of(cls, entry: InboxEntry, text: str) -> InboxEvent:
        return cls(
            kind=entry.kind,
            source=entry.source,
            text=text,
            call_id=entry.call_id,
            tool=entry.tool,
            outcome=entry.outcome,
            reason=entry.reason,
            urgency=entry.urgency,
            severity=entry.severity,
            speak=entry.speak,
            created_at=entry.created_at,
        )
