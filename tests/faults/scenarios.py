"""The fault scenarios: each runs the 20-robot load for ``duration_s`` on a rig, injects
its fault once a third of the calls are out, and returns what it counted. A scenario
leaves the rig serving again (a killed service restarted, a paused bridge resumed), so
one rig serves them all in turn; its report says whether every robot answered after.

    async with Rig(tmp_path) as rig:
        report = await SCENARIOS["executor_kill"](rig, duration_s=4.0)
    assert not report.failures, report.table()
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Final

from robovox.shared.entry import utc_now
from robovox.shared.streams import RobotKeys
from robovox.shared.testing.streams import last_entry_id

from .harness import Rig
from .ledger import Report
from .load import LoadGenerator

RATE_PER_ROBOT: Final = 5.0
ALERT_TIMEOUT_S: Final = 60.0
PAUSED: Final = ("r01", "r02", "r03", "r04", "r05")
FROZEN: Final = ("r06", "r07", "r08", "r09", "r10")
RULES: Final = ("battery_low", "battery_critical")

Inject = Callable[[Rig, LoadGenerator, int], Awaitable[str]]
"""``inject(rig, load, calls_per_second)``: do the fault while the load runs; say what was done."""
Scenario = Callable[..., Awaitable[Report]]


async def _run(
    rig: Rig,
    duration_s: float,
    rate_per_robot: float,
    inject: Inject | None,
    *,
    strict_unknown: bool = True,
    after: Callable[[Rig, Report], Awaitable[None]] | None = None,
) -> Report:
    load = rig.load(rate_per_robot, "call")
    per_second = round(rate_per_robot * len(rig.robots))
    logs_before = rig.log_lines()
    running = asyncio.create_task(load.run(duration_s))
    fault = "none"
    if inject is not None:
        await load.issued(round(per_second * duration_s / 3))
        fault = await inject(rig, load, per_second)
    await running
    report = await rig.report(fault, load)
    report.log_lines.subtract(logs_before)
    report.log_lines = +report.log_lines  # this scenario's lines only
    report.strict_unknown = strict_unknown
    if after is not None:
        await after(rig, report)
    report.checks["robots_not_answering_after"] = len(await rig.probe_all("after"))
    return report


async def no_fault(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    async def after(rig: Rig, report: Report) -> None:
        report.checks["too_many_connections_lines"] = report.log_lines["Too many connections"]

    return await _run(rig, duration_s, rate_per_robot, None, after=after)


async def _calls_pass(load: LoadGenerator, count: int) -> int:
    """Wait until ``count`` more calls have been issued (or the load ended); the number issued by then."""
    return await load.issued(len(load.calls) + count)


async def executor_kill(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        executor = rig.executors[0]
        at = len(load.calls)
        executor.kill()
        back = await _calls_pass(load, per_second)
        executor.start()
        return f"SIGKILL {executor.name} (the only executor) at call {at}, restarted at call {back}"

    return await _run(rig, duration_s, rate_per_robot, inject)


async def executor_kill_one_of_two(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        survivor, victim = rig.executors[0], rig.executors[-1]
        victim.kill()
        return f"SIGKILL {victim.name} at call {len(load.calls)} (not restarted; {survivor.name} goes on)"

    await rig.add_executor()  # both read every robot's calls before the load starts
    return await _run(rig, duration_s, rate_per_robot, inject)


async def adapter_kill(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    killed_at: list[datetime] = []

    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        assert rig.adapter is not None
        at = len(load.calls)
        rig.adapter.kill()
        killed_at.append(utc_now())
        back = await _calls_pass(load, per_second)
        rig.adapter.start()
        return f"SIGKILL {rig.adapter.name} at call {at}, restarted at call {back}"

    async def after(rig: Rig, report: Report) -> None:
        """An "unknown" without an op is the truth only for a command the killed adapter had started."""
        for call_id, record in report.unknown_records.items():
            if record.started_at is not None and record.started_at < killed_at[0]:
                report.unknown_in_flight_at_kill += 1
            else:
                report.problem("unknown_started_after_the_kill", call_id)

    return await _run(rig, duration_s, rate_per_robot, inject, after=after)


async def redis_kill(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        loop = asyncio.get_running_loop()
        at = len(load.calls)
        rig.redis_server.kill()
        down = loop.time()
        back = await _calls_pass(load, per_second)
        await rig.redis_server.start()
        return (
            f"SIGKILL redis-server at call {at}, restarted from its AOF at call {back} "
            f"(down {loop.time() - down:.1f} s)"
        )

    return await _run(rig, duration_s, rate_per_robot, inject)


async def bridge_pause(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        at = len(load.calls)
        await asyncio.gather(*(rig.sims.sims[r].pause_bridge() for r in PAUSED))
        back = await _calls_pass(load, per_second)
        await asyncio.gather(*(rig.sims.sims[r].resume_bridge() for r in PAUSED))
        return f"rosbridge of {', '.join(PAUSED)} closed at call {at}, listening again at call {back}"

    # A command on the wire when the bridge drops its connection is truly "sent, unconfirmed".
    return await _run(rig, duration_s, rate_per_robot, inject, strict_unknown=False)


async def half_open_freeze(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        for robot in FROZEN:
            rig.sims.sims[robot].freeze_connections()
        return (
            f"connections of {', '.join(FROZEN)} frozen half-open at call {len(load.calls)} "
            "(the adapter must find them dead and reconnect)"
        )

    # A command written into a socket the robot no longer reads is truly "sent, unconfirmed".
    return await _run(rig, duration_s, rate_per_robot, inject, strict_unknown=False)


async def monitor_kill_during_drain(rig: Rig, duration_s: float, rate_per_robot: float = RATE_PER_ROBOT) -> Report:
    """Batteries drain through 23 V (warning) and 22 V (critical); the monitor is killed as the
    first warning fires and again as the first critical alert fires, and restarted each time."""
    done: list[str] = []
    seen_before = {robot: len(notices) for robot, notices in rig.watcher.notices.items()}
    alerts_before = {r: await last_entry_id(rig.redis, RobotKeys.of(r).alerts) for r in rig.robots}

    async def inject(rig: Rig, load: LoadGenerator, per_second: int) -> str:
        assert rig.monitor is not None
        # From 23.1 V (robot 1) to 23.48 V (robot 20), all through 22 V by the middle of the rest of the load.
        rig.sims.drain_batteries(23.1, volts_per_s=1.6 / max(duration_s / 2, 1.0), floor_v=21.5, spread_v=0.02)
        for rule in RULES:
            await rig.watcher.wait(lambda rule=rule: _robots_with(rig, rule, seen_before) >= 1, ALERT_TIMEOUT_S)
            rig.monitor.kill()
            await _calls_pass(load, per_second // 2)
            rig.monitor.start()
            done.append(rule)
        return f"batteries drained; SIGKILL {rig.monitor.name} as the first {' and the first '.join(done)} fired"

    async def after(rig: Rig, report: Report) -> None:
        everyone = len(rig.robots)
        await rig.watcher.wait(
            lambda: all(_robots_with(rig, r, seen_before) == everyone for r in RULES), ALERT_TIMEOUT_S
        )
        await rig.watcher.catch_up()
        report.checks.update(await _alert_counts(rig, seen_before, alerts_before))
        rig.sims.recharge_batteries()

    return await _run(rig, duration_s, rate_per_robot, inject, after=after)


def _new_notices(rig: Rig, robot: str, seen_before: dict[str, int]) -> list[dict[str, str]]:
    return rig.watcher.notices.get(robot, [])[seen_before.get(robot, 0) :]


def _robots_with(rig: Rig, rule: str, seen_before: dict[str, int]) -> int:
    return sum(any(n.get("reason") == rule for n in _new_notices(rig, r, seen_before)) for r in rig.robots)


async def _alert_counts(rig: Rig, seen_before: dict[str, int], alerts_before: dict[str, str]) -> dict[str, int]:
    """Per robot and rule: one firing in the alerts stream, no resolution, one notice in the inbox."""
    counts: Counter[str] = Counter()
    for robot in rig.robots:
        raw: Any = await rig.redis.xrange(RobotKeys.of(robot).alerts, min=f"({alerts_before[robot]}")
        transitions = Counter((f.get("rule"), f.get("status")) for _id, f in raw)
        notices = Counter(n.get("reason") for n in _new_notices(rig, robot, seen_before))
        for rule in RULES:
            fired = transitions[(rule, "firing")]
            counts["alerts_missing"] += fired == 0
            counts["alerts_repeated"] += max(0, fired - 1)
            counts["alerts_resolved"] += transitions[(rule, "resolved")]
            counts["notices_missing"] += notices[rule] == 0
            counts["notices_repeated"] += max(0, notices[rule] - 1)
    return {
        k: counts[k]
        for k in ("alerts_missing", "alerts_repeated", "alerts_resolved", "notices_missing", "notices_repeated")
    }


SCENARIOS: Final[dict[str, Scenario]] = {
    "no_fault": no_fault,
    "executor_kill": executor_kill,
    "executor_kill_one_of_two": executor_kill_one_of_two,
    "adapter_kill": adapter_kill,
    "monitor_kill_during_drain": monitor_kill_during_drain,
    "redis_kill": redis_kill,
    "bridge_pause": bridge_pause,
    "half_open_freeze": half_open_freeze,
}
