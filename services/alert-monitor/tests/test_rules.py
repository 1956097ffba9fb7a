"""The rule state machine and the profile's alert section, without Redis."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from pydantic import ValidationError

from robovox.alert_monitor.rules import Phase, RuleEvaluator
from robovox.shared.messages import AlertStatus
from robovox.shared.profile.alerts import AlertRule, AlertsConfig
from robovox.shared.profile.mapping import MISSING


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate({"name": "r", "topic": "/battery/voltage", "message": "m", **fields})


def feed(evaluator: RuleEvaluator, samples: list[tuple[float, Any]]) -> list[tuple[float, AlertStatus]]:
    out = []
    for at, value in samples:
        transition = evaluator.observe(value, at)
        if transition is not None:
            out.append((at, transition.status))
    return out


def test_below_fires_after_for_s_and_resolves_only_above_the_clear_band() -> None:
    evaluator = RuleEvaluator(rule(below=23.0, clear_above=23.4, for_s=2, cooldown_s=0), now=0)
    seen = feed(evaluator, [(0, 23.5), (1, 22.9), (2, 22.8), (3, 22.7), (4, 23.2), (5, 23.39), (6, 23.4)])
    assert seen == [(3, AlertStatus.FIRING), (6, AlertStatus.RESOLVED)]


def test_condition_must_hold_the_whole_for_s() -> None:
    evaluator = RuleEvaluator(rule(below=23.0, for_s=2), now=0)
    assert feed(evaluator, [(0, 22.9), (1.5, 23.1), (2.5, 22.9), (4.0, 22.9)]) == []
    assert evaluator.phase is Phase.PENDING
    assert evaluator.tick(4.5) is not None  # held 2 s since 2.5 with no new sample


def test_noise_around_the_threshold_raises_one_alert_with_hysteresis() -> None:
    rng = random.Random(7)
    evaluator = RuleEvaluator(rule(below=23.0, clear_above=23.4, cooldown_s=600), now=0)
    samples = [(i * 0.05, 23.0 + rng.gauss(0, 0.05)) for i in range(2000)]
    crossings = sum(1 for (_, a), (_, b) in itertools.pairwise(samples) if (a < 23.0) != (b < 23.0))
    assert crossings > 100
    assert [status for _, status in feed(evaluator, samples)] == [AlertStatus.FIRING]


def test_cooldown_stops_a_flapping_rule_from_firing_again() -> None:
    evaluator = RuleEvaluator(rule(above=80, cooldown_s=60), now=0)
    samples = [(t, 81 if t % 2 == 0 else 79) for t in range(0, 130)]
    fired = [at for at, status in feed(evaluator, samples) if status is AlertStatus.FIRING]
    assert fired == [0, 60, 120]


def test_equals_and_changed() -> None:
    pads = RuleEvaluator(rule(equals="down", field="data"), now=0)
    assert feed(pads, [(0, "up"), (1, "down"), (2, "down"), (3, "up")]) == [
        (1, AlertStatus.FIRING),
        (3, AlertStatus.RESOLVED),
    ]
    moved = RuleEvaluator(rule(changed=True, cooldown_s=0), now=0)
    assert feed(moved, [(0, "up"), (1, "up"), (2, "down"), (3, "down"), (4, "up")]) == [
        (2, AlertStatus.FIRING),
        (3, AlertStatus.RESOLVED),
        (4, AlertStatus.FIRING),
    ]


def test_missing_for_s_fires_on_silence_and_resolves_on_the_next_sample() -> None:
    evaluator = RuleEvaluator(rule(missing_for_s=10), now=100)
    assert evaluator.tick(109) is None
    fired = evaluator.tick(110)
    assert fired is not None and fired.status is AlertStatus.FIRING and fired.value is MISSING
    assert evaluator.tick(111) is None
    resolved = evaluator.observe(24.0, 112)
    assert resolved is not None and resolved.status is AlertStatus.RESOLVED
    assert evaluator.tick(121) is None  # 9 s after the last sample
    assert evaluator.tick(122) is None  # silent again, but cooling down until 110 + 300
    assert evaluator.phase is Phase.PENDING
    again = evaluator.tick(410)
    assert again is not None and again.status is AlertStatus.FIRING


def test_values_that_cannot_be_judged_are_ignored() -> None:
    evaluator = RuleEvaluator(rule(below=23.0), now=0)
    assert feed(evaluator, [(0, "n/a"), (1, True), (2, MISSING)]) == []
    assert feed(evaluator, [(3, 22)]) == [(3, AlertStatus.FIRING)]


def test_a_restored_rule_stays_firing_and_keeps_its_cooldown() -> None:
    first = RuleEvaluator(rule(below=23.0, cooldown_s=60), now=0)
    feed(first, [(0, 22.0)])
    second = RuleEvaluator(rule(below=23.0, cooldown_s=60), now=10)
    second.restore(first.dump())
    assert feed(second, [(10, 22.0)]) == []  # no second notice for the same alert
    assert feed(second, [(20, 24.0), (30, 22.0)]) == [(20, AlertStatus.RESOLVED)]  # cooling down until 60


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"below": 1, "above": 2}, "exactly one condition"),
        ({}, "exactly one condition"),
        ({"below": 23, "clear_above": 22}, "clear_above goes with below"),
        ({"above": 80, "clear_above": 90}, "clear_above goes with below"),
        ({"below": 23, "message": "low: {volts}"}, "unknown placeholder {volts}"),
        ({"below": 23, "message": "low: {value.real}"}, "unknown placeholder"),
        ({"below": 23, "message": "low: {value"}, "not a valid message template"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint.replace("{", r"\{").replace("}", r"\}")):
        rule(**fields)


def test_rule_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="repeated: r"):
        AlertsConfig.model_validate({"rules": [rule(below=1).model_dump(), rule(above=2).model_dump()]})
