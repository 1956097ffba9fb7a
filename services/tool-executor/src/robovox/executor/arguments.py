"""Parse and validate a call's arguments against its tool's JSON schema, with a
sentence the model can speak and act on for every way they can be wrong."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from robovox.executor.verdict import Rejection, RejectionReason
from robovox.shared.limits import Limits, cut_text, json_nesting_depth, preview
from robovox.shared.profile import Tool

_TYPE_NAMES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


# When one value breaks several rules, the most basic one is the one worth saying.
_PRIORITY = {name: rank for rank, name in enumerate(["required", "additionalProperties", "type", "enum"])}


def example_arguments(tool: Tool) -> str:
    """A valid-looking example, for telling the model what to send."""
    example: dict[str, Any] = {}
    for name, spec in tool.parameters.get("properties", {}).items():
        if name not in tool.parameters.get("required", []):
            continue
        if "enum" in spec:
            example[name] = spec["enum"][0]
        else:
            example[name] = {"string": "...", "integer": 1, "number": 1.0, "boolean": True}.get(spec.get("type"), "...")
    return json.dumps(example)


def _options(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return " (one of " + ", ".join(str(v) for v in spec["enum"]) + ")"
    return ""


def _sentence(tool: Tool, error: ValidationError) -> tuple[RejectionReason, str]:
    props: dict[str, Any] = tool.parameters.get("properties", {})
    path = ".".join(str(p) for p in error.absolute_path)
    arg = f'Argument "{path}" of {tool.name}'
    instance: Any = error.instance
    expected: Any = error.validator_value
    got = preview(instance)
    match error.validator:
        case "required":
            missing = next((name for name in expected if name not in instance), "")
            return RejectionReason.MISSING_ARGUMENT, (
                f'{tool.name} needs the argument "{missing}"{_options(props.get(missing, {}))}. '
                "Ask the user for it, then call again."
            )
        case "additionalProperties":
            extra = sorted(set(instance) - set(props))
            takes = ", ".join(props) or "no arguments"
            return RejectionReason.UNEXPECTED_ARGUMENT, (
                f"{tool.name} does not take {cut_text(', '.join(repr(e) for e in extra), 200)}; it takes: {takes}. "
                "Call it again without them."
            )
        case "enum":
            allowed = ", ".join(str(v) for v in expected)
            return RejectionReason.NOT_AN_OPTION, (
                f"{arg} must be one of {allowed}; got {got}. Ask the user which one they mean."
            )
        case "type":
            wanted = _TYPE_NAMES.get(str(expected), str(expected))
            return RejectionReason.WRONG_TYPE, f"{arg} must be {wanted}, not {got}. Call it again with a valid value."
        case "minimum" | "exclusiveMinimum" | "maximum" | "exclusiveMaximum":
            bound = {
                "minimum": "at least",
                "exclusiveMinimum": "more than",
                "maximum": "at most",
                "exclusiveMaximum": "less than",
            }[str(error.validator)]
            return RejectionReason.OUT_OF_RANGE, (
                f"{arg} must be {bound} {expected}; got {got}. Tell the user the allowed range."
            )
        case _:
            where = f"{arg}" if path else f"The arguments of {tool.name}"
            return (
                RejectionReason.INVALID_ARGUMENTS,
                f"{where} are not valid: {cut_text(error.message, 200)}. Call it again correctly.",
            )


def _too_long(value: Any, limit: int, path: str = "") -> tuple[str, int] | None:
    """The path and length of the first string (value or key) longer than ``limit``, if any."""
    if isinstance(value, str):
        return (path, len(value)) if len(value) > limit else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if len(key) > limit:
                return (cut_text(where, 60), len(key))
            if (found := _too_long(item, limit, where)) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _too_long(item, limit, f"{path}.{index}" if path else str(index))) is not None:
                return found
    return None


def _over_limits(tool: Tool, text: str, limits: Limits) -> Rejection | None:
    """Checks that cost one pass over the text and no recursion, made before the text is parsed."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > limits.arguments_bytes:
        return Rejection(
            RejectionReason.ARGUMENTS_TOO_LARGE,
            f"The arguments for {tool.name} are {size} bytes long; RoboVox takes at most {limits.arguments_bytes}. "
            f"Nothing was sent to the robot. Call {tool.name} again with only what it needs, such as "
            f"{example_arguments(tool)}.",
        )
    if json_nesting_depth(text, limits.arguments_depth) > limits.arguments_depth:
        return Rejection(
            RejectionReason.ARGUMENTS_TOO_DEEP,
            f"The arguments for {tool.name} are nested more than {limits.arguments_depth} levels deep. "
            f"Nothing was sent to the robot. Call {tool.name} again with a flat JSON object such as "
            f"{example_arguments(tool)}.",
        )
    return None


def parse_arguments(
    tool: Tool, raw: str, limits: Limits, validator: Draft202012Validator | None = None
) -> dict[str, Any] | Rejection:
    """The arguments as a dict, or the Rejection that says what is wrong with them. ``validator``:
    the tool's schema compiled once (it is compiled here when not given)."""
    text = raw.strip() or "{}"
    if (rejection := _over_limits(tool, text, limits)) is not None:
        return rejection
    try:
        arguments = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" ({exc.msg} at character {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        return Rejection(
            RejectionReason.INVALID_JSON,
            f"The arguments for {tool.name} were not valid JSON{where}. "
            f"Call {tool.name} again with a JSON object such as {example_arguments(tool)}.",
        )
    if not isinstance(arguments, dict):
        return Rejection(
            RejectionReason.INVALID_JSON,
            f"The arguments for {tool.name} must be a JSON object such as {example_arguments(tool)}, "
            f"not {type(arguments).__name__}.",
        )
    if (long := _too_long(arguments, limits.argument_chars)) is not None:
        path, length = long
        return Rejection(
            RejectionReason.VALUE_TOO_LONG,
            f'Argument "{path}" of {tool.name} is {length} characters long; RoboVox takes at most '
            f"{limits.argument_chars}. Nothing was sent to the robot. Call it again with a shorter value.",
        )
    validator = validator or Draft202012Validator(tool.parameters)
    errors = sorted(
        validator.iter_errors(arguments),
        key=lambda e: (len(e.absolute_path), _PRIORITY.get(str(e.validator), len(_PRIORITY))),
    )
    if errors:
        reason, sentence = _sentence(tool, errors[0])
        return Rejection(reason, sentence)
    return arguments
