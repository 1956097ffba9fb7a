"""One robot's rosbridge link: the websocket (``rosbridge``), its liveness, ROS 1 actions."""

from robovox.ros_adapter.link.rosbridge import Reply, RosbridgeLink, configure_reconnect

__all__ = ["Reply", "RosbridgeLink", "configure_reconnect"]
