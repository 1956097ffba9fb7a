"""An offline emulator of the OpenAI Realtime API (GA) over WebRTC, with a deterministic model."""

from .errors import RealtimeApiError
from .input_audio import InputAudioBuffer, SpeechTurn
from .model import FunctionCall, Reply, decide
from .server import ClientSecret, RealtimeEmulator
from .session import EmulatedSession, SessionSettings

__all__ = [
    "ClientSecret",
    "EmulatedSession",
    "FunctionCall",
    "InputAudioBuffer",
    "RealtimeApiError",
    "RealtimeEmulator",
    "Reply",
    "SessionSettings",
    "SpeechTurn",
    "decide",
]
