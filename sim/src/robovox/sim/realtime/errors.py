"""OpenAI-style request errors, and pydantic validation errors translated into them.

The ``openai`` models allow extra fields and use plain (smart) unions, so a
``ValidationError`` lists one error per union member and unknown fields pass.
``api_error_from`` picks the error the real API would name; ``unknown_parameters``
finds the extra fields it would reject.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from robovox.sim.errors import SimError

_TYPE_LABELS = {"str", "int", "float", "bool", "none", "list", "dict", "object", "any"}
_KIND_ERRORS = {"model_type", "model_attributes_type", "dict_type", "is_instance_of", "none_required"}
_EXPECTED = {
    "string": "a string",
    "int": "an integer",
    "float": "a decimal",
    "bool": "a boolean",
    "list": "an array",
    "dict": "an object",
    "model": "an object",
}


class RealtimeApiError(SimError):
    """An error as the Realtime API reports it, over HTTP or as an ``error`` event."""

    def __init__(
        self,
        message: str,
        code: str | None,
        param: str | None = None,
        *,
        type: str = "invalid_request_error",
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.type = type
        self.status = status

    def body(self, event_id: str | None = None) -> dict[str, Any]:
        """The ``error`` object: for an HTTP body ``{"error": body()}``, for an event add ``event_id``."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code, "param": self.param}
        if event_id is not None:
            error["event_id"] = event_id
        return error


def param_path(loc: Sequence[str | int], prefix: str = "") -> str:
    """``("item", "content", 0, "text")`` -> ``"item.content[0].text"``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def describe_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_label(part: str | int) -> bool:
    """Whether a ``loc`` part names a union member rather than a field."""
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in _TYPE_LABELS)


def _label_at(error: ErrorDetails, index: int) -> bool:
    return len(error["loc"]) > index and _is_label(error["loc"][index])


def _fields(loc: Sequence[str | int]) -> list[str | int]:
    return [part for part in loc if not _is_label(part)]


def _rank(error: ErrorDetails) -> int:
    kind = error["type"]
    if kind in ("literal_error", "enum"):
        return 0
    if kind == "missing":
        return 1
    if kind in _KIND_ERRORS:
        return 3
    return 2


def _group_score(errors: list[ErrorDetails], label_at: int) -> tuple[int, int, int]:
    """Lower is better: a member whose own ``type``/``role`` is wrong is not the one the client meant."""
    wrong_kind = any(
        e["type"] == "literal_error" and len(e["loc"]) == label_at + 2 and e["loc"][-1] in ("type", "role")
        for e in errors
    )
    return int(wrong_kind), min(_rank(e) for e in errors), len(errors)


def _best(errors: list[ErrorDetails], start: int = 0) -> ErrorDetails:
    first = errors[0]
    label_at = next((i for i in range(start, len(first["loc"])) if _is_label(first["loc"][i])), None)
    if label_at is None:
        return first
    anchor = first["loc"][:label_at]
    siblings = [e for e in errors if e["loc"][:label_at] == anchor and _label_at(e, label_at)]
    groups = [list(g) for _, g in itertools.groupby(siblings, key=lambda e: e["loc"][label_at])]
    chosen = min(groups, key=lambda g: _group_score(g, label_at))
    return _best(chosen, label_at + 1)


def api_error_from(exc: ValidationError, prefix: str = "") -> RealtimeApiError:
    """The one error the real API would report for this validation failure."""
    error = _best(list(exc.errors()))
    param = param_path(_fields(error["loc"]), prefix)
    kind, value = error["type"], error["input"]
    if kind == "missing":
        return RealtimeApiError(f"Missing required parameter: '{param}'.", "missing_required_parameter", param)
    if kind == "extra_forbidden":
        return RealtimeApiError(f"Unknown parameter: '{param}'.", "unknown_parameter", param)
    if kind in ("literal_error", "enum"):
        expected = (error.get("ctx") or {}).get("expected", "")
        return RealtimeApiError(f"Invalid value: '{value}'. Supported values are: {expected}.", "invalid_value", param)
    base = kind.split("_")[0]
    if kind.endswith(("_type", "_parsing")) or kind in _KIND_ERRORS:
        expected = _EXPECTED.get(base, "an object")
        message = f"Invalid type for '{param}': expected {expected}, but got {describe_type(value)} instead."
        return RealtimeApiError(message, "invalid_type", param)
    return RealtimeApiError(f"Invalid value for '{param}': {error['msg']}.", "invalid_value", param)


def unknown_parameters(model: BaseModel, prefix: str = "") -> Iterator[str]:
    """Paths of fields the model accepted as extras (the real API rejects them)."""
    for key in model.model_extra or {}:
        yield param_path([key], prefix)
    for name in type(model).model_fields:
        yield from _unknown_in(getattr(model, name), param_path([name], prefix))


def _unknown_in(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, BaseModel):
        yield from unknown_parameters(value, path)
    elif isinstance(value, list):
        for index, element in enumerate(value):
            yield from _unknown_in(element, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, element in value.items():
            if isinstance(element, BaseModel):
                yield from unknown_parameters(element, f"{path}.{key}")


def unknown_parameter_error(
    model: BaseModel, prefix: str = "", allowed: frozenset[str] = frozenset()
) -> RealtimeApiError | None:
    for path in unknown_parameters(model, prefix):
        if path not in allowed:
            return RealtimeApiError(f"Unknown parameter: '{path}'.", "unknown_parameter", path)
    return None
