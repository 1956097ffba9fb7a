"""A page's ``response.create`` options, honoured or refused by name, never silently changed.

Honoured (carried to the provider in the robot's response sequencer):

- ``conversation``: ``"auto"`` or ``"none"`` (out of band: the response is not
  written to the conversation and runs beside the robot's own responses; it never
  calls the robot's tools, ``tool_choice: "none"``);
- ``output_modalities``: ``["audio"]`` or ``["text"]``;
- ``metadata``: up to 15 string pairs, echoed back on the page's own
  ``response.created`` / ``response.done`` (the gateway's own key is taken out
  before any client sees them);
- ``input``: the items the response uses instead of the conversation, messages
  (``input_text`` / ``output_text`` / ``text`` parts) and ``item_reference``s;
- ``instructions``: added to the robot's persona for that response (they never
  replace it: the robot keeps its language, manner and safety rules);
- ``max_output_tokens``.

Refused with an ``error`` naming the parameter: ``tools``, ``tool_choice``
(the robot's tools are the gateway's), ``audio`` (its voice is the profile's),
``prompt``, and any parameter the Realtime API does not define.
"""

from __future__ import annotations

from typing import Any, Final

from robovox.gateway.errors import ApiError, ApiErrorCode

HONOURED: Final = frozenset(
    {"conversation", "output_modalities", "metadata", "input", "instructions", "max_output_tokens"}
)
REFUSED: Final = {
    "tools": "the robot's tools are the gateway's",
    "tool_choice": "the robot's tools are the gateway's",
    "audio": "the robot's voice and audio format are its profile's",
    "prompt": "the robot's instructions are its profile's",
}
MAX_METADATA_PAIRS: Final = 15
"""OpenAI's 16, less the one the gateway uses to match its requests."""
MAX_INSTRUCTIONS: Final = 4000
INPUT_PART_TYPES: Final = frozenset({"input_text", "output_text", "text"})
INPUT_ROLES: Final = frozenset({"user", "assistant", "system"})


def _invalid(message: str, param: str) -> ApiError:
    return ApiError(ApiErrorCode.INVALID_VALUE, message, param)


def response_options(params: Any, reserved_metadata_key: str) -> dict[str, Any]:
    """The page's ``response`` object checked; what is carried to the provider. Raises ApiError."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise _invalid("response must be an object", "response")
    options: dict[str, Any] = {}
    for key, value in params.items():
        param = f"response.{key}"
        if key in REFUSED:
            raise ApiError(
                ApiErrorCode.UNSUPPORTED_PARAMETER, f"{param} is not accepted from clients: {REFUSED[key]}", param
            )
        if key not in HONOURED:
            raise ApiError(ApiErrorCode.UNKNOWN_PARAMETER, f"Unknown parameter: '{param}'.", param)
        if value is None:
            continue
        options[key] = _checked(key, value, param, reserved_metadata_key)
    return options


def _checked(key: str, value: Any, param: str, reserved_metadata_key: str) -> Any:
    if key == "conversation":
        if value not in ("auto", "none"):
            raise _invalid(f"Invalid value: {value!r}. Supported values are: 'auto' and 'none'.", param)
        return value
    if key == "output_modalities":
        if value not in (["audio"], ["text"]):
            raise _invalid("output_modalities is ['audio'] or ['text']", param)
        return list(value)
    if key == "metadata":
        return _metadata(value, param, reserved_metadata_key)
    if key == "input":
        return _input(value, param)
    if key == "instructions":
        if not isinstance(value, str) or len(value) > MAX_INSTRUCTIONS:
            raise _invalid(f"instructions are a string of at most {MAX_INSTRUCTIONS} characters", param)
        return value
    # max_output_tokens
    if value != "inf" and not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4096):
        raise _invalid("max_output_tokens is an integer from 1 to 4096, or 'inf'", param)
    return value


def _metadata(value: Any, param: str, reserved_key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _invalid("metadata is an object of string values", param)
    if len(value) > MAX_METADATA_PAIRS:
        raise _invalid(f"metadata has at most {MAX_METADATA_PAIRS} pairs here (the gateway uses one)", param)
    for name, text in value.items():
        if name == reserved_key:
            raise _invalid(f"the metadata key {reserved_key!r} is the gateway's", f"{param}.{name}")
        if not isinstance(text, str) or len(name) > 64 or len(text) > 512:
            raise _invalid("metadata keys are up to 64 characters, values strings up to 512", f"{param}.{name}")
    return dict(value)


def _input(value: Any, param: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _invalid("input is a list of items", param)
    for index, item in enumerate(value):
        where = f"{param}[{index}]"
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "item_reference":
            if not isinstance(item.get("id"), str):
                raise _invalid("an item_reference needs an id", f"{where}.id")
        elif kind == "message":
            if item.get("role") not in INPUT_ROLES:
                raise _invalid("a message's role is user, assistant or system", f"{where}.role")
            parts = item.get("content")
            if not isinstance(parts, list) or not parts:
                raise _invalid("a message needs content", f"{where}.content")
            for number, part in enumerate(parts):
                if not isinstance(part, dict) or part.get("type") not in INPUT_PART_TYPES:
                    raise _invalid("content parts here are text only", f"{where}.content[{number}].type")
                if not isinstance(part.get("text"), str):
                    raise _invalid("a text part needs text", f"{where}.content[{number}].text")
        else:
            message = "clients may give messages and item references as input (no function calls or audio)"
            raise ApiError(ApiErrorCode.UNSUPPORTED_PARAMETER, message, f"{where}.type")
    return value
