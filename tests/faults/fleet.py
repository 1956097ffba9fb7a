"""The simulated robots of a fault run: one RobotSimulator per robot (``r01`` .. ``r20``)
on its own port, each with its profile file, and where each robot's tags show up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from robovox.sim.robot import OpRecord, RobotConfig, RobotSimulator

PROFILE_TEMPLATE: Final = Path(__file__).with_name("fault_robot.yaml")
PROBE_SERVICE: Final = "/rosapi/topic_type"
PROBE_PREFIX: Final = "/robovox_fault/"
NOTE_TOPIC: Final = "/robovox_fault/notes"
"""The ``note`` tool publishes here; each simulated robot has the topic, or the adapter's
connect-time check would find it missing and the tool unavailable."""
START_VOLTS: Final = 24.0


def robot_ids(count: int) -> list[str]:
    return [f"r{i:02d}" for i in range(1, count + 1)]


def tag_of(record: OpRecord) -> str | None:
    """The tag a probe or note op carries (the call id), None for any other op."""
    message = record.message
    if record.op == "call_service" and record.name == PROBE_SERVICE:
        args = message.get("args")
        topic = args.get("topic") if isinstance(args, dict) else None
        if isinstance(topic, str) and topic.startswith(PROBE_PREFIX):
            return topic[len(PROBE_PREFIX) :]
    if record.op == "publish" and record.name == NOTE_TOPIC:
        msg = message.get("msg")
        data = msg.get("data") if isinstance(msg, dict) else None
        if isinstance(data, str):
            return data
    return None


def write_profiles(folder: Path, urls: dict[str, str]) -> None:
    """One profile file per robot, from the fault robot's template, pointed at its simulator."""
    folder.mkdir(parents=True, exist_ok=True)
    template = PROFILE_TEMPLATE.read_text()
    for robot, url in urls.items():
        (folder / f"{robot}.yaml").write_text(template.replace("ROBOT_ID", robot).replace("ROSBRIDGE_URL", url))


@dataclass
class Fleet:
    sims: dict[str, RobotSimulator]
    profiles_dir: Path

    @classmethod
    async def start(cls, count: int, folder: Path, battery_rate_hz: float = 2.0) -> Fleet:
        sims: dict[str, RobotSimulator] = {}
        for robot in robot_ids(count):
            config = RobotConfig(initial_voltage=START_VOLTS, idle_drain_v_per_min=0.0, cleaning_drain_v_per_min=0.0)
            sim = RobotSimulator(port=0, battery_rate_hz=battery_rate_hz, state_rate_hz=0.2, robot_config=config)
            await sim.start()
            sim.publish(NOTE_TOPIC, {"data": ""}, "std_msgs/msg/String")  # the robot has the notes topic
            sims[robot] = sim
        write_profiles(folder, {robot: sim.url for robot, sim in sims.items()})
        return cls(sims, folder)

    async def stop(self) -> None:
        await asyncio.gather(*(sim.stop() for sim in self.sims.values()), return_exceptions=True)

    def tagged_ops(self) -> dict[str, list[OpRecord]]:
        """Every op that carried a tag, by tag, from every robot."""
        out: dict[str, list[OpRecord]] = {}
        for sim in self.sims.values():
            for record in sim.ops():
                tag = tag_of(record)
                if tag is not None:
                    out.setdefault(tag, []).append(record)
        return out

    def drain_batteries(self, from_v: float, volts_per_s: float, floor_v: float, spread_v: float = 0.0) -> None:
        """Every battery falls at ``volts_per_s`` down to ``floor_v``, robot i from ``from_v + i * spread_v``,
        so the robots cross each threshold one after another."""
        for i, sim in enumerate(self.sims.values()):
            battery = sim.robot.battery
            battery.voltage = from_v + i * spread_v
            battery.min_voltage = floor_v
            battery.drain = volts_per_s

    def recharge_batteries(self) -> None:
        """Back to a full, steady battery (the drain's alerts resolve)."""
        for sim in self.sims.values():
            battery = sim.robot.battery
            battery.drain = 0.0
            battery.voltage = START_VOLTS
