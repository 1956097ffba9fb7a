"""Ground truth per call_id, and the report of a run.

What reached the robot comes from the simulators' ops logs (each op carries the
call's tag); what the model was told comes from the inboxes (function_call_output
entries). Latency is the time between the call's entry in ``tool_calls`` and its
first answer in the inbox, both taken from the Redis entry ids (the server's clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from robovox.shared.call_life import CallRecord
from robovox.sim.robot import OpRecord

from .load import IssuedCall

LATE_AFTER_S = 0.05
NOT_SENT_REASONS = frozenset({"robot_offline", "link_down", "expired", "deadline_passed", "unavailable"})
"""Answers that tell the model nothing reached the robot."""


def entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-")[0])


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Report:
    fault: str
    calls: int = 0
    published: int = 0
    answered_once: int = 0
    lost: int = 0
    unpublished: int = 0
    duplicated: int = 0
    executed_twice: int = 0
    late: int = 0
    unknown_never_sent: int = 0
    """Answered "unknown" although no op of the call reached the robot."""
    unknown_never_handed: int = 0
    """Of those, the ones whose command the adapter never sent (its result says not sent, or there is none)."""
    unknown_records: dict[str, CallRecord] = field(default_factory=dict)
    """Every call counted in ``unknown_never_sent``, with its call record (read once, by the rig)."""
    unknown_in_flight_at_kill: int = 0
    """Of those, the ones the killed adapter had started (marked started and written to its rosbridge socket)
    before it died: the connection's reset can drop frames the bridge had not read yet, so "sent, no
    confirmation" is the truth. Counted apart, never as a failure; started after the kill would be one."""
    said_not_sent_but_ran: int = 0
    strict_unknown: bool = True
    """Count every "unknown" without an op as a failure; a half-open freeze sets it False, because
    a command written into a socket the robot no longer reads truly is "sent, unconfirmed"."""
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)
    """Failed counter -> up to a few call ids, for the record."""
    log_lines: Counter[str] = field(default_factory=Counter)
    """Lines worth counting in the services' logs ("Too many connections", tracebacks ...)."""
    checks: dict[str, int] = field(default_factory=dict)
    """A scenario's own counts that must be 0 (alerts repeated or missing, robots not answering ...)."""

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def rate(self) -> float:
        return self.calls / self.duration_s if self.duration_s else 0.0

    @property
    def failures(self) -> dict[str, int]:
        """The counts the acceptance says must be 0, those that are not."""
        counts = {
            "lost": self.lost,
            "unpublished": self.unpublished,
            "duplicated": self.duplicated,
            "executed_twice": self.executed_twice,
            "late": self.late,
            "unknown_never_sent": (
                self.unknown_never_sent - self.unknown_in_flight_at_kill
                if self.strict_unknown
                else self.unknown_never_handed
            ),
            "said_not_sent_but_ran": self.said_not_sent_but_ran,
            # the fault robot fits its simulator: a tool refused as unavailable is a rig that tests nothing
            "tool_unavailable": sum(n for outcome, n in self.outcomes.items() if "(tool_unavailable)" in outcome),
        }
        return {k: v for k, v in {**counts, **self.checks}.items() if v}

    def problem(self, counter: str, call_id: str) -> None:
        ids = self.problems.setdefault(counter, [])
        if len(ids) < 5:
            ids.append(call_id)

    def table(self) -> str:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        rows = [
            ("fault injected", self.fault),
            ("calls issued", f"{self.calls} ({self.rate:.0f}/s for {self.duration_s:.1f} s)"),
            ("published (in tool_calls)", str(self.published)),
            ("answered exactly once", str(self.answered_once)),
            ("lost (published, no answer)", str(self.lost)),
            ("never published (Redis down past the deadline)", str(self.unpublished)),
            ("duplicated (answered more than once)", str(self.duplicated)),
            ("executed twice (more than one op)", str(self.executed_twice)),
            (f"late (op more than {LATE_AFTER_S * 1000:.0f} ms after the deadline)", str(self.late)),
            ("unknown, no op reached the robot", str(self.unknown_never_sent)),
            ("  of which the adapter did not say sent", str(self.unknown_never_handed)),
            ("  of which started by the killed adapter", str(self.unknown_in_flight_at_kill)),
            ("told not sent, but it ran", str(self.said_not_sent_but_ran)),
            ("answer latency p50 / p99 ms", f"{self.p50_ms:.1f} / {self.p99_ms:.1f}"),
            ("outcomes", outcomes),
        ]
        rows += [(k.replace("_", " "), str(v)) for k, v in self.checks.items()]
        rows += [(f"log lines: {k}", str(v)) for k, v in sorted(self.log_lines.items())]
        rows += [("note", n) for n in self.notes]
        rows += [(f"call ids: {k}", " ".join(v)) for k, v in sorted(self.problems.items())]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)

    def line(self) -> str:
        return (
            f"calls={self.calls} answered_once={self.answered_once} lost={self.lost} "
            f"duplicated={self.duplicated} executed_twice={self.executed_twice} late={self.late} "
            f"answer_p50_ms={self.p50_ms:.2f} answer_p99_ms={self.p99_ms:.2f}"
        )


def count(
    report: Report,
    calls: Sequence[IssuedCall],
    published_ids: Mapping[str, str],
    outputs: Mapping[str, list[tuple[str, dict[str, str]]]],
    ops: Mapping[str, list[OpRecord]],
) -> Report:
    """Fill ``report`` from the ground truth.

    ``published_ids``: call_id -> its tool_calls entry id. ``outputs``: call_id -> its inbox
    entries. ``ops``: tag (call_id) -> the ops that reached the robot. The calls answered "unknown"
    without an op are left in ``unknown_records`` for the rig to fill with their call records.
    """
    report.calls = len(calls)
    for call in calls:
        cid = call.call_id
        answers = outputs.get(cid, [])
        reached = ops.get(cid, [])
        if cid in published_ids:
            report.published += 1
        if not answers:
            if cid in published_ids:
                report.lost += 1
                report.problem("lost", cid)
            else:
                report.unpublished += 1
                report.problem("unpublished", cid)
        elif len(answers) == 1:
            report.answered_once += 1
        else:
            report.duplicated += 1
            report.problem("duplicated", cid)
        if len(reached) > 1:
            report.executed_twice += 1
            report.problem("executed_twice", cid)
        if any(op.wall_time > call.deadline + LATE_AFTER_S for op in reached):
            report.late += 1
            report.problem("late", cid)
        for _entry_id, fields in answers[:1]:
            outcome = fields.get("outcome", "")
            reason = fields.get("reason", "")
            report.outcomes[f"{outcome}({reason})" if reason else outcome] += 1
            if outcome == "unknown" and not reached:
                report.unknown_never_sent += 1
                report.unknown_records[cid] = CallRecord()
                report.problem("unknown_never_sent", cid)
            if reached and (reason in NOT_SENT_REASONS or outcome == "rejected"):
                report.said_not_sent_but_ran += 1
                report.problem("said_not_sent_but_ran", cid)
        if answers and cid in published_ids:
            report.latencies_ms.append(float(entry_ms(answers[0][0]) - entry_ms(published_ids[cid])))
    return report
