"""Each command's table for people (``--json`` prints the models instead)."""

from __future__ import annotations

from typing import Final

import click

from robovox.cli.calls import CallTimeline
from robovox.cli.fleet import RobotView
from robovox.cli.letters import Replay
from robovox.cli.render import ago, clock, cut, dim, paint, seconds, stamp, table
from robovox.shared.dead_letters import DeadLetterView
from robovox.shared.messages import AlertTransition
from robovox.shared.stream_info import STREAM_MODELS, StreamView

__all__ = ["AlertTransition", "DeadLetterView", "Replay", "RobotView", "StreamView"]

STREAM_NAMES: Final = frozenset(STREAM_MODELS)


def robots_table(robots: list[RobotView]) -> str:
    if not robots:
        return "no robots in this Redis"
    rows = []
    for r in robots:
        link = f"{paint(r.link)} {dim('for ' + ago(r.link_since))}" if r.link else paint("offline", "down")
        session = f"{paint(r.session)} {dim('for ' + ago(r.session_since))}" if r.session else dim("none")
        battery = "-"
        if r.battery:
            left = f", {r.battery.minutes_left:.1f} min left" if r.battery.minutes_left is not None else ""
            battery = f"{r.battery.volts:.2f} V {dim('(' + ago(r.battery.at) + ' ago)')}{left}"
        alerts = ", ".join(f"{paint(a.severity)} {a.rule}" for a in r.alerts) or "-"
        stop = paint("STOPPED", "stopped") if r.emergency_stopped else "-"
        rows.append([r.robot_id, link, r.ros or "-", session, battery, alerts, stop])
    return table(["ROBOT", "LINK", "ROS", "SESSION", "BATTERY", "FIRING ALERTS", "E-STOP"], rows)


def streams_table(streams: list[StreamView]) -> str:
    if not streams:
        return "no robots in this Redis"
    rows = []
    for s in streams:
        head = [s.robot_id, s.stream, str(s.length), ago(s.last_entry_at) if s.last_entry_at else "-"]
        if not s.groups:
            rows.append([*head, dim("-"), "", "", "", ""])
        for g in s.groups:
            pending = paint(str(g.pending), "failed") if g.pending else "0"
            lag = paint(str(g.lag), "warning") if g.lag else str(g.lag if g.lag is not None else "?")
            oldest = "-"
            if g.oldest_pending is not None and g.oldest_pending_age_s is not None:
                idle = seconds(g.oldest_pending_idle_s or 0)
                oldest = f"{g.oldest_pending} ({seconds(g.oldest_pending_age_s)} old, idle {idle})"
            rows.append([*head, f"{g.name} ({g.consumers})", pending, lag, oldest, g.last_delivered])
            head = ["", "", "", ""]
    headers = ["ROBOT", "STREAM", "LENGTH", "NEWEST", "GROUP (CONSUMERS)", "PENDING", "LAG", "OLDEST PENDING",
               "LAST DELIVERED"]  # fmt: skip
    return table(headers, rows)


def call_text(call: CallTimeline) -> str:
    took = f", {call.took_ms:.1f} ms first to last" if call.took_ms is not None else ""
    state = f"state {paint(call.state)}" if call.state else "no record"
    outcome = f", outcome {paint(call.outcome)}" if call.outcome else ""
    head = f"call {click.style(call.call_id, bold=True)} on {call.robot_id}: {state}{outcome}{took}"
    first = call.stages[0].at
    rows = [
        [clock(s.at), f"+{(s.at - first).total_seconds() * 1000:.1f}", s.service, paint(s.stage), cut(s.detail, 90),
         dim(s.source)]
        for s in call.stages
    ]  # fmt: skip
    return f"{head}\nstarted {stamp(first)}\n" + table(["TIME", "+MS", "SERVICE", "STAGE", "DETAIL", "FROM"], rows)


def dead_letters_table(letters: list[DeadLetterView]) -> str:
    if not letters:
        return "no dead letters"
    rows = [
        [d.robot_id, d.dead_letter_id, clock(d.dead_at), d.stream.rsplit(":", 1)[-1], d.entry_id,
         f"{d.group} x{d.deliveries}", cut(d.reason, 80), d.replayed_as or "-"]
        for d in letters
    ]  # fmt: skip
    headers = ["ROBOT", "DEAD LETTER", "AT", "STREAM", "ENTRY", "GROUP", "REASON", "REPLAYED AS"]
    return table(headers, rows)


def replay_line(r: Replay) -> str:
    if r.now:
        return f"replayed dead letter {r.dead_letter_id} of {r.robot_id}: {r.stream} entry {r.entry_id} (once)"
    return (
        f"dead letter {r.dead_letter_id} of {r.robot_id} was replayed before, as {r.stream} entry {r.entry_id}: "
        "nothing written"
    )


def alerts_table(alerts: list[AlertTransition]) -> str:
    if not alerts:
        return "no alerts"
    rows = [
        [stamp(a.at), a.robot_id, a.rule, paint(a.severity.value), paint(a.status.value), a.value or "-",
         cut(f"{a.trigger} by {a.triggered_by}" if a.trigger else a.message, 80)]
        for a in alerts
    ]  # fmt: skip
    return table(["AT", "ROBOT", "RULE", "SEVERITY", "STATUS", "VALUE", "MESSAGE"], rows)
