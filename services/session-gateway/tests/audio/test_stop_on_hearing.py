"""The stop word's stop, made from the thread that heard the phrase: the API's script on a blocking
client, tried again while Redis cannot be reached, until the stop's deadline."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import redis as blocking
from redis.asyncio import Redis

from robovox.gateway.audio.stop_word import Heard, stop_on_hearing
from robovox.shared.emergency import EmergencyStops
from robovox.shared.messages import AlertTransition, EmergencyTrigger
from robovox.shared.profile import RobotProfile
from robovox.shared.redis_client import connect_blocking_redis
from robovox.shared.settings import ServiceSettings
from robovox.shared.streams import RobotKeys

HEARD = Heard("client-1", "emergency stop", 0.5, time.monotonic(), time.monotonic())


async def test_a_phrase_heard_stops_the_robot_with_the_stop_words_record(
    redis: Redis, redis_url: str, profile: RobotProfile
) -> None:
    client = blocking.Redis.from_url(redis_url, decode_responses=True)
    try:
        await asyncio.to_thread(stop_on_hearing(client, profile), HEARD)
    finally:
        client.close()
    keys = RobotKeys.of(profile.robot_id)
    state = await EmergencyStops(redis).state(keys)
    assert state is not None and state.stopped and state.trigger is EmergencyTrigger.STOP_WORD
    [(_id, fields)] = await redis.xrange(keys.alerts)
    record = AlertTransition.from_fields(fields)
    assert record.rule == "emergency_stop" and record.triggered_by == "'emergency stop' score 0.500 on client-1"
    assert await redis.xlen(keys.emergency) == 1


def test_a_stop_that_cannot_reach_redis_is_tried_until_its_deadline(
    profile: RobotProfile, caplog: pytest.LogCaptureFixture
) -> None:
    assert profile.emergency_stop is not None
    short = profile.model_copy(update={"emergency_stop": profile.emergency_stop.model_copy(update={"deadline_s": 0.4})})
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = connect_blocking_redis(ServiceSettings(redis_url=f"redis://127.0.0.1:{port}/0"))
    began = time.monotonic()
    with pytest.raises(blocking.ConnectionError):
        stop_on_hearing(client, short)(HEARD)
    took = time.monotonic() - began
    assert 0.2 < took < 1.5, f"gave up after {took:.2f} s (deadline 0.4 s)"
    assert sum("did not reach Redis" in r.getMessage() for r in caplog.records) >= 2, "tried more than once"
