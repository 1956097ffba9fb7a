"""Emergency stop under load: the gateway API's stop, from the request to the stop op at the robot.

The edge box: Redis, the ROS adapter, the tool executor and the session gateway each their own
process at the edge box's priority (``--nice``, -10 as the soak runs them), 20 simulated cleaning
robots (the shipped profile), the Realtime emulator, and 20 robots x 5 calls/s of
``stop_cleaning`` (a service the simulator answers at once) published with the gateway's script
from a child process at the same priority, as the soak's load. The stopped robot's simulator runs
in this process, which reads the clock at both ends; the other 19 and the emulator run in
processes of their own at a low priority (``bench/peers.py``), as a real robot and the real model
would not share the bench's event loop or the box's CPU; this process runs at the edge box's
priority, as the stopped robot's own machine would not wait for the box's CPU either.
On the stopped robot, ``release_vacuum`` is made slow (3 s) and kept 8 deep in flight. Each of
the stops is ``POST /v1/robots/cleaner-1/emergency_stop`` with the operator's token, timed from
just before the request to the simulator receiving the ``/emergency_stop`` publish; a reset
follows each.

The spoken stop: under the same load, a client joins cleaner-1 over real WebRTC (a client secret
and an SDP offer to the gateway's API, as a page does) and its microphone track plays espeak-ng's
"emergency stop" (the profile's phrase; six voices in turn, silence trimmed), timed from the
phrase's last frame handed to WebRTC to the stop op at the simulator. The emulator's own responses
are withheld (its turn detection creates none), and every stop is checked to be the stop word's on
the alerts stream, so the model is not the one stopping. Then the corpus
(``bench/stop_word_corpus.py``): false stops over ordinary commands, detection of the phrase, CPU
per stream.

    python bench/emergency_stop.py [--stops 200] [--spoken 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from redis.asyncio import Redis

from robovox.shared.redis_client import open_redis
from robovox.sim.realtime.client import EmulatorClient
from robovox.sim.speech import SpeakingMicrophone, say

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fault suite's rig lives with the tests

from bench.peers import (  # noqa: E402
    BATTERY_RATE_HZ,
    STATE_RATE_HZ,
    add_box_options,
    box_nice,
    remote_emulator,
    remote_load,
    remote_robots,
)
from bench.stop_word_corpus import VOICES, evaluate, report  # noqa: E402
from robovox.shared.embedded_redis import free_port  # noqa: E402
from robovox.shared.messages import AlertTransition, parse_time  # noqa: E402
from robovox.shared.profile import load_profiles  # noqa: E402
from robovox.shared.streams import RobotKeys  # noqa: E402
from robovox.shared.testing.streams import add_tool_call  # noqa: E402
from robovox.sim.robot import RobotSimulator  # noqa: E402
from tests.conftest import API_KEY, API_TOKEN  # noqa: E402
from tests.faults.gateway_harness import GatewayProcess, robot_profiles  # noqa: E402
from tests.faults.ledger import percentile  # noqa: E402
from tests.faults.processes import RedisServer, ServiceProcess, prioritise, service_env  # noqa: E402

ROBOTS = 20
RATE_PER_ROBOT = 5.0
"""The soak's base load (``--rate`` changes it; 0: no load, for the figure without)."""
SLOW_IN_FLIGHT = 8
STOPPED = "cleaner-1"
DEADLINE_S = 5.0
"""The shipped profile's emergency_stop.deadline_s: the stop was issued this long before its deadline."""


async def slow_calls(redis: Redis, stopping: asyncio.Event) -> None:
    """Keep SLOW_IN_FLIGHT slow release_vacuum calls in flight on the stopped robot."""
    while not stopping.is_set():
        for _ in range(SLOW_IN_FLIGHT):
            await add_tool_call(redis, STOPPED, "release_vacuum", deadline_in_s=30)
        await asyncio.sleep(3.0)


async def join(api: httpx2.AsyncClient, microphone: SpeakingMicrophone) -> EmulatorClient:
    """A client on the stopped robot, as a Realtime page joins: secret, SDP offer, answer."""
    reply = await api.post("/v1/realtime/client_secrets", params={"robot_id": STOPPED}, json={"operator": "bench"})
    secret = reply.json()["value"]
    client = EmulatorClient(microphone)
    offer = await client.offer()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/sdp"}
    answer = await api.post("/v1/realtime/calls", content=offer.encode(), headers=headers)
    assert answer.status_code == 201, answer.text
    await client.answer(answer.text)
    me = await client.wait_for("robovox.client")
    assert me["you_hold_mic"], me
    return client


async def spoken_stops(
    api: httpx2.AsyncClient, redis: Redis, sim: RobotSimulator, count: int
) -> tuple[list[float], int]:
    """``count`` spoken stops into a client's microphone; the latencies (ms) and the misses.

    The emulator was started withholding its responses: it hears the speech but never answers it."""
    microphone = SpeakingMicrophone()
    client = await join(api, microphone)
    phrases = [say("emergency stop", voice) for voice in VOICES]
    latencies: list[float] = []
    heard_by: list[tuple[str, float, float]] = []
    """Per stop heard: the voice, the phrase's end and the op at the robot (wall-clock seconds)."""
    misses = 0
    alerts = RobotKeys.of(STOPPED).alerts
    before: Any = await redis.xrange(alerts)
    try:
        microphone.speak(say("what is the battery voltage"))  # the stream's spotter loads meanwhile
        await asyncio.sleep(3.0)
        for i in range(count):
            seen = len(sim.ops("publish", "/emergency_stop"))
            microphone.speak(phrases[i % len(phrases)])
            try:
                ops = await sim.wait_for_op("publish", "/emergency_stop", count=seen + 1, timeout=5)
            except (TimeoutError, AssertionError):
                misses += 1
                continue
            ended = microphone.ended if microphone.ended is not None else time.monotonic()
            op = ops[seen]
            latencies.append((op.mono_time - ended) * 1000)
            heard_by.append((VOICES[i % len(VOICES)], op.wall_time - (op.mono_time - ended), op.wall_time))
            resets = len(sim.ops("call_service", "/emergency_stop/reset"))
            await api.post(f"/v1/robots/{STOPPED}/emergency_stop/reset")
            await sim.wait_for_op("call_service", "/emergency_stop/reset", count=resets + 1, timeout=10)
            await asyncio.sleep(2.0)  # the stop word's cooldown
    finally:
        await client.close()
    after: Any = await redis.xrange(alerts)
    records = [AlertTransition.from_fields(f) for _id, f in after[len(before) :]]
    stops = [r for r in records if r.rule == "emergency_stop"]
    assert all(r.trigger == "stop_word" for r in stops), [r.trigger for r in stops]
    assert len(stops) == len(latencies), (len(stops), len(latencies))
    # Each stop's record says when its script ran: the phrase's end to it (heard), it to the op (sent).
    stages = [
        (voice, (stop.at.timestamp() - ended) * 1000, (op_at - stop.at.timestamp()) * 1000)
        for (voice, ended, op_at), stop in zip(heard_by, stops, strict=True)
    ]
    print("spoken stops by voice: phrase end -> stop script (heard), script -> op at the robot (ms)")
    for voice in VOICES:
        heard = [h for v, h, _ in stages if v == voice]
        sent = [o for v, _, o in stages if v == voice]
        if heard:
            print(
                f"  {voice:16} n={len(heard):2}  heard p50 {percentile(heard, 50):6.1f} max {max(heard):6.1f}"
                f"  sent p50 {percentile(sent, 50):5.1f} max {max(sent):6.1f}"
            )
    return latencies, misses


async def bench(
    stops: int, rate: float, slow: bool, spoken: int, nice: int, unix: bool
) -> tuple[list[float], list[float], int]:
    # This process holds the clock and the stopped robot, which on a floor is a machine of its own:
    # at the edge box's priority too, so what is timed is RoboVox, not this process waiting its turn.
    nice = box_nice(nice)
    prioritise(os.getpid(), nice)
    root = Path(tempfile.mkdtemp(prefix="robovox-estop-"))
    logs = root / "logs"
    logs.mkdir()
    redis_server = RedisServer(root / "redis", logs / "redis-server.log")
    redis_server.nice = nice
    redis_server.unix_socket = unix
    await redis_server.start()
    port = free_port()
    sim = RobotSimulator(port=0, battery_rate_hz=BATTERY_RATE_HZ, state_rate_hz=STATE_RATE_HZ)
    sim.failures.slow_service["/vacuum_pads/release"] = 3.0
    await sim.start()
    async with (
        remote_robots(ROBOTS - 1) as others,
        remote_emulator(API_KEY, free_port(), answers_speech=False) as emulator,
        contextlib.AsyncExitStack() as later,
    ):
        robots = robot_profiles(root / "profiles", [sim, *others])
        env = service_env(redis_server.url, root / "profiles", "WARNING", 1000, 15_000)
        services = [ServiceProcess(m, m.split(".")[-1], env, logs) for m in ("robovox.ros_adapter", "robovox.executor")]
        gateway = GatewayProcess(redis_server.url, root / "profiles", emulator, logs / "gateway.log")
        gateway.env.update({"ROBOVOX_API_PORT": str(port), "ROBOVOX_LOG_LEVEL": "WARNING"})
        for service in services:
            service.nice = nice
            service.start()
        gateway.start()
        assert gateway.proc is not None
        prioritise(gateway.proc.pid, nice)
        redis = open_redis(redis_server.url)
        stopping = asyncio.Event()
        latencies: list[float] = []
        said: list[float] = []
        missed = lost = lost_resets = 0
        answered: list[float] = []
        on_path: list[float] = []
        to_script: list[float] = []
        try:
            await gateway.wait_live(redis, robots, timeout_s=60)
            print(f"estop bench: {ROBOTS} robots live, logs in {logs}", flush=True)
            stop_load = await later.enter_async_context(
                remote_load(redis_server.url, rate, "stop_cleaning", robots, nice=nice)
            )
            slowing = asyncio.create_task(slow_calls(redis, stopping)) if slow else None
            await asyncio.sleep(2.0)  # the load settles in
            headers = {"Authorization": f"Bearer {API_TOKEN}"}
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as api:
                # The client's own first request costs it 150 to 350 ms (httpx's first use in a process;
                # curl's first request to the same gateway takes 3 ms): a console has its connection
                # open long before anyone presses stop, so the bench's is opened first too.
                (await api.get(f"/v1/robots/{STOPPED}/emergency_stop")).raise_for_status()
                for _ in range(stops):
                    seen = len(sim.ops("publish", "/emergency_stop"))
                    began, began_wall = time.perf_counter(), time.time()
                    answer = await api.post(f"/v1/robots/{STOPPED}/emergency_stop", json={"client_id": "bench"})
                    answered.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 202, answer.text
                    try:
                        ops = await sim.wait_for_op("publish", "/emergency_stop", count=seen + 1, timeout=10)
                    except TimeoutError:
                        lost += 1  # its deadline (5 s) passed on the way: the adapter's log says why
                    else:
                        latencies.append((ops[seen].mono_time - began) * 1000)
                        issued = parse_time(answer.json()["deadline"]).timestamp() - DEADLINE_S
                        to_script.append((issued - began_wall) * 1000)
                        on_path.append((ops[seen].wall_time - issued) * 1000)
                    resets = len(sim.ops("call_service", "/emergency_stop/reset"))
                    await api.post(f"/v1/robots/{STOPPED}/emergency_stop/reset")
                    try:
                        await sim.wait_for_op("call_service", "/emergency_stop/reset", count=resets + 1, timeout=10)
                    except TimeoutError:
                        lost_resets += 1  # the latch is cleared; the robot's own reset did not arrive
                    await asyncio.sleep(random.uniform(0.02, 0.1))
                if spoken:
                    said, missed = await spoken_stops(api, redis, sim, spoken)
            stopping.set()
            made = await stop_load()
            if slowing is not None:
                await slowing
            print(f"API answer (202): p50 {percentile(answered, 50):.2f} ms, p99 {percentile(answered, 99):.2f} ms")
            print(
                f"from the request to the gateway's script: p50 {percentile(to_script, 50):.2f} ms, "
                f"p99 {percentile(to_script, 99):.2f} ms"
            )
            print(
                f"from the gateway's script to the op: p50 {percentile(on_path, 50):.2f} ms, "
                f"p99 {percentile(on_path, 99):.2f} ms"
            )
            print(f"load: {made} calls at {ROBOTS} x {rate:g}/s, slow calls in flight: {slow}", flush=True)
            print(f"API stops that never reached the robot: {lost}, resets: {lost_resets}", flush=True)
        finally:
            stopping.set()
            await redis.aclose()
            gateway.stop()
            for service in services:
                service.stop()
            await sim.stop()
            redis_server.stop()
    return latencies, said, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stops", type=int, default=200)
    parser.add_argument("--rate", type=float, default=RATE_PER_ROBOT, help="calls/s per robot (0: no load)")
    parser.add_argument("--no-slow", action="store_true", help="no slow calls in flight on the stopped robot")
    parser.add_argument("--spoken", type=int, default=50, help="spoken stops (0: none, and no corpus)")
    add_box_options(parser)
    args = parser.parse_args()
    latencies, said, _missed = asyncio.run(
        bench(args.stops, args.rate, not args.no_slow, args.spoken, args.nice, args.redis == "unix")
    )
    print(f"stops={len(latencies)} max_ms={max(latencies):.2f}")
    line = f"api_stop_p50_ms={percentile(latencies, 50):.2f} api_stop_p99_ms={percentile(latencies, 99):.2f}"
    if args.spoken:
        print(f"spoken stops: {len(said)} of {args.spoken} heard live, max {max(said, default=0):.1f} ms", flush=True)
        stop = load_profiles(REPO / "deploy" / "profiles")["cleaner-1"].emergency_stop
        assert stop is not None and stop.stop_word is not None
        outcome = evaluate(stop.stop_word)
        report(outcome)
        line += f" spoken_stop_p50_ms={percentile(said, 50):.2f} spoken_stop_p99_ms={percentile(said, 99):.2f}"
        line += f" false_stops={len(outcome.false_stops)} stop_detection_pct={outcome.detection_pct:.1f}"
    print(line)


if __name__ == "__main__":
    main()
