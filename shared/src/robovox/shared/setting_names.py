"""Every ``ROBOVOX_`` variable a RoboVox process reads, in one place.

Services read their settings from one ``.env`` on an edge box, so a name one
service does not know may be another's; a name none of them knows is a
mistake worth a warning (``robovox.shared.startup``). ``tests/test_docs.py``
keeps this list equal to the services' settings.
"""

from __future__ import annotations

from typing import Final

SETTING_NAMES: Final = frozenset(
    {
        "ROBOVOX_API_ENABLED",
        "ROBOVOX_API_HOST",
        "ROBOVOX_API_PORT",
        "ROBOVOX_API_TOKEN",
        "ROBOVOX_AUTOSTART",
        "ROBOVOX_BLOCK_MS",
        "ROBOVOX_CLAIM_IDLE_MS",
        "ROBOVOX_CLIENTS_PER_ROBOT",
        "ROBOVOX_CLIENT_PEER_TIMEOUT_S",
        "ROBOVOX_CLIENT_SECRET_TTL_S",
        "ROBOVOX_CONNECT_TIMEOUT_S",
        "ROBOVOX_CONSUMER_NAME",
        "ROBOVOX_CORS_ALLOW_CREDENTIALS",
        "ROBOVOX_CORS_ORIGINS",
        "ROBOVOX_EVENT_LOOP",
        "ROBOVOX_ICE_HOST_ADDRESSES",
        "ROBOVOX_IDLE_CLOSE_S",
        "ROBOVOX_INBOX_STALE_S",
        "ROBOVOX_LINK_CHECK_TIMEOUT_S",
        "ROBOVOX_LINK_CONNECT_TIMEOUT_S",
        "ROBOVOX_LINK_HEARTBEAT_S",
        "ROBOVOX_LINK_PING_INTERVAL_S",
        "ROBOVOX_LINK_PING_TIMEOUT_S",
        "ROBOVOX_LINK_RECHECK_S",
        "ROBOVOX_LOG_FORMAT",
        "ROBOVOX_LOG_LEVEL",
        "ROBOVOX_MAX_ARGUMENTS_BYTES",
        "ROBOVOX_MAX_ARGUMENTS_DEPTH",
        "ROBOVOX_MAX_ARGUMENT_CHARS",
        "ROBOVOX_MAX_DEAD_LETTER_CHARS",
        "ROBOVOX_MAX_DELIVERIES",
        "ROBOVOX_MAX_ENTRY_BYTES",
        "ROBOVOX_MAX_IN_FLIGHT",
        "ROBOVOX_MAX_OUTPUT_CHARS",
        "ROBOVOX_MIC_POLICY",
        "ROBOVOX_MOTION_REPEAT_WINDOW_S",
        "ROBOVOX_OPENAI_API_KEY",
        "ROBOVOX_PROFILES_DIR",
        "ROBOVOX_PROFILES_WATCH_S",
        "ROBOVOX_REALTIME_BASE_URL",
        "ROBOVOX_REALTIME_MODEL",
        "ROBOVOX_REALTIME_PROVIDER",
        "ROBOVOX_REALTIME_SIGNALING",
        "ROBOVOX_RECONNECT_INITIAL_S",
        "ROBOVOX_RECONNECT_MAX_S",
        "ROBOVOX_RECYCLE_QUIET_WAIT_S",
        "ROBOVOX_REDIS_POOL_SIZE",
        "ROBOVOX_REDIS_POOL_TIMEOUT_S",
        "ROBOVOX_REDIS_URL",
        "ROBOVOX_REPLAY_MAX_ITEMS",
        "ROBOVOX_RESPONSE_TIMEOUT_S",
        "ROBOVOX_RESULT_GRACE_S",
        "ROBOVOX_RESUME_WINDOW_S",
        "ROBOVOX_SESSION_MAX_S",
        "ROBOVOX_SESSION_RETRY_INITIAL_S",
        "ROBOVOX_SESSION_RETRY_MAX_S",
        "ROBOVOX_SHUTDOWN_GRACE_MS",
        "ROBOVOX_START_GRACE_S",
        "ROBOVOX_STUN_URLS",
        "ROBOVOX_TELEMETRY_MAXLEN",
        "ROBOVOX_TICK_S",
        "ROBOVOX_TRANSCRIPTION_MODEL",
    }
)

OTHER_VARIABLES: Final = frozenset({"ROBOVOX_FAULT_SECONDS", "ROBOVOX_BROWSER_TESTS"})
"""Read by the test suite, not by a service."""
