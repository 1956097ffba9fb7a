"""The ``/rosapi/*`` introspection services (ROS 2 ``rosapi_msgs`` types)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .actions import ActionServer
from .clock import SimClock
from .interfaces import Kind, normalize_type, typedefs
from .services import ServiceRegistry
from .topics import TopicBus

Request = dict[str, Any]


def register_rosapi(
    registry: ServiceRegistry,
    bus: TopicBus,
    actions: Mapping[str, ActionServer],
    clock: SimClock,
    nodes: Sequence[str],
) -> None:
    """Register the rosapi services on ``registry``."""

    def topics(_: Request) -> dict[str, Any]:
        table = bus.topics()
        return {"topics": list(table), "types": list(table.values())}

    def topics_for_type(req: Request) -> dict[str, Any]:
        wanted = normalize_type(req["type"])
        return {"topics": [n for n, t in bus.topics().items() if t == wanted]}

    def topic_type(req: Request) -> dict[str, Any]:
        return {"type": bus.topic_type(req["topic"]) or ""}

    def services(_: Request) -> dict[str, Any]:
        return {"services": list(registry.services())}

    def services_for_type(req: Request) -> dict[str, Any]:
        wanted = normalize_type(req["type"], "srv")
        return {"services": [n for n, t in registry.services().items() if t == wanted]}

    def service_type(req: Request) -> dict[str, Any]:
        return {"type": registry.services().get(req["service"], "")}

    def details(kind: Kind, suffix: str) -> Callable[[Request], dict[str, Any]]:
        def handler(req: Request) -> dict[str, Any]:
            return {"typedefs": typedefs(normalize_type(req["type"], kind) + suffix)}

        return handler

    def get_time(_: Request) -> dict[str, Any]:
        sec, nanosec = clock.ros_time()
        return {"time": {"sec": sec, "nanosec": nanosec}}

    table: dict[str, tuple[str, Callable[[Request], dict[str, Any]]]] = {
        "topics": ("Topics", topics),
        "topics_for_type": ("TopicsForType", topics_for_type),
        "topic_type": ("TopicType", topic_type),
        "services": ("Services", services),
        "services_for_type": ("ServicesForType", services_for_type),
        "service_type": ("ServiceType", service_type),
        "message_details": ("MessageDetails", details("msg", "")),
        "service_request_details": ("ServiceRequestDetails", details("srv", "_Request")),
        "service_response_details": ("ServiceResponseDetails", details("srv", "_Response")),
        "action_goal_details": ("ActionGoalDetails", details("action", "_Goal")),
        "action_result_details": ("ActionResultDetails", details("action", "_Result")),
        "action_feedback_details": ("ActionFeedbackDetails", details("action", "_Feedback")),
        "nodes": ("Nodes", lambda _: {"nodes": list(nodes)}),
        "action_servers": ("GetActionServers", lambda _: {"action_servers": sorted(actions)}),
        "get_time": ("GetTime", get_time),
    }
    for name, (srv_type, handler) in table.items():
        registry.register(f"/rosapi/{name}", f"rosapi_msgs/srv/{srv_type}", handler)
