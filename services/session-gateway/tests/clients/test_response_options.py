"""A page's ``response.create`` options: each honoured one carried as given, every other refused by name."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.realtime import RealtimeErrorEvent

from robovox.gateway.clients.response_options import response_options
from robovox.gateway.errors import ApiError
from robovox.gateway.realtime.sequencer import REQUEST_METADATA_KEY


def refusal(params: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        response_options(params, REQUEST_METADATA_KEY)
    return caught.value


def test_the_options_a_page_may_send_are_carried_as_given() -> None:
    given = {
        "conversation": "none",
        "output_modalities": ["text"],
        "metadata": {"topic": "battery"},
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "how is the battery?"}]},
            {"type": "item_reference", "id": "item_1"},
        ],
        "instructions": "Answer in one word.",
        "max_output_tokens": 200,
    }
    assert response_options(given, REQUEST_METADATA_KEY) == given
    assert response_options(None, REQUEST_METADATA_KEY) == {}
    assert response_options({"conversation": "auto", "metadata": None}, REQUEST_METADATA_KEY) == {
        "conversation": "auto"
    }


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"tools": []}, "unsupported_parameter", "response.tools"),
        ({"tool_choice": "none"}, "unsupported_parameter", "response.tool_choice"),
        ({"audio": {"output": {"voice": "ash"}}}, "unsupported_parameter", "response.audio"),
        ({"prompt": {"id": "p"}}, "unsupported_parameter", "response.prompt"),
        ({"modalities": ["text"]}, "unknown_parameter", "response.modalities"),
        ({"conversation": "other"}, "invalid_value", "response.conversation"),
        ({"output_modalities": ["audio", "text"]}, "invalid_value", "response.output_modalities"),
        ({"metadata": {REQUEST_METADATA_KEY: "x"}}, "invalid_value", f"response.metadata.{REQUEST_METADATA_KEY}"),
        ({"metadata": {"k": 1}}, "invalid_value", "response.metadata.k"),
        ({"metadata": {str(n): "v" for n in range(16)}}, "invalid_value", "response.metadata"),
        ({"input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]}, "unsupported_parameter",
         "response.input[0].type"),
        ({"input": [{"type": "message", "role": "user", "content": [{"type": "input_audio"}]}]}, "invalid_value",
         "response.input[0].content[0].type"),
        ({"instructions": 3}, "invalid_value", "response.instructions"),
        ({"max_output_tokens": 0}, "invalid_value", "response.max_output_tokens"),
        ("speak", "invalid_value", "response"),
    ],
)  # fmt: skip
def test_every_other_option_is_refused_with_an_error_naming_it(params: Any, code: str, param: str) -> None:
    error = refusal(params)
    assert (error.code.value, error.param) == (code, param)
    event = RealtimeErrorEvent.model_validate(error.event("evt_page_1"))
    assert event.error.param == param and event.error.event_id == "evt_page_1"
