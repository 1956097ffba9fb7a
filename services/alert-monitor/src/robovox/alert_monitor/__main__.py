"""``python -m robovox.alert_monitor``: run the alert monitor until SIGINT / SIGTERM."""

from __future__ import annotations

from robovox.alert_monitor.service import AlertMonitor
from robovox.alert_monitor.settings import MonitorSettings
from robovox.shared.lifecycle import run_service


def main() -> None:
    run_service(AlertMonitor, MonitorSettings)


if __name__ == "__main__":
    main()
