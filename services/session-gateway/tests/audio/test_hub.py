"""Who holds a robot's microphone: the first client, a takeover, the exclusive policy,
and the robot's own microphone whenever no client holds it."""

from __future__ import annotations

import pytest

from robovox.gateway.audio.hub import AudioHub, MicRefusedError
from robovox.gateway.settings import MicPolicy


def changes(hub: AudioHub) -> list[str | None]:
    seen: list[str | None] = []
    hub.on_change(lambda: seen.append(hub.mic_holder))
    return seen


def test_the_first_client_holds_the_microphone_and_a_takeover_moves_it() -> None:
    hub = AudioHub("cleaner-1", MicPolicy.TAKEOVER)
    seen = changes(hub)
    assert hub.offer_mic("ana") and not hub.offer_mic("ben")
    hub.take_mic("ben")
    hub.release_mic("ana")  # no longer hers: nothing happens
    hub.release_mic("ben")
    assert seen == ["ana", "ben", None]


def test_the_exclusive_policy_keeps_the_microphone_with_its_holder() -> None:
    hub = AudioHub("cleaner-1", MicPolicy.EXCLUSIVE)
    hub.offer_mic("ana")
    with pytest.raises(MicRefusedError, match="ana holds the microphone"):
        hub.take_mic("ben")
    hub.release_mic("ana")
    hub.take_mic("ben")
    assert hub.mic_holder == "ben"


def test_the_robots_own_microphone_holds_it_whenever_no_client_does() -> None:
    hub = AudioHub("cleaner-1", MicPolicy.EXCLUSIVE)
    hub.set_default_mic("robot")
    assert hub.mic_holder == "robot"
    assert hub.offer_mic("ana")  # a client joining takes it from the robot, even under exclusive
    hub.release_mic("robot")  # the robot cannot release what a client holds
    assert hub.mic_holder == "ana"
    hub.release_mic("ana")
    assert hub.mic_holder == "robot"
    hub.set_default_mic(None)
    assert hub.mic_holder is None
