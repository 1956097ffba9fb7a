"""Building one robot's voice: every collaborator made once, here, and handed to
those that use it."""

from __future__ import annotations

import functools

from redis import Redis as BlockingRedis
from redis.asyncio import Redis

from robovox.gateway.audio.hub import AudioHub
from robovox.gateway.audio.robot_devices import RobotAudioDevices
from robovox.gateway.audio.stop_word import StopWordListener, stop_on_hearing
from robovox.gateway.calls.connection import DispatchConnection
from robovox.gateway.calls.publisher import CallPublisher
from robovox.gateway.clients.roster import ClientRoster
from robovox.gateway.realtime.conversation import ConversationLog
from robovox.gateway.realtime.event_log import EventLog
from robovox.gateway.realtime.provider_calls import ProviderCalls
from robovox.gateway.realtime.session import RealtimeSession
from robovox.gateway.realtime.signaling import RealtimeSignaling
from robovox.gateway.robot.inbox import RobotInbox
from robovox.gateway.robot.opener import SessionOpener
from robovox.gateway.robot.state import SessionStatePublisher
from robovox.gateway.robot.supervisor import SessionSupervisor
from robovox.gateway.robot.voice import RobotVoice
from robovox.gateway.settings import GatewaySettings
from robovox.shared.consumer import ConsumerConfig
from robovox.shared.loop_lag import RecentSamples
from robovox.shared.profile import RobotProfile


def build_robot(
    profile: RobotProfile,
    settings: GatewaySettings,
    *,
    redis: Redis,
    stop_word_redis: BlockingRedis,
    signaling: RealtimeSignaling,
    event_log: EventLog,
    consumer: ConsumerConfig,
    dispatch: DispatchConnection | None = None,
    dispatch_ms: RecentSamples | None = None,
) -> RobotVoice:
    """The robot's voice, its collaborators shared with the gateway's (``signaling``,
    ``event_log``, the ``dispatch`` connection and its timings, the stop words' blocking Redis
    client) or its own."""
    robot_id = profile.robot_id
    clients = ClientRoster(robot_id, settings.clients_per_robot)
    audio = AudioHub(robot_id, settings.mic_policy)
    audio.on_change(lambda: clients.announce(audio.mic_holder))
    stop = profile.emergency_stop
    stop_word: StopWordListener | None = None
    if stop is not None and stop.stop_word is not None and stop.stop_word.enabled:
        stop_word = StopWordListener(robot_id, stop.stop_word, stop_on_hearing(stop_word_redis, profile))
        audio.stop_word = stop_word.feed
    provider_calls = ProviderCalls()
    conversation = ConversationLog(redis, robot_id, consumer=consumer.consumer, limits=settings.limits)
    publisher = CallPublisher(
        redis, robot_id, profile.tool_call_timeout_s, connection=dispatch, timings=dispatch_ms, profile=profile
    )
    new_session = functools.partial(
        RealtimeSession,
        profile=profile,
        settings=settings,
        signaling=signaling,
        publisher=publisher,
        conversation=conversation,
        event_log=event_log,
        clients=clients,
        provider_calls=provider_calls,
    )
    opener = SessionOpener(robot_id, settings, new_session=new_session, conversation=conversation)
    state = SessionStatePublisher(
        redis, robot_id, gateway=consumer.consumer, session_max_s=settings.session_max_s, opener=opener,
        provider_calls=provider_calls, clients=clients,
    )  # fmt: skip
    supervisor = SessionSupervisor(robot_id, settings, opener=opener, audio=audio, clients=clients, publisher=state)
    provider_calls.on_change(lambda: state.schedule(supervisor))
    return RobotVoice(
        profile,
        redis=redis,
        signaling=signaling,
        supervisor=supervisor,
        opener=opener,
        inbox=RobotInbox(redis, robot_id, consumer, supervisor),
        publisher=state,
        clients=clients,
        audio=audio,
        devices=RobotAudioDevices(audio, profile.audio, robot_id),
        provider_calls=provider_calls,
        stop_word=stop_word,
    )
