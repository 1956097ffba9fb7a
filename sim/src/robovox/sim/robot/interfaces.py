"""ROS 2 interface definitions known to the simulator.

Type names are accepted in ROS 2 form (``std_msgs/msg/Float32``) and ROS 1
form (``std_msgs/Float32``); internally and in every answer the ROS 2 form is
used.  Definitions are written in the ``.msg``/``.srv``/``.action`` text
format and parsed once at import time.  They drive message validation
(unknown fields are rejected, missing fields get defaults, like rosbridge's
``populate_instance``) and the typedefs returned by ``/rosapi/message_details``.
The robot's own definitions (``ROBOT_*``) also make the ROS 1 flavour
(``ros1_interfaces``).
"""

from __future__ import annotations

from typing import Any

from .msgdefs import Field, InterfaceError, Kind, MessageDef, Registry

__all__ = [
    "ACTIONS",
    "MESSAGES",
    "ROS2",
    "SERVICES",
    "Field",
    "InterfaceError",
    "Kind",
    "MessageDef",
    "message_def",
    "normalize_type",
    "populate",
    "typedefs",
    "types_equal",
]


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


def _qualify(package: str, ftype: str) -> str:
    return normalize_type(ftype if "/" in ftype else f"{package}/{ftype}")


_TRIGGER = "---\nbool success\nstring message"

ROBOT_MSG_TEXT: dict[str, str] = {
    "std_msgs/msg/Float32": "float32 data",
    "std_msgs/msg/Float64": "float64 data",
    "std_msgs/msg/String": "string data",
    "std_msgs/msg/Bool": "bool data",
    "std_msgs/msg/Empty": "",
    "cleaning_robot_interfaces/msg/DigitalIO": ("bool camera_led\nbool beacon\nbool brush_motor\nbool vacuum_pump"),
}

_MSG_TEXT: dict[str, str] = {
    "builtin_interfaces/msg/Time": "int32 sec\nuint32 nanosec",
    "rosapi_msgs/msg/TypeDef": (
        "string type\nstring[] fieldnames\nstring[] fieldtypes\nint32[] fieldarraylen\n"
        "string[] examples\nstring[] constnames\nstring[] constvalues"
    ),
}

ROBOT_SRV_TEXT: dict[str, str] = {
    "std_srvs/srv/Trigger": _TRIGGER,
    "cleaning_robot_interfaces/srv/StartCleaning": (
        'string TURN_LEFT="TurnLeft"\nstring TURN_RIGHT="TurnRight"\nstring option\n' + _TRIGGER
    ),
}

ROSAPI_SRV_TEXT: dict[str, str] = {
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
    "rosapi_msgs/srv/GetROSVersion": "---\nuint8 version\nstring distro",
}

ROBOT_ACTION_TEXT: dict[str, str] = {
    "cleaning_robot_interfaces/action/MoveToCorner": (
        "string corner\n---\nbool success\nstring message\n---\nfloat32 distance_remaining"
    ),
}

ROS2 = Registry(normalize_type, _qualify)
MESSAGES = ROS2.messages
SERVICES = ROS2.services
ACTIONS = ROS2.actions


def _register() -> None:
    for name, text in {**ROBOT_MSG_TEXT, **_MSG_TEXT}.items():
        ROS2.add_message(name, text)
    for name, text in {**ROBOT_SRV_TEXT, **ROSAPI_SRV_TEXT}.items():
        ROS2.add_service(name, text, f"{name}_Request", f"{name}_Response")
    for name, text in ROBOT_ACTION_TEXT.items():
        ROS2.add_action(name, text, f"{name}_Goal", f"{name}_Result", f"{name}_Feedback")


_register()


def message_def(type_name: str) -> MessageDef | None:
    return ROS2.message_def(type_name)


def populate(definition: MessageDef, values: Any, where: str | None = None) -> dict[str, Any]:
    """Validate ``values`` against ``definition`` (ROS 2 types), filling defaults for missing fields."""
    return ROS2.populate(definition, values, where)


def default_value(field: Field) -> Any:
    return ROS2.default_value(field)


def typedefs(type_name: str) -> list[dict[str, Any]]:
    """Typedefs (rosapi ``TypeDef`` dicts) for ``type_name`` and nested types."""
    return ROS2.typedefs(type_name)
