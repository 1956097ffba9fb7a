"""What the model is given in place of a function call's output the gateway gave up on."""

from __future__ import annotations

from robovox.gateway.robot.inbox_letters import outputs_in_place_of
from robovox.shared.messages import InboxEntry, InboxKind


def output_fields(**changes: str) -> dict[str, str]:
    entry = InboxEntry(
        kind=InboxKind.FUNCTION_CALL_OUTPUT, robot_id="cleaner-1", text="battery voltage: 25.2 V", speak=False,
        source="tool-executor", call_id="call_abc123", tool="get_battery_voltage",
    )  # fmt: skip
    return {**entry.to_fields(), **changes}


def test_a_readable_output_is_tried_as_it_is_then_a_notice_for_the_same_call() -> None:
    first, notice = outputs_in_place_of(output_fields(), "entry of 1000 bytes is over the limit", "cleaner-1")
    assert first.text == "battery voltage: 25.2 V"
    assert notice.call_id == first.call_id == "call_abc123" and notice.speak
    assert "could not be given to you (entry of 1000 bytes is over the limit)" in notice.text
    assert notice.reason == "not_delivered"


def test_an_unreadable_output_still_gets_the_notice_on_this_robot() -> None:
    fields = output_fields(speak="perhaps")
    (notice,) = outputs_in_place_of(fields, "not a valid InboxEntry entry", "cleaner-1")
    assert notice.robot_id == "cleaner-1" and "get_battery_voltage" in notice.text


def test_another_robot_s_output_is_given_to_nobody() -> None:
    assert outputs_in_place_of(output_fields(robot_id="cleaner-2"), "entry for robot 'cleaner-2'", "cleaner-1") == []


def test_messages_and_outputs_without_a_usable_call_id_get_nothing() -> None:
    assert outputs_in_place_of(output_fields(kind="system_message"), "too big", "cleaner-1") == []
    assert outputs_in_place_of(output_fields(call_id=""), "too big", "cleaner-1") == []
    assert outputs_in_place_of(output_fields(call_id="not a call id!", speak="x"), "bad", "cleaner-1") == []
