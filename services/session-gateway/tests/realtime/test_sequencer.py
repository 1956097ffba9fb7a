"""The response sequencer: one response at a time, queued, merged, preempted."""

from __future__ import annotations

import asyncio
from typing import Any

from robovox.gateway.realtime.sequencer import (
    ACTIVE_RESPONSE,
    CANCEL_NOT_ACTIVE,
    REQUEST_METADATA_KEY,
    ResponseRequest,
    ResponseSequencer,
    new_event_id,
)

PERSONA = "You are a friendly cleaning robot."


class Wire:
    """Stands in for the data channel: records what the sequencer sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    def send(self, event: dict[str, Any]) -> str:
        event.setdefault("event_id", new_event_id())
        self.sent.append(event)
        self.changed.set()
        return str(event["event_id"])

    def types(self) -> list[str]:
        return [e["type"] for e in self.sent]

    def creates(self) -> list[dict[str, Any]]:
        return [e for e in self.sent if e["type"] == "response.create"]


def make(timeout_s: float = 30.0) -> tuple[ResponseSequencer, Wire]:
    wire = Wire()
    return ResponseSequencer(wire.send, PERSONA, timeout_s), wire


def created(seq: ResponseSequencer, wire: Wire, response_id: str) -> None:
    """The server answers the newest response.create."""
    event_id = wire.creates()[-1]["event_id"]
    seq.on_response_created(response_id, {REQUEST_METADATA_KEY: event_id})


async def test_a_request_with_nothing_active_goes_out_at_once_tagged_with_its_event_id() -> None:
    seq, wire = make()
    seq.request(ResponseRequest("Respond to the function call output."))
    (create,) = wire.creates()
    assert create["response"]["metadata"] == {REQUEST_METADATA_KEY: create["event_id"]}
    assert create["response"]["instructions"] == f"{PERSONA}\n\nRespond to the function call output."
    assert not seq.idle.is_set()


async def test_a_request_without_instructions_keeps_the_session_instructions() -> None:
    seq, wire = make()
    seq.request(ResponseRequest())
    assert "instructions" not in wire.creates()[0]["response"]


async def test_requests_during_a_response_wait_for_its_done_and_are_merged_into_one() -> None:
    seq, wire = make()
    seq.request(ResponseRequest())
    created(seq, wire, "resp_1")
    seq.request(ResponseRequest("Say the battery voltage."))
    seq.request(ResponseRequest("Say that you arrived."))
    seq.request(ResponseRequest("Say that you arrived."))
    assert len(wire.creates()) == 1
    seq.on_response_done("resp_1")
    assert len(wire.creates()) == 2
    assert wire.creates()[1]["response"]["instructions"] == (
        f"{PERSONA}\n\nSay the battery voltage.\n\nSay that you arrived."
    )
    created(seq, wire, "resp_2")
    seq.on_response_done("resp_2")
    assert seq.idle.is_set()


async def test_a_collision_puts_the_request_back_and_sends_it_after_the_other_response() -> None:
    seq, wire = make()
    seq.request(ResponseRequest("First."))
    # The server started a response of its own (voice activity) before ours arrived.
    seq.on_response_created("resp_vad", None)
    handled = seq.on_error(ACTIVE_RESPONSE, wire.creates()[0]["event_id"])
    assert handled and seq.collisions == 1
    assert len(wire.creates()) == 1
    seq.on_response_done("resp_vad")
    assert len(wire.creates()) == 2
    assert wire.creates()[1]["response"]["instructions"].endswith("First.")


async def test_a_collision_for_a_response_never_announced_still_waits_for_a_done() -> None:
    seq, wire = make()
    seq.request(ResponseRequest())
    seq.on_error(ACTIVE_RESPONSE, wire.creates()[0]["event_id"])
    assert seq.busy and len(wire.creates()) == 1
    seq.on_response_done("resp_other")
    assert len(wire.creates()) == 2


async def test_an_urgent_request_cancels_the_active_response_clears_audio_and_goes_first() -> None:
    seq, wire = make()
    seq.request(ResponseRequest())
    created(seq, wire, "resp_1")
    seq.request(ResponseRequest("Normal follow-up."))
    seq.preempt()
    seq.request(ResponseRequest("CRITICAL WARNING!", urgent=True))
    assert wire.types()[-2:] == ["response.cancel", "output_audio_buffer.clear"]
    assert wire.sent[-2]["response_id"] == "resp_1"
    seq.on_response_done("resp_1")
    assert wire.creates()[-1]["response"]["instructions"].endswith("CRITICAL WARNING!")
    created(seq, wire, "resp_2")
    seq.on_response_done("resp_2")
    assert wire.creates()[-1]["response"]["instructions"].endswith("Normal follow-up.")
    assert seq.preemptions == 1


async def test_preempting_with_nothing_active_sends_nothing() -> None:
    seq, wire = make()
    seq.preempt()
    assert wire.sent == []


async def test_cancel_not_active_errors_are_absorbed_and_other_errors_are_not_claimed() -> None:
    seq, _wire = make()
    assert seq.on_error(CANCEL_NOT_ACTIVE, "rv_x")
    assert not seq.on_error("invalid_value", "rv_unknown")


async def test_a_refused_create_is_dropped_and_the_queue_moves_on() -> None:
    seq, wire = make()
    seq.request(ResponseRequest("A"))
    seq.on_error("invalid_value", wire.creates()[0]["event_id"])
    assert seq.idle.is_set()


async def test_a_lost_response_done_is_given_up_after_the_timeout() -> None:
    seq, wire = make(timeout_s=0.05)
    seq.request(ResponseRequest())
    created(seq, wire, "resp_lost")
    seq.request(ResponseRequest("Next."))
    wire.changed.clear()
    await asyncio.wait_for(wire.changed.wait(), 2)
    assert wire.creates()[1]["response"]["instructions"].endswith("Next.")


async def test_pending_requests_move_to_the_next_session() -> None:
    seq, _wire = make()
    seq.request(ResponseRequest("Sent."))
    seq.request(ResponseRequest("Queued."))
    pending = seq.take_pending()
    assert [r.instructions for r in pending] == ["Sent.", "Queued."]
    assert seq.idle.is_set() and not seq.busy


async def test_an_out_of_band_request_goes_at_once_beside_the_active_response_and_leaves_it_alone() -> None:
    seq, wire = make()
    seq.request(ResponseRequest())
    created(seq, wire, "resp_main")
    options = {"conversation": "none", "output_modalities": ["text"], "metadata": {"topic": "battery"}}
    seq.request(ResponseRequest("Answer in one word.", source="operator:op", options=options))
    main, side = wire.creates()
    assert side["response"]["conversation"] == "none" and side["response"]["output_modalities"] == ["text"]
    assert side["response"]["tool_choice"] == "none"  # never the robot's tools out of the conversation
    assert "tool_choice" not in main["response"]
    assert side["response"]["metadata"] == {"topic": "battery", REQUEST_METADATA_KEY: side["event_id"]}
    assert side["response"]["instructions"] == f"{PERSONA}\n\nAnswer in one word."
    seq.on_response_created("resp_side", side["response"]["metadata"])
    seq.on_response_done("resp_side")
    assert seq.busy  # the robot's own response is still the active one
    seq.on_response_done("resp_main")
    assert not seq.busy and seq.idle.is_set()
    assert main["response"]["metadata"] == {REQUEST_METADATA_KEY: main["event_id"]}


async def test_a_request_with_options_is_never_merged_with_others() -> None:
    seq, wire = make()
    seq.request(ResponseRequest())
    created(seq, wire, "resp_1")
    seq.request(ResponseRequest("one"))
    seq.request(ResponseRequest(source="operator:op", options={"output_modalities": ["text"]}))
    seq.request(ResponseRequest("two"))
    seq.on_response_done("resp_1")
    assert "output_modalities" not in wire.creates()[-1]["response"]
    created(seq, wire, "resp_2")
    seq.on_response_done("resp_2")
    assert wire.creates()[-1]["response"]["output_modalities"] == ["text"]
    created(seq, wire, "resp_3")
    seq.on_response_done("resp_3")
    assert wire.creates()[-1]["response"]["instructions"] == f"{PERSONA}\n\ntwo"
    assert len(wire.creates()) == 4


async def test_a_refused_out_of_band_request_is_dropped_and_concerns_the_sequencer() -> None:
    seq, wire = make()
    seq.request(ResponseRequest(options={"conversation": "none"}))
    (create,) = wire.creates()
    assert seq.on_error("invalid_value", create["event_id"])
    assert seq.take_pending() == []


async def test_a_clients_own_request_keeps_its_event_id_until_created_or_refused() -> None:
    seq, wire = make()
    seq.request(ResponseRequest(source="operator:op", options={"conversation": "none"}, client_event_id="evt_p"))
    seq.request(ResponseRequest(source="operator:op", options={"output_modalities": ["text"]}, client_event_id="evt_q"))
    side, main = wire.creates()
    assert seq.client_event_ids == {side["event_id"]: "evt_p", main["event_id"]: "evt_q"}
    seq.on_error("invalid_value", side["event_id"])
    seq.on_response_created("resp_1", main["response"]["metadata"])
    assert seq.client_event_ids == {}
