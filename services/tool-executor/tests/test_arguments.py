"""Unit: ``parse_arguments`` called directly, one sentence per way arguments can be wrong."""

from __future__ import annotations

import pytest

from robovox.executor.arguments import example_arguments, parse_arguments
from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.limits import Limits
from robovox.shared.profile import RobotProfile, Tool
from robovox.shared.testing.profiles import shipped_profile, tool_named


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return shipped_profile()


def tool(profile: RobotProfile, name: str) -> Tool:
    return tool_named(profile, name)


def rejection(profile: RobotProfile, name: str, raw: str, limits: Limits | None = None) -> Rejection:
    parsed = parse_arguments(tool(profile, name), raw, limits or Limits())
    assert isinstance(parsed, Rejection), parsed
    return parsed


def test_valid_arguments_come_back_as_a_dict(profile: RobotProfile) -> None:
    assert parse_arguments(tool(profile, "start_cleaning"), '{"option": "TurnLeft"}', Limits()) == {
        "option": "TurnLeft"
    }


def test_blank_arguments_are_an_empty_object(profile: RobotProfile) -> None:
    assert parse_arguments(tool(profile, "stop_cleaning"), "  ", Limits()) == {}


@pytest.mark.parametrize(
    ("raw", "reason", "sentence"),
    [
        (
            "{",
            RejectionReason.INVALID_JSON,
            "The arguments for start_cleaning were not valid JSON (Expecting property name enclosed in double "
            'quotes at character 1). Call start_cleaning again with a JSON object such as {"option": "TurnLeft"}.',
        ),
        (
            "[1]",
            RejectionReason.INVALID_JSON,
            'The arguments for start_cleaning must be a JSON object such as {"option": "TurnLeft"}, not list.',
        ),
        (
            "{}",
            RejectionReason.MISSING_ARGUMENT,
            'start_cleaning needs the argument "option" (one of TurnLeft, TurnRight). '
            "Ask the user for it, then call again.",
        ),
        (
            '{"option": "Sideways"}',
            RejectionReason.NOT_AN_OPTION,
            'Argument "option" of start_cleaning must be one of TurnLeft, TurnRight; got "Sideways". '
            "Ask the user which one they mean.",
        ),
        (
            '{"option": 3}',
            RejectionReason.WRONG_TYPE,
            'Argument "option" of start_cleaning must be a string, not 3. Call it again with a valid value.',
        ),
    ],
)
def test_each_mistake_has_its_sentence(profile: RobotProfile, raw: str, reason: RejectionReason, sentence: str) -> None:
    found = rejection(profile, "start_cleaning", raw)
    assert (found.reason, found.sentence) == (reason, sentence)


def test_an_unexpected_argument_names_what_the_tool_takes(profile: RobotProfile) -> None:
    found = rejection(profile, "start_cleaning", '{"option": "TurnLeft", "speed": 3}')
    assert found.reason is RejectionReason.UNEXPECTED_ARGUMENT
    assert found.sentence == "start_cleaning does not take 'speed'; it takes: option. Call it again without them."


def test_limits_are_checked_before_parsing(profile: RobotProfile) -> None:
    small = Limits(arguments_bytes=64, arguments_depth=3, argument_chars=8)
    assert rejection(profile, "start_cleaning", '{"option": "' + "x" * 100 + '"}', small).reason is (
        RejectionReason.ARGUMENTS_TOO_LARGE
    )
    assert rejection(profile, "start_cleaning", '{"a": {"b": {"c": {"d": 1}}}}', small).reason is (
        RejectionReason.ARGUMENTS_TOO_DEEP
    )
    too_long = rejection(profile, "start_cleaning", '{"option": "TurnRight"}', small)
    assert too_long.reason is RejectionReason.VALUE_TOO_LONG
    assert too_long.sentence.startswith('Argument "option" of start_cleaning is 9 characters long')


def test_a_hundred_thousand_levels_deep_is_refused_without_recursion(profile: RobotProfile) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    found = rejection(profile, "start_cleaning", deep, Limits(arguments_bytes=len(deep)))
    assert found.reason is RejectionReason.ARGUMENTS_TOO_DEEP


def test_the_example_uses_the_first_option(profile: RobotProfile) -> None:
    assert example_arguments(tool(profile, "start_cleaning")) == '{"option": "TurnLeft"}'
    assert example_arguments(tool(profile, "stop_cleaning")) == "{}"
