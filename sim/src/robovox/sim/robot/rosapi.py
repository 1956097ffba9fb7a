"""The ``/rosapi/*`` introspection services, as rosapi answers them in each dialect.

ROS 2: ``rosapi_msgs/srv/*`` types, ROS 2 type names, time ``{sec, nanosec}``.
ROS 1: ``rosapi/*`` types, ``pkg/Name`` type names, time ``{secs, nsecs}``, no
``action_*_details``, and the action servers are found from the actionlib
topics (``<name>/goal`` beside ``<name>/result``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .actions import ActionServer
from .clock import SimClock
from .dialect import DialectRules
from .msgdefs import Kind
from .services import ServiceRegistry
from .topics import TopicBus

Request = dict[str, Any]
Handler = Callable[[Request], dict[str, Any]]


def actionlib_servers(topics: Mapping[str, str]) -> list[str]:
    """Names ``n`` with both ``n/goal`` and ``n/result`` among ``topics``."""
    return sorted(
        t[: -len("/goal")] for t in topics if t.endswith("/goal") and t[: -len("/goal")] + "/result" in topics
    )


def register_rosapi(
    registry: ServiceRegistry,
    bus: TopicBus,
    actions: Mapping[str, ActionServer],
    clock: SimClock,
    nodes: Sequence[str],
) -> None:
    """Register the rosapi services on ``registry``, in the dialect of ``registry.rules``."""
    rules: DialectRules = registry.rules

    def topics(_: Request) -> dict[str, Any]:
        table = bus.topics()
        return {"topics": list(table), "types": list(table.values())}

    def topics_for_type(req: Request) -> dict[str, Any]:
        return {"topics": [n for n, t in bus.topics().items() if rules.same_type(req["type"], t)]}

    def topic_type(req: Request) -> dict[str, Any]:
        return {"type": bus.topic_type(req["topic"]) or ""}

    def services(_: Request) -> dict[str, Any]:
        return {"services": list(registry.services())}

    def services_for_type(req: Request) -> dict[str, Any]:
        return {"services": [n for n, t in registry.services().items() if rules.same_type(req["type"], t, "srv")]}

    def service_type(req: Request) -> dict[str, Any]:
        return {"type": registry.services().get(req["service"], "")}

    def message_details(req: Request) -> dict[str, Any]:
        return {"typedefs": rules.registry.typedefs(req["type"])}

    def details(kind: Kind, part: str) -> Handler:
        def handler(req: Request) -> dict[str, Any]:
            return {"typedefs": rules.registry.typedefs(rules.part_type(req["type"], kind, part))}

        return handler

    def action_servers(_: Request) -> dict[str, Any]:
        names = actionlib_servers(bus.topics()) if rules.is_ros1 else sorted(actions)
        return {"action_servers": names}

    def get_time(_: Request) -> dict[str, Any]:
        return {"time": rules.time_msg(*clock.ros_time())}

    def get_ros_version(_: Request) -> dict[str, Any]:
        return {"version": rules.ros_version, "distro": rules.distro}

    table: dict[str, tuple[str, Handler]] = {
        "topics": ("Topics", topics),
        "topics_for_type": ("TopicsForType", topics_for_type),
        "topic_type": ("TopicType", topic_type),
        "services": ("Services", services),
        "services_for_type": ("ServicesForType", services_for_type),
        "service_type": ("ServiceType", service_type),
        "message_details": ("MessageDetails", message_details),
        "service_request_details": ("ServiceRequestDetails", details("srv", "Request")),
        "service_response_details": ("ServiceResponseDetails", details("srv", "Response")),
        "nodes": ("Nodes", lambda _: {"nodes": list(nodes)}),
        "action_servers": ("GetActionServers", action_servers),
        "get_time": ("GetTime", get_time),
        "get_ros_version": ("GetROSVersion", get_ros_version),
    }
    if not rules.is_ros1:
        table["action_goal_details"] = ("ActionGoalDetails", details("action", "Goal"))
        table["action_result_details"] = ("ActionResultDetails", details("action", "Result"))
        table["action_feedback_details"] = ("ActionFeedbackDetails", details("action", "Feedback"))
    for name, (srv_type, handler) in table.items():
        registry.register(f"/rosapi/{name}", rules.rosapi_type(srv_type), handler)
