"""``python -m robovox.executor``: run the tool executor until SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from robovox.executor.service import ToolExecutor
from robovox.executor.settings import ExecutorSettings
from robovox.shared.logs import configure_logging


async def _main() -> None:
    settings = ExecutorSettings()
    configure_logging(settings.log_level, "tool-executor")
    executor = ToolExecutor(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, executor.stop)
    await executor.run()


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
