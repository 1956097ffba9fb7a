"""ROS 1 (Noetic) interface definitions: type names are ``pkg/Name`` only.

The robot's messages, services and action share their fields with the ROS 2
ones (``interfaces.ROBOT_*``).  ROS 1 has what ROS 2 does not: the ``time``
and ``duration`` builtins (``{secs, nsecs}``), ``std_msgs/Header`` with a
``seq``, ``actionlib_msgs`` and the ``<Action>ActionGoal``/``ActionResult``/
``ActionFeedback`` messages an actionlib server exchanges on its topics.
Services' parts are ``<Srv>Request``/``<Srv>Response`` as genmsg names them.
"""

from __future__ import annotations

from .interfaces import ROBOT_ACTION_TEXT, ROBOT_MSG_TEXT, ROBOT_SRV_TEXT, ROSAPI_SRV_TEXT
from .msgdefs import InterfaceError, Kind, Registry

BUILTINS = ("time", "duration")


def check_ros1(name: str, kind: Kind = "msg") -> str:
    """``name`` if ROS 1 accepts it (``pkg/Name``); rosbridge's ``InvalidTypeStringException`` otherwise."""
    parts = [p for p in name.split("/") if p]
    if len(parts) != 2:
        raise InterfaceError(f"{name} is not a valid type string")
    return "/".join(parts)


def ros1_name(name: str) -> str:
    """The ROS 1 spelling of a type name given in either form (``pkg/msg/Name`` -> ``pkg/Name``)."""
    parts = [p for p in name.strip().split("/") if p]
    if len(parts) == 3:
        return f"{parts[0]}/{parts[2]}"
    return check_ros1(name)


def _qualify(package: str, ftype: str) -> str:
    if ftype in BUILTINS:
        return ftype
    if ftype == "Header":
        return "std_msgs/Header"
    return ros1_name(ftype) if "/" in ftype else f"{package}/{ftype}"


def _status_constants() -> str:
    names = ["PENDING", "ACTIVE", "PREEMPTED", "SUCCEEDED", "ABORTED", "REJECTED"]
    names += ["PREEMPTING", "RECALLING", "RECALLED", "LOST"]
    return "\n".join(f"uint8 {name}={value}" for value, name in enumerate(names))


_MSG_TEXT: dict[str, str] = {
    "time": "int32 secs\nint32 nsecs",
    "duration": "int32 secs\nint32 nsecs",
    "std_msgs/Header": "uint32 seq\ntime stamp\nstring frame_id",
    "actionlib_msgs/GoalID": "time stamp\nstring id",
    "actionlib_msgs/GoalStatus": f"GoalID goal_id\nuint8 status\n{_status_constants()}\nstring text",
    "actionlib_msgs/GoalStatusArray": "Header header\nGoalStatus[] status_list",
    "rosapi/TypeDef": (
        "string type\nstring[] fieldnames\nstring[] fieldtypes\nint32[] fieldarraylen\n"
        "string[] examples\nstring[] constnames\nstring[] constvalues"
    ),
}

ROS1 = Registry(check_ros1, _qualify)


def actionlib_types(action: str) -> dict[str, str]:
    """Topic suffix -> ROS 1 message type of the actionlib topics of ``action`` (ROS 1 name)."""
    return {
        "goal": f"{action}ActionGoal",
        "cancel": "actionlib_msgs/GoalID",
        "status": "actionlib_msgs/GoalStatusArray",
        "feedback": f"{action}ActionFeedback",
        "result": f"{action}ActionResult",
    }


def _add_actionlib_messages(action: str) -> None:
    short = action.split("/")[1]
    ROS1.add_message(f"{action}ActionGoal", f"Header header\nactionlib_msgs/GoalID goal_id\n{short}Goal goal")
    for part in ("Result", "Feedback"):
        ROS1.add_message(
            f"{action}Action{part}", f"Header header\nactionlib_msgs/GoalStatus status\n{short}{part} {part.lower()}"
        )
    ROS1.add_message(
        f"{action}Action",
        f"{short}ActionGoal action_goal\n{short}ActionResult action_result\n{short}ActionFeedback action_feedback",
    )


def _register() -> None:
    for name, text in _MSG_TEXT.items():
        ROS1.add_message(name, text)
    for name, text in ROBOT_MSG_TEXT.items():
        ROS1.add_message(ros1_name(name), text)
    for name, text in ROBOT_SRV_TEXT.items():
        short = ros1_name(name)
        ROS1.add_service(short, text, f"{short}Request", f"{short}Response")
    for name, text in ROSAPI_SRV_TEXT.items():
        short = f"rosapi/{name.rsplit('/', 1)[1]}"
        if short.startswith("rosapi/Action"):
            continue  # ROS 2 only
        ROS1.add_service(short, text.replace("builtin_interfaces/Time", "time"), f"{short}Request", f"{short}Response")
    for name, text in ROBOT_ACTION_TEXT.items():
        short = ros1_name(name)
        ROS1.add_action(short, text, f"{short}Goal", f"{short}Result", f"{short}Feedback")
        _add_actionlib_messages(short)


_register()
