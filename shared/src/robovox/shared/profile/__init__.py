"""Robot profiles: schema, loading, argument mapping, Realtime tool list."""

from robovox.shared.profile.audio import AudioDevice, AudioFileSink, AudioFileSource, RobotAudio
from robovox.shared.profile.loader import ProfileError, load_profile, load_profiles, parse_profile
from robovox.shared.profile.realtime import realtime_tools
from robovox.shared.profile.ros import CallService, PublishTopic, ReadTelemetry, RosBinding, SendActionGoal
from robovox.shared.profile.schema import (
    Confirm,
    EmergencyStop,
    Precondition,
    RobotLink,
    RobotProfile,
    TelemetrySubscription,
    Tool,
)

__all__ = [
    "AudioDevice",
    "AudioFileSink",
    "AudioFileSource",
    "CallService",
    "Confirm",
    "EmergencyStop",
    "Precondition",
    "ProfileError",
    "PublishTopic",
    "ReadTelemetry",
    "RobotAudio",
    "RobotLink",
    "RobotProfile",
    "RosBinding",
    "SendActionGoal",
    "TelemetrySubscription",
    "Tool",
    "load_profile",
    "load_profiles",
    "parse_profile",
    "realtime_tools",
]
