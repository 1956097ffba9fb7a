"""A telemetry subscription on one robot's rosbridge link: roslibpy's ``Topic``, sent again by
the link the moment a new connection is up.

roslibpy sends a subscription again on a fixed timer one second after the connection closed
(``Topic._reconnect_topic``), whenever the reconnect itself comes. For that second the robot's
telemetry stood still: preconditions read it as stale and refused, and a stop written on the new
link could not see its ``confirm``.
"""

from __future__ import annotations

from typing import Any

import roslibpy


class Subscription(roslibpy.Topic):  # type: ignore[misc]
    """A telemetry subscription the link sends again on each new connection (``resend``), instead
    of roslibpy's resend one second after the close."""

    def _reconnect_topic(self, _proto: Any) -> None:
        """roslibpy's close handler: nothing; the link resends when the new connection is up."""

    def resend(self, proto: Any) -> None:
        message = getattr(self, "_connect_message", None)
        if message is not None and self.is_subscribed:
            proto.send_ros_message(message)
