"""Message definitions: parsing ``.msg``-style text, validation and rosapi typedefs.

A ``Registry`` holds the messages, services and actions of one ROS flavour,
keyed by that flavour's type names; its ``lookup`` turns a name given by a
client into a key (or raises ``InterfaceError`` for a name the flavour does
not accept).  Validation follows rosbridge's ``populate_instance``: unknown
fields are rejected, missing fields get defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from robovox.sim.errors import SimError

Kind = Literal["msg", "srv", "action"]

PRIMITIVES: dict[str, Any] = {
    "bool": False,
    "byte": 0,
    "char": 0,
    "int8": 0,
    "uint8": 0,
    "int16": 0,
    "uint16": 0,
    "int32": 0,
    "uint32": 0,
    "int64": 0,
    "uint64": 0,
    "float32": 0.0,
    "float64": 0.0,
    "string": "",
}


class InterfaceError(SimError, ValueError):
    """A type name, message or field does not match the known definitions."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # primitive name or the registry's message type name, without array suffix
    array_len: int = -1  # -1: not an array, 0: unbounded, n: fixed size

    @property
    def is_array(self) -> bool:
        return self.array_len >= 0


@dataclass(frozen=True)
class MessageDef:
    type: str
    fields: tuple[Field, ...]
    constants: tuple[tuple[str, str], ...] = ()


# (package of the definition, field type as written) -> full type name
Qualify = Callable[[str, str], str]
# (name given by a client, kind) -> registry key; raises InterfaceError
Lookup = Callable[[str, Kind], str]


def parse_fields(type_name: str, text: str, qualify: Qualify) -> MessageDef:
    """Parse the fields and constants of one message written in ``.msg`` syntax."""
    package = type_name.split("/")[0]
    fields: list[Field] = []
    constants: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        ftype, rest = line.split(None, 1)
        if "=" in rest:
            cname, cvalue = (s.strip() for s in rest.split("=", 1))
            constants.append((cname, cvalue.strip('"')))
            continue
        array_len = -1
        if ftype.endswith("]"):
            ftype, size = ftype[:-1].split("[", 1)
            array_len = int(size) if size else 0
        if ftype not in PRIMITIVES:
            ftype = qualify(package, ftype)
        fields.append(Field(rest.strip(), ftype, array_len))
    return MessageDef(type_name, tuple(fields), tuple(constants))


@dataclass
class Registry:
    """The interface definitions of one ROS flavour."""

    lookup: Lookup
    qualify: Qualify
    messages: dict[str, MessageDef] = field(default_factory=dict)
    services: dict[str, tuple[MessageDef, MessageDef]] = field(default_factory=dict)
    actions: dict[str, tuple[MessageDef, MessageDef, MessageDef]] = field(default_factory=dict)

    # -------------------------------------------------------------- building
    def add_message(self, name: str, text: str) -> MessageDef:
        definition = parse_fields(name, text, self.qualify)
        self.messages[name] = definition
        return definition

    def add_service(self, name: str, text: str, request: str, response: str) -> None:
        req_text, resp_text = text.split("---")
        self.services[name] = (self.add_message(request, req_text), self.add_message(response, resp_text))

    def add_action(self, name: str, text: str, goal: str, result: str, feedback: str) -> None:
        goal_text, result_text, feedback_text = text.split("---")
        self.actions[name] = (
            self.add_message(goal, goal_text),
            self.add_message(result, result_text),
            self.add_message(feedback, feedback_text),
        )

    # --------------------------------------------------------------- lookups
    def message_def(self, type_name: str) -> MessageDef | None:
        try:
            return self.messages.get(self.lookup(type_name, "msg"))
        except InterfaceError:
            return None

    def service_def(self, type_name: str) -> tuple[MessageDef, MessageDef] | None:
        try:
            return self.services.get(self.lookup(type_name, "srv"))
        except InterfaceError:
            return None

    def action_def(self, type_name: str) -> tuple[MessageDef, MessageDef, MessageDef] | None:
        try:
            return self.actions.get(self.lookup(type_name, "action"))
        except InterfaceError:
            return None

    # ------------------------------------------------------------ validation
    def _check_value(self, field: Field, value: Any, where: str) -> Any:
        if field.type in PRIMITIVES:
            ok: bool
            if field.type == "bool":
                ok = isinstance(value, bool)
            elif field.type == "string":
                ok = isinstance(value, str)
            elif field.type.startswith("float"):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            else:
                ok = isinstance(value, int) and not isinstance(value, bool)
            if not ok:
                raise InterfaceError(
                    f"{where}.{field.name}: expected {field.type}, got {type(value).__name__} {value!r}"
                )
            return float(value) if field.type.startswith("float") else value
        nested = self.messages.get(field.type)
        if nested is None:
            return value
        return self.populate(nested, value, f"{where}.{field.name}")

    def populate(self, definition: MessageDef, values: Any, where: str | None = None) -> dict[str, Any]:
        """Validate ``values`` against ``definition``, filling defaults for missing fields."""
        where = where or definition.type
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise InterfaceError(f"{where}: expected a JSON object, got {type(values).__name__}")
        known = {f.name for f in definition.fields}
        for key in values:
            if key not in known:
                raise InterfaceError(f"Message type {definition.type} does not have a field {key}")
        out: dict[str, Any] = {}
        for f in definition.fields:
            if f.name not in values:
                out[f.name] = self.default_value(f)
                continue
            value = values[f.name]
            if f.is_array:
                if not isinstance(value, list):
                    raise InterfaceError(f"{where}.{f.name}: expected an array")
                scalar = Field(f.name, f.type)
                out[f.name] = [self._check_value(scalar, v, where) for v in value]
            else:
                out[f.name] = self._check_value(f, value, where)
        return out

    def default_value(self, field: Field) -> Any:
        if field.is_array:
            if field.array_len == 0:
                return []
            return [self.default_value(Field(field.name, field.type))] * field.array_len
        if field.type in PRIMITIVES:
            return PRIMITIVES[field.type]
        nested = self.messages.get(field.type)
        return {} if nested is None else {f.name: self.default_value(f) for f in nested.fields}

    # ------------------------------------------------------------- typedefs
    def typedefs(self, type_name: str) -> list[dict[str, Any]]:
        """Typedefs (rosapi ``TypeDef`` dicts) for ``type_name`` and nested types."""
        root = self.messages.get(self.lookup(type_name, "msg"))
        if root is None:
            raise InterfaceError(f"Unknown message type {type_name}")
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        stack = [root]
        while stack:
            d = stack.pop(0)
            if d.type in seen:
                continue
            seen.add(d.type)
            out.append(
                {
                    "type": d.type,
                    "fieldnames": [f.name for f in d.fields],
                    "fieldtypes": [f.type for f in d.fields],
                    "fieldarraylen": [f.array_len for f in d.fields],
                    "examples": [_example(f) for f in d.fields],
                    "constnames": [c[0] for c in d.constants],
                    "constvalues": [c[1] for c in d.constants],
                }
            )
            stack.extend(self.messages[f.type] for f in d.fields if f.type in self.messages)
        return out


def _example(field: Field) -> str:
    if field.is_array:
        return "[]"
    if field.type in PRIMITIVES:
        return str(PRIMITIVES[field.type])
    return "{}"
