"""Unit: start-up problems as one line each, and misspelt variables named."""

from __future__ import annotations

import pytest

from robovox.shared.settings import ServiceSettings
from robovox.shared.startup import StartupError, settings_from_environment, unknown_variables


def test_each_bad_setting_is_one_line_with_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOVOX_BLOCK_MS", "abc")
    monkeypatch.setenv("ROBOVOX_LOG_LEVEL", "verbose")
    with pytest.raises(StartupError) as err:
        settings_from_environment(ServiceSettings)
    assert sorted(str(err.value).split("\n")) == [
        "ROBOVOX_BLOCK_MS='abc': Input should be a valid integer, unable to parse string as an integer",
        "ROBOVOX_LOG_LEVEL='verbose': not a log level; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ]


def test_a_rule_across_settings_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOVOX_BLOCK_MS", "20000")
    with pytest.raises(StartupError, match=r"^ROBOVOX_BLOCK_MS must be below ROBOVOX_CLAIM_IDLE_MS$"):
        settings_from_environment(ServiceSettings)


def test_a_misspelt_variable_is_named_with_the_setting_it_was_meant_to_be() -> None:
    env = {"ROBOVOX_BLOK_MS": "500", "ROBOVOX_BLOCK_MS": "500", "ROBOVOX_FAULT_SECONDS": "4", "PATH": "/bin"}
    assert unknown_variables(env) == [
        "ROBOVOX_BLOK_MS is not a RoboVox setting (did you mean ROBOVOX_BLOCK_MS?); it is ignored"
    ]
    assert unknown_variables({"ROBOVOX_COLOUR": "red"}) == ["ROBOVOX_COLOUR is not a RoboVox setting; it is ignored"]
