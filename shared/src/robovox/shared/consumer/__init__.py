"""The one consumer-group loop every RoboVox service uses (see ``loop``)."""

from robovox.shared.consumer.config import (
    ACKED,
    REDIS_DOWN,
    Acked,
    ConsumerConfig,
    DeadLetterHook,
    Fields,
    Handler,
    PermanentError,
)
from robovox.shared.consumer.entries import read_robot_entry
from robovox.shared.consumer.loop import StreamConsumer
from robovox.shared.consumer.raw import (
    UnreadableEntryError,
    add_dead_letter,
    dead_letter,
    decode_fields,
    decode_lossy,
    readable_fields,
)

__all__ = [
    "ACKED",
    "REDIS_DOWN",
    "Acked",
    "ConsumerConfig",
    "DeadLetterHook",
    "Fields",
    "Handler",
    "PermanentError",
    "StreamConsumer",
    "UnreadableEntryError",
    "add_dead_letter",
    "dead_letter",
    "decode_fields",
    "decode_lossy",
    "read_robot_entry",
    "readable_fields",
]
