"""ROS interface definitions known to the simulator.

Type names are accepted in ROS 2 form (``std_msgs/msg/Float32``) and ROS 1
form (``std_msgs/Float32``); internally and in every answer the ROS 2 form is
used.  Definitions are written in the ``.msg``/``.srv``/``.action`` text
format and parsed once at import time.  They drive message validation
(unknown fields are rejected, missing fields get defaults, like rosbridge's
``populate_instance``) and the typedefs returned by ``/rosapi/message_details``.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    type: str  # primitive name or ROS 2 message type name, without array suffix
    array_len: int = -1  # -1: not an array, 0: unbounded, n: fixed size

    @property
    def is_array(self) -> bool:
        return self.array_len >= 0


@dataclass(frozen=True)
class MessageDef:
    type: str
    fields: tuple[Field, ...]
    constants: tuple[tuple[str, str], ...] = ()


def normalize_type(name: str, kind: Kind = "msg") -> str:
    """Return the ROS 2 spelling of ``name`` (``pkg/Name`` -> ``pkg/kind/Name``)."""
    parts = [p for p in name.strip().split("/") if p]
    if len(parts) == 2:
        return f"{parts[0]}/{kind}/{parts[1]}"
    if len(parts) == 3:
        return "/".join(parts)
    raise InterfaceError(f"Invalid {kind} type name {name!r}")


def types_equal(a: str, b: str, kind: Kind = "msg") -> bool:
    try:
        return normalize_type(a, kind) == normalize_type(b, kind)
    except InterfaceError:
        return False


def _parse_fields(type_name: str, text: str) -> MessageDef:
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
            ftype = normalize_type(ftype if "/" in ftype else f"{package}/{ftype}")
        fields.append(Field(rest.strip(), ftype, array_len))
    return MessageDef(type_name, tuple(fields), tuple(constants))


_TRIGGER = "---\nbool success\nstring message"

_MSG_TEXT: dict[str, str] = {
    "std_msgs/msg/Float32": "float32 data",
    "std_msgs/msg/Float64": "float64 data",
    "std_msgs/msg/String": "string data",
    "std_msgs/msg/Bool": "bool data",
    "std_msgs/msg/Empty": "",
    "builtin_interfaces/msg/Time": "int32 sec\nuint32 nanosec",
    "cleaning_robot_interfaces/msg/DigitalIO": ("bool camera_led\nbool beacon\nbool brush_motor\nbool vacuum_pump"),
    "rosapi_msgs/msg/TypeDef": (
        "string type\nstring[] fieldnames\nstring[] fieldtypes\nint32[] fieldarraylen\n"
        "string[] examples\nstring[] constnames\nstring[] constvalues"
    ),
}

_SRV_TEXT: dict[str, str] = {
    "std_srvs/srv/Trigger": _TRIGGER,
    "cleaning_robot_interfaces/srv/StartCleaning": (
        'string TURN_LEFT="TurnLeft"\nstring TURN_RIGHT="TurnRight"\nstring option\n' + _TRIGGER
    ),
    "rosapi_msgs/srv/Topics": "---\nstring[] topics\nstring[] types",
    "rosapi_msgs/srv/TopicsForType": "string type\n---\nstring[] topics",
    "rosapi_msgs/srv/TopicType": "string topic\n---\nstring type",
    "rosapi_msgs/srv/Services": "---\nstring[] services",
    "rosapi_msgs/srv/ServicesForType": "string type\n---\nstring[] services",
    "rosapi_msgs/srv/ServiceType": "string service\n---\nstring type",
    "rosapi_msgs/srv/MessageDetails": "string type\n---\nTypeDef[] typedefs",
    "rosapi_msgs/srv/ServiceRequestDetails": "string type\n---\nTypeDef[] typedefs",
    "rosapi_msgs/srv/ServiceResponseDetails": "string type\n---\nTypeDef[] typedefs",
    "rosapi_msgs/srv/ActionGoalDetails": "string type\n---\nTypeDef[] typedefs",
    "rosapi_msgs/srv/ActionResultDetails": "string type\n---\nTypeDef[] typedefs",
    "rosapi_msgs/srv/ActionFeedbackDetails": "string type\n---\nTypeDef[] typedefs",
    "rosapi_msgs/srv/Nodes": "---\nstring[] nodes",
    "rosapi_msgs/srv/GetActionServers": "---\nstring[] action_servers",
    "rosapi_msgs/srv/GetTime": "---\nbuiltin_interfaces/Time time",
}

_ACTION_TEXT: dict[str, str] = {
    "cleaning_robot_interfaces/action/MoveToCorner": (
        "string corner\n---\nbool success\nstring message\n---\nfloat32 distance_remaining"
    ),
}

MESSAGES: dict[str, MessageDef] = {}
SERVICES: dict[str, tuple[MessageDef, MessageDef]] = {}
ACTIONS: dict[str, tuple[MessageDef, MessageDef, MessageDef]] = {}


def _register() -> None:
    for name, text in _MSG_TEXT.items():
        MESSAGES[name] = _parse_fields(name, text)
    for name, text in _SRV_TEXT.items():
        request, response = text.split("---")
        defs = (
            _parse_fields(f"{name}_Request", request),
            _parse_fields(f"{name}_Response", response),
        )
        SERVICES[name] = defs
        for d in defs:
            MESSAGES[d.type] = d
    for name, text in _ACTION_TEXT.items():
        goal, result, feedback = text.split("---")
        adefs = (
            _parse_fields(f"{name}_Goal", goal),
            _parse_fields(f"{name}_Result", result),
            _parse_fields(f"{name}_Feedback", feedback),
        )
        ACTIONS[name] = adefs
        for d in adefs:
            MESSAGES[d.type] = d


_register()


def message_def(type_name: str) -> MessageDef | None:
    try:
        return MESSAGES.get(normalize_type(type_name, "msg"))
    except InterfaceError:
        return None


def _check_value(field: Field, value: Any, where: str) -> Any:
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
            raise InterfaceError(f"{where}.{field.name}: expected {field.type}, got {type(value).__name__} {value!r}")
        return float(value) if field.type.startswith("float") else value
    nested = MESSAGES.get(field.type)
    if nested is None:
        return value
    return populate(nested, value, f"{where}.{field.name}")


def populate(definition: MessageDef, values: Any, where: str | None = None) -> dict[str, Any]:
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
    for field in definition.fields:
        if field.name not in values:
            out[field.name] = default_value(field)
            continue
        value = values[field.name]
        if field.is_array:
            if not isinstance(value, list):
                raise InterfaceError(f"{where}.{field.name}: expected an array")
            scalar = Field(field.name, field.type)
            out[field.name] = [_check_value(scalar, v, where) for v in value]
        else:
            out[field.name] = _check_value(field, value, where)
    return out


def default_value(field: Field) -> Any:
    if field.is_array:
        return [] if field.array_len == 0 else [default_value(Field(field.name, field.type))] * field.array_len
    if field.type in PRIMITIVES:
        return PRIMITIVES[field.type]
    nested = MESSAGES.get(field.type)
    return {} if nested is None else {f.name: default_value(f) for f in nested.fields}


def _example(field: Field) -> str:
    if field.is_array:
        return "[]"
    if field.type in PRIMITIVES:
        return str(PRIMITIVES[field.type])
    return "{}"


def typedefs(type_name: str) -> list[dict[str, Any]]:
    """Typedefs (rosapi ``TypeDef`` dicts) for ``type_name`` and nested types."""
    root = message_def(type_name)
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
        stack.extend(MESSAGES[f.type] for f in d.fields if f.type in MESSAGES)
    return out
