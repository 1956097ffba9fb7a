"""The executor's share of the metrics: each answered call by outcome and reason, each refusal,
and the ``answered`` stage (``robovox.shared.metrics``)."""

from __future__ import annotations

from datetime import datetime

from robovox.shared.messages import InboxEntry, Outcome
from robovox.shared.metrics import UNKNOWN_TOOL, Stage
from robovox.shared.metrics.series import CALLS_OF, REFUSALS_OF, observe_stage
from robovox.shared.profile import RobotProfile


def count_answer(profile: RobotProfile, entry: InboxEntry, issued_at: datetime | None) -> None:
    """Count the answer the executor just appended (once per call: only the first answer is)."""
    robot = profile.robot_id
    tool = entry.tool if entry.tool and profile.tool(entry.tool) is not None else UNKNOWN_TOOL
    outcome = entry.outcome.value if entry.outcome else ""
    reason = entry.reason or ""
    CALLS_OF(robot, tool, outcome, reason).inc()
    if entry.outcome is Outcome.REJECTED:
        REFUSALS_OF(robot, tool, reason).inc()
    if issued_at is not None:
        observe_stage(robot, tool, Stage.ANSWERED, issued_at)
