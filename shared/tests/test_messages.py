"""Stream entries are flat, readable fields and survive the round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from robovox.shared.entry import EntryError
from robovox.shared.messages import InboxEntry, InboxKind, TelemetrySample, ToolCall
from robovox.shared.profile.mapping import MISSING, fill_template, read_field
from robovox.shared.streams import RobotKeys


def test_tool_call_fields_are_readable_and_round_trip() -> None:
    when = datetime(2026, 11, 20, 22, 58, 1, 123000, tzinfo=UTC)
    call = ToolCall(call_id="call_1", robot_id="cleaner-1", name="start_cleaning",
                    arguments='{"option":"TurnRight"}', issued_at=when, deadline=when)  # fmt: skip
    fields = call.to_fields()
    assert fields["deadline"] == "2026-11-20T22:58:01.123Z"
    assert fields["arguments"] == '{"option":"TurnRight"}'
    assert "session_id" not in fields
    assert ToolCall.from_fields({k.encode(): v.encode() for k, v in fields.items()}) == call


def test_invalid_entry_names_every_bad_field() -> None:
    with pytest.raises(EntryError, match=r"not a valid ToolCall entry: robot_id: .*; deadline: Field required"):
        ToolCall.from_fields({"call_id": "c", "robot_id": "Bad Robot!", "name": "x"})


def test_function_call_output_needs_its_call_id() -> None:
    with pytest.raises(ValueError, match="needs its call_id"):
        InboxEntry(kind=InboxKind.FUNCTION_CALL_OUTPUT, robot_id="r1", text="ok", speak=False, source="t")


def test_telemetry_sample_is_flattened_for_inspection() -> None:
    sample = TelemetrySample(robot_id="r1", topic="/io", ros_type="x/msg/IO",
                             msg='{"camera_led": true, "pose": {"x": 1.5}, "arr": [1, 2]}')  # fmt: skip
    fields = sample.to_fields()
    assert fields["msg.camera_led"] == "true"
    assert fields["msg.pose.x"] == "1.5"
    assert fields["msg.arr"] == "[1,2]"
    assert TelemetrySample.from_fields(fields).message()["pose"] == {"x": 1.5}


def test_keys_share_the_robot_hash_tag() -> None:
    keys = RobotKeys.of("cleaner-1")
    assert keys.tool_calls == "robovox:{cleaner-1}:tool_calls"
    assert keys.call_record("c1") == "robovox:{cleaner-1}:call:c1"
    with pytest.raises(ValueError, match="must be 1-63 characters"):
        RobotKeys.of("a}b")


def test_template_keeps_types_and_drops_missing_optionals() -> None:
    template = {"option": "{option}", "label": "turn {option}", "speed": "{speed}", "fixed": 3}
    assert fill_template(template, {"option": "TurnLeft"}) == {
        "option": "TurnLeft",
        "label": "turn TurnLeft",
        "fixed": 3,
    }
    assert fill_template({"v": "{n}"}, {"n": 2.5}) == {"v": 2.5}
    assert read_field({"a": {"b": [0, 7]}}, "a.b.1") == 7
    assert read_field({"a": 1}, "a.c") is MISSING
