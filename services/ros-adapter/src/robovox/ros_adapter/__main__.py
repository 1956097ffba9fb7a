"""``python -m robovox.ros_adapter``: run the ROS adapter until SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from robovox.ros_adapter.service import RosAdapter
from robovox.ros_adapter.settings import AdapterSettings
from robovox.shared.logs import configure_logging


async def _main() -> None:
    settings = AdapterSettings()
    configure_logging(settings.log_level, "ros-adapter")
    adapter = RosAdapter(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, adapter.stop)
    await adapter.run()


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
