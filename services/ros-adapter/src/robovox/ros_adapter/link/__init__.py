"""One robot's rosbridge link: the websocket (``rosbridge``), its liveness, ROS 1 actions."""

from robovox.ros_adapter.link.connection import Reply, configure_reconnect
from robovox.ros_adapter.link.rosbridge import RosbridgeLink

__all__ = ["Reply", "RosbridgeLink", "configure_reconnect"]
