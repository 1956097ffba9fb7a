"""Service registry and the switchable failure modes applied to service calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from robovox.sim.errors import SimError

from .dialect import ROS2_RULES, DialectRules
from .interfaces import InterfaceError, types_equal

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ServiceError(SimError):
    """A service call failed; the message is sent to the client as ``values``."""


@dataclass
class Failures:
    """Failure modes, switchable at any time.

    ``service_error[name] = "msg"``: calls of ``name`` answer ``result: false``
    with ``"msg"`` (the handler is not run).  ``slow_service[name] = seconds``:
    real seconds to wait before handling the call.
    """

    service_error: dict[str, str] = field(default_factory=dict)
    slow_service: dict[str, float] = field(default_factory=dict)

    def clear(self) -> None:
        self.service_error.clear()
        self.slow_service.clear()


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    type: str
    handler: Handler


class ServiceRegistry:
    """The services of the ROS graph; types are kept as the dialect spells them."""

    def __init__(self, failures: Failures, rules: DialectRules = ROS2_RULES) -> None:
        self.failures = failures
        self.rules = rules
        self._entries: dict[str, ServiceEntry] = {}

    def register(self, name: str, type_: str, handler: Handler) -> None:
        """Register ``name``; ``type_`` may be written ROS 2 style in either dialect."""
        self._entries[name] = ServiceEntry(name, self.rules.native(type_, "srv"), handler)

    def services(self) -> dict[str, str]:
        """Service name -> type, sorted by name."""
        return {name: self._entries[name].type for name in sorted(self._entries)}

    def delay_for(self, name: str) -> float:
        return max(0.0, float(self.failures.slow_service.get(name, 0.0)))

    def call(self, name: str, args: Any, type_: Any = None) -> dict[str, Any]:
        """Run the service synchronously; raises ``ServiceError`` on any failure.

        ``type_`` is checked against the service's type on ROS 2 and ignored on ROS 1.
        """
        error = self.failures.service_error.get(name)
        if error is not None:
            raise ServiceError(error)
        entry = self._entries.get(name)
        if entry is None:
            raise ServiceError(self.rules.unknown_service(name))
        if (
            self.rules.checks_service_type
            and type_
            and (not isinstance(type_, str) or not types_equal(type_, entry.type, "srv"))
        ):
            raise ServiceError(f"Requested type {type_!r} does not match type {entry.type} of service {name}")
        definition = self.rules.registry.service_def(entry.type)
        try:
            if definition is None:
                request = args if isinstance(args, dict) else {}
            else:
                if isinstance(args, list):  # rosbridge also accepts positional args
                    args = {f.name: v for f, v in zip(definition[0].fields, args, strict=False)}
                request = self.rules.registry.populate(definition[0], args)
            return entry.handler(request)
        except ServiceError:
            raise
        except InterfaceError as exc:
            raise ServiceError(str(exc)) from exc
        except Exception as exc:
            raise ServiceError(f"{type(exc).__name__}: {exc}") from exc
