"""Robot profiles: the shipped example loads, and bad files fail with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from robovox.shared.profile import ProfileError, load_profiles, parse_profile, realtime_tools

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
robot_id: r1
rosbridge_url: ws://127.0.0.1:9090
instructions: You are a robot.
telemetry:
  - topic: /battery/voltage
    type: std_msgs/msg/Float32
tools:
  - name: stop
    description: Stop.
    ros:
      call_service: {name: /stop, type: std_srvs/srv/Trigger}
"""


def test_cleaning_robot_profile_yields_the_realtime_tools() -> None:
    profile = load_profiles(REPO / "deploy" / "profiles")["cleaner-1"]
    tools = {t["name"]: t for t in realtime_tools(profile)}
    assert set(tools) >= {
        "start_cleaning", "move_to_corner", "stop_cleaning", "lower_vacuum_pads", "release_vacuum",
        "get_battery_voltage", "read_digital_io", "emergency_stop",
    }  # fmt: skip
    start = tools["start_cleaning"]
    assert start["type"] == "function"
    assert start["parameters"]["properties"]["option"]["enum"] == ["TurnLeft", "TurnRight"]
    assert start["parameters"]["additionalProperties"] is False
    assert "left or right" in start["description"]
    assert "Communicate in English" in profile.persona()


def test_error_names_file_line_and_field() -> None:
    bad = MINIMAL.replace("type: std_srvs/srv/Trigger}", "type: std_srvs/srv/Trigger}\n    timeout_s: -1")
    with pytest.raises(ProfileError) as err:
        parse_profile(bad, "robots/r1.yaml")
    assert "robots/r1.yaml:12: tools.0.timeout_s: Input should be greater than 0" in str(err.value)


def test_binding_must_name_exactly_one_ros_operation() -> None:
    bad = MINIMAL.replace(
        "call_service: {name: /stop, type: std_srvs/srv/Trigger}",
        "call_service: {name: /stop, type: std_srvs/srv/Trigger}\n      publish: {topic: /x, type: std_msgs/msg/Bool}",
    )
    with pytest.raises(ProfileError, match=r"r1.yaml:10: tools.0.ros: .*exactly one.*got call_service, publish"):
        parse_profile(bad, "r1.yaml")


def test_precondition_on_unsubscribed_topic_is_refused() -> None:
    bad = MINIMAL.replace(
        "    description: Stop.\n",
        "    description: Stop.\n    preconditions:\n      - {topic: /pads, equals: up, message: Raise the pads.}\n",
    )
    with pytest.raises(ProfileError, match="reads telemetry from /pads, which the profile does not subscribe"):
        parse_profile(bad, "r1.yaml")


def test_invalid_json_schema_is_refused() -> None:
    bad = MINIMAL.replace(
        "    description: Stop.\n", "    description: Stop.\n    parameters: {type: object, required: 3}\n"
    )
    with pytest.raises(ProfileError, match=r"r1.yaml:10: tools.0.parameters: .*not a valid JSON schema"):
        parse_profile(bad, "r1.yaml")


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ProfileError, match=r"r1.yaml:4: not valid YAML"):
        parse_profile("robot_id: r1\ntools:\n  - [unclosed\n", "r1.yaml")


def test_two_profiles_with_one_robot_id_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL)
    (tmp_path / "b.yaml").write_text(MINIMAL)
    with pytest.raises(ProfileError, match="robot_id 'r1' is already used by"):
        load_profiles(tmp_path)


def test_environment_fills_placeholders_and_a_missing_one_names_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    text = MINIMAL.replace("ws://127.0.0.1:9090", "${R1_BRIDGE:-ws://127.0.0.1:9090}")
    assert parse_profile(text, "r1.yaml").rosbridge_url == "ws://127.0.0.1:9090"
    monkeypatch.setenv("R1_BRIDGE", "ws://robot-sim:9090")
    assert parse_profile(text, "r1.yaml").rosbridge_url == "ws://robot-sim:9090"
    with pytest.raises(ProfileError, match=r"r1\.yaml:3: environment variable PERSONA is not set and has no default"):
        parse_profile(MINIMAL.replace("You are a robot.", "${PERSONA}"), "r1.yaml")


def test_types_may_be_written_in_either_dialect_but_not_as_another_kind() -> None:
    ros1 = MINIMAL.replace("std_msgs/msg/Float32", "std_msgs/Float32")
    ros1 = ros1.replace("std_srvs/srv/Trigger", "std_srvs/Trigger")
    assert parse_profile(ros1, "r1.yaml").telemetry[0].type == "std_msgs/Float32"
    with pytest.raises(ProfileError, match=r"r1.yaml:\d+: tools.0.ros.call_service.type: .*not a srv type name"):
        parse_profile(MINIMAL.replace("std_srvs/srv/Trigger", "std_srvs/msg/Trigger"), "r1.yaml")


def test_robot_link_and_confirm_name_what_they_need() -> None:
    linked = MINIMAL + "robot_link: {heartbeat_topic: /battery/voltage, max_silence_s: 2, after_stall: stop}\n"
    link = parse_profile(linked, "r1.yaml").robot_link
    assert (link.heartbeat_topic, link.max_silence_s, link.after_stall) == ("/battery/voltage", 2.0, "stop")
    with pytest.raises(ProfileError, match=r"r1.yaml:\d+: robot_link.heartbeat_topic: /pads is not subscribed"):
        parse_profile(MINIMAL + "robot_link: {heartbeat_topic: /pads}\n", "r1.yaml")
    with pytest.raises(ProfileError, match=r"robot_link\.after_stall: must name a service or publish tool"):
        parse_profile(MINIMAL + "robot_link: {after_stall: dance}\n", "r1.yaml")
    confirm = "    confirm: {topic: /pads, equals: up}\n"
    with pytest.raises(ProfileError, match="reads telemetry from /pads, which the profile does not subscribe"):
        parse_profile(MINIMAL.replace("    description: Stop.\n", "    description: Stop.\n" + confirm), "r1.yaml")


def test_a_rule_across_sections_is_reported_at_its_own_line() -> None:
    bad = MINIMAL.replace(
        "    description: Stop.\n",
        "    description: Stop.\n    preconditions:\n      - {topic: /pads, equals: up, message: Raise the pads.}\n",
    )
    with pytest.raises(ProfileError, match=r"^r1.yaml:11: tools.0.preconditions.0.topic: tool 'stop' reads"):
        parse_profile(bad, "r1.yaml")
    twice = MINIMAL + "  - name: stop\n    description: Again.\n    ros:\n      call_service: {name: /s, type: a/B}\n"
    with pytest.raises(ProfileError, match=r"^r1.yaml:12: tools.1.name: 'stop' is given twice"):
        parse_profile(twice, "r1.yaml")


def test_a_misspelt_key_with_a_block_value_is_reported_at_the_key() -> None:
    misspelt = "    description: Stop.\n    preconditons:\n      - {topic: /x}\n"
    bad = MINIMAL.replace("    description: Stop.\n", misspelt)
    with pytest.raises(ProfileError, match=r"^r1.yaml:10: tools.0.preconditons: Extra inputs are not permitted"):
        parse_profile(bad, "r1.yaml")


def test_emergency_stop_names_a_stop_tool_and_a_reset_that_is_no_tool() -> None:
    declared = MINIMAL + (
        "emergency_stop:\n  tool: stop\n  deadline_s: 3\n"
        "  reset: {call_service: {name: /reset, type: std_srvs/srv/Trigger}}\n"
    )
    profile = parse_profile(declared, "r1.yaml")
    assert profile.emergency_stop is not None and profile.emergency_stop.deadline_s == 3.0
    assert profile.is_emergency_stop("stop") and not profile.is_emergency_stop("dance")
    assert [t["name"] for t in realtime_tools(profile)] == ["stop"], "the reset is not a tool"
    with pytest.raises(ProfileError, match=r"emergency_stop\.tool: must name a service or publish tool"):
        parse_profile(MINIMAL + "emergency_stop: {tool: dance}\n", "r1.yaml")
    with pytest.raises(ProfileError, match=r"emergency_stop\.reset must be a call_service or a publish"):
        parse_profile(
            MINIMAL + "emergency_stop: {tool: stop, reset: {read_telemetry: {topic: /battery/voltage}}}\n", "r1.yaml"
        )
    with pytest.raises(ProfileError, match="deadline_s"):
        parse_profile(MINIMAL + "emergency_stop: {tool: stop, deadline_s: 0}\n", "r1.yaml")


def test_an_alert_action_names_a_command_tool_without_required_arguments() -> None:
    rule = "alerts:\n  rules:\n    - {name: low, topic: /battery/voltage, below: 22, message: Low., action: %s}\n"
    assert parse_profile(MINIMAL + rule % "stop", "r1.yaml").alerts.rules[0].action == "stop"
    with pytest.raises(ProfileError, match="action must name a command tool"):
        parse_profile(MINIMAL + rule % "dance", "r1.yaml")


def test_the_stop_word_is_phrases_with_thresholds_and_bad_ones_are_named() -> None:
    declared = MINIMAL + (
        "emergency_stop:\n  tool: stop\n  stop_word:\n    phone_loop_penalty: 1e-12\n"
        "    phrases:\n      - {phrase: emergency stop, threshold: 1e-30}\n      - phrase: stop the robot\n"
    )
    stop = parse_profile(declared, "r1.yaml").emergency_stop
    assert stop is not None and stop.stop_word is not None and stop.stop_word.enabled
    assert [(p.phrase, p.threshold) for p in stop.stop_word.phrases] == [
        ("emergency stop", 1e-30),
        ("stop the robot", 1e-30),
    ]
    assert stop.stop_word.phone_loop_penalty == 1e-12
    for bad, message in (
        ("[{phrase: Stop!}]", r"stop_word\.phrases\.0\.phrase: String should match pattern"),
        (
            "[{phrase: stop, threshold: 2}]",
            r"stop_word\.phrases\.0\.threshold: Input should be less than or equal to 1",
        ),
        ("[{phrase: stop, threshold: 1e-90}]", r"stop_word\.phrases\.0\.threshold: .*at least 1e-80"),
        ("[{phrase: stop}, {phrase: stop}]", r"stop_word: .*'stop' is given twice"),
        ("[]", r"stop_word\.phrases: List should have at least 1 item"),
    ):
        text = MINIMAL + f"emergency_stop:\n  tool: stop\n  stop_word:\n    phrases: {bad}\n"
        with pytest.raises(ProfileError, match=message):
            parse_profile(text, "r1.yaml")
    assert parse_profile(MINIMAL + "emergency_stop: {tool: stop}\n", "r1.yaml").emergency_stop.stop_word is None  # type: ignore[union-attr]
