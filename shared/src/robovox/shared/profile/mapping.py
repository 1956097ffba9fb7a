"""Argument mapping: fill a ROS request template with the model's arguments,
and read fields out of ROS messages by dotted path."""

from __future__ import annotations

import re
from typing import Any

_WHOLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_PART = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Missing:
    pass


MISSING: Any = _Missing()


def fill_template(template: Any, arguments: dict[str, Any]) -> Any:
    """Replace ``"{name}"`` with the argument's value (keeping its JSON type) and
    ``"text {name}"`` with text. A key whose whole value names an argument that
    was not given is left out, so optional arguments stay optional."""
    if isinstance(template, dict):
        filled = {key: fill_template(value, arguments) for key, value in template.items()}
        return {key: value for key, value in filled.items() if value is not MISSING}
    if isinstance(template, list):
        return [v for v in (fill_template(item, arguments) for item in template) if v is not MISSING]
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole:
            return arguments.get(whole.group(1), MISSING)
        return _PART.sub(lambda m: str(arguments.get(m.group(1), "")), template)
    return template


def template_arguments(template: Any) -> set[str]:
    """The argument names a template refers to."""
    if isinstance(template, dict):
        return set().union(*(template_arguments(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(template_arguments(v) for v in template)) if template else set()
    if isinstance(template, str):
        return set(_PART.findall(template))
    return set()


def read_field(message: Any, path: str) -> Any:
    """``read_field({"a": {"b": 2}}, "a.b") == 2``; MISSING when the path is absent."""
    value = message
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def as_number(value: Any) -> float | None:
    """The value as a float if it is a JSON number (booleans are not), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
