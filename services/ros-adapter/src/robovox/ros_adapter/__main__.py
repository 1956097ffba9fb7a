"""``python -m robovox.ros_adapter``: run the ROS adapter until SIGINT / SIGTERM."""

from __future__ import annotations

from robovox.ros_adapter.service import RosAdapter
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.lifecycle import run_service


def main() -> None:
    run_service(RosAdapter, AdapterSettings)


if __name__ == "__main__":
    main()
