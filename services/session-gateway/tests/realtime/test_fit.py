"""Client events cut to the provider's largest data-channel message."""

from __future__ import annotations

import pytest

from robovox.gateway.realtime.fit import MessageTooLargeError, encoded, fit_event

LIMIT = 262_144


def output_event(text: str) -> dict[str, object]:
    return {
        "type": "conversation.item.create",
        "event_id": "rv_1",
        "item": {"type": "function_call_output", "call_id": "call_abc", "output": text},
    }


def test_an_output_over_the_limit_is_cut_with_a_note_and_keeps_its_call_id() -> None:
    event = output_event("é" * 300_000)  # two bytes each: 600 kB
    fitted, text = fit_event(event, LIMIT)
    assert len(text.encode()) <= LIMIT and text == encoded(fitted)
    item = fitted["item"]
    assert isinstance(item, dict) and item["call_id"] == "call_abc"
    assert item["output"].startswith("éé") and item["output"].endswith("more characters]")
    assert len(text.encode()) > LIMIT - 1000, "as much of the text as fits is kept"
    assert len(event["item"]["output"]) == 300_000, "the original is left alone"  # type: ignore[index]


def test_an_event_that_fits_is_sent_as_it_is() -> None:
    event = output_event("short")
    assert fit_event(event, LIMIT) == (event, encoded(event))


def test_several_long_texts_are_cut_longest_first_until_the_event_fits() -> None:
    event = {
        "type": "response.create",
        "response": {"instructions": "a" * 200_000, "metadata": {"robovox_request": "rv_2"}},
        "item": {"content": [{"type": "input_text", "text": "b" * 150_000}]},
    }
    fitted, text = fit_event(event, 100_000)
    assert len(text.encode()) <= 100_000
    assert fitted["response"]["metadata"] == {"robovox_request": "rv_2"}


def test_an_event_without_text_to_cut_is_refused() -> None:
    with pytest.raises(MessageTooLargeError, match="over the data channel's 1000-byte message limit"):
        fit_event({"type": "conversation.item.delete", "item_id": "x" * 5000}, 1000)
