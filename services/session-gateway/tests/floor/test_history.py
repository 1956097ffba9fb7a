"""The console's history pages: newest first, a page at a time down to the stream's start,
unreadable entries and telemetry context left out, calls with their outcomes, the alerts still
firing."""

from __future__ import annotations

from redis.asyncio import Redis

from robovox.gateway.floor.history import active_alerts, alert_page, call_page, conversation_page
from robovox.gateway.floor.paging import newest_first
from robovox.shared.messages import AlertStatus, AlertTransition, InboxEntry, InboxKind, Outcome
from robovox.shared.profile.alerts import Severity
from robovox.shared.session import ConversationItem, ItemKind
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import add_tool_call

ROBOT = "cleaner-1"
KEYS = RobotKeys.of(ROBOT)


def said(text: str, kind: ItemKind = ItemKind.USER_MESSAGE) -> dict[str, str]:
    item = ConversationItem(conversation_id="conv", robot_id=ROBOT, kind=kind, text=text, source="speech")
    return item.to_fields()


def transition(rule: str, status: AlertStatus, severity: Severity = Severity.WARNING) -> dict[str, str]:
    alert = AlertTransition(
        robot_id=ROBOT, rule=rule, status=status, severity=severity, condition=f"{rule} holds", topic="/t",
        value="1", message=f"{rule} {status.value}",
    )  # fmt: skip
    return alert.to_fields()


async def test_pages_run_newest_first_to_the_start_and_skip_what_cannot_be_read(redis: Redis) -> None:
    for n in range(7):
        await redis.xadd(KEYS.conversation, said(f"line {n}"))  # type: ignore[arg-type]
        if n == 3:
            await redis.xadd(KEYS.conversation, {"kind": "nonsense"})
    first = await newest_first(redis, KEYS.conversation, ConversationItem, 3)
    assert [item.text for _id, item in first.entries] == ["line 6", "line 5", "line 4"]
    second = await newest_first(redis, KEYS.conversation, ConversationItem, 3, first.next_before)
    assert [item.text for _id, item in second.entries] == ["line 3", "line 2", "line 1"]
    assert second.skipped == 1
    last = await newest_first(redis, KEYS.conversation, ConversationItem, 3, second.next_before)
    assert [item.text for _id, item in last.entries] == ["line 0"] and last.next_before is None
    exact = await newest_first(redis, KEYS.conversation, ConversationItem, 1, second.next_before)
    assert exact.next_before is None, "no page after the stream's first entry"


async def test_the_conversation_leaves_telemetry_context_out_unless_asked(redis: Redis) -> None:
    await redis.xadd(KEYS.conversation, said("start cleaning"))  # type: ignore[arg-type]
    note = said("Telemetry update: navigator status is cleaning.", ItemKind.SYSTEM_MESSAGE)
    await redis.xadd(KEYS.conversation, note)  # type: ignore[arg-type]
    page = await conversation_page(redis, KEYS, 10, None)
    assert [item.text for item in page.items] == ["start cleaning"]
    assert page.items[0].entry_id and page.next_before is None
    with_context = await conversation_page(redis, KEYS, 10, None, context=True)
    assert len(with_context.items) == 2


async def test_calls_carry_their_outcome_and_what_the_model_was_told(redis: Redis) -> None:
    answered = await add_tool_call(redis, ROBOT, "start_cleaning", {"option": "TurnLeft"})
    running = await add_tool_call(redis, ROBOT, "stop_cleaning")
    output = InboxEntry(
        kind=InboxKind.FUNCTION_CALL_OUTPUT, robot_id=ROBOT, text="Cleaning started", speak=False,
        source="tool-executor", call_id=answered.call_id, tool="start_cleaning", outcome=Outcome.SUCCEEDED,
    )  # fmt: skip
    await redis.xadd(KEYS.inbox, output.to_fields())  # type: ignore[arg-type]
    page = await call_page(redis, KEYS, 10, None)
    assert [c.call_id for c in page.items] == [running.call_id, answered.call_id]
    newest, oldest = page.items
    assert (newest.state, newest.outcome, newest.output) == ("published", None, None)
    assert (oldest.outcome, oldest.output, oldest.arguments) == ("succeeded", "Cleaning started", answered.arguments)


async def test_alerts_page_and_the_rules_still_firing(redis: Redis) -> None:
    for fields in (
        transition("battery_low", AlertStatus.FIRING),
        transition("pads", AlertStatus.FIRING, Severity.INFO),
        transition("pads", AlertStatus.RESOLVED, Severity.INFO),
        transition("emergency_stop", AlertStatus.FIRING, Severity.CRITICAL),
    ):
        await redis.xadd(KEYS.alerts, fields)  # type: ignore[arg-type]
    page = await alert_page(redis, KEYS, 10, None)
    assert [(a.rule, a.status.value) for a in page.items] == [
        ("emergency_stop", "firing"), ("pads", "resolved"), ("pads", "firing"), ("battery_low", "firing"),
    ]  # fmt: skip
    assert [a.rule for a in await active_alerts(redis, KEYS)] == ["battery_low"]
