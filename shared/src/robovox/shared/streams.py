"""Every Redis key RoboVox uses, in one place.

All keys of one robot carry the robot id as a Redis Cluster hash tag
(``robovox:{cleaner-1}:tool_calls``), so a robot's streams, hashes and the
Lua scripts that touch several of them always land in one slot.
``docs/streams.md`` describes each stream; keep the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "robovox"

ROBOT_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_ROBOT_ID_RE: Final = re.compile(ROBOT_ID_PATTERN)
ENTRY_ID: Final = re.compile(r"^\d{1,20}-\d{1,20}$")
"""A stream entry id as Redis makes them (``1764686400000-0``)."""


class Group:
    """Consumer-group names, one per consuming service."""

    TOOL_EXECUTOR: Final = "tool-executor"
    ROS_ADAPTER: Final = "ros-adapter"
    SESSION_GATEWAY: Final = "session-gateway"


class MaxLen:
    """Approximate MAXLEN per stream. Trimming drops entries even while they are
    still pending in a group, so each bound sits far above the worst backlog."""

    TOOL_CALLS: Final = 10_000
    COMMANDS: Final = 10_000
    COMMAND_RESULTS: Final = 10_000
    INBOX: Final = 10_000
    TELEMETRY: Final = 100_000
    DEAD_LETTERS: Final = 10_000
    EVENTS: Final = 20_000
    CONVERSATION: Final = 2_000
    ALERTS: Final = 10_000
    EMERGENCY: Final = 1_000


CALL_RECORD_TTL_S: Final = 24 * 3600
"""How long a call's record (state, result) is kept: the window in which a
redelivered call_id is recognised and never executed twice."""


def client_secret_key(digest: str) -> str:
    """String with a TTL: a client secret's grant (robot, operator, expiry), keyed by the secret's SHA-256.

    Not a robot key: the secret alone names its robot, so any gateway can check it."""
    return f"{PREFIX}:client_secret:{digest}"


def replica_key(consumer_name: str) -> str:
    """String with a TTL: the lease of the live process using this consumer name (``host:pid:token``).

    Not a robot key: one process serves many robots."""
    return f"{PREFIX}:replica:{consumer_name}"


def split_robot_key(key: str) -> tuple[str, str]:
    """``robovox:{cleaner-1}:tool_calls`` -> ``("cleaner-1", "tool_calls")``; ``("", key)`` for any other key."""
    head, _, rest = key.partition(":{")
    robot, _, name = rest.partition("}:")
    if head != PREFIX or not robot or not name:
        return "", key
    return robot, name


def check_robot_id(robot_id: str) -> str:
    """Return ``robot_id`` if it is safe to embed in a key, else raise ValueError."""
    if not _ROBOT_ID_RE.match(robot_id):
        raise ValueError(
            f"robot id {robot_id!r} must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
        )
    return robot_id


@dataclass(frozen=True, slots=True)
class RobotKeys:
    """The keys of one robot. Build with ``RobotKeys.of(robot_id)``."""

    robot_id: str

    @classmethod
    def of(cls, robot_id: str) -> RobotKeys:
        return cls(check_robot_id(robot_id))

    def _key(self, suffix: str) -> str:
        return f"{PREFIX}:{{{self.robot_id}}}:{suffix}"

    # Streams
    @property
    def tool_calls(self) -> str:
        """Function calls from the model (gateway -> tool executor)."""
        return self._key("tool_calls")

    @property
    def commands(self) -> str:
        """Validated ROS commands (tool executor -> ROS adapter)."""
        return self._key("commands")

    @property
    def command_results(self) -> str:
        """Outcome of each ROS command (ROS adapter -> tool executor)."""
        return self._key("command_results")

    @property
    def inbox(self) -> str:
        """What the gateway must say to the model (executor, alerts, operators -> gateway)."""
        return self._key("inbox")

    @property
    def telemetry(self) -> str:
        """Telemetry samples from the robot's subscribed topics (ROS adapter -> anyone)."""
        return self._key("telemetry")

    @property
    def events(self) -> str:
        """Every Realtime event of the robot's sessions but audio deltas, both directions (gateway -> people)."""
        return self._key("events")

    @property
    def conversation(self) -> str:
        """The conversation as items (messages, function calls, outputs), replayed into a new session."""
        return self._key("conversation")

    @property
    def alerts(self) -> str:
        """Every alert transition, firing or resolved, with the values that caused it (alert monitor -> people)."""
        return self._key("alerts")

    @property
    def emergency(self) -> str:
        """Emergency stops and resets: the priority path (API, model, alerts -> tool executor, ROS adapter)."""
        return self._key("emergency")

    @property
    def dead_letters(self) -> str:
        """Entries of this robot's streams that could not be handled, with the reason."""
        return self._key("dead_letters")

    # Non-stream state
    @property
    def telemetry_latest(self) -> str:
        """Hash: topic -> latest sample (JSON), for read tools and preconditions."""
        return self._key("telemetry_latest")

    @property
    def link_state(self) -> str:
        """Hash: the ROS adapter's view of the rosbridge link; expires when the adapter stops refreshing it."""
        return self._key("link")

    @property
    def session(self) -> str:
        """Hash: the robot's Realtime session as the gateway holding it sees it (state, ids, rate limits)."""
        return self._key("session")

    @property
    def alert_state(self) -> str:
        """Hash: rule -> its state (JSON), and ``_position``, the last telemetry entry the monitor evaluated."""
        return self._key("alert_state")

    @property
    def emergency_state(self) -> str:
        """Hash: the sticky emergency-stop latch (stopped or not, by what) and the last stop's outcome."""
        return self._key("emergency_state")

    @property
    def dead_letter_replays(self) -> str:
        """Hash: dead letter's entry id -> the id of the entry ``robovox dead-letters --replay`` put back
        on its stream, so each dead letter is replayed at most once."""
        return self._key("dead_letter_replays")

    def call_record(self, call_id: str) -> str:
        """Hash: the life of one call_id (state, command, result); guards against double execution."""
        return self._key(f"call:{call_id}")

    def motion_guard(self, tool: str, arguments_digest: str) -> str:
        """String with a TTL: a motion command with these arguments ran recently."""
        return self._key(f"motion_guard:{tool}:{arguments_digest}")
