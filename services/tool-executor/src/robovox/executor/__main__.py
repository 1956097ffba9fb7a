"""``python -m robovox.executor``: run the tool executor until SIGINT / SIGTERM."""

from __future__ import annotations

from robovox.executor.service import ToolExecutor
from robovox.executor.settings import ExecutorSettings
from robovox.shared.lifecycle import run_service


def main() -> None:
    run_service(ToolExecutor, ExecutorSettings)


if __name__ == "__main__":
    main()
