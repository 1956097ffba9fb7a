"""Properties of the door every call goes through, over inputs nobody would think to write:
argument parsing never raises and never lets through what breaks a limit or the schema, its
refusals stay short whatever they quote, and a tool-call entry either parses or is refused
with EntryError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from robovox.executor.arguments import parse_arguments
from robovox.executor.verdict import Rejection
from robovox.shared.entry import EntryError
from robovox.shared.limits import Limits
from robovox.shared.messages import ToolCall
from robovox.shared.profile import RobotProfile

LIMITS = Limits(arguments_bytes=4096, arguments_depth=6, argument_chars=200)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=30,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(s for v in value.values() for s in _strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check(profile: RobotProfile, raw: str) -> None:
    for tool in profile.tools:
        verdict = parse_arguments(tool, raw, LIMITS)
        if isinstance(verdict, Rejection):
            assert len(verdict.sentence) < 1000, "a refusal never echoes a value whole"
            continue
        assert Draft202012Validator(tool.parameters).is_valid(verdict)
        assert all(len(s) <= LIMITS.argument_chars for s in _strings(verdict))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(max_size=5000))
def test_any_text_is_parsed_or_refused_with_a_short_sentence(profile: RobotProfile, raw: str) -> None:
    _check(profile, raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_is_accepted_only_within_the_limits_and_the_schema(profile: RobotProfile, value: Any) -> None:
    _check(profile, json.dumps(value))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=3000), opener=st.sampled_from(["[", '{"a":']))
def test_nesting_is_refused_past_the_limit_without_recursion(profile: RobotProfile, depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    raw = opener * depth + "1" + closer * depth
    verdict = parse_arguments(profile.tools[0], raw, Limits(arguments_depth=6))
    if depth > 6:
        assert isinstance(verdict, Rejection) and verdict.reason.value in ("arguments_too_deep", "arguments_too_large")


fields = st.dictionaries(
    st.sampled_from(["call_id", "robot_id", "name", "arguments", "deadline", "issued_at", "session_id", "other"]),
    st.text(max_size=40) | st.sampled_from(["2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00", "cleaner-1", "c_1"]),
)


@settings(max_examples=500, deadline=None)
@given(entry=fields)
# Found by hypothesis: a default issued_at (now, to the microsecond) was written to the millisecond.
@example(entry={"call_id": "c_1", "robot_id": "cleaner-1", "name": "x", "deadline": "0"})
def test_a_tool_call_entry_parses_or_is_refused_with_entry_error(entry: dict[str, str]) -> None:
    try:
        call = ToolCall.from_fields(entry)
    except EntryError as exc:
        assert str(exc).startswith("not a valid ToolCall entry: ")
        return
    assert ToolCall.from_fields(call.to_fields()) == call, "what parses survives a round trip"
