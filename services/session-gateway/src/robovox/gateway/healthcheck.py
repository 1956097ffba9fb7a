"""The gateway container's health check: ``python -m robovox.gateway.healthcheck``.

Asks the gateway's own ``/health`` on this host (its API address, or loopback when it
listens on every address; HTTPS when the API serves it, the certificate unchecked: this is
the process checking itself). Healthy (exit 0) only on 200 ``ok``, which the gateway answers
once it is ready (``http/health.py``); prints what it answered.
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.error
import urllib.request

from robovox.gateway.settings import GatewaySettings
from robovox.shared.startup import StartupError, settings_from_environment

ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def health_url(settings: GatewaySettings) -> str:
    host = ANY_ADDRESS.get(settings.api_host, settings.api_host)
    scheme = "https" if settings.tls_enabled else "http"
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{settings.api_port}/health"


def main() -> int:
    try:
        settings = settings_from_environment(GatewaySettings)
    except StartupError as exc:
        print(f"session-gateway: unhealthy: bad settings: {exc}")
        return 1
    if not settings.api_enabled:
        print("session-gateway: no HTTP API (ROBOVOX_API_ENABLED=false): nothing to check")
        return 0
    url = health_url(settings)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as reply:
            body = json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        print(f"session-gateway: unhealthy: {url} answered {exc.code} {exc.read().decode(errors='replace')}")
        return 1
    except (OSError, ValueError) as exc:
        print(f"session-gateway: unhealthy: {url}: {exc}")
        return 1
    print(f"session-gateway: {body}")
    return 0 if body.get("status") == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
