"""How the CLI says things: aligned tables, one line per stream entry, colour only on a terminal
(``click.echo`` strips it elsewhere), and ``--json`` as the models are."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
from pydantic import BaseModel

from robovox.shared.entry import StreamEntry
from robovox.shared.messages import (
    AlertTransition,
    CommandResult,
    DeadLetter,
    EmergencyRequest,
    InboxEntry,
    RosCommand,
    TelemetrySample,
    ToolCall,
)
from robovox.shared.session import ConversationItem, RealtimeEventEntry
from robovox.shared.stream_info import Entry

GOOD = {"up", "live", "succeeded", "sent", "resolved", "passed", "done", "info"}
BAD = {"down", "closed", "failed", "rejected", "critical", "firing", "unknown", "stopped", "dead-lettered"}
WARN = {"connecting", "reconnecting", "recycling", "unreachable", "warning", "idle", "abandoned", "unconfirmed"}


def paint(text: str, word: str | None = None) -> str:
    """``text`` in the colour of ``word`` (default: itself): green for good states, red for bad."""
    key = (word or text).lower()
    if key in GOOD:
        return click.style(text, fg="green")
    if key in BAD:
        return click.style(text, fg="red", bold=True)
    if key in WARN:
        return click.style(text, fg="yellow")
    return text


def dim(text: str) -> str:
    return click.style(text, dim=True)


def clock(at: datetime | None) -> str:
    """``14:02:03.123`` (UTC), or ``-``."""
    return at.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3] if at else "-"


def stamp(at: datetime | None) -> str:
    """``2026-12-02 14:02:03.123Z``, or ``-``."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z" if at else "-"


def ago(at: datetime | None, now: datetime | None = None) -> str:
    if at is None:
        return "-"
    return seconds((now or datetime.now(UTC)) - at)


def seconds(value: Any) -> str:
    """A duration as people read it: ``850 ms``, ``12.0 s``, ``3 min``, ``2.5 h``."""
    s = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 10:
        return f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def _width(text: str) -> int:
    return len(click.unstyle(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned on the text people see (colour codes do not count)."""
    widths = [max([_width(h), *(_width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    widths[-1] = 0  # the last column is not padded
    lines = ["  ".join(click.style(h.ljust(w), bold=True) for h, w in zip(headers, widths, strict=True))]
    for row in rows:
        cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def as_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any] | list[dict[str, Any]]) -> str:
    def plain(item: Any) -> Any:
        return json.loads(item.model_dump_json()) if isinstance(item, BaseModel) else item

    data = [plain(v) for v in value] if isinstance(value, list | tuple) else plain(value)
    return json.dumps(data, ensure_ascii=False, indent=2)


def cut(text: str, limit: int = 100) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def summary(model: StreamEntry) -> str:
    """One line saying what an entry is."""
    m = model
    if isinstance(m, ToolCall):
        return f"{m.call_id} {m.name}({cut(m.arguments, 60)})"
    if isinstance(m, RosCommand):
        return f"{m.call_id} {m.kind.value} {m.target} {cut(m.payload, 60)}"
    if isinstance(m, CommandResult):
        return f"{m.call_id} {paint(m.status.value)} in {m.duration_ms:.1f} ms {cut(m.message, 60)}".rstrip()
    if isinstance(m, InboxEntry):
        what = f"{m.call_id} {paint(m.outcome.value)}" if m.outcome else m.kind.value
        return f"{what} {'spoken' if m.speak else 'silent'} from {m.source}: {cut(m.text, 70)}"
    if isinstance(m, TelemetrySample):
        return f"{m.topic} {cut(m.msg, 80)}"
    if isinstance(m, AlertTransition):
        return f"{paint(m.severity.value)} {m.rule} {paint(m.status.value)} value {m.value or '-'}: {cut(m.message)}"
    if isinstance(m, EmergencyRequest):
        return f"{paint(m.action.value, 'critical')} {m.stop_id} {m.trigger.value} by {m.triggered_by}"
    if isinstance(m, DeadLetter):
        return f"{m.stream.rsplit(':', 1)[-1]} {m.entry_id} ({m.group}): {paint('dead-lettered')} {cut(m.reason, 80)}"
    if isinstance(m, ConversationItem):
        call = f" {m.call_id} {m.name or ''}".rstrip() if m.call_id else ""
        return f"{m.kind.value}{call}: {cut(m.text or m.arguments or '', 80)}"
    if isinstance(m, RealtimeEventEntry):
        arrow = "<-" if m.direction == "server" else "->"
        return f"{arrow} {m.type}{' ' + m.call_id if m.call_id else ''} {cut(m.text or '', 70)}".rstrip()
    return cut(str(m.to_fields()))


def entry_line(entry: Entry) -> str:
    head = f"{dim(clock(entry.at))} {entry.robot_id} {click.style(entry.stream, fg='cyan')} {dim(entry.entry_id)}"
    body = summary(entry.model) if entry.model else paint("unreadable", "failed") + f": {cut(entry.problem or '')}"
    return f"{head} {body}"


def entry_json(entry: Entry) -> str:
    return json.dumps(
        {"robot_id": entry.robot_id, "stream": entry.stream, "entry_id": entry.entry_id, "fields": entry.fields,
         "problem": entry.problem},
        ensure_ascii=False,
    )  # fmt: skip
