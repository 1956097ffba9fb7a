"""``python -m robovox.gateway``: run the session gateway until SIGINT / SIGTERM."""

from __future__ import annotations

from robovox.gateway.service import SessionGateway
from robovox.gateway.settings import GatewaySettings
from robovox.shared.lifecycle import run_service


def main() -> None:
    run_service(SessionGateway, GatewaySettings)


if __name__ == "__main__":
    main()
