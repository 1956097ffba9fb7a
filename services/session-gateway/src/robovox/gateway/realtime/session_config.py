"""The Realtime session config of a robot, built from its profile (GA shape)."""

from __future__ import annotations

from typing import Any

from robovox.gateway.settings import GatewaySettings
from robovox.shared.profile import RobotProfile
from robovox.shared.profile.realtime import realtime_tools


def session_config(profile: RobotProfile, settings: GatewaySettings) -> dict[str, Any]:
    """``{"type": "realtime", ...}`` for ``/realtime/calls`` and ``/realtime/client_secrets``.

    Server VAD answers people speaking to the robot; ``interrupt_response`` lets
    them talk over it. Transcription feeds the conversation log, so a new session
    can be told what was said.
    """
    audio_input: dict[str, Any] = {
        "format": {"type": "audio/pcm", "rate": 24000},
        "turn_detection": {"type": "server_vad", "create_response": True, "interrupt_response": True},
    }
    if settings.transcription_model:
        audio_input["transcription"] = {"model": settings.transcription_model}
    return {
        "type": "realtime",
        "model": settings.realtime_model,
        "instructions": profile.persona(),
        "output_modalities": ["audio"],
        "audio": {"input": audio_input, "output": {"voice": profile.voice}},
        "tools": realtime_tools(profile),
        "tool_choice": "auto",
    }
